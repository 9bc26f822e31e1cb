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
import { RouterDeadlines } from './deadlines';
import { forwards } from './group';
import { MemberIndex } from './member-index';
import { paramsOf } from './params';
import { UpstreamProxy } from './proxy';
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
  /**
   * Group → the ports that hold it, per family, with the upstream union and the channels'
   * oif sets kept by reference counts (members.ts), and the learnt sources of any-source
   * groups (NOCACHE), bounded: a report costs its own sources, not the ports.
   */
  private readonly index: Record<Fam, MemberIndex> = { 4: new MemberIndex(4), 6: new MemberIndex(6) };
  /** Routers by their next deadline: `poll` and `nextDeadline` do not walk the ports. */
  private readonly deadlines = new RouterDeadlines();
  /** Routers the module called into since `afterChange` last looked: their changed groups go into the index. */
  private readonly touched = new Set<RouterPort>();
  private lastNow: Instant | null = null;
  /** Live `kernel` deltas of the forwarding entries: a join or a leave reaches the kernel at once. */
  private readonly mroutes = new MrouteDeltas();
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
        if (!p) return [];
        this.touched.add(p.routers[6]);
        return this.afterChange(now, p.routers[6].setAddress(event.linkLocal, now));
      }
      case 'multicast': return this.onPacket(event, now);
      case 'mroute-miss': return this.onMiss(event, now);
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
      this.index[4] = new MemberIndex(4);
      this.index[6] = new MemberIndex(6);
      this.deadlines.clear();
      this.touched.clear();
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
      // The port's groups leave the upstream membership and the forwarding entries with it.
      for (const f of FAMILIES) {
        const r = p.routers[f];
        for (const k of [...r.groups.keys(), ...r.dirty]) this.index[f].set(p, k, undefined, now);
        this.deadlines.remove(r);
        this.touched.delete(r);
      }
      this.ports.delete(name);
    }
    const startup: Action[] = [];
    for (const s of config.subscribers) {
      const known = this.ports.get(s.name);
      const p = known ?? {
        name: s.name, device: s.device,
        routers: { 4: new RouterPort(s.name, IGMP, policy, now, s.giaddr ?? null), 6: new RouterPort(s.name, MLD, policy, now, this.linkLocals.get(s.name) ?? null) },
      };
      if (!known) for (const f of FAMILIES) this.deadlines.add(p.routers[f]);
      // Another device: every group of the port goes into the index again, under the new device.
      if (p.device !== s.device) for (const f of FAMILIES) for (const k of p.routers[f].groups.keys()) p.routers[f].dirty.add(k);
      p.device = s.device;
      for (const f of FAMILIES) { p.routers[f].setPolicy(policy); this.touched.add(p.routers[f]); }
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
    // The upstream device is every entry's iif: each entry is handed over again (unchanged ones are no delta).
    for (const f of FAMILIES) this.index[f].touchAll();
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
    this.touched.add(p.routers[e.family]);
    return this.afterChange(now, p.routers[e.family].handle(parsed.message, parsed.source, now));
  }

  private dropped(reason: GmpDrop, port: string, fam: Family, field?: string): Action[] {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + 1;
    return [log('debug', 'multicast', `${fam.name} packet dropped`, { port, reason, ...(field ? { field } : {}) }, `mc-drop:${port}:${reason}`)];
  }

  private onMiss(e: Extract<Event, { kind: 'mroute-miss' }>, now: Instant): Action[] {
    if (!this.cfg) { this.counters.disabled++; return []; }
    this.counters.mrouteMiss[e.reason]++;
    if (e.reason !== 'nocache' || !e.upstream) return [];
    const fam = familyOf(e.family);
    if (e.group.length !== fam.addrLen || e.source.length !== fam.addrLen) return [];
    const g = fam.format(e.group);
    // Only any-source groups some port holds in EXCLUDE mode need a source learnt: INCLUDE
    // sources are in the forwarding entries already (RFC 3376 §6.3).
    const members = this.index[e.family].get(g);
    if (!members?.anyExcluding) return [];
    const s = fam.format(e.source);
    if (members.learnt.has(s)) return [];
    if (members.learnt.size >= this.cfg.max_sources || (members.learnt.size === 0 && this.index[e.family].learntGroups >= this.cfg.max_groups)) {
      this.counters.sourcesRefused++;
      return [log('warn', 'multicast', 'source of an any-source group refused at max_sources', { group: g, source: s }, `mc-learnt:${g}`)];
    }
    this.index[e.family].learn(g, s, e.source);
    this.counters.sourcesLearnt++;
    return this.afterChange(now, []);
  }

  poll(now: Instant): Action[] {
    this.lastNow = now;
    const out: Action[] = [];
    // Only the routers that are due: the others' expire would find nothing to do.
    for (const r of this.deadlines.due(now)) {
      this.touched.add(r);
      for (const a of r.expire(now)) out.push(a);
    }
    if (this.proxies) for (const f of FAMILIES) for (const a of this.proxies[f].expire(now)) out.push(a);
    return this.afterChange(now, out);
  }

  /**
   * After the routers the module called into changed: their changed groups go into the
   * index (each port's contribution replaces its last one), the upstream membership
   * follows for the groups whose union may have changed, the forwarding entries for the
   * channels whose oif set changed, and the routers' deadlines are re-read. Nothing here
   * walks the ports: a report costs its own groups and sources.
   */
  private afterChange(now: Instant, out: Action[]): Action[] {
    if (this.touched.size > 0) {
      const routers = [...this.touched].sort((a, b) => this.deadlines.order(a) - this.deadlines.order(b));
      this.touched.clear();
      for (const f of FAMILIES) {
        for (const r of routers) {
          if (r.fam.family !== f || r.dirty.size === 0) continue;
          const p = this.ports.get(r.port)!;
          for (const k of r.dirty) this.index[f].set(p, k, r.groups.get(k), now);
          r.dirty.clear();
        }
      }
      for (const r of routers) this.deadlines.refresh(r);
    }
    const entries: [string, MrouteEntry | null][] = [];
    for (const f of FAMILIES) {
      const c = this.index[f].take(this.upstream?.device ?? null);
      if (this.proxies && c.upstreamKeys.length > 0) for (const a of this.proxies[f].update(c.upstreamKeys, c.upstream, now)) out.push(a);
      for (const e of c.channels) entries.push(e);
    }
    if (entries.length > 0) for (const a of this.mroutes.updateChannels(entries)) out.push(a);
    return out;
  }

  nextDeadline(): Instant | null {
    let d: Instant | null = this.deadlines.nextDeadline();
    if (this.proxies) for (const f of FAMILIES) d = earliest(d, this.proxies[f].nextDeadline());
    return d;
  }

  /**
   * The forwarding entries the subscriber ports want (RFC 4605 §4.2): for every group and
   * every source some port forwards (RFC 3376 §6.3: its INCLUDE sources, or for an EXCLUDE
   * group the sources the kernel reported traffic from that are not excluded), packets from
   * the upstream device go out of those ports' devices. The live set the deltas installed:
   * the index keeps it as membership changes. A copy: a stepped reconcile may run across
   * turns in which the set changes.
   */
  desiredMroutes(): MrouteEntry[] {
    return [...this.mroutes.entries()];
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
