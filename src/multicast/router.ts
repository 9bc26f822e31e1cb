/**
 * The multicast router of one family on one subscriber port (RFC 3376 §6, RFC 3810 §7):
 * querier election, general queries with the startup count / interval, the per-group
 * state tables (group.ts), group-specific and group-and-source-specific queries with
 * their retransmissions, older-version host compatibility for groups outside the SSM
 * range, and the SSM rules of RFC 4604 §3. Sans-IO: events in with `now`, packets out
 * as `multicast-send` actions.
 */
import { log, type Action } from '../actions';
import { RateLimiter } from '../relay/counters';
import { addMs, earliest, type Instant } from '../time';
import { bytesEqual } from '../wire/address';
import { newRouterCounters, type RouterCounters } from './counters';
import type { Family, GmpMessage, Level } from './family';
import { RECORD, applyRecord, compatLevel, expire, groupDeadline, newGroup, type GroupState, type QueryRequest } from './group';
import { gmiMs, lmqc, lmqtMs, ohpiMs, oqpiMs, ovqpiMs, sqiMs, type Params } from './params';
import type { SsmRange } from './ssm';

export interface RouterPolicy {
  readonly params: Params;
  readonly ssm: SsmRange;
  readonly asm: 'drop' | 'allow';
  readonly maxGroups: number;
  readonly maxSources: number;
  readonly reportRate: number;
}

const SUBSYSTEM = 'multicast';

export class RouterPort {
  readonly groups = new Map<string, GroupState>();
  readonly counters: RouterCounters = newRouterCounters();
  /** Groups whose membership changed since the module last looked (it reports them upstream). */
  readonly dirty = new Set<string>();
  /**
   * RFC 3376 §6.6.2: we are the querier until a query from a lower address arrives; without
   * an address of our own we cannot take part in the election and are not querier.
   */
  querier: boolean;
  otherQuerierUntil: Instant | null = null;
  /** The address of the querier when it is another router. */
  otherQuerier: Uint8Array | null = null;
  /** QRV / QQI adopted from the querier's queries while not querier (RFC 3376 §4.1.6, §4.1.7). */
  private adoptedRv = 0;
  private adoptedQiMs = 0;
  /** RFC 3376 §7.3.1 / RFC 3810 §8.3.1: Older Version Querier Present timers of the port. */
  private v1QuerierUntil: Instant | null = null;
  private v2QuerierUntil: Instant | null = null;
  private generalQueryAt: Instant | null;
  private startupLeft: number;
  private readonly limiter: RateLimiter;

  /**
   * `address`: ours on the link, the source of our queries and what the election compares
   * (IGMP the port's giaddr, MLD its link-local, RFC 3810 §5.1.14); null: not known (yet).
   */
  constructor(
    readonly port: string,
    readonly fam: Family,
    private policy: RouterPolicy,
    now: Instant,
    private ownAddress: Uint8Array | null,
  ) {
    this.querier = ownAddress !== null;
    if (!this.querier) this.counters.querierDeferred++;
    this.generalQueryAt = this.querier ? now : null;
    this.startupLeft = policy.params.rv;
    this.limiter = new RateLimiter(policy.reportRate);
  }

  get address(): Uint8Array | null {
    return this.ownAddress;
  }

  /**
   * Our address came, changed or went (a reload's giaddr, the platform's link-local).
   * RFC 3376 §6.6.2 / RFC 3810 §7.6.2: a router without an address cannot win the election,
   * so it defers — not querier, still listening — and counts it; with an address it takes
   * part again: querier at once (with the startup queries, §8.6) unless a lower-addressed
   * querier is present, whose Other Querier Present timer then decides.
   */
  setAddress(a: Uint8Array | null, now: Instant): Action[] {
    const had = this.ownAddress;
    if (had === a || (had !== null && a !== null && bytesEqual(had, a))) return [];
    this.ownAddress = a;
    const ctx = { port: this.port, family: this.fam.family };
    if (a === null) {
      if (!this.querier) return [];
      this.querier = false;
      this.generalQueryAt = null;
      this.counters.querierDeferred++;
      return [log('warn', SUBSYSTEM, 'no address of our own: not querier until we have one (RFC 3376 §6.6.2)', ctx, `mc-no-address:${this.port}:${this.fam.family}`)];
    }
    if (this.querier) return [];
    if (this.otherQuerier !== null && compareBytes(this.otherQuerier, a) < 0) return [];
    this.becomeQuerier(now);
    this.startupLeft = this.params.rv;
    return [log('info', SUBSYSTEM, 'address known: querier', { ...ctx, address: this.fam.format(a) }, `mc-querier:${this.port}:${this.fam.family}`)];
  }

