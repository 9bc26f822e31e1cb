/**
 * A router's state for one group on one port, and the transitions of RFC 3376 §6.4
 * (MLDv2: RFC 3810 §7.4, the same tables) and §6.5 / §6.3 (timer expiry):
 *
 *   filter mode INCLUDE (A): the sources in `sources`, each with a running timer;
 *   filter mode EXCLUDE (X, Y): X the sources with a running timer ("requested"), Y
 *   those whose timer is stopped (`timer` null: "excluded", not forwarded); the group
 *   timer runs (RFC 3376 §6.2.1).
 *
 * Functions here change the state and return the queries the table asks for ("Send
 * Q(G)", "Send Q(G,X)"); whether they go out (only the querier sends) is the port's
 * business, and so are the bounds.
 */
import type { Instant } from '../time';
import { addMs } from '../time';
import type { Level } from './family';

export interface SourceState {
  readonly address: Uint8Array;
  /** When the source timer expires; null: stopped (EXCLUDE mode's Y list). */
  timer: Instant | null;
  /** Group-and-source-specific queries left for this source (RFC 3376 §6.6.3.2: [LMQC] each). */
  retransmissions: number;
  /** When this source's next query is due; null: none pending. Its own cadence, LMQI apart. */
  queryAt: Instant | null;
}

export interface GroupState {
  readonly address: Uint8Array;
  readonly key: string;
  readonly ssm: boolean;
  mode: 'include' | 'exclude';
  /** RFC 3376 §6.2.1 Group Timer: only meaningful in EXCLUDE mode; null otherwise. */
  groupTimer: Instant | null;
  readonly sources: Map<string, SourceState>;
  /** RFC 3376 §7.3.2 Older Host Present timers (never set for SSM groups, RFC 4604 §3.5). */
  v1HostUntil: Instant | null;
  v2HostUntil: Instant | null;
  /** Group-specific queries left (RFC 3376 §6.6.3.1), apart from the sources' counts. */
  groupRetransmissions: number;
  /** When the next group-specific query is due; null: none pending. */
  groupQueryAt: Instant | null;
  /** The earliest of `groupQueryAt` and the sources' `queryAt`: when the port must look at the group's queries. */
  queryAt: Instant | null;
}

export function newGroup(address: Uint8Array, key: string, ssm: boolean): GroupState {
  return {
    address, key, ssm, mode: 'include', groupTimer: null, sources: new Map(), v1HostUntil: null, v2HostUntil: null,
    groupRetransmissions: 0, groupQueryAt: null, queryAt: null,
  };
}

/** The timer values of RFC 3376 §8 the transitions use, in ms. */
export interface Intervals {
  /** Group Membership Interval (RFC 3376 §8.4). */
  readonly gmiMs: number;
  /** Last Member Query Time (RFC 3376 §8.14). */
  readonly lmqtMs: number;
}

/** What the tables asked to send: "Send Q(G)" and "Send Q(G,X)" (RFC 3376 §6.4.2). */
export interface QueryRequest {
  group: boolean;
  sources: Uint8Array[];
}

export type SourceList = ReadonlyMap<string, Uint8Array>;

export const RECORD = { IS_IN: 1, IS_EX: 2, TO_IN: 3, TO_EX: 4, ALLOW: 5, BLOCK: 6 } as const;

/** RFC 3376 §7.3.2: the lowest version whose Older Host Present timer runs. */
export function compatLevel(g: GroupState, now: Instant): Level {
  if (g.v1HostUntil !== null && g.v1HostUntil > now) return 1;
  if (g.v2HostUntil !== null && g.v2HostUntil > now) return 2;
  return 3;
}

const setTimer = (g: GroupState, key: string, address: Uint8Array, timer: Instant | null): void => {
  const s = g.sources.get(key);
  if (s) s.timer = timer;
  else g.sources.set(key, { address, timer, retransmissions: 0, queryAt: null });
};
/** Sources with a running timer: INCLUDE's A, EXCLUDE's X. */
const running = (g: GroupState): string[] => [...g.sources].filter(([, s]) => s.timer !== null).map(([k]) => k);
const excluded = (g: GroupState): string[] => [...g.sources].filter(([, s]) => s.timer === null).map(([k]) => k);

/**
 * Apply one group record of a type 1–6 (RFC 3376 §6.4.1 current-state, §6.4.2 filter-mode
 * change and source-list change). `b` is the record's source list (deduplicated).
 */
