/**
 * The rtnetlink client (CONVENTIONS 11): requests matched by sequence number with a
 * timeout, batched sends for bulk changes, dumps serialised per socket and retried when
 * the kernel says the table changed underneath (NLM_F_DUMP_INTR).
 *
 * Batches: many requests go in one sendmsg. Only the last request of a chunk asks for
 * an ACK; the kernel answers every failing request with an NLMSG_ERROR anyway
 * (netlink_rcv_skb acks on NLM_F_ACK *or* error) and handles the chunk in order, so the
 * final ACK means every earlier request without an error succeeded. At most
 * `maxInFlight` chunks are outstanding, which bounds the error replies that can queue
 * up in the receive buffer.
 *
 * If the request socket itself overruns (ENOBUFS), replies were lost: every pending
 * request fails with `overrun` and the caller reconciles by dumping. Nothing throws;
 * every promise resolves with a result value.
 */
import { AF, NLM_F, NLMSG, RTM } from './constants';
import { decodeAddr, type AddrMessage } from './addr';
import { decodeLink, ifinfomsg, type LinkMessage } from './link';
import {
  decodeDone, decodeError, messageLength, splitMessages, writeMessage,
  type ErrorMessage, type ExtAck, type NlMessage,
} from './message';
import { decodeNeigh, ndmsg, toNeighMessage, type NeighMessage, type Neighbour } from './neigh';
import {
  checkRoute, decodeRoute, ROUTE_REQUEST_FLAGS, routeTable, rtmsg, toRouteDeleteMessage, toRouteMessage,
  type Route, type RouteMessage,
} from './route';
import { ENOBUFS, NetlinkSocket, errnoName, isOsError, type OsError } from './socket';
import { NETLINK_ROUTE } from './constants';
import { encodeBody, isEncodeError, type DecodeError, type Decoded, type EncodeError } from './wire';
import { ifaddrmsg } from './addr';

export type RtnlError =
  | { readonly kind: 'errno'; readonly errno: number; readonly code: string; readonly extAck: ExtAck }
  | { readonly kind: 'os'; readonly error: OsError }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'overrun' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'encode'; readonly error: EncodeError }
  | { readonly kind: 'interrupted' };

export type RtnlResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RtnlError };

export interface RtnlRequest {
  readonly type: number;
  /** NLM_F_REQUEST is added; NLM_F_ACK is managed by the client. */
  readonly flags: number;
  readonly body: Uint8Array;
}

export interface BatchResult {
  /** Requests the kernel accepted. */
  readonly done: number;
  /** Index into the request list → why that request failed. */
  readonly failures: ReadonlyMap<number, RtnlError>;
}

export interface DumpResult<T> {
  readonly items: T[];
  /** Messages that did not decode; the rest of the dump is still usable. */
  readonly skipped: DecodeError[];
}

export interface RtnlOptions {
  /** Default 8 MiB (the kernel doubles it). */
  readonly rcvbufBytes?: number;
  /** Default 4 MiB; a chunk must fit. */
  readonly sndbufBytes?: number;
  /** Per request / chunk / dump; default 10 000. */
  readonly timeoutMs?: number;
  /** Requests per sendmsg; default 1024. */
  readonly batchMessages?: number;
  /** Default 256 KiB. */
  readonly batchBytes?: number;
  /** Chunks outstanding at once; default 4. */
  readonly maxInFlight?: number;
}

export interface RtnlStats {
  requests: number;
  chunks: number;
  dumps: number;
  stray: number;
  decodeErrors: number;
  overruns: number;
}

const ok = <T>(value: T): RtnlResult<T> => ({ ok: true, value });
const err = <T>(error: RtnlError): RtnlResult<T> => ({ ok: false, error });
const fromErrorMessage = (e: ErrorMessage): RtnlError => ({ kind: 'errno', errno: e.errno, code: errnoName(e.errno), extAck: e.extAck });

