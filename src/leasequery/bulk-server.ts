/**
 * One server's side of a bulk leasequery run (RFC 5460 §7; RFC 6926 §7 for DHCPv4, the
 * same connection rules over TCP 67): connect over TCP 547 (67),
 * send the queries one at a time (PROTOCOLS.md: real servers answer only the first of
 * several queries that arrive together), read the framed reply stream incrementally,
 * hand every lease to the caller as its message arrives, and retry what failed with an
 * exponential backoff up to BULK_LQ_MAX_RETRY (RFC 5460 §7.1). Sans-IO: `tcp` events
 * in, `tcp-*` actions out, with its deadlines in the phase that owns them.
 */
import { log, type Action } from '../actions';
import type { Event } from '../events';
import { addMs, type Instant } from '../time';
import { FrameReader, frameMessage } from './bulk-frame';
import { buildBulkQuery, readBulkReply, type BulkLease, type BulkQueryBy } from './bulk-message';
import { buildBulkQuery4, readBulkReply4 } from './bulk-message4';
import { readBulkReplyFast } from './bulk-read';
import type { BulkQuery4, LeaseAnswer } from './message';

type TcpEvent = Extract<Event, { kind: 'tcp' }>;

/** One query of a run, in the family of the server it goes to. */
export type BulkAsk = { readonly family: 6; readonly query: BulkQueryBy } | { readonly family: 4; readonly query: BulkQuery4 };

/** RFC 5460 §5.1 (547) and RFC 6926 §6.1 (67): the server's TCP port. */
const BULK_PORT = { 4: 67, 6: 547 } as const;

/**
 * RFC 6926 §6.2.2: a DONE with NotAllowed or MalformedQuery refuses the query itself:
 * asking again would get the same answer. Any other error (UnspecFail, QueryTerminated)
 * ended a stream that began, so the query is asked again.
 */
const REFUSED4 = new Set(['NotAllowed', 'MalformedQuery']);

export interface BulkTimers {
  /** BULK_LQ_CONN_TIMEOUT (RFC 5460 §5.6). */
  readonly connTimeoutMs: number;
  /** BULK_LQ_DATA_TIMEOUT: the stream (or our query) blocked this long is abandoned (§7.2, §7.3). */
  readonly dataTimeoutMs: number;
  /** BULK_LQ_MAX_RETRY: the retry interval doubles up to this (§7.1). */
  readonly maxRetryMs: number;
}

/** First retry interval; RFC 5460 §7.1 fixes only the exponential growth and its cap. */
export const FIRST_RETRY_MS = 1000;
/**
 * Largest message accepted. One CLIENT_DATA with its stored RELAY-FORW is a few hundred
 * octets (PROTOCOLS.md: 161 per binding with framing); a frame above this is skipped
 * unread and counted instead of buffering up to 64 KiB per connection for a peer.
 */
export const MAX_BULK_FRAME = 16 * 1024;

export type BulkPhase =
  | { readonly phase: 'idle' }
  | { readonly phase: 'connecting'; readonly conn: number; readonly deadline: Instant }
  | {
      readonly phase: 'querying'; readonly conn: number; readonly transactionId: number;
      /** A LEASEQUERY-REPLY with CLIENT_DATA arrived: the stream ends with DONE. */
      readonly streaming: boolean; readonly deadline: Instant;
    }
  | { readonly phase: 'backoff'; readonly until: Instant }
  | { readonly phase: 'done' };

/** Hostile or broken input, per cause (CONVENTIONS 10): none of it creates state. */
export interface BulkDrops {
  oversized: number;
  truncated: number;
  malformed: number;
  unknownXid: number;
  /** LEASEQUERY-DATA before the REPLY, or any message type other than 15–17. */
  outOfOrder: number;
  dataWithoutClientData: number;
  clientLink: number;
}

