import { log, type Action } from '../actions';
import type { BindingWriter } from '../bindings/owner';
import type { Config } from '../config/config';
import type { LeasequeryConfig } from '../config/schema';
import type { Event } from '../events';
import type { Claim, Module } from '../module';
import { PortMap, type SubscriberPort } from '../relay/ports';
import { addMs, earliest, type Instant } from '../time';
import { BOOTREPLY, DHCP4_LEASEQUERY_TYPE, dhcp4Message, dhcp4MessageType } from '../wire';
import { formatHex, formatIPv4 } from '../wire/address';
import { acceptActive, type Refusal } from './accept';
import { buildLeasequery, readAnswer, type LeaseAnswer } from './message';
import { NegativeCache } from './negative-cache';
import { OnDemand, type OnDemandHost } from './on-demand';
import { describeServers, queryKey, type Query } from './query';
import { reconcile } from './reconcile';
import { ServerPacer, type Pacing } from './server';
import { resolvePorts } from './targets';

type LeasequeryEvent = Extract<Event, { kind: 'leasequery' }>;
/** What starts a query: a `gleand query` (requester set) or a packet on demand (requester null). */
type Request = Pick<LeasequeryEvent, 'query' | 'expectMac' | 'waitMs'> & {
  readonly port: string | null; readonly requester: number | null; readonly upKey: string | null;
};
type UdpEvent = Extract<Event, { kind: 'udp' }>;

const { LEASEUNASSIGNED, LEASEUNKNOWN, LEASEACTIVE } = DHCP4_LEASEQUERY_TYPE;
/**
 * The leasequery family of message types (RFC 4388 10–13, RFC 6926 14–15, RFC 7724
 * 16–18): never a reply to a client's message, so the relay must never forward one
 * down to a subscriber (PROTOCOLS.md: ISC dhcrelay does, by the stored option 82). This
 * module takes them all; only 11–13 are answers it reads, the rest are counted.
 */
export const LEASEQUERY_FAMILY_TYPES: readonly number[] = [10, 11, 12, 13, 14, 15, 16, 17, 18];

/** How long a LEASEUNASSIGNED / LEASEUNKNOWN answer is believed (seed 003 §7 negative caching). */
export const NEGATIVE_TTL_MS = 60_000;
export const NEGATIVE_CACHE_MAX = 4096;
/** Bound on questions in flight (each may wait for several servers). */
export const MAX_QUERIES = 1024;

interface Counters {
  queries: number;
  cached: number;
  joined: number;
  refusedQueries: Record<string, number>;
  installed: number;
  refused: Partial<Record<Refusal | 'owner', number>>;
  unmatched: number;
  malformed: number;
  unknownServer: number;
  /** Message types that are not leasequery answers (10, 14–18, pre-RFC): counted, never guessed. */
  unexpectedType: Record<string, number>;
}

interface ServerState {
  readonly address: Uint8Array;
  readonly pacer: ServerPacer;
  readonly answers: { active: number; unassigned: number; unknown: number };
}

/**
 * DHCPv4 Leasequery client (RFC 4388; seed 003 §6.2, §6.5–§6.7, §7). Sans-IO: asked by
 * `leasequery` events (`gleand query`), it sends DHCPLEASEQUERY to every server of the
 * port's upstream from the port's giaddr, paced per server (`server.ts`), reads the
 * answers that come back to giaddr (it claims the leasequery message types from the
 * relay), reconciles several servers by option 91, writes an accepted LEASEACTIVE through
 * the bindings owner (`source: 'leasequery'`), caches negative answers, and answers the
 * asker with a `query-result` action.
 */
export class LeasequeryModule implements Module {
  readonly name = 'leasequery';
  readonly claims: readonly Claim[] = [
    { kind: 'config' }, { kind: 'leasequery' }, { kind: 'on-demand' },
    { kind: 'udp', family: 4, passive: false, messageTypes: LEASEQUERY_FAMILY_TYPES },
  ];
  private cfg: LeasequeryConfig | null = null;
  private ports: PortMap | null = null;
  private readonly servers = new Map<string, ServerState>();
  private readonly queries = new Map<number, Query>();
  private readonly byKey = new Map<string, Query>();
  private readonly negative = new NegativeCache(NEGATIVE_TTL_MS, NEGATIVE_CACHE_MAX);
  private nextQueryId = 1;
  private readonly counters: Counters = {
    queries: 0, cached: 0, joined: 0, refusedQueries: {}, installed: 0, refused: {},
    unmatched: 0, malformed: 0, unknownServer: 0, unexpectedType: {},
  };

