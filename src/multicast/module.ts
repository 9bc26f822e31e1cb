/**
 * The multicast module: an IGMPv3 / MLDv2 router on every subscriber port (router.ts)
 * and an SSM-aware proxy host on the upstream (proxy.ts, RFC 4605), with the forwarding
 * entries the subscriber ports want (`desiredMroutes`). Claims `config`, `link`,
 * `multicast` and `mroute-miss`; answers the `groups` query.
 */
import { log, type Action } from '../actions';
import type { Config } from '../config/config';
import type { MulticastConfig } from '../config/schema';
import type { Event } from '../events';
import type { KernelState } from '../kernel/entries';
import type { MrouteEntry } from '../kernel/mroute';
import { MrouteDeltas } from '../kernel/mroute-delta';
import type { Claim, CoreQuery, Module } from '../module';
import { earliest, msBetween, type Instant } from '../time';
import { IGMP, MLD, familyOf, type Family, type GmpDrop } from './family';
import { forwards, type GroupState } from './group';
import { paramsOf } from './params';
import { UpstreamProxy, type Membership } from './proxy';
import { RouterPort, type RouterPolicy } from './router';
import { SsmRange } from './ssm';

type Fam = 4 | 6;
const FAMILIES: readonly Fam[] = [4, 6];

interface PortState {
  readonly name: string;
  device: string;
  readonly routers: Record<Fam, RouterPort>;
}

interface ModuleCounters {
  /** `multicast` events while the router is off, or for a port that is not a subscriber port / the upstream. */
  disabled: number;
  unknownPort: number;
  /** Reports from other hosts heard on the upstream (a host does not act on them, RFC 3376 §5). */
  upstreamReports: number;
  /** Received packets refused before the router saw them, by reason. */
  dropped: Partial<Record<GmpDrop, number>>;
  mrouteMiss: { nocache: number; wrongvif: number };
  /** Sources learnt from NOCACHE upcalls for EXCLUDE-mode (any-source) groups, and those refused at `max_sources`. */
  sourcesLearnt: number;
  sourcesRefused: number;
}

/** Link-locals remembered for ports: more than any configuration has subscribers. */
const LINK_LOCALS_MAX = 4096;

export class MulticastModule implements Module {
  readonly name = 'multicast';
  readonly claims: readonly Claim[] = [{ kind: 'config' }, { kind: 'link' }, { kind: 'multicast' }, { kind: 'mroute-miss' }];
  readonly answers: readonly CoreQuery[] = ['groups'];
  private cfg: MulticastConfig | null = null;
  private ssm = new SsmRange([], []);
  private readonly ports = new Map<string, PortState>();
  private upstream: { name: string; device: string } | null = null;
  private proxies: Record<Fam, UpstreamProxy> | null = null;
  /** Sources of any-source groups the kernel saw traffic from (NOCACHE), by family and group: bounded. */
  private readonly learnt: Record<Fam, Map<string, Map<string, Uint8Array>>> = { 4: new Map(), 6: new Map() };
  private lastNow: Instant | null = null;
  /** Live `kernel` deltas of the forwarding entries: a join or a leave reaches the kernel at once. */
  private readonly mroutes = new MrouteDeltas();
  /** Groups of ports removed by a reload, to re-evaluate upstream. */
  private readonly removed: Record<Fam, Set<string>> = { 4: new Set(), 6: new Set() };
  /** The platform's last word on each port's link-local (bounded: the configured ports and a few more). */
  private readonly linkLocals = new Map<string, Uint8Array | null>();
  private readonly counters: ModuleCounters = {
    disabled: 0, unknownPort: 0, upstreamReports: 0, dropped: {}, mrouteMiss: { nocache: 0, wrongvif: 0 }, sourcesLearnt: 0, sourcesRefused: 0,
  };

  constructor(private readonly random32: () => number) {}

  handle(event: Event, now: Instant): Action[] {
    this.lastNow = now;
    switch (event.kind) {
      case 'config': return this.configure(event.config, now);
      case 'link': {
        const p = this.ports.get(event.port);
        // RFC 3810 §5.1.14: queries leave from the link-local address; without one MLD defers.
        // Kept for a port the configuration does not have yet (the platform may tell first).
        this.linkLocals.set(event.port, event.linkLocal);
        if (this.linkLocals.size > LINK_LOCALS_MAX) this.linkLocals.delete(this.linkLocals.keys().next().value!);
        return p ? p.routers[6].setAddress(event.linkLocal, now) : [];
      }
      case 'multicast': return this.onPacket(event, now);
      case 'mroute-miss': return this.onMiss(event);
      default: return [];
    }
  }