export interface BulkServerCounters {
  connects: number;
  connectFailures: number;
  retries: number;
  queries: number;
  /** Queries answered to the end (DONE, or a REPLY without bindings). */
  completed: number;
  messages: number;
  leases: number;
  /** DHCPv4 DHCPLEASEUNASSIGNED in the stream (RFC 6926 §7.4): a binding no longer active, nothing to install. */
  unassigned: number;
  /** Error status in a REPLY or DONE, by name (RFC 5460 §7.3: reported). */
  errors: Record<string, number>;
  dataTimeouts: number;
  closedMidStream: number;
  drops: BulkDrops;
}

/** What the server hands its owner: leases to install, and the actions to carry out. */
export interface BulkSink {
  leases(server: BulkServer, leases: readonly BulkLease[], now: Instant): Action[];
  /** One DHCPLEASEACTIVE of a DHCPv4 stream. */
  lease4(server: BulkServer, answer: LeaseAnswer, now: Instant): Action[];
  /** A fresh connection id and transaction id (24 bits) from the owner. */
  connId(): number;
  transactionId(): number;
}

export class BulkServer {
  phase: BulkPhase = { phase: 'idle' };
  private reader = new FrameReader(MAX_BULK_FRAME);
  /**
   * Leases of the messages of the chunk being read, handed to the owner together when
   * the chunk ends (or before anything else the chunk makes happens): one write, one
   * kernel batch per chunk instead of one per message.
   */
  private pending: BulkLease[] = [];
  private queries: readonly BulkAsk[] = [];
  /** Index of the query being asked; earlier ones are answered and not asked again. */
  private next = 0;
  private attempt = 0;
  /** Leases received in the current run. */
  received = 0;
  lastError: string | null = null;
  readonly counters: BulkServerCounters = {
    connects: 0, connectFailures: 0, retries: 0, queries: 0, completed: 0, messages: 0, leases: 0, unassigned: 0, errors: {},
    dataTimeouts: 0, closedMidStream: 0,
    drops: { oversized: 0, truncated: 0, malformed: 0, unknownXid: 0, outOfOrder: 0, dataWithoutClientData: 0, clientLink: 0 },
  };

  constructor(
    readonly family: 4 | 6,
    readonly address: Uint8Array,
    readonly label: string,
    readonly upstream: string,
    private timers: BulkTimers,
    private readonly requestorDuid: () => Uint8Array,
    private readonly sink: BulkSink,
  ) {}

  setTimers(t: BulkTimers): void {
    this.timers = t;
  }

  get conn(): number | null {
    return this.phase.phase === 'connecting' || this.phase.phase === 'querying' ? this.phase.conn : null;
  }

  get busy(): boolean {
    return this.phase.phase === 'connecting' || this.phase.phase === 'querying';
  }

  /** Begin a run: abandon whatever was under way and ask every query again. */
  start(queries: readonly BulkAsk[], now: Instant): Action[] {
    const actions = this.abandon();
    this.queries = queries.filter((q) => q.family === this.family);
    this.next = 0;
    this.attempt = 0;
    this.received = 0;
    this.lastError = null;
    this.phase = { phase: 'backoff', until: now };
    return actions;
  }

  /** Ready to connect (its backoff is over); the owner decides when (BULK_LQ_MAX_CONNS). */
  ready(now: Instant): boolean {
    return this.phase.phase === 'backoff' && now >= this.phase.until;
  }

  connect(now: Instant): Action[] {
    const conn = this.sink.connId();
    this.counters.connects++;
    this.reader = new FrameReader(MAX_BULK_FRAME);
    this.phase = { phase: 'connecting', conn, deadline: addMs(now, this.timers.connTimeoutMs) };
    return [{ kind: 'tcp-connect', conn, upstream: this.upstream, family: this.family, destination: this.address, destinationPort: BULK_PORT[this.family] }];
  }

  stop(): Action[] {
    const actions = this.abandon();
    this.phase = { phase: 'idle' };
    return actions;
  }

