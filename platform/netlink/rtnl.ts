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
 * Sequence numbers, waiters, timeouts, dumps and ENOBUFS recovery are the shared
 * engine's (engine.ts): if the request socket overruns, every pending request fails with
 * `overrun` and the caller reconciles by dumping; a dump is re-run. Nothing throws;
 * every promise resolves with a result value.
 */
import { AF, NETLINK_ROUTE, NLM_F, NLMSG, RTM } from './constants';
import { decodeAddr, ifaddrmsg, type AddrMessage } from './addr';
import { decodeLink, ifinfomsg, type LinkMessage } from './link';
import { NetlinkEngine, errnoError, type EngineStats, type NetlinkError } from './engine';
import { decodeError, messageLength, numberBatch, writeFrameHeader, writeMessage, type NlMessage } from './message';
import { decodeNeigh, ndmsg, toNeighMessage, type NeighMessage, type Neighbour } from './neigh';
import {
  checkRoute, decodeRoute, ROUTE_REQUEST_FLAGS, routeTable, rtmsg, toRouteDeleteMessage, toRouteMessage,
  type Route, type RouteMessage,
} from './route';
import { DUMP_READ_BUDGET, isOsError } from './socket';
import {
  NLMSG_HDRLEN, NO_ROOM, align4, encodeBody, encodeBodyInto, maxBodyLength, view,
  type Attributed, type DecodeError, type Decoded, type EncodeError, type MessageSpec,
} from './wire';

/** Dump messages decoded per turn of the event loop. */
const DECODE_SLICE = 1024;
const isMessage = <M extends Attributed>(m: M | EncodeError): m is M => 'unknownAttrs' in m;

export type RtnlError = NetlinkError | { readonly kind: 'encode'; readonly error: EncodeError };

export type RtnlResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: RtnlError };

const ok = <T>(value: T): RtnlResult<T> => ({ ok: true, value });
const err = <T>(error: RtnlError): RtnlResult<T> => ({ ok: false, error });

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

export interface RtnlStats extends EngineStats {
  requests: number;
  chunks: number;
}

export class Rtnl {
  readonly stats: RtnlStats = { requests: 0, chunks: 0, dumps: 0, stray: 0, decodeErrors: 0, overruns: 0 };
  private engine!: NetlinkEngine;
  private readonly batchMessages: number;
  private readonly batchBytes: number;
  private readonly maxInFlight: number;

  private constructor(opts: RtnlOptions) {
    this.batchMessages = Math.max(1, opts.batchMessages ?? 1024);
    this.batchBytes = Math.max(4096, opts.batchBytes ?? 256 * 1024);
    this.maxInFlight = Math.max(1, opts.maxInFlight ?? 4);
  }

  static open(opts: RtnlOptions = {}): RtnlResult<Rtnl> {
    const c = new Rtnl(opts);
    const engine = NetlinkEngine.open(
      {
        protocol: NETLINK_ROUTE,
        rcvbufBytes: opts.rcvbufBytes ?? 8 * 1024 * 1024,
        sndbufBytes: opts.sndbufBytes ?? 4 * 1024 * 1024,
        extAck: true,
        strictCheck: true,
        recvBudget: DUMP_READ_BUDGET,
      },
      c.stats,
      { timeoutMs: opts.timeoutMs },
    );
    if (isOsError(engine)) return err({ kind: 'os', error: engine });
    c.engine = engine;
    return ok(c);
  }

  get portId(): number {
    return this.engine.portId;
  }

  /** What the kernel dropped on the request socket (SO_MEMINFO). */
  kernelDrops(): number | null {
    return this.engine.kernelDrops();
  }

  // -------------------------------------------------------------------------------
  // Generic requests

  /** One request, answered by an ACK or an error. */
  request(req: RtnlRequest): Promise<RtnlResult<void>> {
    return new Promise((resolve) => {
      let failure: RtnlError | null = null;
      this.stats.requests++;
      const frame = new Uint8Array(messageLength(req.body.length));
      writeMessage(frame, 0, { type: req.type, flags: req.flags, seq: 0, pid: 0 }, req.body);
      this.sendFrames(frame, 1, {
        onError: (_i, e) => { failure = e; },
        finish: (r) => resolve(r.ok && failure !== null ? err(failure) : r),
      });
    });
  }