  private configure(config: Config, now: Instant): Action[] {
    const c = config.multicast;
    if (!c.enabled) {
      this.cfg = null;
      this.ports.clear();
      this.upstream = null;
      this.proxies = null;
      this.learnt[4].clear();
      this.learnt[6].clear();
      return this.mroutes.update([]);
    }
    this.cfg = c;
    this.ssm = new SsmRange(c.ssm_range4, c.ssm_range6);
    const policy: RouterPolicy = {
      params: paramsOf(c), ssm: this.ssm, asm: c.asm_policy, maxGroups: c.max_groups, maxSources: c.max_sources, reportRate: c.report_rate_limit,
    };
    const names = new Set(config.subscribers.map((s) => s.name));
    for (const [name, p] of [...this.ports]) {
      if (names.has(name)) continue;
      // The port's groups leave the upstream membership with it.
      for (const f of FAMILIES) for (const k of p.routers[f].groups.keys()) this.removed[f].add(k);
      this.ports.delete(name);
    }
    const startup: Action[] = [];
    for (const s of config.subscribers) {
      const p = this.ports.get(s.name) ?? {
        name: s.name, device: s.device,
        routers: { 4: new RouterPort(s.name, IGMP, policy, now, s.giaddr ?? null), 6: new RouterPort(s.name, MLD, policy, now, this.linkLocals.get(s.name) ?? null) },
      };
      p.device = s.device;
      for (const f of FAMILIES) p.routers[f].setPolicy(policy);
      // The port's giaddr is our IGMP address (query source, election); without one IGMP defers (RFC 3376 §6.6.2).
      startup.push(...p.routers[4].setAddress(s.giaddr ?? null, now));
      this.ports.set(s.name, p);
    }
    const up = config.upstreams.find((u) => u.name === c.upstream);
    this.upstream = up ? { name: up.name, device: up.device } : null;
    if (this.upstream && (!this.proxies || this.proxies[4].port !== this.upstream.name)) {
      const isSsm = (g: Uint8Array) => this.ssm.has(g);
      this.proxies = {
        4: new UpstreamProxy(this.upstream.name, IGMP, c.robustness, this.random32, isSsm),
        6: new UpstreamProxy(this.upstream.name, MLD, c.robustness, this.random32, isSsm),
      };
    }
    if (!this.upstream) this.proxies = null;
    for (const f of FAMILIES) this.proxies?.[f].setRobustness(c.robustness);
    return this.afterChange(now, [...startup, ...this.poll(now)]);
  }

  private onPacket(e: Extract<Event, { kind: 'multicast' }>, now: Instant): Action[] {
    if (!this.cfg) { this.counters.disabled++; return []; }
    const fam = familyOf(e.family);
    if (e.upstream) {
      if (!this.upstream || e.port !== this.upstream.name || !this.proxies) { this.counters.unknownPort++; return []; }
      const parsed = fam.parse(e.bytes);
      if (!parsed.ok) return this.dropped(parsed.reason, e.port, fam, parsed.field);
      if (parsed.message.kind !== 'query') { this.counters.upstreamReports++; return []; }
      return this.proxies[e.family].onQuery(parsed.message, now);
    }
    const p = this.ports.get(e.port);
    if (!p) { this.counters.unknownPort++; return []; }
    const parsed = fam.parse(e.bytes);
    if (!parsed.ok) return this.dropped(parsed.reason, e.port, fam, parsed.field);
    return this.afterChange(now, p.routers[e.family].handle(parsed.message, parsed.source, now));
  }

  private dropped(reason: GmpDrop, port: string, fam: Family, field?: string): Action[] {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    return [log('debug', 'multicast', `${fam.name} packet dropped`, { port, reason, ...(field ? { field } : {}) }, `mc-drop:${port}:${reason}`)];
  }

