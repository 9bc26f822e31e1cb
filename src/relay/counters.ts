import type { DropReason } from './drop';

/** Per-port counters shown by `gleand status` (relayed, gleaned, dropped by reason). */
export interface PortCounters {
  relayed4: number;
  relayed6: number;
  replies4: number;
  replies6: number;
  gleaned: number;
  released: number;
  dropped: Partial<Record<DropReason, number>>;
}

export const newPortCounters = (): PortCounters => ({
  relayed4: 0, relayed6: 0, replies4: 0, replies6: 0, gleaned: 0, released: 0, dropped: {},
});

export function countDrop(c: PortCounters, reason: DropReason): void {
  c.dropped[reason] = (c.dropped[reason] ?? 0) + 1;
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
