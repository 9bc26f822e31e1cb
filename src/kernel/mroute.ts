/**
 * A multicast forwarding entry (an MFC entry of the kernel's multicast routing, RFC 4605
 * §4.2): packets from `source` to `group` arriving on device `iif` are forwarded out of
 * every device in `oifs` (sorted, no duplicates). In the kernel it is
 * `struct mfcctl` / `struct mf6cctl` over the multicast routing socket (MRT_ADD_MFC,
 * MRT6_ADD_MFC), with one VIF / MIF per device.
 *
 * Not registered in `ENTRY_TYPES` yet: the multicast router registers it together with
 * its platform applier.
 */
export interface MrouteEntry {
  readonly family: 4 | 6;
  readonly source: Uint8Array;
  readonly group: Uint8Array;
  readonly iif: string;
  readonly oifs: readonly string[];
}