  private becomeQuerier(now: Instant): void {
    this.querier = true;
    this.otherQuerier = null;
    this.otherQuerierUntil = null;
    this.adoptedRv = 0;
    this.adoptedQiMs = 0;
    this.generalQueryAt = now;
  }

  /**
   * A reload: a group whose side of the SSM range changed, or an any-source group that
   * `asm_policy drop` now refuses, is forgotten (its hosts report it again at the next
   * query, and it is then treated by the new rules, RFC 4604 §2.2.2).
   */
  setPolicy(p: RouterPolicy): void {
    this.policy = p;
    this.limiter.setRate(p.reportRate);
    for (const [k, g] of this.groups) {
      const ssm = p.ssm.has(g.address);
      if (ssm !== g.ssm || (!ssm && p.asm === 'drop')) { this.groups.delete(k); this.dirty.add(k); }
    }
  }

  /** The variables in force: the configured ones, or the querier's while another router is querier. */
  get params(): Params {
    const p = this.policy.params;
    if (this.querier) return p;
    return { ...p, rv: this.adoptedRv || p.rv, qiMs: this.adoptedQiMs || p.qiMs };
  }

  private get intervals() {
    return { gmiMs: gmiMs(this.params), lmqtMs: lmqtMs(this.params) };
  }

  isSsm(group: Uint8Array): boolean {
    return this.policy.ssm.has(group);
  }

  /** RFC 3376 §7.3.1: the port's compatibility mode, the lowest version whose Older Version Querier Present timer runs. */
  portLevel(now: Instant): Level {
    if (this.v1QuerierUntil !== null && this.v1QuerierUntil > now) return 1;
    if (this.v2QuerierUntil !== null && this.v2QuerierUntil > now) return 2;
    return 3;
  }

  /**
   * The version a group is handled in: the lower of its hosts' (§7.3.2) and the port's
   * (§7.3.1) compatibility modes; an SSM group is always IGMPv3 / MLDv2 (RFC 4604 §3.5, §3.6).
   */
  groupLevel(g: GroupState, now: Instant): Level {
    if (g.ssm) return 3;
    return Math.min(compatLevel(g, now), this.portLevel(now)) as Level;
  }

  /**
   * One received message. Timers of the groups it touches are run up to `now` first
   * (`current`); the rest of the table waits for `poll`, so a report costs its groups,
   * not the whole table.
   */
  handle(m: GmpMessage, source: Uint8Array, now: Instant): Action[] {
    const out: Action[] = [];
    this.expireQuerier(now, out);
    switch (m.kind) {
      case 'query':
        this.counters.received.queries++;
        this.onQuery(m, source, now, out);
        break;
      case 'report':
      case 'old-report':
      case 'leave':
        if (!this.limiter.admit(now)) {
          this.counters.dropped['rate-limit'] = (this.counters.dropped['rate-limit'] ?? 0) + 1;
          out.push(log('debug', SUBSYSTEM, 'report rate limit', { port: this.port, family: this.fam.family }, `mc-rate:${this.port}`));
          break;
        }
        if (m.kind === 'report') { this.counters.received.reports++; this.onReport(m.records, now, out); }
        else if (m.kind === 'old-report') { this.counters.received.oldReports++; this.onOldReport(m.level, m.group, now, out); }
        else { this.counters.received.leaves++; this.onLeave(m.group, now, out); }
        break;
    }
    return out;
  }

  // ---- querier election and queries received (RFC 3376 §6.6.1, §6.6.2) -------------

