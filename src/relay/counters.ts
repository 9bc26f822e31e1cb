import { log, type Action } from '../actions';
import type { DropReason } from './drop';

/** Per-port counters shown by `gleand status` (relayed, gleaned, dropped by reason). */
export interface PortCounters {
  relayed4: number;
  relayed6: number;
  replies4: number;
  replies6: number;
  gleaned: number;
  released: number;
  /** DHCPv6 replies delivered (or observed) whose inner message did not decode, so nothing was gleaned. */
  gleanFailed: number;
  /** Server replies (from a configured server) seen leaving the port for a client: unicast renewals on passive ports. */
  unicastReplies: number;
  /** Bindings renewed from those replies. */
  unicastRenewed: number;
  /** Replies that renewed nothing: no binding of that client on the port (or not a DHCPACK / REPLY). */
  unicastUnmatched: number;
  /** Outgoing UDP 67→68 / 547→546 not from a configured server: another relay's replies, or forged. */
  unicastNotServer: number;
  /** A DHCPv6 source address seen from a second MAC on the port (the peer cache's entry changed hands). */
  peerConflicts: number;
  dropped: Partial<Record<DropReason, number>>;
}

export const newPortCounters = (): PortCounters => ({
  relayed4: 0, relayed6: 0, replies4: 0, replies6: 0, gleaned: 0, released: 0, gleanFailed: 0, peerConflicts: 0,
  unicastReplies: 0, unicastRenewed: 0, unicastUnmatched: 0, unicastNotServer: 0, dropped: {},
});

export function countDrop(c: PortCounters, reason: DropReason): void {
  c.dropped[reason] = (c.dropped[reason] ?? 0) + 1;
}

/**
 * A DHCPv6 reply whose inner message did not decode (`field` names where): counted,
 * with a debug line rate-limited by its key (CONVENTIONS 10). Not a drop: a relayed
 * reply is still delivered (RFC 8415 §19.2).
 */
export function countGleanFailed(c: PortCounters, port: string, field: string): Action[] {
  c.gleanFailed++;
  return [log('debug', 'relay', 'glean-failed', { port, field }, `glean-failed:${port}`)];
}

/**
 * A token bucket per port over the core's monotonic time: `ratePerSecond` packets per
 * second with a burst of one second's worth.
 */
export class RateLimiter {
  private tokens: number;
  private at: number | null = null;

  constructor(private ratePerSecond: number) {
    this.tokens = ratePerSecond;
  }

  setRate(ratePerSecond: number): void {
    this.ratePerSecond = ratePerSecond;
    this.tokens = Math.min(this.tokens, ratePerSecond);
  }

  admit(nowMs: number): boolean {
    if (this.at !== null) this.tokens = Math.min(this.ratePerSecond, this.tokens + ((nowMs - this.at) * this.ratePerSecond) / 1000);
    this.at = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