  /** Many requests, chunked into few sendmsg calls (see the header comment). */
  batch(reqs: readonly RtnlRequest[]): Promise<BatchResult> {
    return this.batchFrames(
      reqs.length,
      (i) => reqs[i]!.type,
      (i) => reqs[i]!.flags,
      (i, out, off) => {
        const body = reqs[i]!.body;
        if (out.length - off < body.length) return NO_ROOM;
        out.set(body, off);
        return off + body.length;
      },
      (i) => reqs[i]!.body.length,
    );
  }

  /**
   * The batching engine: bodies are encoded straight into the chunk buffer (no
   * per-request allocation), chunks are cut at batchMessages / batchBytes, and at most
   * maxInFlight chunks are outstanding.
   */
  private async batchFrames(
    count: number,
    typeOf: (i: number) => number,
    flagsOf: (i: number) => number,
    write: (i: number, out: Uint8Array, off: number, dv: DataView) => number | EncodeError,
    maxLength: (i: number) => number,
  ): Promise<BatchResult> {
    const failures = new Map<number, RtnlError>();
    let done = 0;
    const inFlight = new Set<Promise<void>>();
    let i = 0;
    while (i < count) {
      // a guess for small batches; a request that does not fit starts the next chunk
      let buf = new Uint8Array(Math.min(this.batchBytes, (count - i) * 256));
      let dv = view(buf);
      let pos = 0;
      let grown = false;
      const index: number[] = [];
      while (i < count && index.length < this.batchMessages) {
        const end = buf.length - pos < NLMSG_HDRLEN ? NO_ROOM : write(i, buf, pos + NLMSG_HDRLEN, dv);
        if (end === NO_ROOM) {
          if (index.length > 0) break;
          if (grown) {
            failures.set(i++, { kind: 'encode', error: { where: 'batch', field: '', reason: 'does not fit its own buffer' } });
            continue;
          }
          buf = new Uint8Array(messageLength(maxLength(i))); // one request larger than the guess
          dv = view(buf);
          grown = true;
          continue;
        }
        if (typeof end !== 'number') {
          failures.set(i++, { kind: 'encode', error: end });
          continue;
        }
        writeFrameHeader(dv, pos, end - pos, typeOf(i), flagsOf(i));
        pos = align4(end);
        index.push(i++);
      }
      if (index.length === 0) break;
      this.stats.requests += index.length;
      const p = new Promise<void>((resolve) => {
        let errors = 0;
        this.sendFrames(buf.subarray(0, pos), index.length, {
          onError: (k, e) => {
            if (!failures.has(index[k]!)) errors++;
            failures.set(index[k]!, e);
          },
          finish: (r) => {
            if (r.ok) done += index.length - errors;
            else for (const j of index) if (!failures.has(j)) failures.set(j, r.error);
            resolve();
          },
        });
      });
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
      if (inFlight.size >= this.maxInFlight) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    return { done, failures };
  }

  /**
   * Sends `count` framed messages in one sendmsg: numbers them from the next sequence
   * number, sets NLM_F_REQUEST on all and NLM_F_ACK on the last only.
   * onError gets the message's position in the frames.
   */
  private sendFrames(
    frames: Uint8Array,
    count: number,
    h: { onError(index: number, e: RtnlError): void; finish(r: RtnlResult<void>): void },
  ): void {
    const engine = this.engine;
    if (engine.closed) return h.finish(err({ kind: 'closed' }));
    const first = engine.reserve(count);
    const last = first + count - 1;
    numberBatch(frames, count, first);
    this.stats.chunks++;
    // Only failures and the final ACK come back (see the header comment).
    const p = engine.expect<void>(first, last, (m, finish) => {
      if (m.type !== NLMSG.ERROR) return void this.stats.stray++;
      const e = decodeError(m);
      if (!e.ok) return void this.stats.decodeErrors++;
      if (e.value.errno !== 0) h.onError(m.seq - first, errnoError(e.value.errno, e.value.extAck));
      if (m.seq === last) finish({ ok: true, value: undefined });
    }, h.finish);
    engine.send(frames, p);
  }

  /** A dump request; dumps on one socket run one at a time (the kernel allows one). */
  dump(type: number, body: Uint8Array): Promise<RtnlResult<NlMessage[]>> {
    return this.engine.dump((seq) => {
      const buf = new Uint8Array(messageLength(body.length));
      writeMessage(buf, 0, { type, flags: NLM_F.REQUEST | NLM_F.DUMP, seq, pid: 0 }, body);
      return buf;
    });
  }

  private dumpEach(type: number, body: Uint8Array, each: (m: NlMessage) => void, restart: () => void): Promise<RtnlResult<number>> {
    return this.engine.dumpEach((seq) => {
      const buf = new Uint8Array(messageLength(body.length));
      writeMessage(buf, 0, { type, flags: NLM_F.REQUEST | NLM_F.DUMP, seq, pid: 0 }, body);
      return buf;
    }, each, restart);
  }

  /** Fails everything pending with `closed` and closes the socket. */
  close(): void {
    this.engine.close();
  }

  // -------------------------------------------------------------------------------
  // Routes, neighbours, links, addresses

  /** RTM_NEWROUTE for each route (EXCL unless replace); failures by index. */
  addRoutes(routes: readonly Route[], opts: { replace?: boolean } = {}): Promise<BatchResult> {
    const flags = opts.replace === true ? ROUTE_REQUEST_FLAGS.replace : ROUTE_REQUEST_FLAGS.add;
    return this.batchEncoded(routes, rtmsg, (r) => checkRoute(r) ?? toRouteMessage(r), RTM.NEWROUTE, flags);
  }

  deleteRoutes(routes: readonly Route[]): Promise<BatchResult> {
    return this.batchEncoded(routes, rtmsg, (r) => checkRoute(r) ?? toRouteDeleteMessage(r), RTM.DELROUTE, ROUTE_REQUEST_FLAGS.del);
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
    return ok(await this.decodeAll(r.value, RTM.NEWROUTE, decodeRoute, (m) =>
      (filter.family === undefined || m.family === filter.family) &&
      (filter.protocol === undefined || m.protocol === filter.protocol) &&
      (filter.table === undefined || routeTable(m) === filter.table)));
  }

  /**
   * `dumpRoutes` handed over route by route as the dump arrives, held nowhere (a reconcile
   * of 200k routes). `restart`: the dump is re-run, what `each` saw is void. → routes seen.
   */
  async eachRoute(filter: { protocol: number; table: number }, each: (r: RouteMessage) => void, restart: () => void): Promise<RtnlResult<number>> {
    const q = rtmsg.blank();
    q.protocol = filter.protocol;
    q.table = filter.table < 256 ? filter.table : 0;
    q.tableId = filter.table;
    let n = 0;
    const r = await this.dumpEach(RTM.GETROUTE, encodeBody(rtmsg, q) as Uint8Array, (m) => {
      if (m.type !== RTM.NEWROUTE) return;
      const d = decodeRoute(m);
      if (!d.ok) return void this.stats.decodeErrors++;
      if (d.value.protocol !== filter.protocol || routeTable(d.value) !== filter.table) return;
      n++;
      each(d.value);
    }, () => { n = 0; restart(); });
    if (!r.ok) return r.error.kind === 'errno' && r.error.code === 'ENOENT' ? ok(0) : r; // no table yet: empty
    return ok(n);
  }

  /** `dumpNeighbours` of every family and device, handed over one by one (see `eachRoute`). */
  async eachNeighbour(each: (n: NeighMessage) => void, restart: () => void): Promise<RtnlResult<number>> {
    let n = 0;
    const r = await this.dumpEach(RTM.GETNEIGH, encodeBody(ndmsg, ndmsg.blank()) as Uint8Array, (m) => {
      if (m.type !== RTM.NEWNEIGH) return;
      const d = decodeNeigh(m);
      if (!d.ok) return void this.stats.decodeErrors++;
      n++;
      each(d.value);
    }, () => { n = 0; restart(); });
    return r.ok ? ok(n) : r;
  }

  /** RTM_NEWNEIGH with CREATE|REPLACE (the entry becomes what we say). */
  addNeighbours(neighs: readonly Neighbour[]): Promise<BatchResult> {
    return this.batchEncoded(neighs, ndmsg, toNeighMessage, RTM.NEWNEIGH, NLM_F.CREATE | NLM_F.REPLACE);
  }

  deleteNeighbours(neighs: readonly Neighbour[]): Promise<BatchResult> {
    return this.batchEncoded(neighs, ndmsg, (n) => {
      const m = toNeighMessage(n);
      delete m.lladdr;
      m.state = 0;
      return m;
    }, RTM.DELNEIGH, 0);
  }

  async dumpNeighbours(filter: { family?: number; ifindex?: number } = {}): Promise<RtnlResult<DumpResult<NeighMessage>>> {
    const q = ndmsg.blank();
    q.family = filter.family ?? AF.UNSPEC;
    if (filter.ifindex !== undefined) q.filterIfindex = filter.ifindex;
    const r = await this.dump(RTM.GETNEIGH, encodeBody(ndmsg, q) as Uint8Array);
    if (!r.ok) return r;
    return ok(await this.decodeAll(r.value, RTM.NEWNEIGH, decodeNeigh, (m) =>
      (filter.family === undefined || m.family === filter.family) &&
      (filter.ifindex === undefined || m.ifindex === filter.ifindex)));
  }

  async dumpLinks(): Promise<RtnlResult<DumpResult<LinkMessage>>> {
    const r = await this.dump(RTM.GETLINK, encodeBody(ifinfomsg, ifinfomsg.blank()) as Uint8Array);
    if (!r.ok) return r;
    return ok(await this.decodeAll(r.value, RTM.NEWLINK, decodeLink, () => true));
  }

  async dumpAddrs(family: number = AF.UNSPEC): Promise<RtnlResult<DumpResult<AddrMessage>>> {
    const q = ifaddrmsg.blank();
    q.family = family;
    const r = await this.dump(RTM.GETADDR, encodeBody(ifaddrmsg, q) as Uint8Array);
    if (!r.ok) return r;
    return ok(await this.decodeAll(r.value, RTM.NEWADDR, decodeAddr, () => true));
  }

  /** Encode items with spec straight into the chunk buffers. */
  private batchEncoded<T, M extends Attributed>(
    items: readonly T[],
    spec: MessageSpec<M>,
    toMessage: (x: T) => M | EncodeError,
    type: number,
    flags: number,
  ): Promise<BatchResult> {
    let cachedI = -1;
    let cached: M | EncodeError = { where: '', field: '', reason: '' };
    const message = (i: number): M | EncodeError => {
      if (i !== cachedI) {
        cachedI = i;
        cached = toMessage(items[i]!);
      }
      return cached;
    };
    return this.batchFrames(
      items.length,
      () => type,
      () => flags,
      (i, out, off, dv) => {
        const m = message(i);
        return isMessage(m) ? encodeBodyInto(spec, m, out, off, dv) : m;
      },
      (i) => {
        const m = message(i);
        return isMessage(m) ? maxBodyLength(spec, m) : 0;
      },
    );
  }

  /**
   * Decode a dump's messages, turning the event loop every DECODE_SLICE of them: a dump
   * of 200k routes must not hold the control socket or the packet path.
   */
  private async decodeAll<T>(msgs: NlMessage[], type: number, decode: (m: NlMessage) => Decoded<T>, keep: (x: T) => boolean): Promise<DumpResult<T>> {
    const items: T[] = [];
    const skipped: DecodeError[] = [];
    for (let i = 0; i < msgs.length; i++) {
      if (i > 0 && i % DECODE_SLICE === 0) await new Promise<void>((r) => setImmediate(r));
      const m = msgs[i]!;
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
