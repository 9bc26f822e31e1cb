/**
 * The upstream side of the IGMP / MLD proxy (RFC 4605 §4): toward the upstream router
 * gleand is a host (RFC 3376 §5, RFC 3810 §6) whose membership is the union of the
 * subscriber ports' (RFC 4605 §4.1, merged by RFC 3376 §3.2). A change goes up as a
 * state-change report retransmitted [Robustness Variable] times (RFC 3376 §5.1); queries
 * are answered with current-state records (RFC 3376 §5.2) and never suppressed (an
 * IGMPv3 / MLDv2 host never suppresses; RFC 4604 §2.2.1). An SSM group never goes up in
 * EXCLUDE mode (RFC 4604 §2.2.2).
 */
import { log, type Action } from '../actions';
import { addMs, earliest, type Instant } from '../time';
import {
  ALLOW_NEW_SOURCES, BLOCK_OLD_SOURCES, CHANGE_TO_EXCLUDE_MODE, CHANGE_TO_INCLUDE_MODE, MODE_IS_EXCLUDE, MODE_IS_INCLUDE,
  groupRecordsLength, type GroupRecord,
} from '../wire/mcast';
import type { Family, GmpMessage } from './family';

export interface Membership {
  readonly group: Uint8Array;
  readonly mode: 'include' | 'exclude';
  /** INCLUDE: the sources wanted; EXCLUDE: the sources not wanted. */
  readonly sources: ReadonlyMap<string, Uint8Array>;
}

interface Pending {
  readonly group: Uint8Array;
  filterLeft: number;
  readonly allow: Map<string, { address: Uint8Array; left: number }>;
  readonly block: Map<string, { address: Uint8Array; left: number }>;
}

export interface ProxyCounters {
  stateChangeReports: number;
  currentStateReports: number;
  queries: number;
  /** IGMPv1/v2 / MLDv1 queries from the upstream router (host compatibility mode is not entered). */
  olderQueries: number;
  /** Of those, group-specific ones for an SSM group (RFC 4604 §2.2.3, §2.2.5: logged). */
  olderQueriesSsm: number;
}

/** RFC 3376 §8.11 Unsolicited Report Interval (RFC 3810 §9.11: the same 1 s). */
const UNSOLICITED_REPORT_INTERVAL_MS = 1000;
/** Report payloads stay within 1400 bytes, below a 1500-byte MTU with the IP and Hop-by-Hop headers. */
const REPORT_BUDGET = 1400;

export class UpstreamProxy {
  /** What the upstream router was last told, by group. */
  readonly reported = new Map<string, Membership>();
  private readonly pending = new Map<string, Pending>();
  private retransmitAt: Instant | null = null;
  private generalAt: Instant | null = null;
  private readonly groupAt = new Map<string, { at: Instant; sources: Map<string, Uint8Array> | null }>();
  readonly counters: ProxyCounters = { stateChangeReports: 0, currentStateReports: 0, queries: 0, olderQueries: 0, olderQueriesSsm: 0 };
  private querierRv = 0;

  constructor(
    readonly port: string,
    readonly fam: Family,
    private rv: number,
    private readonly random: () => number,
    private readonly isSsm: (g: Uint8Array) => boolean,
  ) {}

  setRobustness(rv: number): void {
    this.rv = rv;
  }

  private get robustness(): number {
    return this.querierRv || this.rv;
  }

  /**
   * Bring the upstream membership of the groups `keys` to `desired` (absent: no
   * membership): state-change records for what changed.
   */
  update(keys: Iterable<string>, desired: ReadonlyMap<string, Membership>, now: Instant): Action[] {
    const changed = new Set<string>();
    for (const k of keys) {
      const before = this.reported.get(k);
      let after = desired.get(k);
      // RFC 4604 §2.2.2: never EXCLUDE for an SSM group.
      if (after && after.mode === 'exclude' && this.isSsm(after.group)) after = undefined;
      if (after && after.mode === 'include' && after.sources.size === 0) after = undefined;
      if (sameMembership(before, after)) continue;
      changed.add(k);
      this.noteChange(k, before, after);
      if (after) this.reported.set(k, after);
      else this.reported.delete(k);
    }
    if (changed.size === 0) return [];
    // The change goes out now; the other groups' retransmissions keep their own schedule.
    return this.sendPending(now, changed);
  }

