import { performance } from 'node:perf_hooks';

/**
 * A time budget for long work done in slices on the event loop (a reconcile of 200k
 * entries, a walk of the binding table): `spent()` says when the current slice has run
 * for `ms`, and the caller then yields a turn of the loop (setImmediate) so the control
 * socket and the packet path are served between slices — issue 7 item 3 asks `status`
 * to answer within 100 ms during such work. A slice counted in entries costs what its
 * entries cost (more on a loaded router, more for an nft element than for a route); one
 * counted in time does not. The clock is read every `every` calls, not at each entry.
 */
export class LoopBudget {
  private start: number;
  private calls = 0;

  constructor(private readonly ms: number, private readonly every = 64, private readonly now: () => number = () => performance.now()) {
    this.start = now();
  }

  /**
   * True once the slice has run for its budget; the next slice starts at `restart()`.
   * `weight`: entries done since the last call (the clock is read every `every` entries).
   */
  spent(weight = 1): boolean {
    if ((this.calls += weight) < this.every) return false;
    this.calls = 0;
    return this.now() - this.start >= this.ms;
  }

  /** A new slice begins (after the caller yielded). */
  restart(): void {
    this.start = this.now();
    this.calls = 0;
  }
}