  private abandon(): Action[] {
    const conn = this.conn;
    return conn === null ? [] : [{ kind: 'tcp-close', conn }];
  }

  handle(e: TcpEvent, now: Instant): Action[] {
    const p = this.phase;
    if (p.phase === 'connecting' && e.what === 'connected') return this.ask(p.conn, now);
    if (p.phase === 'connecting' && e.what === 'closed') {
      this.counters.connectFailures++;
      return this.retry(`connect failed: ${e.error ?? 'closed'}`, now, false);
    }
    if (p.phase !== 'querying') return [];
    if (e.what === 'data') return this.data(e.bytes, now);
    if (e.what === 'closed') {
      if (this.reader.pending > 0) this.counters.drops.truncated++;
      // Closed with nothing pending and no stream begun: an unauthorised requester or a
      // connection over the server's limit is closed right after accept (RFC 5460 §8.1).
      if (p.streaming) this.counters.closedMidStream++;
      return this.retry(p.streaming ? 'peer closed mid-stream' : `peer closed before the reply${e.error ? ` (${e.error})` : ''}`, now, false);
    }
    return [];
  }

  /** Send the next query on the open connection (RFC 5460 §7.2), or finish when none is left. */
  private ask(conn: number, now: Instant): Action[] {
    if (this.next >= this.queries.length) {
      this.phase = { phase: 'done' };
      this.attempt = 0;
      return [{ kind: 'tcp-close', conn }];
    }
    const transactionId = this.sink.transactionId() & 0xffffff;
    this.counters.queries++;
    this.phase = { phase: 'querying', conn, transactionId, streaming: false, deadline: addMs(now, this.timers.dataTimeoutMs) };
    const ask = this.queries[this.next]!;
    const bytes = ask.family === 6 ? buildBulkQuery(ask.query, transactionId, this.requestorDuid()) : buildBulkQuery4(ask.query, transactionId);
    return [{ kind: 'tcp-send', conn, bytes: frameMessage(bytes) }];
  }

  private data(bytes: Uint8Array, now: Instant): Action[] {
    let actions: Action[] = [];
    for (const item of this.reader.push(bytes)) {
      const p = this.phase;
      if (p.phase !== 'querying') break; // the connection was given up on by an earlier frame
      let out: Action[];
      if (item.kind === 'oversized') {
        this.counters.drops.oversized++;
        out = [this.drop('oversized frame skipped', { size: item.size })];
      } else out = this.message(p, item.bytes, now);
      // What a message makes happen (a drop, the next query, a retry) comes after the
      // leases of the messages before it, as if each had been written at once.
      if (out.length > 0) actions = actions.concat(this.flush(now), out);
    }
    if (this.pending.length > 0) actions = actions.concat(this.flush(now));
    // Any bytes from the peer show the stream is moving (RFC 5460 §7.3: "blocked").
    const p = this.phase;
    if (p.phase === 'querying') this.phase = { ...p, deadline: addMs(now, this.timers.dataTimeoutMs) };
    return actions;
  }

  private message(p: Extract<BulkPhase, { phase: 'querying' }>, bytes: Uint8Array, now: Instant): Action[] {
    this.counters.messages++;
    return this.family === 6 ? this.message6(p, bytes, now) : this.message4(p, bytes, now);
  }