  private onQuery(q: Extract<GmpMessage, { kind: 'query' }>, source: Uint8Array, now: Instant, out: Action[]): void {
    const own = this.address;
    // A query from the unspecified address (a snooping switch's, RFC 4541 §2.1.1) elects nobody.
    if (bytesEqual(source, this.fam.unspecified)) return;
    if (own !== null && bytesEqual(source, own)) return;
    if (q.level !== 3) this.olderQuerierSeen(q.level, source, now, out);
    // §6.6.2: the lower address wins; without an address of our own any querier does.
    if (own !== null && compareBytes(source, own) >= 0) return;
    if (this.querier) {
      this.counters.querierLost++;
      out.push(log('info', SUBSYSTEM, 'lost the querier election', {
        port: this.port, family: this.fam.family, querier: this.fam.format(source), version: this.fam.versionName(q.level),
      }, `mc-querier:${this.port}:${this.fam.family}`));
      if (q.level < 3) {
        // RFC 4604 §3.6 (RFC 3376 §7.3.1): losing to a lower-version router is an error to log.
        this.counters.olderQuerier++;
        out.push(log('error', SUBSYSTEM, 'lost the querier election to an older-version router', {
          port: this.port, family: this.fam.family, querier: this.fam.format(source), version: this.fam.versionName(q.level),
        }, `mc-older-querier:${this.port}:${this.fam.family}`));
      }
    }
    this.querier = false;
    this.otherQuerier = source;
    this.otherQuerierUntil = addMs(now, oqpiMs(this.params));
    this.generalQueryAt = null;
    if (q.level === 3) {
      if (q.qrv !== 0) this.adoptedRv = q.qrv;
      if (q.qqiSec !== 0) this.adoptedQiMs = q.qqiSec * 1000;
    }
    // §6.6.1: a group(-and-source)-specific query with S clear lowers our timers to LMQT.
    if (q.group === null || q.suppress) return;
    const g = this.current(this.fam.format(q.group), now);
    if (!g) return;
    const lmqt = addMs(now, lmqtMs(this.params));
    if (q.sources.length === 0) {
      if (g.mode === 'exclude' && g.groupTimer !== null && g.groupTimer > lmqt) g.groupTimer = lmqt;
      return;
    }
    for (const s of q.sources) {
      const st = g.sources.get(this.fam.format(s));
      if (st && st.timer !== null && st.timer > lmqt) st.timer = lmqt;
    }
  }

  /**
   * RFC 3376 §7.3.1 / RFC 3810 §8.3.1: an older-version query (from any router, querier or
   * not) starts its Older Version Querier Present timer (RV·QI + QRI): the port's groups
   * outside the SSM range are handled in that version (§7.3.2 rules, older-version group
   * queries). SSM groups stay IGMPv3 / MLDv2 and the condition is an error to log (RFC 4604
   * §3.6). General queries stay IGMPv3 / MLDv2 too: they also ask about the SSM groups, and
   * an older query would move the hosts' SSM joins into an older mode (RFC 3376 §7.2.1);
   * an older router reads them by their first octets as its own version's (RFC 3376 §7.1).
   */
  private olderQuerierSeen(level: 1 | 2, source: Uint8Array, now: Instant, out: Action[]): void {
    const before = this.portLevel(now);
    const until = addMs(now, ovqpiMs(this.params));
    if (level === 1) this.v1QuerierUntil = until;
    else this.v2QuerierUntil = until;
    if (this.portLevel(now) >= before) return;
    this.counters.olderQuerierMode++;
    out.push(log('error', SUBSYSTEM, `older-version querier present: any-source groups in ${this.fam.versionName(level)} compatibility mode (RFC 3376 §7.3.1); SSM groups cannot be served in it and stay ${this.fam.versionName(3)} (RFC 4604 §3.6)`, {
      port: this.port, family: this.fam.family, querier: this.fam.format(source), version: this.fam.versionName(level),
    }, `mc-older-mode:${this.port}:${this.fam.family}`));
  }

  // ---- reports (RFC 3376 §6.4, RFC 4604 §3) ------------------------------------------

  /** The group's state, created within `max_groups`; null when refused or not routable. */
  private groupFor(address: Uint8Array, now: Instant, out: Action[]): GroupState | null {
    const key = this.fam.format(address);
    const g = this.current(key, now);
    if (g) return g;
    if (this.groups.size >= this.policy.maxGroups) {
      this.counters.groupLimit++;
      out.push(log('warn', SUBSYSTEM, 'max_groups reached: group refused', { port: this.port, group: key }, `mc-max-groups:${this.port}`));
      return null;
    }
    const fresh = newGroup(address, key, this.isSsm(address));
    this.groups.set(key, fresh);
    return fresh;
  }

  /** Filter records the router never acts on; true when the record's group is to be processed. */
  private routable(group: Uint8Array, out: Action[]): 'ssm' | 'asm' | null {
    if (this.fam.isLinkLocalGroup(group)) { this.counters.linkScopeIgnored++; return null; }
    if (this.isSsm(group)) return 'ssm';
    if (this.policy.asm === 'drop') {
      this.counters.asmDropped++;
      out.push(log('debug', SUBSYSTEM, 'any-source group ignored (asm_policy drop)', { port: this.port, group: this.fam.format(group) }, `mc-asm:${this.port}`));
      return null;
    }
    return 'asm';
  }

