import type { Action } from '../actions';
import { diffEntries } from './diff';
import { emptyDelta, type EntryDelta, type KernelDelta } from './entries';
import { MROUTE, type MrouteEntry } from './mroute';

/**
 * Live kernel deltas for a module whose forwarding entries are derived state (the
 * multicast router: membership and timers decide them, not events that name an entry).
 * The module hands over what changed; the change becomes one `kernel` action, so a join
 * or a leave reaches the kernel at once instead of at the next periodic reconcile
 * (RFC 3376 §6.4: a source whose timer expired is no longer forwarded).
 *
 * Holds the last entry per channel (S, G) — the module's live set, which is also what a
 * reconcile diffs (`entries`) — bounded by what the module bounds (groups × sources per
 * port). `updateChannels` takes only the channels whose oif set changed: a report costs
 * its own channels, not the group's other entries nor the whole table (with 1,000 ports
 * × 10 groups × 10 sources a diff of the whole set per report made the router handle a
 * few hundred reports a second, test/bench/multicast.ts).
 */
export class MrouteDeltas {
  private last = new Map<string, MrouteEntry>();

  /** A `kernel` action for the change from the last entries to `now` (the whole set), or none. */
  update(now: Iterable<MrouteEntry>): Action[] {
    const next = new Map<string, MrouteEntry>();
    for (const e of now) next.set(MROUTE.key(e), e);
    const d = diffEntries(MROUTE, next.values(), this.last.values());
    this.last = next;
    return deltaAction(d);
  }

  /**
   * The same for the channels named in `changed` only (key from `mrouteKey` → the entry
   * now, null when the channel has none): the others are taken as unchanged. An entry
   * whose iif and oifs equal the last one's is no change; the comparison reads the two
   * lists, it does not format them.
   */
  updateChannels(changed: Iterable<readonly [string, MrouteEntry | null]>): Action[] {
    const d: EntryDelta<MrouteEntry> = { add: [], remove: [], replace: [] };
    for (const [k, e] of changed) {
      const before = this.last.get(k);
      if (e === null) {
        if (before) { d.remove.push(before); this.last.delete(k); }
        continue;
      }
      this.last.set(k, e);
      if (!before) d.add.push(e);
      else if (!sameInterfaces(before, e)) d.replace.push(e);
    }
    return deltaAction(d);
  }

  /** The live set: every entry the deltas installed and did not remove. */
  entries(): Iterable<MrouteEntry> {
    return this.last.values();
  }
}

function sameInterfaces(a: MrouteEntry, b: MrouteEntry): boolean {
  if (a.iif !== b.iif || a.oifs.length !== b.oifs.length) return false;
  if (a.oifs === b.oifs) return true;
  for (let i = 0; i < a.oifs.length; i++) if (a.oifs[i] !== b.oifs[i]) return false;
  return true;
}

function deltaAction(d: EntryDelta<MrouteEntry>): Action[] {
  if (!d.add.length && !d.remove.length && !d.replace.length) return [];
  const delta: KernelDelta = { ...emptyDelta(), mroutes: d };
  return [{ kind: 'kernel', delta }];
}
