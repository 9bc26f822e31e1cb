import type { Instant } from '../time';
import { bytesEqual } from '../wire/address';
import { PeerCache } from './peers';

/**
 * The relay's open DHCPv6 transactions: (port, peer-address, transaction-id) → the MAC
 * of the station that sent the request.
 *
 * A server's ADVERTISE or REPLY carries the transaction-id of the request it answers
 * (RFC 8415 §8, §18.3.9–§18.3.10), and RELAY-REPL the peer-address of its RELAY-FORW (§19.2), so
 * the reply goes to the MAC that sent that very request — not to whichever station
 * last sent a frame from the client's link-local. Two stations on one port may share
 * a link-local (a copy is all it takes); they cannot share a transaction without one of
 * them replaying the other's, which `open` refuses: the first MAC holds the transaction
 * while it lives.
 *
 * RFC 6939's Client Link-Layer Address (option 79) is sent to the servers as well (the
 * server may record it), but RFC 6939 §5 defines it for RELAY-FORW only: servers do not
 * return it in RELAY-REPL, so it cannot be what a reply is delivered by.
 *
 * Short-lived: a server answers within a few seconds, and a client that hears nothing
 * retransmits with the same transaction-id (RFC 8415 §15), which refreshes the entry.
 * Bounded (CONVENTIONS 10): at the bound the least recently seen transaction goes.
 */
export const TRANSACTION_LIFETIME_MS = 30_000;

export type Opened = 'opened' | 'refreshed' | 'conflict';

export class Transactions6 {
  private readonly cache: PeerCache;
  private readonly key = new Uint8Array(16 + 3);

  constructor(capacity: number, private readonly lifetimeMs = TRANSACTION_LIFETIME_MS) {
    this.cache = new PeerCache(capacity, 19);
  }

  /**
   * A client message with `transactionId` from `mac` with IPv6 source `peer` (a
   * retransmission keeps its transaction-id, RFC 8415 §15). `conflict`: a live
   * transaction with this key belongs to another MAC; it is kept, and the caller
   * drops the message.
   */
  open(port: string, peer: Uint8Array, transactionId: number, mac: Uint8Array, now: Instant): Opened {
    this.keyOf(peer, transactionId);
    const owner = this.cache.lookup(port, this.key, now - this.lifetimeMs);
    if (owner && !bytesEqual(owner, mac)) return 'conflict';
    this.cache.learn(port, this.key, mac, now);
    return owner ? 'refreshed' : 'opened';
  }

  /** The MAC that sent the request with `transactionId` from `peer`, while it lives; or null. */
  macFor(port: string, peer: Uint8Array, transactionId: number, now: Instant): Uint8Array | null {
    this.keyOf(peer, transactionId);
    return this.cache.lookup(port, this.key, now - this.lifetimeMs);
  }

  get size(): number {
    return this.cache.size;
  }

  get evicted(): number {
    return this.cache.evicted;
  }

  private keyOf(peer: Uint8Array, transactionId: number): void {
    this.key.fill(0);
    this.key.set(peer.subarray(0, 16), 0);
    this.key[16] = (transactionId >>> 16) & 0xff;
    this.key[17] = (transactionId >>> 8) & 0xff;
    this.key[18] = transactionId & 0xff;
  }
}

/**
 * The transaction-id of a DHCPv6 message read from its bytes (RFC 8415 §8: msg-type,
 * then 3 octets), so it holds for a message that does not decode; null when too short.
 */
export function transactionIdOf(payload: Uint8Array): number | null {
  return payload.length < 4 ? null : (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!;
}