  private readonly onDemand: OnDemand;

  /** `random32`: injected randomness for transaction ids (CONVENTIONS 8). */
  constructor(private readonly bindings: BindingWriter, private readonly random32: () => number) {
    this.onDemand = new OnDemand(this.demandHost());
  }

  /** What location on demand (on-demand.ts) may see and do of this module. */
  private demandHost(): OnDemandHost {
    const m = this;
    return {
      get ports() { return m.ports; },
      get enabled() { return Boolean(m.cfg?.enabled && m.cfg.v4); },
      negativeCached: (key, now) => m.negative.get(key, now) !== null,
      inFlight: (key) => m.byKey.has(key),
      queriesInFlight: () => m.queries.size,
      find: (address) => m.bindings.find(4, address),
      ask: (r, now) => {
        // RFC 4388 §6.3 pacing applies as to any query; the wait is two first retries.
        const q = m.start({ query: r.query, expectMac: r.expectMac, port: null, waitMs: 2 * m.pacing().retryMs, requester: null, upKey: r.upKey },
          queryKey(r.query), r.ports, now);
        return m.pollServers(now, [...q.servers.keys()]);
      },
    };
  }

  handle(event: Event, now: Instant): Action[] {
    switch (event.kind) {
      case 'config': return this.configure(event.config, now);
      case 'leasequery': return this.ask(event, now);
      case 'on-demand': return this.onDemand.handle(event, now);
      case 'udp': return this.answer(event, now);
      default: return [];
    }
  }

  // ---- configuration -------------------------------------------------------------------

  private pacing(): Pacing {
    return { retryMs: this.cfg!.timeout * 1000, maxOutstanding: this.cfg!.max_outstanding };
  }

  private configure(config: Config, now: Instant): Action[] {
    this.cfg = config.leasequery;
    this.ports = new PortMap(config);
    this.onDemand.configure(this.ports);
    const wanted = new Set(config.upstreams.flatMap((u) => u.dhcpv4_server.map((s) => formatHex(s))));
    for (const [key, s] of this.servers) {
      if (wanted.has(key)) s.pacer.setPacing(this.pacing());
      else this.servers.delete(key);
    }
    for (const q of this.queries.values()) {
      for (const [key, slot] of q.servers) if (!this.servers.has(key) && slot.outcome === 'pending') slot.outcome = 'dropped';
    }
    return this.settle(now);
  }

  private server(address: Uint8Array): ServerState {
    const key = formatHex(address);
    let s = this.servers.get(key);
    if (!s) {
      s = { address, pacer: new ServerPacer(this.pacing()), answers: { active: 0, unassigned: 0, unknown: 0 } };
      this.servers.set(key, s);
    }
    return s;
  }

  // ---- asking --------------------------------------------------------------------------

  private ask(e: LeasequeryEvent, now: Instant): Action[] {
    const refuse = (reason: string, detail: string): Action[] => {
      this.counters.refusedQueries[reason] = (this.counters.refusedQueries[reason] ?? 0) + 1;
      return [{ kind: 'query-result', id: e.id, result: { query: queryKey(e.query), verdict: 'refused', reason, detail } }];
    };
    if (!this.cfg || !this.ports) return refuse('not-configured', 'no configuration yet');
    if (!this.cfg.enabled || !this.cfg.v4) return refuse('disabled', 'leasequery (enabled, v4) is off in the configuration');
    const key = queryKey(e.query);
    const cached = this.negative.get(key, now);
    if (cached) {
      this.counters.cached++;
      return [{ kind: 'query-result', id: e.id, result: {
        query: key, verdict: 'cached', type: dhcp4MessageType(cached.type).name, expiresInS: Math.ceil((cached.until - now) / 1000),
      } }];
    }
    const joined = this.byKey.get(key);
    if (joined && e.expectMac === null && e.port === null) {
      this.counters.joined++;
      joined.requesters.push(e.id);
      return [];
    }
    const target = resolvePorts(this.ports, e.query, e.port);
    if (!target.ok) return refuse(target.reason, target.detail);
    if (this.queries.size >= MAX_QUERIES) return refuse('busy', `${MAX_QUERIES} queries in flight`);
    const q = this.start({ ...e, requester: e.id, upKey: null }, key, target.ports, now);
    return this.pollServers(now, [...q.servers.keys()]);
  }