  private onReport(records: readonly { type: number; group: Uint8Array; sources: readonly Uint8Array[] }[], now: Instant, out: Action[]): void {
    for (const r of records) {
      if (r.type < RECORD.IS_IN || r.type > RECORD.BLOCK) { this.counters.unknownRecord++; continue; }
      if (!this.fam.isMulticast(r.group)) { this.counters.dropped['not-multicast'] = (this.counters.dropped['not-multicast'] ?? 0) + 1; continue; }
      const kind = this.routable(r.group, out);
      if (kind === null) continue;
      const type = r.type;
      let sources = r.sources;
      if (kind === 'ssm' && (type === RECORD.IS_EX || type === RECORD.TO_EX)) {
        // RFC 4604 §3.1: ignore the record, process the report's other records.
        this.counters.ssmExcludeIgnored++;
        out.push(log('warn', SUBSYSTEM, 'EXCLUDE record for an SSM group ignored (RFC 4604 §3.1)', {
          port: this.port, group: this.fam.format(r.group), record: type,
        }, `mc-ssm-exclude:${this.port}`));
        continue;
      }
      const existing = this.current(this.fam.format(r.group), now);
      const level = kind === 'ssm' ? 3 : existing ? this.groupLevel(existing, now) : this.portLevel(now);
      if (level < 3) {
        // RFC 3376 §7.3.2 (§7.3.1 for the port's mode): older hosts or querier present: BLOCK ignored, TO_EX's sources ignored.
        if (type === RECORD.BLOCK) { this.counters.compatIgnored++; continue; }
        if (type === RECORD.TO_EX && sources.length > 0) { this.counters.compatIgnored++; sources = []; }
      }
      // A record that would leave nothing (IS_IN / TO_IN / ALLOW / BLOCK of {} for a group we do not have) creates no state.
      if (!existing && type !== RECORD.IS_EX && type !== RECORD.TO_EX && (sources.length === 0 || type === RECORD.BLOCK)) continue;
      const g = existing ?? this.groupFor(r.group, now, out);
      if (!g) continue;
      this.apply(g, type, this.boundedSources(g, sources, out), now, out);
    }
  }

  /** The record's sources as a map, without the new ones beyond `max_sources` (counted). */
  private boundedSources(g: GroupState, sources: readonly Uint8Array[], out: Action[]): Map<string, Uint8Array> {
    const b = new Map<string, Uint8Array>();
    let room = this.policy.maxSources - g.sources.size;
    let refused = 0;
    for (const s of sources) {
      const k = this.fam.format(s);
      if (b.has(k)) continue;
      if (!g.sources.has(k)) {
        if (room <= 0) { refused++; continue; }
        room--;
      }
      b.set(k, s);
    }
    if (refused > 0) {
      this.counters.sourceLimit += refused;
      out.push(log('warn', SUBSYSTEM, 'max_sources reached: sources refused', { port: this.port, group: g.key, refused }, `mc-max-sources:${this.port}`));
    }
    return b;
  }

  private apply(g: GroupState, type: number, b: Map<string, Uint8Array>, now: Instant, out: Action[]): void {
    const q = applyRecord(g, type, b, this.intervals, now);
    this.requestQueries(g, q, now, out);
    this.dirty.add(g.key);
    if (expire(g, now) === 'gone') this.groups.delete(g.key);
  }

  private onOldReport(level: 1 | 2, group: Uint8Array, now: Instant, out: Action[]): void {
    if (this.fam.isLinkLocalGroup(group)) { this.counters.linkScopeIgnored++; return; }
    if (this.isSsm(group)) {
      // RFC 4604 §3.5: no forwarding state from an older report for an SSM group, no compatibility mode.
      this.counters.ssmOldReportIgnored++;
      out.push(log('warn', SUBSYSTEM, `${this.fam.versionName(level)} report for an SSM group ignored (RFC 4604 §3.5)`, {
        port: this.port, group: this.fam.format(group),
      }, `mc-ssm-old:${this.port}`));
      return;
    }
    if (this.routable(group, out) === null) return;
    const g = this.groupFor(group, now, out);
    if (!g) return;
    // RFC 3376 §7.3.2: Older Host Present timer; the report is IS_EX({}) (§7.3.2 table).
    const until = addMs(now, ohpiMs(this.params));
    if (level === 1) g.v1HostUntil = until;
    else g.v2HostUntil = until;
    this.apply(g, RECORD.IS_EX, new Map(), now, out);
  }

