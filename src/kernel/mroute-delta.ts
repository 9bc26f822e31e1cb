import type { Action } from '../actions';
import { diffEntries } from './diff';
import { emptyDelta, type KernelDelta } from './entries';
import { MROUTE, type MrouteEntry } from './mroute';

/**
 * Live kernel deltas for a module whose forwarding entries are derived state (the
 * multicast router's `desiredMroutes`: membership and timers decide them, not events
 * that name an entry). After each `handle` / `poll` the module hands over what it wants
 * now; the change since the last call becomes one `kernel` action, so a join or a leave
 * reaches the kernel at once instead of at the next periodic reconcile (RFC 3376 §6.4:
 * a source whose timer expired is no longer forwarded).
 *
 * Holds the last set (bounded by what the module bounds: groups × sources per port).
 */
export class MrouteDeltas {
  private last: MrouteEntry[] = [];

  /** A `kernel` action for the change from the last call's entries to `now`, or none. */
  update(now: Iterable<MrouteEntry>): Action[] {
    const current = [...now];
    const d = diffEntries(MROUTE, current, this.last);
    this.last = current;
    if (!d.add.length && !d.remove.length && !d.replace.length) return [];
    const delta: KernelDelta = { ...emptyDelta(), mroutes: d };
    return [{ kind: 'kernel', delta }];
  }

  /** Forget the last set (the router was switched off: its entries are removed by the delta that said so). */
  reset(): void {
    this.last = [];
  }
}