interface Waiter {
  readonly first: number;
  readonly last: number;
  onError(seq: number, e: RtnlError): void;
  finish(r: RtnlResult<void>): void;
}

interface DumpWaiter {
  readonly seq: number;
  readonly messages: NlMessage[];
  interrupted: boolean;
  finish(r: RtnlResult<NlMessage[]>): void;
}

const MAX_DUMP_RETRIES = 3;

export class Rtnl {
  readonly stats: RtnlStats = { requests: 0, chunks: 0, dumps: 0, stray: 0, decodeErrors: 0, overruns: 0 };
  private seq = 0;
  private readonly waiters = new Map<number, Waiter>(); // by last seq
  private readonly ranges = new Set<Waiter>(); // waiters covering more than one seq
  private dumpWaiter: DumpWaiter | null = null;
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private sock!: NetlinkSocket;
  private closed = false;
  private readonly timeoutMs: number;
  private readonly batchMessages: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;

  private constructor(opts: RtnlOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.batchMessages = Math.max(1, opts.batchMessages ?? 1024);
    this.batchBytes = Math.max(4096, opts.batchBytes ?? 256 * 1024);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
  }

  static open(opts: RtnlOptions = {}): RtnlResult<Rtnl> {
    const c = new Rtnl(opts);
    const sock = NetlinkSocket.open(
      {
        protocol: NETLINK_ROUTE,
        rcvbufBytes: opts.rcvbufBytes ?? 8 * 1024 * 1024,
        sndbufBytes: opts.sndbufBytes ?? 4 * 1024 * 1024,
        extAck: true,
        strictCheck: true,
      },
      (errno, grams) => c.receive(errno, grams),
    );
    if (isOsError(sock)) return err({ kind: 'os', error: sock });
    c.sock = sock;
    sock.ref(false);
    return ok(c);
  }

  get portId(): number {
    return this.sock.portId;
  }

  // -------------------------------------------------------------------------------
  // Generic requests

  /** One request, answered by an ACK or an error. */
  request(req: RtnlRequest): Promise<RtnlResult<void>> {
    return new Promise((resolve) => {
      let failure: RtnlError | null = null;
      this.stats.requests++;
      this.sendChunk([req], {
        onError: (_seq, e) => { failure = e; },
        finish: (r) => resolve(r.ok && failure !== null ? err(failure) : r),
      });
    });
  }

  /** Many requests, chunked into few sendmsg calls (see the header comment). */
  async batch(reqs: readonly RtnlRequest[]): Promise<BatchResult> {
    const failures = new Map<number, RtnlError>();
    let done = 0;
    const inFlight = new Set<Promise<void>>();
    for (let start = 0; start < reqs.length; ) {
      let end = start;
      let bytes = 0;
      while (end < reqs.length && end - start < this.batchMessages) {
        const len = messageLength(reqs[end]!.body.length);
        if (end > start && bytes + len > this.batchBytes) break;
        bytes += len;
        end++;
      }
      const base = start;
      const chunk = reqs.slice(start, end);
      this.stats.requests += chunk.length;
      const p = new Promise<void>((resolve) => {
        let errors = 0;
        this.sendChunk(chunk, {
          onError: (i, e) => {
            if (!failures.has(base + i)) errors++;
            failures.set(base + i, e);
          },
          finish: (r) => {
            if (r.ok) done += chunk.length - errors;
            else for (let i = 0; i < chunk.length; i++) if (!failures.has(base + i)) failures.set(base + i, r.error);
            resolve();
          },
        });
      });
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      if (inFlight.size >= this.maxInFlight) await Promise.race(inFlight);
      start = end;
    }
    await Promise.all(inFlight);
    return { done, failures };
  }