  private onLeave(group: Uint8Array, now: Instant, out: Action[]): void {
    if (this.fam.isLinkLocalGroup(group)) { this.counters.linkScopeIgnored++; return; }
    if (this.isSsm(group)) {
      // RFC 4604 §3.7.
      this.counters.ssmLeaveIgnored++;
      out.push(log('warn', SUBSYSTEM, `${this.fam.name === 'IGMP' ? 'IGMPv2 Leave' : 'MLDv1 Done'} for an SSM group ignored (RFC 4604 §3.7)`, {
        port: this.port, group: this.fam.format(group),
      }, `mc-ssm-leave:${this.port}`));
      return;
    }
    const g = this.current(this.fam.format(group), now);
    if (!g) return;
    // RFC 3376 §7.3.2: IGMPv1 hosts present: Leave is ignored; otherwise it is TO_IN({}).
    if (this.groupLevel(g, now) === 1) { this.counters.compatIgnored++; return; }
    this.apply(g, RECORD.TO_IN, new Map(), now, out);
  }

  // ---- queries sent (RFC 3376 §6.6.3) ------------------------------------------------

  /** "Send Q(G)" / "Send Q(G,X)": only the querier sends; timers lowered, retransmissions armed. */
  private requestQueries(g: GroupState, q: QueryRequest, now: Instant, out: Action[]): void {
    if (!this.querier || (!q.group && q.sources.length === 0)) return;
    const p = this.params;
    const lmqt = addMs(now, lmqtMs(p));
    if (q.group) {
      // §6.6.3.1: lower the group timer to LMQT, send now and [LMQC − 1] more every LMQI.
      if (g.groupTimer !== null && g.groupTimer > lmqt) g.groupTimer = lmqt;
      g.groupRetransmissions = lmqc(p);
      g.groupQueryAt = now;
    }
    for (const s of q.sources) {
      // §6.6.3.2: sources whose timer is above LMQT get their own [LMQC] count, due now, and
      // LMQT; a source already being queried (timer at or below LMQT) keeps its count and cadence.
      const st = g.sources.get(this.fam.format(s));
      if (!st || st.timer === null || st.timer <= lmqt) continue;
      st.retransmissions = lmqc(p);
      st.queryAt = now;
      st.timer = lmqt;
    }
    this.sendSpecific(g, now, out);
  }

  /** Forget the group's pending specific queries (we are no longer querier). */
  private cancelSpecific(g: GroupState): void {
    g.groupRetransmissions = 0;
    g.groupQueryAt = null;
    g.queryAt = null;
    for (const s of g.sources.values()) { s.retransmissions = 0; s.queryAt = null; }
  }

  /**
   * The group's specific queries due by `now`: the group query and each source on its own
   * schedule (§6.6.3.1, §6.6.3.2), so a later request never sends the pending ones early.
   * Each one sent is due again LMQI later while its count lasts.
   */
  private sendSpecific(g: GroupState, now: Instant, out: Action[]): void {
    const p = this.params;
    const lmqt = addMs(now, lmqtMs(p));
    const level = this.groupLevel(g, now);
    const base = { maxRespMs: p.lmqiMs, qrv: p.rv, qqiSec: Math.floor(p.qiMs / 1000) };
    const next = addMs(now, p.lmqiMs);
    const due = (at: Instant | null) => at !== null && at <= now;
    if (g.groupRetransmissions > 0 && due(g.groupQueryAt)) {
      g.groupRetransmissions--;
      g.groupQueryAt = g.groupRetransmissions > 0 ? next : null;
      // §6.6.3.1: S set while the group timer is above LMQT (a report refreshed it).
      const suppress = g.groupTimer !== null && g.groupTimer > lmqt;
      out.push(this.send({ ...base, level: level === 3 ? 3 : 2, group: g.address, suppress, sources: [] }));
      this.counters.sent.groupQueries++;
    }
    const above: Uint8Array[] = [];
    const below: Uint8Array[] = [];
    for (const s of g.sources.values()) {
      if (s.retransmissions <= 0 || !due(s.queryAt)) continue;
      s.retransmissions--;
      s.queryAt = s.retransmissions > 0 ? next : null;
      (s.timer !== null && s.timer > lmqt ? above : below).push(s.address);
    }
    // §6.6.3.2: two queries, S set for sources above LMQT and clear for the others; an empty one is not sent.
    for (const [list, suppress] of [[above, true], [below, false]] as const) {
      if (list.length === 0) continue;
      for (const chunk of chunks(list, this.maxQuerySources())) {
        out.push(this.send({ ...base, level: 3, group: g.address, suppress, sources: chunk }));
        this.counters.sent.sourceQueries++;
      }
    }
    let at: Instant | null = g.groupRetransmissions > 0 ? g.groupQueryAt : null;
    for (const s of g.sources.values()) if (s.retransmissions > 0) at = earliest(at, s.queryAt);
    g.queryAt = at;
  }