  private onMiss(e: Extract<Event, { kind: 'mroute-miss' }>): Action[] {
    if (!this.cfg) { this.counters.disabled++; return []; }
    this.counters.mrouteMiss[e.reason]++;
    if (e.reason !== 'nocache' || !e.upstream) return [];
    const fam = familyOf(e.family);
    if (e.group.length !== fam.addrLen || e.source.length !== fam.addrLen) return [];
    const g = fam.format(e.group);
    // Only any-source groups some port holds in EXCLUDE mode need a source learnt: INCLUDE
    // sources are in the forwarding entries already (RFC 3376 §6.3).
    const excluding = [...this.ports.values()].some((p) => p.routers[e.family].groups.get(g)?.mode === 'exclude');
    if (!excluding) return [];
    const sources = this.learnt[e.family].get(g) ?? new Map<string, Uint8Array>();
    const s = fam.format(e.source);
    if (sources.has(s)) return [];
    if (sources.size >= this.cfg.max_sources || (!this.learnt[e.family].has(g) && this.learnt[e.family].size >= this.cfg.max_groups)) {
      this.counters.sourcesRefused++;
      return [log('warn', 'multicast', 'source of an any-source group refused at max_sources', { group: g, source: s }, `mc-learnt:${g}`)];
    }
    sources.set(s, e.source);
    this.learnt[e.family].set(g, sources);
    this.counters.sourcesLearnt++;
    return this.mroutes.update(this.desiredMroutes());
  }

  poll(now: Instant): Action[] {
    this.lastNow = now;
    const out: Action[] = [];
    for (const p of this.ports.values()) for (const f of FAMILIES) for (const a of p.routers[f].expire(now)) out.push(a);
    if (this.proxies) for (const f of FAMILIES) for (const a of this.proxies[f].expire(now)) out.push(a);
    return this.afterChange(now, out);
  }

  /**
   * After the routers changed: for the groups whose membership changed on some port,
   * learnt sources of groups no port excludes any more are forgotten, and the upstream
   * membership follows. Only those groups are looked at: a report costs its groups, not
   * the whole table.
   */
  private afterChange(now: Instant, out: Action[]): Action[] {
    let changed = false;
    const byGroup = new Map<string, MrouteEntry[]>();
    for (const f of FAMILIES) {
      const keys = this.removed[f];
      for (const p of this.ports.values()) {
        for (const k of p.routers[f].dirty) keys.add(k);
        p.routers[f].dirty.clear();
      }
      if (keys.size === 0) continue;
      changed = true;
      for (const g of keys) {
        if (this.learnt[f].has(g) && ![...this.ports.values()].some((p) => p.routers[f].groups.get(g)?.mode === 'exclude')) this.learnt[f].delete(g);
      }
      if (this.proxies) for (const a of this.proxies[f].update(keys, this.membership(f, keys, now), now)) out.push(a);
      // The forwarding entries of the changed groups only: a report costs its groups'
      // ports, not the whole table (the other groups' entries cannot have changed).
      if (this.upstream && this.lastNow !== null) {
        for (const k of keys) {
          const states: [PortState, GroupState][] = [];
          for (const p of this.ports.values()) {
            const g = p.routers[f].groups.get(k);
            if (g) states.push([p, g]);
          }
          const entries = states.length ? [...this.groupMroutes(f, k, states[0]![1].address, states, this.lastNow)] : [];
          byGroup.set(`${f} ${k}`, entries);
        }
      }
      keys.clear();
    }
    if (changed) for (const a of this.mroutes.updateGroups(byGroup)) out.push(a);
    return out;
  }

  /**
   * The union of the ports' memberships of the groups `keys` (RFC 4605 §4.1 by the merge
   * of RFC 3376 §3.2): EXCLUDE when any port excludes, with the intersection of the
   * exclude lists minus every source a port wants; otherwise INCLUDE with the union of
   * the include lists.
   */
  private membership(f: Fam, keys: ReadonlySet<string>, now: Instant): Map<string, Membership> {
    const byGroup = new Map<string, GroupState[]>();
    for (const k of keys) {
      const list: GroupState[] = [];
      for (const p of this.ports.values()) {
        const g = p.routers[f].groups.get(k);
        if (g) list.push(g);
      }
      if (list.length > 0) byGroup.set(k, list);
    }
    const out = new Map<string, Membership>();
    for (const [k, gs] of byGroup) {
      const wanted = new Map<string, Uint8Array>();
      for (const g of gs) for (const [s, st] of g.sources) if (st.timer !== null && st.timer > now) wanted.set(s, st.address);
      const excl = gs.filter((g) => g.mode === 'exclude');
      if (excl.length === 0) { out.set(k, { group: gs[0]!.address, mode: 'include', sources: wanted }); continue; }
      const y = new Map<string, Uint8Array>();
      for (const [s, st] of excl[0]!.sources) {
        if (st.timer !== null && st.timer > now) continue;
        if (excl.every((g) => { const o = g.sources.get(s); return o !== undefined && (o.timer === null || o.timer <= now); }) && !wanted.has(s)) y.set(s, st.address);
      }
      out.set(k, { group: gs[0]!.address, mode: 'exclude', sources: y });
    }
    return out;
  }

