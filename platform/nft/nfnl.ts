/**
 * An nfnetlink client for nf_tables (CONVENTIONS 11): transactions (batches), dumps and
 * gets, every request matched by sequence number with a timeout. Nothing throws; every
 * promise resolves with a result value.
 *
 * Transactions: BEGIN, messages, END in one sendmsg, every message with NLM_F_ACK. The
 * kernel answers each message once the whole batch is processed, in order; the batch
 * committed only if every answer is 0 (one failure aborts all of it, see message.ts).
 * An error answering BEGIN or END is a batch-level failure.
 *
 * If our socket overruns (ENOBUFS) replies were lost: pending requests fail with
 * `overrun` (the caller reconciles with a dump); a dump that overruns is re-run.
 */
import { NLM_F, NLMSG } from '../netlink/constants';
import { decodeDone, decodeError, splitMessages, type ExtAck, type NlMessage } from '../netlink/message';
import { ENOBUFS, NetlinkSocket, errnoName, isOsError, type OsError } from '../netlink/socket';
import type { DecodeError } from '../netlink/wire';
import { NETLINK_NETFILTER } from './constants';
import { encodeBatch, encodeNfMessage, type NfMessage } from './message';

export type NfnlError =
  | { readonly kind: 'errno'; readonly errno: number; readonly code: string; readonly extAck: ExtAck }
  | { readonly kind: 'os'; readonly error: OsError }
  | { readonly kind: 'timeout'; readonly afterMs: number }
  | { readonly kind: 'overrun' }
  | { readonly kind: 'closed' }
  | { readonly kind: 'interrupted' }
  | { readonly kind: 'decode'; readonly error: DecodeError };

export type NfnlResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NfnlError };

const ok = <T>(value: T): NfnlResult<T> => ({ ok: true, value });
const err = <T>(error: NfnlError): NfnlResult<T> => ({ ok: false, error });

/** The kernel's answer to one message of a transaction. */
export interface Reply {
  /** Positive errno; 0 is an ACK. */
  readonly errno: number;
  readonly extAck: ExtAck;
}

export interface TransactionOutcome {
  /** True when every message was acknowledged with 0: the batch is in the ruleset. */
  readonly committed: boolean;
  /** One answer per message, in order. */
  readonly replies: readonly Reply[];
}

export interface NfnlOptions {
  /** Default 4 MiB (the kernel doubles it). */
  readonly rcvbufBytes?: number;
  /** Default 4 MiB; a batch must fit in one sendmsg. */
  readonly sndbufBytes?: number;
  /** Per transaction / dump / get; default 10 000. */
  readonly timeoutMs?: number;
}

export interface NfnlStats {
  transactions: number;
  dumps: number;
  gets: number;
  stray: number;
  decodeErrors: number;
  overruns: number;
}

/** A request in flight: receives every message carrying one of its sequence numbers. */
interface Pending {
  readonly seqs: readonly number[];
  onMessage(m: NlMessage): void;
  fail(e: NfnlError): void;
}

export const errnoError = (errno: number, extAck: ExtAck = {}): NfnlError => ({ kind: 'errno', errno, code: errnoName(errno), extAck });

const MAX_DUMP_RETRIES = 3;

export class Nfnl {
  readonly stats: NfnlStats = { transactions: 0, dumps: 0, gets: 0, stray: 0, decodeErrors: 0, overruns: 0 };
  private seq = 0;
  private readonly pending = new Map<number, Pending>();
  private sock!: NetlinkSocket;
  private closed = false;
  private readonly timeoutMs: number;

