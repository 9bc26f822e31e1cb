import { formatAddress } from '../wire/address';
import type { EntryType } from './entries';

/**
 * A multicast forwarding entry (an MFC entry of the kernel's multicast routing, RFC 4605
 * §4.2): packets from `source` to `group` arriving on device `iif` are forwarded out of
 * every device in `oifs` (sorted, no duplicates). In the kernel it is
 * `struct mfcctl` / `struct mf6cctl` over the multicast routing socket (MRT_ADD_MFC,
 * MRT6_ADD_MFC), with one VIF / MIF per device.
 */
export interface MrouteEntry {
  readonly family: 4 | 6;
  readonly source: Uint8Array;
  readonly group: Uint8Array;
  readonly iif: string;
  readonly oifs: readonly string[];
}

declare module './entries' {
  interface KernelEntries {
    mroutes: MrouteEntry;
  }
}

/**
 * The kernel keys an MFC entry by (S, G) alone (one entry per channel, whatever its
 * interfaces): MRT_ADD_MFC on an existing (S, G) replaces its iif and oifs in place.
 * Forwarding entries are added after every other kind (a channel reaches a subscriber
 * only once its routes and verify entries are in) and removed first (traffic stops
 * before the state behind it goes).
 */
export const MROUTE: EntryType<'mroutes'> = {
  kind: 'mroutes',
  key: (m) => mrouteKey(formatAddress(m.family, m.source), formatAddress(m.family, m.group)),
  attrs: (m) => `iif ${m.iif} oifs ${m.oifs.join(',')}`,
  rank: 3,
  removeRank: 0,
};

/** The key of channel (S, G) from the text forms of its addresses (what `MROUTE.key` gives its entry). */
export const mrouteKey = (source: string, group: string): string => `(${source}, ${group})`;
