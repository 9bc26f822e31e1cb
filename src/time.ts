/**
 * Typed monotonic time for the sans-IO core (CONVENTIONS 8).
 *
 * The core never reads a clock: the platform passes `now` into every entry point.
 * An `Instant` is milliseconds on a monotonic clock with an arbitrary origin; a
 * `DurationMs` is a span in milliseconds. "Infinite" is `null`, never 0.
 */
export type Instant = number & { readonly __instant: unique symbol };
export type DurationMs = number;

export const instant = (ms: number): Instant => ms as Instant;
export const addMs = (t: Instant, d: DurationMs): Instant => (t + d) as Instant;
export const msBetween = (from: Instant, to: Instant): DurationMs => to - from;

/** The earlier of two optional deadlines; `null` means "no deadline". */
export function earliest(a: Instant | null, b: Instant | null): Instant | null {
  if (a === null) return b;
  if (b === null) return a;
  return a <= b ? a : b;
}