  private noteChange(k: string, before: Membership | undefined, after: Membership | undefined): void {
    const oldMode = before?.mode ?? 'include';
    const newMode = after?.mode ?? 'include';
    const p = this.pending.get(k) ?? { group: (after ?? before)!.group, filterLeft: 0, allow: new Map(), block: new Map() };
    this.pending.set(k, p);
    const rv = this.robustness;
    if (oldMode !== newMode) {
      // RFC 3376 §5.1: a filter-mode change: TO_EX / TO_IN, retransmitted; source-list retransmissions cancelled.
      p.filterLeft = rv;
      p.allow.clear();
      p.block.clear();
      return;
    }
    const was = before?.sources ?? new Map<string, Uint8Array>();
    const now = after?.sources ?? new Map<string, Uint8Array>();
    // INCLUDE: ALLOW(new − old), BLOCK(old − new); EXCLUDE: ALLOW(old − new), BLOCK(new − old).
    const [gained, lost] = newMode === 'include' ? [now, was] : [was, now];
    const [other, mine] = newMode === 'include' ? [was, now] : [now, was];
    for (const [s, a] of gained) if (!other.has(s)) { p.allow.set(s, { address: a, left: rv }); p.block.delete(s); }
    for (const [s, a] of lost) if (!mine.has(s)) { p.block.set(s, { address: a, left: rv }); p.allow.delete(s); }
  }

  /**
   * One state-change report with the pending records of `only` (every pending group when
   * absent, at the retransmission timer); the next retransmission is scheduled.
   */
  private sendPending(now: Instant, only?: ReadonlySet<string>): Action[] {
    const records: GroupRecord[] = [];
    for (const [k, p] of this.pending) {
      if (only && !only.has(k)) continue;
      const m = this.reported.get(k);
      const group = p.group;
      if (p.filterLeft > 0) {
        p.filterLeft--;
        records.push(record(m?.mode === 'exclude' ? CHANGE_TO_EXCLUDE_MODE : CHANGE_TO_INCLUDE_MODE, group, [...(m?.sources.values() ?? [])]));
      } else {
        const take = (map: Pending['allow']) => {
          const out: Uint8Array[] = [];
          for (const [s, e] of map) { out.push(e.address); if (--e.left <= 0) map.delete(s); }
          return out;
        };
        const allow = take(p.allow);
        const block = take(p.block);
        if (allow.length > 0) records.push(record(ALLOW_NEW_SOURCES, group, allow));
        if (block.length > 0) records.push(record(BLOCK_OLD_SOURCES, group, block));
      }
      if (p.filterLeft === 0 && p.allow.size === 0 && p.block.size === 0) this.pending.delete(k);
    }
    // RFC 3376 §5.1: retransmissions at random intervals within the Unsolicited Report Interval.
    if (this.pending.size === 0) this.retransmitAt = null;
    else if (!only || this.retransmitAt === null) this.retransmitAt = addMs(now, Math.floor(this.randomUnit() * UNSOLICITED_REPORT_INTERVAL_MS));
    if (records.length === 0) return [];
    this.counters.stateChangeReports++;
    return this.reports(records);
  }

  onQuery(q: Extract<GmpMessage, { kind: 'query' }>, now: Instant): Action[] {
    this.counters.queries++;
    const out: Action[] = [];
    if (q.level < 3) {
      this.counters.olderQueries++;
      const ssm = q.group !== null && this.isSsm(q.group);
      if (ssm) this.counters.olderQueriesSsm++;
      // RFC 4604 §2.2.3 / §2.2.5: an older query (for an SSM group) means the router is not SSM-aware or disagrees on the range.
      out.push(log(ssm ? 'error' : 'warn', 'multicast', `${this.fam.versionName(q.level)} query on the upstream${ssm ? ' for an SSM group' : ''}`, {
        port: this.port, ...(q.group ? { group: this.fam.format(q.group) } : {}),
      }, `mc-up-older:${this.port}:${this.fam.family}`));
    } else if (q.qrv !== 0) {
      this.querierRv = q.qrv; // RFC 3376 §8.1: hosts use the querier's QRV
    }
    // RFC 3376 §5.2: answer after a random delay within Max Resp Time.
    const at = addMs(now, Math.floor(this.randomUnit() * Math.max(1, q.maxRespMs)));
    if (q.group === null) {
      this.generalAt = earliest(this.generalAt, at);
      return out;
    }
    const k = this.fam.format(q.group);
    const prev = this.groupAt.get(k);
    if (!prev) this.groupAt.set(k, { at, sources: q.sources.length === 0 ? null : new Map(q.sources.map((s) => [this.fam.format(s), s])) });
    else {
      prev.at = earliest(prev.at, at)!;
      if (q.sources.length === 0) prev.sources = null;
      else if (prev.sources) for (const s of q.sources) prev.sources.set(this.fam.format(s), s);
    }
    return out;
  }