  nextDeadline(): Instant | null {
    let d: Instant | null = null;
    for (const p of this.ports.values()) for (const f of FAMILIES) d = earliest(d, p.routers[f].nextDeadline());
    if (this.proxies) for (const f of FAMILIES) d = earliest(d, this.proxies[f].nextDeadline());
    return d;
  }

  /**
   * The forwarding entries the subscriber ports want (RFC 4605 §4.2): for every group and
   * every source some port forwards (RFC 3376 §6.3: its INCLUDE sources, or for an EXCLUDE
   * group the sources the kernel reported traffic from that are not excluded), packets from
   * the upstream device go out of those ports' devices.
   */
  *desiredMroutes(): Iterable<MrouteEntry> {
    if (!this.upstream || this.lastNow === null) return;
    const now = this.lastNow;
    for (const f of FAMILIES) {
      const groups = new Map<string, { address: Uint8Array; states: [PortState, GroupState][] }>();
      for (const p of this.ports.values()) {
        for (const [k, g] of p.routers[f].groups) {
          const e = groups.get(k) ?? { address: g.address, states: [] };
          e.states.push([p, g]);
          groups.set(k, e);
        }
      }
      for (const [k, { address, states }] of groups) yield* this.groupMroutes(f, k, address, states, now);
    }
  }

  /** The forwarding entries of one group, from the ports that hold it (`states`). */
  private *groupMroutes(f: Fam, k: string, address: Uint8Array, states: readonly [PortState, GroupState][], now: Instant): Iterable<MrouteEntry> {
    if (!this.upstream) return;
    const candidates = new Map<string, Uint8Array>();
    for (const [, g] of states) for (const [s, st] of g.sources) if (st.timer !== null) candidates.set(s, st.address);
    for (const [s, a] of this.learnt[f].get(k) ?? []) candidates.set(s, a);
    for (const [s, source] of candidates) {
      const oifs = [...new Set(states.filter(([, g]) => forwards(g, s, now)).map(([p]) => p.device))].sort();
      if (oifs.length > 0) yield { family: f, source, group: address, iif: this.upstream.device, oifs };
    }
  }

  /** The full desired state of the kind this module owns (`mroutes`), for a reconcile. */
  desired(): KernelState {
    return { mroutes: this.desiredMroutes() };
  }

  query(what: CoreQuery, now: Instant): unknown {
    if (what !== 'groups') return undefined;
    return { groups: this.groupRows(now) };
  }

  /** One JSON-safe row per port, family and group (`gleand groups`). */
  groupRows(now: Instant): Record<string, unknown>[] {
    const rows: Record<string, unknown>[] = [];
    const left = (t: Instant | null) => (t === null ? null : Math.max(0, msBetween(now, t)));
    for (const p of this.ports.values()) {
      for (const f of FAMILIES) {
        const r = p.routers[f];
        for (const g of r.groups.values()) {
          rows.push({
            port: p.name, family: f, group: g.key, filterMode: g.mode, ssm: g.ssm,
            compatibility: r.fam.versionName(r.groupLevel(g, now)),
            groupTimerMs: left(g.groupTimer),
            sources: [...g.sources.values()].map((s) => ({ source: r.fam.format(s.address), timerMs: left(s.timer), forwarding: forwards(g, r.fam.format(s.address), now) })),
          });
        }
      }
    }
    return rows;
  }

  status(now?: Instant): Record<string, unknown> {
    const t = now ?? this.lastNow;
    return {
      enabled: this.cfg !== null,
      upstream: this.upstream?.name ?? null,
      ports: Object.fromEntries([...this.ports.values()].map((p) => [p.name, Object.fromEntries(FAMILIES.map((f) => {
        const r = p.routers[f];
        return [r.fam.name, {
          querier: r.querier, address: r.address ? r.fam.format(r.address) : null,
          compatibility: r.fam.versionName(t === null ? 3 : r.portLevel(t)), otherQuerier: r.otherQuerier ? r.fam.format(r.otherQuerier) : null,
          otherQuerierMs: r.otherQuerierUntil !== null && t !== null ? Math.max(0, msBetween(t, r.otherQuerierUntil)) : null,
          groups: r.groups.size, counters: r.counters,
        }];
      }))])),
      proxy: this.proxies ? { IGMP: { ...this.proxies[4].counters, groups: this.proxies[4].reported.size }, MLD: { ...this.proxies[6].counters, groups: this.proxies[6].reported.size } } : null,
      counters: this.counters,
    };
  }
}
