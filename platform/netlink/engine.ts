/**
 * The netlink request engine shared by rtnetlink (rtnl.ts) and nfnetlink (nft/nfnl.ts),
 * CONVENTIONS 11: sequence numbers, a waiter per request (one sequence number or a
 * range of them), a timeout per waiter, dumps collected up to NLMSG_DONE and run one at
 * a time per socket, and recovery from ENOBUFS. The families build and read their own
 * messages; they hand the engine framed bytes and a handler for the answers.
 *
 * If the socket overruns (ENOBUFS) replies were lost and nobody can tell whose: every
 * pending request fails with `overrun` (the caller reconciles with a dump), and a dump
 * that overruns or is interrupted (NLM_F_DUMP_INTR) is re-run. Nothing throws; every
 * promise resolves with a result value.
 */
import { NLM_F, NLMSG } from './constants';
import { decodeDone, decodeError, splitMessages, type ExtAck, type NlMessage } from './message';
import {
  ENOBUFS, NetlinkSocket, errnoName, isOsError, type NetlinkSocketOptions, type OsError,
} from './socket';
import type { DecodeError } from './wire';

export type NetlinkError =
  | { readonly kind: 'errno'; readonly errno: number; readonly code: string; readonly extAck: ExtAck }
  | { readonly kind: 'os'; readonly error: OsError }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'overrun' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'decode'; readonly error: DecodeError };

export type NetlinkResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NetlinkError };

export const ok = <T>(value: T): NetlinkResult<T> => ({ ok: true, value });
export const err = <T>(error: NetlinkError): NetlinkResult<T> => ({ ok: false, error });
export const errnoError = (errno: number, extAck: ExtAck = {}): NetlinkError => ({ kind: 'errno', errno, code: errnoName(errno), extAck });

/** The engine's counters; a family's stats object extends these and is shared with it. */
export interface EngineStats {
  dumps: number;
  /** Answers nobody waits for: late after a timeout or overrun, or notifications. */
  stray: number;
  decodeErrors: number;
  overruns: number;
}

/** What a waiter does with one answer; `finish` settles the request (once). */
export type AnswerHandler<T> = (m: NlMessage, finish: (r: NetlinkResult<T>) => void) => void;

/** A request in flight, covering sequence numbers first..last. */
export interface Pending {
  readonly first: number;
  readonly last: number;
  onMessage(m: NlMessage): void;
  fail(e: NetlinkError): void;
}

export interface EngineOptions {
  /** Per request / dump; default 10 000. */
  readonly timeoutMs?: number;
  /** Re-runs of a dump that was interrupted or overran; default 3. */
  readonly dumpRetries?: number;
  /**
   * Messages the kernel sends unasked (sequence number 0, e.g. nfnetlink_log packets to
   * a socket bound to an NFLOG group); without it they are counted as `stray`.
   */
  readonly onUnsolicited?: (m: NlMessage) => void;
}

/** What the engine needs of a socket (NetlinkSocket; a fake in the unit tests). */
export interface Transport {
  readonly portId: number;
  send(data: Uint8Array): number | OsError;
  /** Whether the socket keeps the process alive. */
  ref(on: boolean): void;
  close(): void;
  /** The kernel's drop counter of the socket, where there is one. */
  kernelDrops?(): number | null;
}

/** The highest sequence number before wrapping (0 is never used). */
const SEQ_MAX = 0xffffffff;

export class NetlinkEngine {
  private seq = 0;
  private readonly byLast = new Map<number, Pending>();
  private readonly ranges = new Set<Pending>(); // waiters covering more than one seq
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private sock!: Transport;
  private isClosed = false;
  readonly timeoutMs: number;
  private readonly dumpRetries: number;
  private readonly onUnsolicited: ((m: NlMessage) => void) | undefined;

  private constructor(private readonly stats: EngineStats, opts: EngineOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.dumpRetries = opts.dumpRetries ?? 3;
    this.onUnsolicited = opts.onUnsolicited;
  }

  static open(socket: NetlinkSocketOptions, stats: EngineStats, opts: EngineOptions = {}): NetlinkEngine | OsError {
    const e = new NetlinkEngine(stats, opts);
    const sock = NetlinkSocket.open(socket, (errno, grams) => e.receive(errno, grams));
    if (isOsError(sock)) return sock;
    e.attach(sock);
    return e;
  }

  /** An engine over another transport; feed what it receives to `receive`. */
  static over(transport: Transport, stats: EngineStats, opts: EngineOptions = {}): NetlinkEngine {
    const e = new NetlinkEngine(stats, opts);
    e.attach(transport);
    return e;
  }

  private attach(t: Transport): void {
    this.sock = t;
    t.ref(false);
  }