  expire(now: Instant): Action[] {
    const out: Action[] = [];
    if (this.retransmitAt !== null && this.retransmitAt <= now) out.push(...this.sendPending(now));
    const records: GroupRecord[] = [];
    if (this.generalAt !== null && this.generalAt <= now) {
      this.generalAt = null;
      for (const m of this.reported.values()) records.push(current(m));
    }
    for (const [k, e] of [...this.groupAt]) {
      if (e.at > now) continue;
      this.groupAt.delete(k);
      const m = this.reported.get(k);
      if (!m) continue;
      if (e.sources === null) { records.push(current(m)); continue; }
      // RFC 3376 §5.2: INCLUDE: IS_IN(A*Q); EXCLUDE: IS_IN(Q−Y).
      const wanted = [...e.sources].filter(([s]) => (m.mode === 'include' ? m.sources.has(s) : !m.sources.has(s))).map(([, a]) => a);
      if (wanted.length > 0) records.push(record(MODE_IS_INCLUDE, m.group, wanted));
    }
    if (records.length > 0) {
      this.counters.currentStateReports++;
      out.push(...this.reports(records));
    }
    return out;
  }

  nextDeadline(): Instant | null {
    let d = earliest(this.retransmitAt, this.generalAt);
    for (const e of this.groupAt.values()) d = earliest(d, e.at);
    return d;
  }

  private randomUnit(): number {
    return (this.random() >>> 0) / 2 ** 32;
  }

  /** Records split to fit (RFC 3376 §4.2.16: EXCLUDE-type lists are truncated, the others split), packed in reports. */
  private reports(records: readonly GroupRecord[]): Action[] {
    const a = this.fam.addrLen;
    const perRecord = Math.floor((REPORT_BUDGET - 8 - 4 - a) / a);
    const split: GroupRecord[] = [];
    for (const r of records) {
      if (r.sources.length <= perRecord) { split.push(r); continue; }
      if (r.type === MODE_IS_EXCLUDE || r.type === CHANGE_TO_EXCLUDE_MODE) { split.push({ ...r, sources: r.sources.slice(0, perRecord) }); continue; }
      for (let i = 0; i < r.sources.length; i += perRecord) split.push({ ...r, sources: r.sources.slice(i, i + perRecord) });
    }
    const out: Action[] = [];
    let batch: GroupRecord[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      out.push({ kind: 'multicast-send', family: this.fam.family, port: this.port, upstream: true, bytes: this.fam.buildReport(this.fam.unspecified, batch) });
      batch = [];
    };
    for (const r of split) {
      if (8 + groupRecordsLength([...batch, r], a) > REPORT_BUDGET) flush();
      batch.push(r);
    }
    flush();
    return out;
  }
}

const record = (type: number, group: Uint8Array, sources: Uint8Array[]): GroupRecord => ({ type, group, sources, auxData: new Uint8Array(0) });
const current = (m: Membership): GroupRecord =>
  record(m.mode === 'include' ? MODE_IS_INCLUDE : MODE_IS_EXCLUDE, m.group, [...m.sources.values()]);

function sameMembership(a: Membership | undefined, b: Membership | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.mode !== b.mode || a.sources.size !== b.sources.size) return false;
  for (const k of a.sources.keys()) if (!b.sources.has(k)) return false;
  return true;
}
