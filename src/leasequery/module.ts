import { log, type Action } from '../actions';
import type { BindingWriter } from '../bindings/owner';
import type { Config } from '../config/config';
import type { LeasequeryConfig } from '../config/schema';
import type { Event } from '../events';
import type { Claim, Module } from '../module';
import { PortMap, type SubscriberPort } from '../relay/ports';
import { addMs, earliest, type Instant } from '../time';
import {
  BOOTREPLY, DHCP4_LEASEQUERY_TYPE, DHCP6_LEASEQUERY_TYPE, DHCP6_XID_MASK, dhcp4Message, dhcp4MessageType, dhcp6Message,
  readLeasequeryAnswer,
} from '../wire';
import { bytesEqual, formatAddress, formatHex, formatIPv4 } from '../wire/address';
import { acceptActive, type Refusal } from './accept';
import { acceptActive6, type Refusal6 } from './accept6';
import { buildLeasequery, queryFamily, readAnswer, type LeaseAnswer } from './message';
import { buildLeasequery6, lq6Query, lq6Verdict } from './message6';
import { NegativeCache } from './negative-cache';
import { OnDemand, type OnDemandHost } from './on-demand';
import { describeServers, queryKey, type AnyAnswer, type Query } from './query';
import { answerKind, reconcile } from './reconcile';
import { ServerPacer, type Pacing } from './server';
import { resolvePorts, unicastServers6 } from './targets';

type LeasequeryEvent = Extract<Event, { kind: 'leasequery' }>;
/** What starts a query: a `gleand query` (requester set) or a packet on demand (requester null). */
type Request = Pick<LeasequeryEvent, 'query' | 'expectMac' | 'waitMs'> & {
  readonly port: string | null; readonly requester: number | null; readonly upKey: string | null;
  /** On demand, upstream: the port the unverified frame came in on (accept6.ts). */
  readonly framePort?: string | null;
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
/**
 * DHCPv6: LEASEQUERY 14 (a query: gleand is no server), LEASEQUERY-REPLY 15 (the answer
 * it reads), and the bulk types DONE 16 / DATA 17, which come only over TCP (RFC 5460
 * §5.1): over UDP they are counted, never read.
 */
export const LEASEQUERY6_TYPES: readonly number[] = [14, 15, 16, 17];
/** RFC 8415 §7.2: servers listen on 547; ISC dhcpd answers a LEASEQUERY to port 546 whatever the source (PROTOCOLS.md). */
export const DHCP6_CLIENT_PORT = 546;
export const DHCP6_SERVER_PORT = 547;

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
  refused: Partial<Record<Refusal6 | 'owner', number>>;
  unmatched: number;
  malformed: number;
  unknownServer: number;
  /** Message types that are not leasequery answers (10, 14–18, pre-RFC): counted, never guessed. */
  unexpectedType: Record<string, number>;
}