export function applyRecord(g: GroupState, type: number, b: SourceList, t: Intervals, now: Instant): QueryRequest {
  const q: QueryRequest = { group: false, sources: [] };
  const gmi = addMs(now, t.gmiMs);
  const inB = (k: string) => b.has(k);
  const addAll = (timer: Instant | null, keys: Iterable<string>) => { for (const k of keys) setTimer(g, k, b.get(k)!, timer); };
  const del = (keys: Iterable<string>) => { for (const k of keys) g.sources.delete(k); };
  const addr = (k: string) => g.sources.get(k)?.address ?? b.get(k)!;

  if (g.mode === 'include') {
    const a = new Set(g.sources.keys());
    switch (type) {
      case RECORD.IS_IN: case RECORD.ALLOW:
        // INCLUDE (A+B); (B)=GMI
        addAll(gmi, b.keys());
        break;
      case RECORD.BLOCK:
        // INCLUDE (A); Send Q(G,A*B)
        q.sources = [...b.keys()].filter((k) => a.has(k)).map(addr);
        break;
      case RECORD.TO_IN:
        // INCLUDE (A+B); (B)=GMI; Send Q(G,A-B)
        q.sources = [...a].filter((k) => !inB(k)).map(addr);
        addAll(gmi, b.keys());
        break;
      case RECORD.IS_EX: case RECORD.TO_EX: {
        // EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Group Timer=GMI [TO_EX: Send Q(G,A*B)]
        del([...a].filter((k) => !inB(k)));
        addAll(null, [...b.keys()].filter((k) => !a.has(k)));
        if (type === RECORD.TO_EX) q.sources = [...b.keys()].filter((k) => a.has(k)).map(addr);
        g.mode = 'exclude';
        g.groupTimer = gmi;
        break;
      }
    }
    return q;
  }
  const x = new Set(running(g));
  const y = new Set(excluded(g));
  switch (type) {
    case RECORD.IS_IN: case RECORD.ALLOW:
      // EXCLUDE (X+A, Y-A); (A)=GMI
      addAll(gmi, b.keys());
      break;
    case RECORD.BLOCK: {
      // EXCLUDE (X+(A-Y), Y); (A-X-Y)=Group Timer; Send Q(G,A-Y)
      addAll(g.groupTimer, [...b.keys()].filter((k) => !x.has(k) && !y.has(k)));
      q.sources = [...b.keys()].filter((k) => !y.has(k)).map(addr);
      break;
    }
    case RECORD.TO_IN:
      // EXCLUDE (X+A, Y-A); (A)=GMI; Send Q(G,X-A); Send Q(G)
      q.sources = [...x].filter((k) => !inB(k)).map(addr);
      addAll(gmi, b.keys());
      q.group = true;
      break;
    case RECORD.IS_EX: case RECORD.TO_EX: {
      // EXCLUDE (A-Y, Y*A); (A-X-Y)=GMI [TO_EX: =Group Timer]; Delete (X-A); Delete (Y-A); Group Timer=GMI [TO_EX: Send Q(G,A-Y)]
      const fresh = [...b.keys()].filter((k) => !x.has(k) && !y.has(k));
      del([...x, ...y].filter((k) => !inB(k)));
      addAll(type === RECORD.IS_EX ? gmi : g.groupTimer, fresh);
      if (type === RECORD.TO_EX) q.sources = [...b.keys()].filter((k) => !y.has(k)).map(addr);
      g.groupTimer = gmi;
      break;
    }
  }
  return q;
}

/**
 * Run the group's timers up to `now` (RFC 3376 §6.3, §6.5): `gone` when the group has no
 * state left and must be deleted, `changed` when its membership (mode, sources, what is
 * forwarded) changed, `same` otherwise.
 */
export function expire(g: GroupState, now: Instant): 'gone' | 'changed' | 'same' {
  let changed = false;
  if (g.v1HostUntil !== null && g.v1HostUntil <= now) g.v1HostUntil = null;
  if (g.v2HostUntil !== null && g.v2HostUntil <= now) g.v2HostUntil = null;
  if (g.mode === 'exclude' && g.groupTimer !== null && g.groupTimer <= now) {
    changed = true;
    // §6.5: group timer expiry in EXCLUDE mode: to INCLUDE with the sources whose timers run; Y is deleted.
    for (const [k, s] of g.sources) if (s.timer === null || s.timer <= now) g.sources.delete(k);
    g.mode = 'include';
    g.groupTimer = null;
    g.groupRetransmissions = 0;
    g.groupQueryAt = null;
  }
  for (const [k, s] of g.sources) {
    if (s.timer === null || s.timer > now) continue;
    changed = true;
    // §6.3: INCLUDE: the source is deleted; EXCLUDE: it moves to the exclude list (Y).
    if (g.mode === 'include') g.sources.delete(k);
    else { s.timer = null; s.retransmissions = 0; s.queryAt = null; }
  }
  if (g.mode === 'include' && g.sources.size === 0) return 'gone';
  return changed ? 'changed' : 'same';
}

/** The earliest timer of the group (its own, its sources', older hosts', query retransmissions). */
export function groupDeadline(g: GroupState): Instant | null {
  let d: Instant | null = null;
  const take = (t: Instant | null) => { if (t !== null && (d === null || t < d)) d = t; };
  take(g.groupTimer);
  take(g.v1HostUntil);
  take(g.v2HostUntil);
  take(g.queryAt);
  for (const s of g.sources.values()) take(s.timer);
  return d;
}

/** RFC 3376 §6.3: is traffic from `source` forwarded for this group? */
export function forwards(g: GroupState, sourceKey: string, now: Instant): boolean {
  const s = g.sources.get(sourceKey);
  if (g.mode === 'include') return s !== undefined && s.timer !== null && s.timer > now;
  return s === undefined || (s.timer !== null && s.timer > now);
}
