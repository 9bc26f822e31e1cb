import { addMs, type Instant } from '../time';

/**
 * A token bucket of `ratePerS` tokens a second holding at most `ratePerS` (one second
 * of burst): the pages one area may wide cast (RFC 3154 §3.1: paging is a DoS
 * amplifier; §4.23: a flood toward some hosts must not deny paging to the rest).
 */
export class PageBucket {
  private tokens: number;
  private at: Instant;

  constructor(private readonly ratePerS: number, now: Instant) {
    this.tokens = ratePerS;
    this.at = now;
  }

  private refill(now: Instant): void {
    if (now > this.at) {
      this.tokens = Math.min(this.ratePerS, this.tokens + ((now - this.at) / 1000) * this.ratePerS);
      this.at = now;
    }
  }

  take(now: Instant): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When the next token is there (for a deferred page's deadline). */
  nextToken(now: Instant): Instant {
    this.refill(now);
    return this.tokens >= 1 ? now : addMs(now, Math.ceil(((1 - this.tokens) / this.ratePerS) * 1000));
  }
}

export const HOUR_MS = 3_600_000;

/**
 * Wake-ups of one host in the current hour (RFC 3154 §3.3 forced battery consumption):
 * a fixed window kept as two numbers in the tracking entry.
 */
export interface WakeWindow {
  wakeWindowStart: number;
  wakeCount: number;
}

/** Counts a wake-up, or false when the host had `cap` this hour already. */
export function takeWakeup(w: WakeWindow, cap: number, now: Instant): boolean {
  if (now - w.wakeWindowStart >= HOUR_MS) {
    w.wakeWindowStart = now;
    w.wakeCount = 0;
  }
  if (w.wakeCount >= cap) return false;
  w.wakeCount++;
  return true;
}

/**
 * The wait after PAGE number `sent` (1-based) of a wake-up: `intervalMs`, then twice as
 * long each time (backoff, RFC 3154 §3.1), so an unanswering host costs few wide casts.
 */
export const pageBackoffMs = (intervalMs: number, sent: number): number => intervalMs * 2 ** Math.max(0, sent - 1);