interface ServerState {
  readonly address: Uint8Array;
  readonly pacer: ServerPacer;
  readonly family: 4 | 6;
  /** By answer type: v4 active / unassigned / unknown; v6 active / no-binding / NotConfigured / other statuses. */
  readonly answers: Record<string, number>;
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
    { kind: 'config' }, { kind: 'leasequery' }, { kind: 'identity' }, { kind: 'on-demand' },
    { kind: 'udp', family: 4, passive: false, messageTypes: LEASEQUERY_FAMILY_TYPES },
    { kind: 'udp', family: 6, passive: false, messageTypes: LEASEQUERY6_TYPES },
  ];
  /** gleand's DUID: the CLIENTID of its DHCPv6 LEASEQUERY (RFC 5007 §4.1.2). */
  private relayId: Uint8Array | null = null;
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
      enabled: (family) => {
        if (!m.cfg?.enabled || !(family === 4 ? m.cfg.v4 : m.cfg.v6)) return 'disabled';
        return family === 6 && !m.relayId ? 'no-identity' : true;
      },
      negativeCached: (key, now) => m.negative.get(key, now) !== null,
      inFlight: (key) => m.byKey.has(key),
      queriesInFlight: () => m.queries.size,
      find: (family, address) => m.bindings.find(family, address),
      ask: (r, now) => {
        // RFC 4388 §6.3 pacing applies as to any query (RFC 5007 the same, README); the wait is two first retries.
        const q = m.start({ query: r.query, expectMac: r.expectMac, port: null, waitMs: 2 * m.pacing().retryMs, requester: null, upKey: r.upKey,
          framePort: r.framePort }, queryKey(r.query), r.ports, now);
        return m.pollServers(now, [...q.servers.keys()]);
      },
    };
  }

  handle(event: Event, now: Instant): Action[] {
    switch (event.kind) {
      case 'config': return this.configure(event.config, now);
      case 'identity':
        this.relayId = event.relayId;
        return [];
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
    const wanted = new Set(config.upstreams.flatMap((u) => [...u.dhcpv4_server, ...u.dhcpv6_server].map((s) => formatHex(s))));
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
      const family = address.length === 16 ? 6 : 4;
      s = { address, family, pacer: new ServerPacer(this.pacing()), answers: family === 4 ? { active: 0, unassigned: 0, unknown: 0 } : { active: 0 } };
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
    const family = queryFamily(e.query);
    if (!this.cfg.enabled || !(family === 4 ? this.cfg.v4 : this.cfg.v6)) {
      return refuse('disabled', `leasequery (enabled, v${family}) is off in the configuration`);
    }
    if (family === 6 && !this.relayId) return refuse('no-identity', 'no relay DUID yet (the CLIENTID of a DHCPv6 LEASEQUERY)');
    const key = queryKey(e.query);
    const cached = this.negative.get(key, now);
    if (cached) {
      this.counters.cached++;
      return [{ kind: 'query-result', id: e.id, result: {
        query: key, verdict: 'cached', type: typeof cached.type === 'number' ? dhcp4MessageType(cached.type).name : cached.type,
        expiresInS: Math.ceil((cached.until - now) / 1000),
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
    const family = queryFamily(e.query);
    // A DHCPv6 transaction id is 24 bits (RFC 8415 §8).
    const mask = family === 4 ? 0xffffffff : DHCP6_XID_MASK;
    let xid = (this.random32() & mask) >>> 0;
    while ([...this.queries.values()].some((q) => q.family === family && q.xid === xid)) xid = ((xid + 1) & mask) >>> 0;
    const q: Query = {
      id: this.nextQueryId++, key, family, upstream: first.upstream.name, xid,
      asked: { query: e.query, ports, expectMac: e.expectMac, framePort: e.framePort ?? null },
      payload: family === 4 ? dhcp4Message.encode(buildLeasequery(e.query, xid, first.cfg.giaddr!)) : this.payload6(e, ports, xid),
      servers: new Map(), requesters: e.requester === null ? [] : [e.requester], upKey: e.upKey, deadline: addMs(now, e.waitMs),
    };
    // RFC 4388 §6.2 (and RFC 5007 §4.1.1 for DHCPv6): in the absence of knowledge of which
    // server holds the lease, send it to every server configured for the relay agent.
    for (const address of family === 4 ? first.upstream.dhcpv4_server : unicastServers6(first)) {
      const s = this.server(address);
      q.servers.set(formatHex(address), { address, outcome: 'pending', answer: null });
      s.pacer.enqueue(q.id, xid);
    }
    this.counters.queries++;
    this.queries.set(q.id, q);
    if (e.expectMac === null && e.port === null) this.byKey.set(key, q);
    return q;
  }

  /**
   * RFC 5007 §4.1.2.1: link-address names the link the query is about — the ports'
   * `link_address` when they share one, else unspecified (the server finds the link).
   */
  private payload6(e: Request, ports: readonly SubscriberPort[], xid: number): Uint8Array {
    const link = ports[0]!.cfg.link_address ?? null;
    const shared = link && ports.every((p) => bytesEqual(p.cfg.link_address ?? null, link)) ? link : null;
    return dhcp6Message.encode(buildLeasequery6(lq6Query(e.query, shared)!, xid, this.relayId!));
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
        actions.push(q.family === 4
          ? { kind: 'udp-send', family: 4, upstream: q.upstream, destination: s.address, destinationPort: 67, payload: q.payload }
          // From the client port, where the answer comes back (PROTOCOLS.md: ISC dhcpd answers to 546).
          : { kind: 'udp-send', family: 6, upstream: q.upstream, destination: s.address, destinationPort: DHCP6_SERVER_PORT,
            sourcePort: DHCP6_CLIENT_PORT, payload: q.payload });
      }
    }
    actions.push(...this.settle(now));
    return actions;
  }

  // ---- answers -------------------------------------------------------------------------

  private answer(e: UdpEvent, now: Instant): Action[] {
    if (e.family === 6) return this.answer6(e, now);
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
    const type = a.type === LEASEACTIVE ? 'active' : a.type === LEASEUNASSIGNED ? 'unassigned' : 'unknown';
    return this.answered(s, { family: 4, xid: a.xid, v4: a }, type, now);
  }

  /**
   * A DHCPv6 LEASEQUERY-REPLY (RFC 5007 §4.1.2) at the client port. Only from a server
   * that was asked (a multicast-configured upstream is never asked: `unicastServers6`);
   * parsed whole before anything is acted on; 14, 16 and 17 over UDP are counted.
   */
  private answer6(e: UdpEvent, now: Instant): Action[] {
    const source = formatAddress(6, e.source);
    const s = this.servers.get(formatHex(e.source));
    if (!s || s.family !== 6) return this.count('unknownServer', 'answer from a source that is not a dhcpv6_server', { source });
    const m = dhcp6Message.decode(e.payload);
    if (m.ok && m.value.kind === 'client' && m.value.msgType !== DHCP6_LEASEQUERY_TYPE.LEASEQUERY_REPLY) {
      const code = `v6:${m.value.msgType}`;
      this.counters.unexpectedType[code] = (this.counters.unexpectedType[code] ?? 0) + 1;
      return [log('warn', 'leasequery', 'not a LEASEQUERY-REPLY over UDP (RFC 5007 §4.1.2): ignored', { source, type: m.value.msgType },
        `lq-type:v6:${m.value.msgType}`)];
    }
    const r = m.ok ? readLeasequeryAnswer(m.value) : null;
    if (!r || !r.ok) return this.count('malformed', 'malformed answer', { source, reason: m.ok ? (r?.ok === false ? r.reason : '') : m.error.reason });
    return this.answered(s, { family: 6, xid: r.answer.transactionId, v6: r.answer }, lq6Verdict(r.answer).type, now);
  }

  /** Either family: count the answer by type, restart the server's timer, hand it to its query. */
  private answered(s: ServerState, a: AnyAnswer, type: string, now: Instant): Action[] {
    const key = formatHex(s.address);
    s.answers[type] = (s.answers[type] ?? 0) + 1;
    const queryId = s.pacer.answered(a.xid, now);
    const q = queryId === null ? undefined : this.queries.get(queryId);
    if (!q) return this.count('unmatched', 'answer to no query in flight', { source: formatAddress(s.family, s.address), xid: a.xid });
    const slot = q.servers.get(key)!;
    slot.outcome = 'answered';
    slot.answer = a;
    // One active answer is enough to act on soon: the other servers get one more retry
    // interval to say something more recent (RFC 4388 §6.7), not the whole wait.
    if (answerKind(a) === 'active') q.deadline = earliest(q.deadline, addMs(now, this.pacing().retryMs))!;
    // A server that answers again may take more queries at once.
    return this.pollServers(now, [key]);
  }

  private count(what: 'unknownServer' | 'malformed' | 'unmatched', message: string, fields: Record<string, string | number | boolean>): Action[] {
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
    const answered = [...q.servers.values()].flatMap((s) => (s.answer ? [{ server: formatAddress(q.family, s.address), answer: s.answer }] : []));
    const winner = reconcile(answered);
    const actions: Action[] = [];
    let installed: { port: string; mac: Uint8Array | null } | null = null;
    const result: Record<string, unknown> = {
      query: q.key, family: q.family, ports: q.asked.ports.map((p) => p.cfg.name), servers: describeServers(q), winner: winner?.server ?? null,
    };
    // Servers answered, but only with errors (v6 UnknownQueryType, NotAllowed, ...): not cached.
    if (!winner) result['verdict'] = answered.length > 0 ? 'error' : 'no-answer';
    else if (winner.answer.family === 4 && winner.answer.v4.type === LEASEACTIVE) {
      const r = this.install(q, winner.answer.v4, now, actions);
      installed = r.installed;
      Object.assign(result, r.result);
    }
    else if (winner.answer.family === 6 && answerKind(winner.answer) === 'active') {
      const r = this.install6(q, winner.answer, now, actions);
      installed = r.installed;
      Object.assign(result, r.result);
    }
    else if (winner.answer.family === 4) {
      this.negative.put(q.key, winner.answer.v4.type, now);
      result['verdict'] = winner.answer.v4.type === LEASEUNASSIGNED ? 'unassigned' : 'unknown';
    } else {
      // No binding / NotConfigured: believed for the TTL like LEASEUNKNOWN (seed 003 §6.5).
      const type = lq6Verdict(winner.answer.v6).type;
      this.negative.put(q.key, type, now);
      result['verdict'] = 'unknown';
      result['type'] = type;
    }
    for (const id of q.requesters) actions.push({ kind: 'query-result', id, result });
    // Location on demand (either family): held packets go out or are dropped, the upstream outcome is cached.
    if (q.asked.query.by === 'ip') {
      const verdict = result['verdict'] as 'unassigned' | 'unknown' | 'no-answer' | 'error' | 'active';
      actions.push(...this.onDemand.settled({ family: q.family, key: q.key, upKey: q.upKey, expectMac: q.asked.expectMac }, installed,
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

  /** DHCPv6: an accepted answer's leases (addresses and delegated prefixes) become bindings together. */
  private install6(q: Query, a: Extract<AnyAnswer, { family: 6 }>, now: Instant, actions: Action[]): {
    result: Record<string, unknown>; installed: { port: string; mac: Uint8Array | null } | null;
  } {
    const refused = (reason: string) => ({ result: { verdict: 'active', binding: null, refused: reason }, installed: null });
    const verdict = acceptActive6(q.asked, a.v6, this.ports!, now);
    if (!verdict.ok) {
      this.counters.refused[verdict.reason] = (this.counters.refused[verdict.reason] ?? 0) + 1;
      actions.push(log('warn', 'leasequery', 'LEASEQUERY-REPLY refused', { query: q.key, reason: verdict.reason }, `lq-refused:${verdict.reason}`));
      return refused(verdict.reason);
    }
    const written = this.bindings.write(verdict.fields.map((fields) => ({ op: 'upsert' as const, fields })), now);
    actions.push(...written.actions);
    if (written.changes.length === 0) {
      this.counters.refused.owner = (this.counters.refused.owner ?? 0) + 1;
      return refused('owner');
    }
    this.counters.installed += written.changes.length;
    this.negative.delete(q.key);
    const bindings = verdict.fields.map((f) => `${formatAddress(6, f.address)}/${f.prefixLength}`);
    return {
      result: {
        verdict: 'active',
        binding: { binding: bindings.join(', '), port: verdict.port.cfg.name, change: written.changes.map((c) => c.kind).join(', ') },
        refused: null,
      },
      installed: { port: verdict.port.cfg.name, mac: verdict.fields[0]!.mac },
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
      servers[formatAddress(s.family, s.address)] = { family: s.family, ...s.pacer.status(now ?? (0 as Instant)), answers: { ...s.answers } };
    }
    return {
      enabled: Boolean(this.cfg?.enabled && this.cfg.v4),
      enabled6: Boolean(this.cfg?.enabled && this.cfg.v6),
      inFlight: this.queries.size,
      negativeCache: this.negative.size,
      servers,
      onDemand: this.onDemand.status(),
      ...this.counters,
    };
  }
}