  /**
   * One framed message of a DHCPv4 reply stream (RFC 6926 §7.4): DHCPLEASEACTIVE or
   * DHCPLEASEUNASSIGNED per binding, then DHCPLEASEQUERYDONE (alone when nothing
   * matched), the query's xid in each.
   */
  private message4(p: Extract<BulkPhase, { phase: 'querying' }>, bytes: Uint8Array, now: Instant): Action[] {
    const r = readBulkReply4(bytes);
    if (r.kind === 'malformed' || r.kind === 'unexpected' || r.xid !== p.transactionId) {
      return this.stray(r, 'xid' in r ? r.xid : 0, 'bulk leasequery reply type (11, 13, 15)', now);
    }
    switch (r.kind) {
      case 'active':
        this.phase = { ...p, streaming: true };
        this.counters.leases++;
        this.received++;
        return this.sink.lease4(this, r.answer, now);
      case 'unassigned':
        this.phase = { ...p, streaming: true };
        this.counters.unassigned++;
        return [];
      case 'done': {
        if (!r.error) {
          this.counters.completed++;
          this.next++;
          return this.ask(p.conn, now);
        }
        // RFC 6926 §6.2.2: the error is reported (status, log, lastError).
        this.counters.errors[r.error] = (this.counters.errors[r.error] ?? 0) + 1;
        this.lastError = `${r.error}${r.statusMessage ? `: ${r.statusMessage}` : ''}`;
        if (!REFUSED4.has(r.error)) return this.retry(`DHCPLEASEQUERYDONE with status ${r.error}`, now, true);
        const out = [log('warn', 'bulk', 'DHCPLEASEQUERYDONE with an error status', { server: this.label, status: r.error, message: r.statusMessage })];
        this.next++;
        return [...out, ...this.ask(p.conn, now)];
      }
    }
  }

  /**
   * A message that is not the query's, the same for both families: malformed, of a type
   * no reply stream carries, or of another transaction — dropped and counted; a DONE of
   * another transaction closes the connection (RFC 5460 §7.3; RFC 6926 §7.4 likewise).
   */
  private stray(r: { readonly kind: string; readonly reason?: string; readonly msgType?: number }, xid: number, types: string, now: Instant): Action[] {
    const d = this.counters.drops;
    if (r.kind === 'malformed') {
      d.malformed++;
      return [this.drop('malformed message', { reason: r.reason ?? '' })];
    }
    if (r.kind === 'unexpected') {
      d.outOfOrder++;
      return [this.drop(`not a ${types}`, { type: r.msgType ?? 0 })];
    }
    d.unknownXid++;
    if (r.kind === 'done') return [this.drop('DONE for an unknown transaction id: closing', { xid }), ...this.retry('DONE with an unknown transaction id', now, true)];
    return [this.drop('reply for an unknown transaction id', { xid })];
  }

  /** One framed message of the reply stream (RFC 5460 §7.3). */
  private message6(p: Extract<BulkPhase, { phase: 'querying' }>, bytes: Uint8Array, now: Instant): Action[] {
    // The usual message in one pass; anything else through the general codec and its rules.
    const r = readBulkReplyFast(bytes) ?? readBulkReply(bytes);
    if (r.kind === 'malformed' || r.kind === 'unexpected' || r.transactionId !== p.transactionId) {
      return this.stray(r, 'transactionId' in r ? r.transactionId : 0, 'leasequery reply type (15-17)', now);
    }
    const d = this.counters.drops;
    if (r.clientLink) {
      // RFC 5460 §7.3: OPTION_LQ_CLIENT_LINK MUST NOT be present in bulk replies.
      d.clientLink++;
      return [this.drop('LQ_CLIENT_LINK in a bulk reply: message discarded', {})];
    }
    const error = r.error;
    switch (r.kind) {
      case 'reply': {
        if (p.streaming) {
          d.outOfOrder++;
          return [this.drop('second LEASEQUERY-REPLY for one query', {})];
        }
        if (error) {
          // RFC 5460 §7.3: an error status in the REPLY means no data follows; report it.
          // The server refused this query: asking again would get the same answer.
          this.counters.errors[error] = (this.counters.errors[error] ?? 0) + 1;
          this.lastError = `${error}${r.statusMessage ? `: ${r.statusMessage}` : ''}`;
          const out = [log('warn', 'bulk', 'LEASEQUERY-REPLY with an error status', { server: this.label, status: error, message: r.statusMessage })];
          this.next++;
          return [...out, ...this.ask(p.conn, now)];
        }
        if (!r.clientData) {
          // RFC 5460 §7.3: a successful REPLY without CLIENT_DATA: no bindings, and no DONE follows.
          this.counters.completed++;
          this.next++;
          return this.ask(p.conn, now);
        }
        this.phase = { ...p, streaming: true };
        return this.deliver(r.leases);
      }
      case 'data':
        if (!p.streaming) {
          d.outOfOrder++;
          return [this.drop('LEASEQUERY-DATA before the REPLY', {})];
        }
        if (!r.clientData) {
          // RFC 5460 §7.3: a LEASEQUERY-DATA without OPTION_CLIENT_DATA MUST be discarded.
          d.dataWithoutClientData++;
          return [this.drop('LEASEQUERY-DATA without CLIENT_DATA discarded', {})];
        }
        return this.deliver(r.leases);
      case 'done':
        if (error) {
          // RFC 5460 §5.2.3 / §8.2: the server hit an error after it began: what arrived
          // stands, the rest is missing, so the query is asked again.
          this.counters.errors[error] = (this.counters.errors[error] ?? 0) + 1;
          return this.retry(`LEASEQUERY-DONE with status ${error}`, now, true);
        }
        this.counters.completed++;
        this.next++;
        return this.ask(p.conn, now);
    }
  }

