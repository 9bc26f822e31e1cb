/**
 * The index of one family: group → the ports that hold it (`GroupMembers`), kept by the
 * module as the routers' groups appear, change and disappear. `take` hands over only what
 * changed since the last call: the groups whose upstream membership may have changed and
 * the channels (S, G) whose oif set changed, so neither the upstream merge nor the
 * forwarding entries walk the ports.
 */
import type { MrouteEntry } from '../kernel/mroute';
import { mrouteKey } from '../kernel/mroute';
import type { Instant } from '../time';
import type { GroupState } from './group';
import { GroupMembers, contributionOf, sameContribution, type Member } from './members';
import type { Membership } from './proxy';

export interface IndexChanges {
  /** Groups whose upstream membership may have changed, in the order they changed. */
  readonly upstreamKeys: string[];
  /** Their membership now (absent: no port holds the group). */
  readonly upstream: Map<string, Membership>;
  /** Channel key (`mrouteKey`) → its entry now, null when it has none. */
  readonly channels: [string, MrouteEntry | null][];
}

export class MemberIndex {
  private readonly groups = new Map<string, GroupMembers>();
  /** Groups changed since `take`, in order. */
  private readonly changed = new Set<string>();
  /** Groups with learnt sources (bounded by `max_groups` at `learn`). */
  private readonly learning = new Set<string>();

  constructor(readonly family: 4 | 6) {}

  get(key: string): GroupMembers | undefined {
    return this.groups.get(key);
  }

  get learntGroups(): number {
    return this.learning.size;
  }

  /** Port `p`'s state of group `key` is now `g` (undefined: the port no longer holds it), its timers run up to `now`. */
  set(p: Member, key: string, g: GroupState | undefined, now: Instant): void {
    let m = this.groups.get(key);
    if (!m) {
      if (!g) return;
      m = new GroupMembers(g.address);
      this.groups.set(key, m);
    }
    const prev = m.contribution(p);
    if (g && prev && sameContribution(prev, g, p.device, now)) return;
    m.set(p, g ? contributionOf(g, p.device, now) : undefined);
    if (m.learnt.size === 0) this.learning.delete(key);
    this.changed.add(key);
  }

  /** A source the kernel saw traffic from for group `key` (some port must exclude it: the caller checked). */
  learn(key: string, source: string, address: Uint8Array): void {
    const m = this.groups.get(key);
    if (!m) return;
    m.learn(source, address);
    this.learning.add(key);
    this.changed.add(key);
  }

  /** Every channel is to be handed over again (the upstream device, the entries' iif, changed). */
  touchAll(): void {
    for (const [k, m] of this.groups) {
      for (const s of m.channels.keys()) m.changedChannels.add(s);
      this.changed.add(k);
    }
  }

  /** What changed since the last call, with `iif` (null: no upstream, so no entry) as the entries' input device. */
  take(iif: string | null): IndexChanges {
    const out: IndexChanges = { upstreamKeys: [], upstream: new Map(), channels: [] };
    for (const k of this.changed) {
      const m = this.groups.get(k);
      if (!m) continue;
      if (m.upstreamChanged) {
        m.upstreamChanged = false;
        out.upstreamKeys.push(k);
        const u = m.membership();
        if (u) out.upstream.set(k, { group: m.address, ...u });
      }
      for (const s of m.changedChannels) {
        const ch = m.channels.get(s);
        // The entry's oifs are a copy: the channel's list changes in place, the delta may be held.
        const entry: MrouteEntry | null = ch && ch.devices.length > 0 && iif !== null
          ? { family: this.family, source: ch.address, group: m.address, iif, oifs: ch.devices.slice() }
          : null;
        out.channels.push([mrouteKey(s, k), entry]);
      }
      m.changedChannels.clear();
      if (m.size === 0) { this.groups.delete(k); this.learning.delete(k); }
    }
    this.changed.clear();
    return out;
  }
}