  /** Sends reqs in one sendmsg; onError gets the index within reqs. */
  private sendChunk(
    reqs: readonly RtnlRequest[],
    h: { onError(index: number, e: RtnlError): void; finish(r: RtnlResult<void>): void },
  ): void {
    if (this.closed) return h.finish(err({ kind: 'closed' }));
    if (this.seq + reqs.length >= 0xffffffff) this.seq = 0;
    const first = this.seq + 1;
    this.seq += reqs.length;
    const last = this.seq;
    let len = 0;
    for (const r of reqs) len += messageLength(r.body.length);
    const buf = new Uint8Array(len);
    let off = 0;
    reqs.forEach((r, i) => {
      const ack = i === reqs.length - 1 ? NLM_F.ACK : 0;
      const flags = ((r.flags | NLM_F.REQUEST) & ~NLM_F.ACK) | ack;
      off = writeMessage(buf, off, { type: r.type, flags, seq: first + i, pid: 0 }, r.body);
    });
    let timer: NodeJS.Timeout | undefined;
    const w: Waiter = {
      first,
      last,
      onError: (seq, e) => h.onError(seq - first, e),
      finish: (r) => {
        if (timer !== undefined) clearTimeout(timer);
        this.waiters.delete(last);
        this.ranges.delete(w);
        this.updateRef();
        h.finish(r);
      },
    };
    this.waiters.set(last, w);
    if (first !== last) this.ranges.add(w);
    this.stats.chunks++;
    const sent = this.sock.send(buf);
    if (isOsError(sent)) return w.finish(err({ kind: 'os', error: sent }));
    timer = setTimeout(() => w.finish(err({ kind: 'timeout', afterMs: this.timeoutMs })), this.timeoutMs);
    this.updateRef();
  }

  /** A dump request; dumps on one socket run one at a time (the kernel allows one). */
  dump(type: number, body: Uint8Array): Promise<RtnlResult<NlMessage[]>> {
    const run = async (): Promise<RtnlResult<NlMessage[]>> => {
      for (let attempt = 0; ; attempt++) {
        const r = await this.dumpOnce(type, body);
        if (r.ok || r.error.kind !== 'interrupted' || attempt >= MAX_DUMP_RETRIES) return r;
      }
    };
    const p = this.dumpQueue.then(run);
    this.dumpQueue = p;
    return p;
  }

