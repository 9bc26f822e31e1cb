import type { Action } from '../actions';
import { diffEntries } from './diff';
import { emptyDelta, type KernelDelta } from './entries';
import { MROUTE, type MrouteEntry } from './mroute';
import { formatIPv4, formatIPv6 } from '../wire/address';

/** The key `updateGroups` names a group by: family and the group's text form. */
export const mrouteGroupKey = (family: 4 | 6, group: Uint8Array): string => `${family} ${family === 4 ? formatIPv4(group) : formatIPv6(group)}`;

/**
 * Live kernel deltas for a module whose forwarding entries are derived state (the
 * multicast router's `desiredMroutes`: membership and timers decide them, not events
 * that name an entry). After each `handle` / `poll` the module hands over what it wants
 * now; the change since the last call becomes one `kernel` action, so a join or a leave
 * reaches the kernel at once instead of at the next periodic reconcile (RFC 3376 §6.4:
 * a source whose timer expired is no longer forwarded).
 *
 * Holds the last set per group (bounded by what the module bounds: groups × sources per
 * port), so a report that changed one group is diffed against that group's entries only
 * (`updateGroups`): with 1,000 ports × 10 groups × 10 sources a diff of the whole set per
 * report made the router handle a few hundred reports a second (test/bench/multicast.ts).
 */
export class MrouteDeltas {
  private last = new Map<string, MrouteEntry[]>();

  /** A `kernel` action for the change from the last call's entries to `now` (the whole set), or none. */
  update(now: Iterable<MrouteEntry>): Action[] {
    const next = new Map<string, MrouteEntry[]>();
    for (const e of now) {
      const k = mrouteGroupKey(e.family, e.group);
      const list = next.get(k);
      if (list) list.push(e);
      else next.set(k, [e]);
    }
    const d = diffEntries(MROUTE, [...next.values()].flat(), [...this.last.values()].flat());
    this.last = next;
    return deltaAction(d);
  }

  /**
   * The same for the groups in `groups` only (key from `mrouteGroupKey` → every entry of
   * that group now, empty when none): the other groups' entries are taken as unchanged.
   */
  updateGroups(groups: ReadonlyMap<string, readonly MrouteEntry[]>): Action[] {
    const current: MrouteEntry[] = [];
    const before: MrouteEntry[] = [];
    for (const [k, entries] of groups) {
      for (const e of this.last.get(k) ?? []) before.push(e);
      for (const e of entries) current.push(e);
      if (entries.length) this.last.set(k, [...entries]);
      else this.last.delete(k);
    }
    return deltaAction(diffEntries(MROUTE, current, before));
  }

  /** Forget the last set (the router was switched off: its entries are removed by the delta that said so). */
  reset(): void {
    this.last.clear();
  }
}

function deltaAction(d: ReturnType<typeof diffEntries<MrouteEntry>>): Action[] {
  if (!d.add.length && !d.remove.length && !d.replace.length) return [];
  const delta: KernelDelta = { ...emptyDelta(), mroutes: d };
  return [{ kind: 'kernel', delta }];
}