  private constructor(opts: NfnlOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  static open(opts: NfnlOptions = {}): NfnlResult<Nfnl> {
    const c = new Nfnl(opts);
    const sock = NetlinkSocket.open(
      {
        protocol: NETLINK_NETFILTER,
        rcvbufBytes: opts.rcvbufBytes ?? 4 * 1024 * 1024,
        sndbufBytes: opts.sndbufBytes ?? 4 * 1024 * 1024,
        extAck: true,
      },
      (errno, grams) => c.receive(errno, grams),
    );
    if (isOsError(sock)) return err({ kind: 'os', error: sock });
    c.sock = sock;
    sock.ref(false);
    return ok(c);
  }

  /** nl_pid of this socket: nf_tables notifications caused by our requests carry it. */
  get portId(): number {
    return this.sock.portId;
  }

  private nextSeqs(n: number): number[] {
    if (this.seq + n >= 0xffffffff) this.seq = 0;
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(++this.seq);
    return out;
  }

  /** One batch: BEGIN, msgs (each with NLM_F_REQUEST | NLM_F_ACK), END. */
  transaction(msgs: readonly NfMessage[]): Promise<NfnlResult<TransactionOutcome>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(err({ kind: 'closed' }));
      if (msgs.length === 0) return resolve(ok({ committed: true, replies: [] }));
      this.stats.transactions++;
      const seqs = this.nextSeqs(msgs.length + 2);
      const first = seqs[0]!;
      const last = seqs[seqs.length - 1]!;
      const replies: (Reply | undefined)[] = new Array(msgs.length);
      let answered = 0;
      const frame = encodeBatch(msgs.map((m) => ({ ...m, flags: m.flags | NLM_F.REQUEST | NLM_F.ACK })), first);
      const p = this.track(seqs, resolve, (m, finish) => {
        if (m.type !== NLMSG.ERROR) return void this.stats.stray++;
        const e = decodeError(m);
        if (!e.ok) return finish(err({ kind: 'decode', error: e.error }));
        if (m.seq === first || m.seq === last) {
          // BEGIN/END are never acked; an answer to them is the batch failing as a whole
          return finish(err(errnoError(e.value.errno === 0 ? 71 /* EPROTO */ : e.value.errno, e.value.extAck)));
        }
        const i = m.seq - first - 1;
        if (replies[i] === undefined) answered++;
        replies[i] = { errno: e.value.errno, extAck: e.value.extAck };
        if (answered === msgs.length) {
          const all = replies as Reply[];
          finish(ok({ committed: all.every((r) => r.errno === 0), replies: all }));
        }
      });
      this.send(frame, p);
    });
  }

  /** A dump (NLM_F_DUMP): the messages before NLMSG_DONE; re-run when interrupted or overrun. */
  async dump(msg: NfMessage): Promise<NfnlResult<NlMessage[]>> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.dumpOnce(msg);
      if (r.ok || attempt >= MAX_DUMP_RETRIES) return r;
      if (r.error.kind !== 'interrupted' && r.error.kind !== 'overrun') return r;
    }
  }

  private dumpOnce(msg: NfMessage): Promise<NfnlResult<NlMessage[]>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(err({ kind: 'closed' }));
      this.stats.dumps++;
      const [seq] = this.nextSeqs(1) as [number];
      const got: NlMessage[] = [];
      let interrupted = false;
      const p = this.track([seq], resolve, (m, finish) => {
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
        got.push(copyMessage(m));
      });
      this.send(encodeNfMessage({ ...msg, flags: msg.flags | NLM_F.REQUEST | NLM_F.DUMP }, seq), p);
    });
  }

  /** A get with NLM_F_ACK: the answers before the ACK. */
  get(msg: NfMessage): Promise<NfnlResult<NlMessage[]>> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(err({ kind: 'closed' }));
      this.stats.gets++;
      const [seq] = this.nextSeqs(1) as [number];
      const got: NlMessage[] = [];
      const p = this.track([seq], resolve, (m, finish) => {
        if (m.type !== NLMSG.ERROR) return void got.push(copyMessage(m));
        const e = decodeError(m);
        if (!e.ok) return finish(err({ kind: 'decode', error: e.error }));
        finish(e.value.errno === 0 ? ok(got) : err(errnoError(e.value.errno, e.value.extAck)));
      });
      this.send(encodeNfMessage({ ...msg, flags: msg.flags | NLM_F.REQUEST | NLM_F.ACK }, seq), p);
    });
  }

  /** Registers a request under its sequence numbers with a timeout. */
  private track<T>(
    seqs: readonly number[],
    resolve: (r: NfnlResult<T>) => void,
    onMessage: (m: NlMessage, finish: (r: NfnlResult<T>) => void) => void,
  ): Pending {
    let done = false;
    const finish = (r: NfnlResult<T>): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      for (const s of seqs) if (this.pending.get(s) === p) this.pending.delete(s);
      this.updateRef();
      resolve(r);
    };
    const p: Pending = {
      seqs,
      onMessage: (m) => onMessage(m, finish),
      fail: (e) => finish(err(e)),
    };
    const timer = setTimeout(() => finish(err({ kind: 'timeout', afterMs: this.timeoutMs })), this.timeoutMs);
    for (const s of seqs) this.pending.set(s, p);
    this.updateRef();
    return p;
  }

  private send(frame: Uint8Array, p: Pending): void {
    const sent = this.sock.send(frame);
    if (isOsError(sent)) p.fail({ kind: 'os', error: sent });
  }

  private receive(errno: number, grams: Uint8Array[]): void {
    if (errno === ENOBUFS) {
      this.stats.overruns++;
      for (const p of new Set(this.pending.values())) p.fail({ kind: 'overrun' });
      return;
    }
    if (errno !== 0) {
      this.stats.decodeErrors++;
      return;
    }
    for (const g of grams) {
      const { messages, error } = splitMessages(g);
      if (error !== null) this.stats.decodeErrors++;
      for (const m of messages) {
        const p = this.pending.get(m.seq);
        if (p === undefined) this.stats.stray++; // late answer after a timeout, or a notification
        else p.onMessage(m);
      }
    }
  }

  private updateRef(): void {
    if (!this.closed) this.sock.ref(this.pending.size > 0);
  }

  /** Fails everything pending with `closed` and closes the socket. */
  close(): void {
    if (this.closed) return;
    for (const p of new Set(this.pending.values())) p.fail({ kind: 'closed' });
    this.closed = true;
    this.sock.close();
  }
}

/** Datagram buffers may be reused by the addon: keep our own copy of a kept message. */
function copyMessage(m: NlMessage): NlMessage {
  return { ...m, payload: m.payload.slice() };
}

export { isOsError };