  /** Sources that fit one query in a 1280-byte IPv6 / 576-byte IPv4 minimum MTU packet. */
  private maxQuerySources(): number {
    return this.fam.family === 4 ? Math.floor((576 - 24 - 12) / 4) : Math.floor((1280 - 48 - 28) / 16);
  }

  private send(spec: { level: Level; group: Uint8Array | null; maxRespMs: number; suppress: boolean; qrv: number; qqiSec: number; sources: readonly Uint8Array[] }): Action {
    return {
      kind: 'multicast-send', family: this.fam.family, port: this.port, upstream: false,
      bytes: this.fam.buildQuery(this.address ?? this.fam.unspecified, spec),
    };
  }

  private sendGeneral(now: Instant, out: Action[]): void {
    const p = this.policy.params;
    out.push(this.send({ level: 3, group: null, maxRespMs: p.qriMs, suppress: false, qrv: p.rv, qqiSec: Math.floor(p.qiMs / 1000), sources: [] }));
    this.counters.sent.generalQueries++;
    // RFC 3376 §8.6, §8.7: [Startup Query Count] queries [Startup Query Interval] apart, then every QI.
    if (this.startupLeft > 0) this.startupLeft--;
    this.generalQueryAt = addMs(now, this.startupLeft > 0 ? sqiMs(p) : p.qiMs);
  }

  // ---- timers ------------------------------------------------------------------------

  /** The group's state with its timers run up to `now`; undefined when it has none (left). */
  private current(key: string, now: Instant): GroupState | undefined {
    const g = this.groups.get(key);
    if (!g) return undefined;
    const e = expire(g, now);
    if (e !== 'same') this.dirty.add(key);
    if (e === 'gone') { this.groups.delete(key); return undefined; }
    return g;
  }

  /** §6.6.2: the other querier went away: we are querier again (if we have an address), and query at once. */
  private expireQuerier(now: Instant, out: Action[]): void {
    if (!this.querier && this.otherQuerierUntil !== null && this.otherQuerierUntil <= now) {
      if (this.address !== null) this.becomeQuerier(now);
      else {
        // Still without an address: the other querier is gone, we keep deferring.
        this.otherQuerier = null;
        this.otherQuerierUntil = null;
        this.adoptedRv = 0;
        this.adoptedQiMs = 0;
      }
    }
    if (this.querier && this.generalQueryAt !== null && this.generalQueryAt <= now) this.sendGeneral(now, out);
  }

  /** Everything due by `now`: the other querier's timeout, general queries, retransmissions, group and source timers. */
  expire(now: Instant): Action[] {
    const out: Action[] = [];
    this.expireQuerier(now, out);
    // §7.3.1: the Older Version Querier Present timeout ends the port's compatibility mode.
    if (this.v1QuerierUntil !== null && this.v1QuerierUntil <= now) this.v1QuerierUntil = null;
    if (this.v2QuerierUntil !== null && this.v2QuerierUntil <= now) this.v2QuerierUntil = null;
    for (const g of [...this.groups.values()]) {
      if (g.queryAt !== null && g.queryAt <= now) {
        if (this.querier) this.sendSpecific(g, now, out);
        else this.cancelSpecific(g);
      }
      const e = expire(g, now);
      if (e !== 'same') this.dirty.add(g.key);
      if (e === 'gone') this.groups.delete(g.key);
    }
    return out;
  }

  nextDeadline(): Instant | null {
    let d: Instant | null = this.querier ? this.generalQueryAt : this.otherQuerierUntil;
    if (this.v1QuerierUntil !== null) d = earliest(d, this.v1QuerierUntil);
    if (this.v2QuerierUntil !== null) d = earliest(d, this.v2QuerierUntil);
    for (const g of this.groups.values()) d = earliest(d, groupDeadline(g));
    return d;
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function chunks<T>(xs: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}
