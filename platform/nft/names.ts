/**
 * Names of the objects in gleand's nftables table, and which allow set holds a verify
 * entry of a given family and prefix length.
 *
 * Every allow set is a plain hash set over `iface_index . ether_addr . ipv{4,6}_addr`
 * (no `flags interval`: insert and delete are O(1) whatever the set holds):
 *
 *   allow4, allow6          exact sources: /32 and /128 (addresses, link-locals)
 *   allow4_<n>, allow6_<n>  prefixes of length n (delegated prefixes, framed routes),
 *                           matched with the source masked to n bits; created when the
 *                           first prefix of that length arrives
 */
import { formatAddress } from '../../src/wire/address';

/** Object names inside the table; the table name is configurable. */
export const NFT_NAMES = {
  ports: 'ports',
  /** The subscriber ports in relay mode (a subset of `ports`): their client DHCP is gleand's alone. */
  relayPorts: 'relay_ports',
  allow4: 'allow4',
  allow6: 'allow6',
  prerouting: 'prerouting',
  verify: 'verify',
  /** Jumped to from verify after the host sets: one rule per prefix-length set. */
  verifyPrefix: 'verify_prefix',
  dropCounter: 'verify_drop',
  /** Client DHCP from a relay-mode port that the kernel would have forwarded or delivered (gleand relays it). */
  dhcpToRelayCounter: 'dhcp_to_relay',
  /**
   * Location on demand (platform/on-demand-driver.ts fills both): `onDemandUp` is jumped
   * to just before the verify chain's final drop and copies the unverified packet to
   * gleand (NFLOG); `onDemandDown` is a prerouting base chain that copies and drops
   * packets toward a subscriber subnet's blackhole.
   */
  onDemandUp: 'on_demand_up',
  onDemandDown: 'on_demand_down',
} as const;

/** nft identifiers: a letter, then letters, digits, `_` (no quoting, no injection). */
export const isTableName = (s: string): boolean => /^[A-Za-z][A-Za-z0-9_]{0,31}$/.test(s);

export const addressBits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

/** One allow set: the family and prefix length of every element in it. */
export interface AllowSet {
  readonly family: 4 | 6;
  /** 32 / 128 for the host sets. */
  readonly prefixLength: number;
}

/** The set that holds entries of this family and length (caller checks the range). */
export function allowSetName(family: 4 | 6, prefixLength: number): string {
  if (prefixLength === addressBits(family)) return family === 4 ? NFT_NAMES.allow4 : NFT_NAMES.allow6;
  return `allow${family}_${prefixLength}`;
}

/** allow4 → v4 /32, allow6_56 → v6 /56; null for any other name (or a non-canonical one). */
export function parseAllowSetName(name: string): AllowSet | null {
  if (name === NFT_NAMES.allow4) return { family: 4, prefixLength: 32 };
  if (name === NFT_NAMES.allow6) return { family: 6, prefixLength: 128 };
  const m = /^allow([46])_(0|[1-9][0-9]{0,2})$/.exec(name);
  if (m === null) return null;
  const family = m[1] === '4' ? 4 : 6;
  const prefixLength = Number(m[2]);
  return prefixLength < addressBits(family) ? { family, prefixLength } : null;
}

/** The netmask of a prefix length as nft writes it: `255.255.255.0`, `ffff:ffff:ffff:ff00::`. */
export function prefixMask(family: 4 | 6, prefixLength: number): string {
  const b = new Uint8Array(addressBits(family) / 8);
  for (let bit = 0; bit < prefixLength; bit++) b[bit >> 3] = b[bit >> 3]! | (0x80 >> (bit & 7));
  return formatAddress(family, b);
}