  private deliver(leases: readonly BulkLease[]): Action[] {
    this.counters.leases += leases.length;
    this.received += leases.length;
    for (const l of leases) this.pending.push(l);
    return [];
  }

  /** The leases held since the last write, to the owner in one write (they stay in stream order). */
  private flush(now: Instant): Action[] {
    if (this.pending.length === 0) return [];
    const leases = this.pending;
    this.pending = [];
    return this.sink.leases(this, leases, now);
  }

  /** Give up on this connection and try again after the next backoff interval (RFC 5460 §7.1). */
  private retry(why: string, now: Instant, close: boolean): Action[] {
    const conn = this.conn;
    const delay = Math.min(this.timers.maxRetryMs, FIRST_RETRY_MS * 2 ** Math.min(this.attempt, 20));
    this.attempt++;
    this.counters.retries++;
    this.lastError = why;
    this.phase = { phase: 'backoff', until: addMs(now, delay) };
    const actions: Action[] = [log('warn', 'bulk', 'bulk leasequery failed, retrying', { server: this.label, reason: why, retryInS: delay / 1000 }, `bulk-retry:${this.label}`)];
    if (close && conn !== null) actions.push({ kind: 'tcp-close', conn });
    return actions;
  }

  private drop(message: string, fields: Record<string, string | number>): Action {
    return log('debug', 'bulk', message, { server: this.label, ...fields }, `bulk-drop:${message}`);
  }

  poll(now: Instant): Action[] {
    const p = this.phase;
    if (p.phase === 'connecting' && now >= p.deadline) {
      this.counters.connectFailures++;
      return this.retry('connect timed out (BULK_LQ_CONN_TIMEOUT)', now, true);
    }
    if (p.phase === 'querying' && now >= p.deadline) {
      this.counters.dataTimeouts++;
      if (this.reader.pending > 0) this.counters.drops.truncated++;
      return this.retry('stream blocked (BULK_LQ_DATA_TIMEOUT)', now, true);
    }
    return [];
  }

  nextDeadline(): Instant | null {
    const p = this.phase;
    if (p.phase === 'connecting' || p.phase === 'querying') return p.deadline;
    if (p.phase === 'backoff') return p.until;
    return null;
  }

  status(now: Instant): Record<string, unknown> {
    const p = this.phase;
    const state = p.phase === 'querying' ? (p.streaming ? 'streaming' : 'waiting-reply') : p.phase;
    return {
      family: this.family,
      state,
      ...(p.phase === 'backoff' ? { retryInMs: Math.max(0, p.until - now) } : {}),
      received: this.received,
      lastError: this.lastError,
      ...this.counters,
      errors: { ...this.counters.errors },
      drops: { ...this.counters.drops },
    };
  }
}