  get portId(): number {
    return this.sock.portId;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** What the kernel dropped on this engine's socket (SO_MEMINFO), null when unknown. */
  kernelDrops(): number | null {
    return this.sock.kernelDrops?.() ?? null;
  }

  /** Reserves `count` consecutive sequence numbers; returns the first. */
  reserve(count: number): number {
    if (this.seq + count >= SEQ_MAX) this.seq = 0;
    const first = this.seq + 1;
    this.seq += count;
    return first;
  }

  /**
   * Registers a waiter for answers carrying first..last, with the timeout; `resolve`
   * gets its one result (the handler's, or timeout / overrun / closed / a send error).
   */
  expect<T>(first: number, last: number, onMessage: AnswerHandler<T>, resolve: (r: NetlinkResult<T>) => void): Pending {
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (r: NetlinkResult<T>): void => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (this.byLast.get(last) === p) this.byLast.delete(last);
      this.ranges.delete(p);
      this.updateRef();
      resolve(r);
    };
    const p: Pending = { first, last, onMessage: (m) => onMessage(m, finish), fail: (e) => finish(err(e)) };
    this.byLast.set(last, p);
    if (first !== last) this.ranges.add(p);
    timer = setTimeout(() => finish(err({ kind: 'timeout', afterMs: this.timeoutMs })), this.timeoutMs);
    this.updateRef();
    return p;
  }

  /** One sendmsg of framed messages for a registered waiter; a send error fails it. */
  send(frame: Uint8Array, p: Pending): void {
    const sent = this.sock.send(frame);
    if (isOsError(sent)) p.fail({ kind: 'os', error: sent });
  }

  /**
   * A dump: `frame(seq)` builds the request (NLM_F_DUMP set by the family); the answer
   * is every message before NLMSG_DONE. Dumps on one socket run one at a time (the
   * kernel allows one), and are re-run when interrupted or overrun.
   */
  async dump(frame: (seq: number) => Uint8Array): Promise<NetlinkResult<NlMessage[]>> {
    let got: NlMessage[] = [];
    const r = await this.dumpEach(frame, (m) => void got.push(m), () => void (got = []));
    return r.ok ? ok(got) : r;
  }

  /**
   * A dump handed over message by message as the datagrams arrive, held nowhere (a dump
   * of 200k routes collected whole is 200k message objects and every datagram behind
   * them); `restart` says a re-run begins, so what `each` saw so far is void. Resolves
   * with the number of messages of the run that completed.
   */
  dumpEach(frame: (seq: number) => Uint8Array, each: (m: NlMessage) => void, restart: () => void): Promise<NetlinkResult<number>> {
    const run = async (): Promise<NetlinkResult<number>> => {
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) restart();
        const r = await this.dumpOnce(frame, each);
        if (r.ok || attempt >= this.dumpRetries) return r;
        if (r.error.kind !== 'interrupted' && r.error.kind !== 'overrun') return r;
      }
    };
    const p = this.dumpQueue.then(run);
    this.dumpQueue = p;
    return p;
  }

  private dumpOnce(frame: (seq: number) => Uint8Array, each: (m: NlMessage) => void): Promise<NetlinkResult<number>> {
    return new Promise((resolve) => {
      if (this.isClosed) return resolve(err({ kind: 'closed' }));
      this.stats.dumps++;
      const seq = this.reserve(1);
      let got = 0;
      let interrupted = false;
      const p = this.expect<number>(seq, seq, (m, finish) => {
        if ((m.flags & NLM_F.DUMP_INTR) !== 0) interrupted = true;
        if (m.type === NLMSG.DONE) {
          const d = decodeDone(m);
          if (!d.ok) return finish(err({ kind: 'decode', error: d.error }));
          if (d.value.errno !== 0) return finish(err(errnoError(d.value.errno, d.value.extAck)));
          return finish(interrupted || d.value.interrupted ? err({ kind: 'interrupted' }) : ok(got));
        }
        if (m.type === NLMSG.ERROR) {
          const e = decodeError(m);
          if (!e.ok) return finish(err({ kind: 'decode', error: e.error }));
          return finish(e.value.errno === 0 ? ok(got) : err(errnoError(e.value.errno, e.value.extAck)));
        }
        got++;
        each(m);
      }, resolve);
      this.send(frame(seq), p);
    });
  }

  /** Datagrams from the socket, or its errno (ENOBUFS after an overrun). */
  receive(errno: number, grams: Uint8Array[]): void {
    if (errno === ENOBUFS) {
      this.stats.overruns++;
      for (const p of [...this.byLast.values()]) p.fail({ kind: 'overrun' });
      return;
    }
    if (errno !== 0) {
      this.stats.decodeErrors++; // EMSGSIZE: a truncated datagram
      return;
    }
    for (const g of grams) {
      const { messages, error } = splitMessages(g);
      if (error !== null) this.stats.decodeErrors++;
      for (const m of messages) {
        const p = this.byLast.get(m.seq) ?? this.findRange(m.seq);
        if (p !== undefined) p.onMessage(m);
        else if (m.seq === 0 && this.onUnsolicited) this.onUnsolicited(m);
        else this.stats.stray++;
      }
    }
  }

  private findRange(seq: number): Pending | undefined {
    for (const p of this.ranges) if (seq >= p.first && seq <= p.last) return p;
    return undefined;
  }

  private updateRef(): void {
    if (!this.isClosed) this.sock.ref(this.byLast.size > 0);
  }

  /** Fails everything pending with `closed` and closes the socket. */
  close(): void {
    if (this.isClosed) return;
    for (const p of [...this.byLast.values()]) p.fail({ kind: 'closed' });
    this.isClosed = true;
    this.sock.close();
  }
}