  private start(e: Request, key: string, ports: readonly SubscriberPort[], now: Instant): Query {
    const first = ports[0]!;
    let xid = this.random32() >>> 0;
    while ([...this.queries.values()].some((q) => q.xid === xid)) xid = (xid + 1) >>> 0;
    const giaddr = first.cfg.giaddr!;
    const q: Query = {
      id: this.nextQueryId++, key, upstream: first.upstream.name, giaddr, xid,
      asked: { query: e.query, ports, expectMac: e.expectMac },
      payload: dhcp4Message.encode(buildLeasequery(e.query, xid, giaddr)),
      servers: new Map(), requesters: e.requester === null ? [] : [e.requester], upKey: e.upKey, deadline: addMs(now, e.waitMs),
    };
    // RFC 4388 §6.2: in the absence of knowledge of which server holds the lease, send
    // it to every server configured for the relay agent.
    for (const address of first.upstream.dhcpv4_server) {
      const s = this.server(address);
      q.servers.set(formatHex(address), { address, outcome: 'pending', answer: null });
      s.pacer.enqueue(q.id, xid);
    }
    this.counters.queries++;
    this.queries.set(q.id, q);
    if (e.expectMac === null && e.port === null) this.byKey.set(key, q);
    return q;
  }

  /** Run the pacers (all, or the named ones): their sends and drops, then finished queries. */
  private pollServers(now: Instant, only?: readonly string[]): Action[] {
    const actions: Action[] = [];
    for (const [key, s] of this.servers) {
      if (only && !only.includes(key)) continue;
      for (const step of s.pacer.poll(now)) {
        const q = this.queries.get(step.query);
        if (!q) continue;
        if (step.kind === 'drop') {
          q.servers.get(key)!.outcome = 'dropped';
          continue;
        }
        actions.push({ kind: 'udp-send', family: 4, upstream: q.upstream, destination: s.address, destinationPort: 67, payload: q.payload });
      }
    }
    actions.push(...this.settle(now));
    return actions;
  }

  // ---- answers -------------------------------------------------------------------------

  private answer(e: UdpEvent, now: Instant): Action[] {
    if (!this.ports?.isServer4(e.source)) return this.count('unknownServer', 'answer from a source that is not a dhcpv4_server', { source: formatIPv4(e.source) });
    const m = dhcp4Message.decode(e.payload);
    const a = m.ok && m.value.op === BOOTREPLY ? readAnswer(m.value) : null;
    if (!a) return this.count('malformed', 'malformed answer', { source: formatIPv4(e.source) });
    if (a.type !== LEASEACTIVE && a.type !== LEASEUNASSIGNED && a.type !== LEASEUNKNOWN) {
      const code = String(a.type);
      this.counters.unexpectedType[code] = (this.counters.unexpectedType[code] ?? 0) + 1;
      return [log('warn', 'leasequery', 'not a leasequery answer type (RFC 4388 11-13): ignored, not guessed',
        { source: formatIPv4(e.source), type: a.type }, `lq-type:${a.type}`)];
    }
    const s = this.servers.get(formatHex(e.source));
    if (!s) return this.count('unmatched', 'answer from a server that was asked nothing', { source: formatIPv4(e.source), xid: a.xid });
    s.answers[a.type === LEASEACTIVE ? 'active' : a.type === LEASEUNASSIGNED ? 'unassigned' : 'unknown']++;
    const queryId = s.pacer.answered(a.xid, now);
    const q = queryId === null ? undefined : this.queries.get(queryId);
    if (!q) return this.count('unmatched', 'answer to no query in flight', { source: formatIPv4(e.source), xid: a.xid });
    const slot = q.servers.get(formatHex(e.source))!;
    slot.outcome = 'answered';
    slot.answer = a;
    // One LEASEACTIVE is enough to act on soon: the other servers get one more retry
    // interval to say something more recent (RFC 4388 §6.7), not the whole wait.
    if (a.type === LEASEACTIVE) q.deadline = earliest(q.deadline, addMs(now, this.pacing().retryMs))!;
    // A server that answers again may take more queries at once.
    return this.pollServers(now, [formatHex(e.source)]);
  }

  private count(what: 'unknownServer' | 'malformed' | 'unmatched', message: string, fields: Record<string, string | number>): Action[] {
    this.counters[what]++;
    return [log('debug', 'leasequery', message, fields, `lq-${what}`)];
  }

  // ---- finishing -----------------------------------------------------------------------