  private dumpOnce(type: number, body: Uint8Array): Promise<RtnlResult<NlMessage[]>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(err({ kind: 'closed' }));
      if (this.seq + 1 >= 0xffffffff) this.seq = 0;
      const seq = ++this.seq;
      const buf = new Uint8Array(messageLength(body.length));
      writeMessage(buf, 0, { type, flags: NLM_F.REQUEST | NLM_F.DUMP, seq, pid: 0 }, body);
      const timer = setTimeout(() => d.finish(err({ kind: 'timeout', afterMs: this.timeoutMs })), this.timeoutMs);
      const d: DumpWaiter = {
        seq,
        messages: [],
        interrupted: false,
        finish: (r) => {
          clearTimeout(timer);
          if (this.dumpWaiter === d) this.dumpWaiter = null;
          this.updateRef();
          resolve(r);
        },
      };
      this.dumpWaiter = d;
      this.stats.dumps++;
      const sent = this.sock.send(buf);
      if (isOsError(sent)) return d.finish(err({ kind: 'os', error: sent }));
      this.updateRef();
    });
  }

  // -------------------------------------------------------------------------------
  // Receive

  private receive(errno: number, grams: Uint8Array[]): void {
    if (errno === ENOBUFS) {
      // Replies were dropped; nobody can tell which. Fail everything pending.
      this.stats.overruns++;
      for (const w of [...this.waiters.values()]) w.finish(err({ kind: 'overrun' }));
      this.dumpWaiter?.finish(err({ kind: 'overrun' }));
      return;
    }
    if (errno !== 0) {
      this.stats.decodeErrors++; // EMSGSIZE: a truncated datagram
      return;
    }
    for (const g of grams) {
      const { messages, error } = splitMessages(g);
      if (error !== null) this.stats.decodeErrors++;
      for (const m of messages) this.dispatch(m);
    }
  }

  private dispatch(m: NlMessage): void {
    const d = this.dumpWaiter;
    if (d !== null && m.seq === d.seq) return this.dumpMessage(d, m);
    if (m.type !== NLMSG.ERROR) {
      this.stats.stray++;
      return;
    }
    const e = decodeError(m);
    if (!e.ok) {
      this.stats.decodeErrors++;
      return;
    }
    const w = this.waiters.get(m.seq) ?? this.findRange(m.seq);
    if (w === undefined) {
      this.stats.stray++; // late reply after a timeout or overrun
      return;
    }
    if (e.value.errno !== 0) w.onError(m.seq, fromErrorMessage(e.value));
    if (m.seq === w.last) w.finish(ok(undefined));
  }

  private findRange(seq: number): Waiter | undefined {
    for (const w of this.ranges) if (seq >= w.first && seq <= w.last) return w;
    return undefined;
  }

  private dumpMessage(d: DumpWaiter, m: NlMessage): void {
    if ((m.flags & NLM_F.DUMP_INTR) !== 0) d.interrupted = true;
    if (m.type === NLMSG.DONE) {
      const done = decodeDone(m);
      if (done.ok && done.value.interrupted) d.interrupted = true;
      if (done.ok && done.value.errno !== 0) {
        return d.finish(err({ kind: 'errno', errno: done.value.errno, code: errnoName(done.value.errno), extAck: done.value.extAck }));
      }
      return d.finish(d.interrupted ? err({ kind: 'interrupted' }) : ok(d.messages));
    }
    if (m.type === NLMSG.ERROR) {
      const e = decodeError(m);
      if (!e.ok) return d.finish(err({ kind: 'errno', errno: 74, code: 'EBADMSG', extAck: {} }));
      return d.finish(e.value.errno === 0 ? ok(d.messages) : err(fromErrorMessage(e.value)));
    }
    d.messages.push(m);
  }

  private updateRef(): void {
    if (!this.closed) this.sock.ref(this.waiters.size > 0 || this.dumpWaiter !== null);
  }

  /** Fails everything pending with `closed` and closes the socket. */
  close(): void {
    if (this.closed) return;
    for (const w of [...this.waiters.values()]) w.finish(err({ kind: 'closed' }));
    this.dumpWaiter?.finish(err({ kind: 'closed' }));
    this.closed = true;
    this.sock.close();
  }

  // -------------------------------------------------------------------------------
  // Routes, neighbours, links, addresses

  /** RTM_NEWROUTE for each route (EXCL unless replace); failures by index. */
  addRoutes(routes: readonly Route[], opts: { replace?: boolean } = {}): Promise<BatchResult> {
    const flags = opts.replace === true ? ROUTE_REQUEST_FLAGS.replace : ROUTE_REQUEST_FLAGS.add;
    return this.batchEncoded(routes, (r) => checkRoute(r) ?? encodeBody(rtmsg, toRouteMessage(r)), RTM.NEWROUTE, flags);
  }

  deleteRoutes(routes: readonly Route[]): Promise<BatchResult> {
    return this.batchEncoded(routes, (r) => checkRoute(r) ?? encodeBody(rtmsg, toRouteDeleteMessage(r)), RTM.DELROUTE, ROUTE_REQUEST_FLAGS.del);
  }

  /** Kernel-side filtering where strict checking is available, and again here. */
  async dumpRoutes(filter: { family?: number; protocol?: number; table?: number } = {}): Promise<RtnlResult<DumpResult<RouteMessage>>> {
    const q = rtmsg.blank();
    q.family = filter.family ?? AF.UNSPEC;
    q.protocol = filter.protocol ?? 0;
    if (filter.table !== undefined) {
      q.table = filter.table < 256 ? filter.table : 0;
      q.tableId = filter.table;
    }
    const r = await this.dump(RTM.GETROUTE, encodeBody(rtmsg, q) as Uint8Array);
    if (!r.ok) {
      // A filtered dump of a table that does not exist yet is an empty table.
      if (r.error.kind === 'errno' && r.error.code === 'ENOENT' && filter.table !== undefined) return ok({ items: [], skipped: [] });
      return r;
    }
    return ok(this.decodeAll(r.value, RTM.NEWROUTE, decodeRoute, (m) =>
      (filter.family === undefined || m.family === filter.family) &&
      (filter.protocol === undefined || m.protocol === filter.protocol) &&
      (filter.table === undefined || routeTable(m) === filter.table)));
  }

  /** RTM_NEWNEIGH with CREATE|REPLACE (the entry becomes what we say). */
  addNeighbours(neighs: readonly Neighbour[]): Promise<BatchResult> {
    return this.batchEncoded(neighs, (n) => encodeBody(ndmsg, toNeighMessage(n)), RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE);
  }

  deleteNeighbours(neighs: readonly Neighbour[]): Promise<BatchResult> {
    return this.batchEncoded(neighs, (n) => {
      const m = toNeighMessage(n);
      delete m.lladdr;
      m.state = 0;
      return encodeBody(ndmsg, m);
    }, RTM.DELNEIGH, 0);
  }

  async dumpNeighbours(filter: { family?: number; ifindex?: number } = {}): Promise<RtnlResult<DumpResult<NeighMessage>>> {
    const q = ndmsg.blank();
    q.family = filter.family ?? AF.UNSPEC;
    if (filter.ifindex !== undefined) q.filterIfindex = filter.ifindex;
    const r = await this.dump(RTM.GETNEIGH, encodeBody(ndmsg, q) as Uint8Array);
    if (!r.ok) return r;
    return ok(this.decodeAll(r.value, RTM.NEWNEIGH, decodeNeigh, (m) =>
      (filter.family === undefined || m.family === filter.family) &&
      (filter.ifindex === undefined || m.ifindex === filter.ifindex)));
  }

  async dumpLinks(): Promise<RtnlResult<DumpResult<LinkMessage>>> {
    const r = await this.dump(RTM.GETLINK, encodeBody(ifinfomsg, ifinfomsg.blank()) as Uint8Array);
    if (!r.ok) return r;
    return ok(this.decodeAll(r.value, RTM.NEWLINK, decodeLink, () => true));
  }

  async dumpAddrs(family: number = AF.UNSPEC): Promise<RtnlResult<DumpResult<AddrMessage>>> {
    const q = ifaddrmsg.blank();
    q.family = family;
    const r = await this.dump(RTM.GETADDR, encodeBody(ifaddrmsg, q) as Uint8Array);
    if (!r.ok) return r;
    return ok(this.decodeAll(r.value, RTM.NEWADDR, decodeAddr, () => true));
  }

  private async batchEncoded<T>(
    items: readonly T[],
    encode: (x: T) => Uint8Array | EncodeError,
    type: number,
    flags: number,
  ): Promise<BatchResult> {
    const reqs: RtnlRequest[] = [];
    const index: number[] = []; // request position → item position
    const bad = new Map<number, RtnlError>();
    items.forEach((x, i) => {
      const body = encode(x);
      if (isEncodeError(body)) bad.set(i, { kind: 'encode', error: body });
      else {
        reqs.push({ type, flags, body });
        index.push(i);
      }
    });
    const r = await this.batch(reqs);
    for (const [i, e] of r.failures) bad.set(index[i]!, e);
    return { done: r.done, failures: bad };
  }

  private decodeAll<T>(msgs: NlMessage[], type: number, decode: (m: NlMessage) => Decoded<T>, keep: (x: T) => boolean): DumpResult<T> {
    const items: T[] = [];
    const skipped: DecodeError[] = [];
    for (const m of msgs) {
      if (m.type !== type) continue;
      const d = decode(m);
      if (!d.ok) {
        this.stats.decodeErrors++;
        skipped.push(d.error);
      } else if (keep(d.value)) items.push(d.value);
    }
    return { items, skipped };
  }
}
