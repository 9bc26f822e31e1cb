import { formatAddress } from '../wire/address';
import type { EntryType } from './entries';

/**
 * A divert: packets toward `address` (an address of a dormant, paged or inactive host,
 * RFC 3154 §5.1 Dormant Monitoring Agent) are dropped by the kernel on their way to the
 * subscriber port and a copy handed to gleand, which holds them until the host answers
 * its page (src/paging/PROTOCOL.md §2). In the kernel it is an element of gleand's
 * nftables sets dormant4 / dormant6, matched by a `log group` + `drop` rule in
 * prerouting (platform/kernel/diverts.ts).
 */
export interface DivertAddress {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
}

/**
 * A wide-cast watch (RFC 3154 §4.3): while `port` has a dormant host whose Wake bits ask
 * for `wake` traffic, copies of the broadcast / multicast packets forwarded toward that
 * port are handed to gleand (nothing is dropped: awake hosts there still get them). In
 * the kernel, the port's device in the nftables set wake_bcast / wake_mcast.
 */
export interface WakeWatch {
  readonly wake: 'broadcast' | 'multicast';
  readonly port: string;
}

export type DivertEntry = DivertAddress | WakeWatch;

export const isWakeWatch = (d: DivertEntry): d is WakeWatch => 'wake' in d;

declare module './entries' {
  interface KernelEntries {
    diverts: DivertEntry;
  }
}

/**
 * All identity (a set element has no attributes). Added after routes and neighbours (the
 * host's binding is in before its traffic is taken away), removed last: the held
 * packets went out before the divert goes (§4.15, nothing overtakes them), and a
 * removal that came first would let new traffic pass the held packets.
 */
export const DIVERT: EntryType<'diverts'> = {
  kind: 'diverts',
  key: (d) => (isWakeWatch(d) ? `wake ${d.wake} ${d.port}` : formatAddress(d.family, d.address)),
  attrs: () => '',
  rank: 2,
  removeRank: 3,
};