  /** Finish every query whose servers have all answered or dropped it, or whose wait ended. */
  private settle(now: Instant): Action[] {
    const actions: Action[] = [];
    for (const q of [...this.queries.values()]) {
      const done = [...q.servers.values()].every((s) => s.outcome !== 'pending');
      if (done || now >= q.deadline) actions.push(...this.finish(q, now));
    }
    return actions;
  }

  private finish(q: Query, now: Instant): Action[] {
    this.queries.delete(q.id);
    if (this.byKey.get(q.key) === q) this.byKey.delete(q.key);
    for (const key of q.servers.keys()) this.servers.get(key)?.pacer.cancel(q.id);
    const answered = [...q.servers.values()].flatMap((s) => (s.answer ? [{ server: formatIPv4(s.address), answer: s.answer }] : []));
    const winner = reconcile(answered);
    const actions: Action[] = [];
    let installed: { port: string; mac: Uint8Array } | null = null;
    const result: Record<string, unknown> = {
      query: q.key, ports: q.asked.ports.map((p) => p.cfg.name), servers: describeServers(q), winner: winner?.server ?? null,
    };
    if (!winner) result['verdict'] = 'no-answer';
    else if (winner.answer.type === LEASEACTIVE) {
      const r = this.install(q, winner.answer, now, actions);
      installed = r.installed;
      Object.assign(result, r.result);
    }
    else {
      this.negative.put(q.key, winner.answer.type, now);
      result['verdict'] = winner.answer.type === LEASEUNASSIGNED ? 'unassigned' : 'unknown';
    }
    for (const id of q.requesters) actions.push({ kind: 'query-result', id, result });
    if (q.asked.query.by === 'ip') {
      const verdict = result['verdict'] as 'unassigned' | 'unknown' | 'no-answer' | 'active';
      actions.push(...this.onDemand.settled({ key: q.key, upKey: q.upKey, expectMac: q.asked.expectMac }, installed,
        verdict === 'active' && !installed ? 'refused' : verdict, now));
    }
    return actions;
  }

  /** An accepted LEASEACTIVE becomes a binding through the owner; a refused one is counted. */
  private install(q: Query, a: LeaseAnswer, now: Instant, actions: Action[]): {
    result: Record<string, unknown>; installed: { port: string; mac: Uint8Array } | null;
  } {
    const refused = (reason: string) => ({ result: { verdict: 'active', binding: null, refused: reason }, installed: null });
    const verdict = acceptActive(q.asked, a, this.ports!, now);
    if (!verdict.ok) {
      this.counters.refused[verdict.reason] = (this.counters.refused[verdict.reason] ?? 0) + 1;
      actions.push(log('warn', 'leasequery', 'LEASEACTIVE refused', { query: q.key, reason: verdict.reason }, `lq-refused:${verdict.reason}`));
      return refused(verdict.reason);
    }
    const written = this.bindings.write([{ op: 'upsert', fields: verdict.fields }], now);
    actions.push(...written.actions);
    const binding = `${formatIPv4(verdict.fields.address)}/32`;
    if (written.changes.length === 0) {
      this.counters.refused.owner = (this.counters.refused.owner ?? 0) + 1;
      return refused('owner');
    }
    this.counters.installed++;
    this.negative.delete(q.key);
    return {
      result: { verdict: 'active', binding: { binding, port: verdict.port.cfg.name, change: written.changes[0]!.kind }, refused: null },
      installed: { port: verdict.port.cfg.name, mac: verdict.fields.mac! },
    };
  }

  // ---- timers --------------------------------------------------------------------------

  poll(now: Instant): Action[] {
    return this.pollServers(now);
  }

  nextDeadline(): Instant | null {
    let next: Instant | null = null;
    for (const s of this.servers.values()) next = earliest(next, s.pacer.nextDeadline());
    for (const q of this.queries.values()) next = earliest(next, q.deadline);
    return next;
  }

  // ---- inspection ----------------------------------------------------------------------

  status(now?: Instant): Record<string, unknown> {
    const servers: Record<string, unknown> = {};
    for (const s of this.servers.values()) {
      servers[formatIPv4(s.address)] = { ...s.pacer.status(now ?? (0 as Instant)), answers: { ...s.answers } };
    }
    return {
      enabled: Boolean(this.cfg?.enabled && this.cfg.v4),
      inFlight: this.queries.size,
      negativeCache: this.negative.size,
      servers,
      onDemand: this.onDemand.status(),
      ...this.counters,
    };
  }
}
