/**
 * An nfnetlink client for nf_tables (CONVENTIONS 11): transactions (batches), dumps and
 * gets over the shared netlink request engine (../netlink/engine.ts), which matches
 * answers by sequence number, times requests out, and recovers from ENOBUFS (pending
 * requests fail with `overrun`, the caller reconciles with a dump; a dump is re-run).
 * Nothing throws; every promise resolves with a result value.
 *
 * Transactions: BEGIN, messages, END in one sendmsg, every message with NLM_F_ACK. The
 * kernel answers each message once the whole batch is processed, in order; the batch
 * committed only if every answer is 0 (one failure aborts all of it, see message.ts).
 * An error answering BEGIN or END is a batch-level failure.
 */
import { NLM_F, NLMSG } from '../netlink/constants';
import {
  NetlinkEngine, err, errnoError, ok, type AnswerHandler, type EngineStats, type NetlinkError, type NetlinkResult,
} from '../netlink/engine';
import { decodeError, type ExtAck, type NlMessage } from '../netlink/message';
import { DUMP_READ_BUDGET, isOsError } from '../netlink/socket';
import { NETLINK_NETFILTER } from './constants';
import { encodeBatch, encodeNfMessage, type NfMessage } from './message';

export type NfnlError = NetlinkError;

export type NfnlResult<T> = NetlinkResult<T>;

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
  /** Messages the kernel sends unasked (NFLOG packets, see ../nflog.ts). */
  readonly onUnsolicited?: (m: NlMessage) => void;
}

export interface NfnlStats extends EngineStats {
  transactions: number;
  gets: number;
}

export { errnoError };

export class Nfnl {
  readonly stats: NfnlStats = { transactions: 0, dumps: 0, gets: 0, stray: 0, decodeErrors: 0, overruns: 0 };
  private engine!: NetlinkEngine;

  private constructor() {}

  /** nl_pid of this socket: nf_tables notifications caused by our requests carry it. */
  get portId(): number {
    return this.engine.portId;
  }

  /** What the kernel dropped on the request socket (SO_MEMINFO). */
  kernelDrops(): number | null {
    return this.engine.kernelDrops();
  }

  static open(opts: NfnlOptions = {}): NfnlResult<Nfnl> {
    const c = new Nfnl();
    const engine = NetlinkEngine.open(
      {
        protocol: NETLINK_NETFILTER,
        rcvbufBytes: opts.rcvbufBytes ?? 4 * 1024 * 1024,
        sndbufBytes: opts.sndbufBytes ?? 4 * 1024 * 1024,
        extAck: true,
        recvBudget: DUMP_READ_BUDGET,
      },
      c.stats,
      { timeoutMs: opts.timeoutMs, onUnsolicited: opts.onUnsolicited },
    );
    if (isOsError(engine)) return err({ kind: 'os', error: engine });
    c.engine = engine;
    return ok(c);
  }

  /** One batch: BEGIN, msgs (each with NLM_F_REQUEST | NLM_F_ACK), END. */
  transaction(msgs: readonly NfMessage[]): Promise<NfnlResult<TransactionOutcome>> {
    return new Promise((resolve) => {
      if (this.engine.closed) return resolve(err({ kind: 'closed' }));
      if (msgs.length === 0) return resolve(ok({ committed: true, replies: [] }));
      this.stats.transactions++;
      const first = this.engine.reserve(msgs.length + 2);
      const last = first + msgs.length + 1;
      const replies: (Reply | undefined)[] = new Array(msgs.length);
      let answered = 0;
      const frame = encodeBatch(msgs.map((m) => ({ ...m, flags: m.flags | NLM_F.REQUEST | NLM_F.ACK })), first);
      const p = this.engine.expect<TransactionOutcome>(first, last, (m, finish) => {
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
      }, resolve);
      this.engine.send(frame, p);
    });
  }

  /** A dump (NLM_F_DUMP): the messages before NLMSG_DONE; re-run when interrupted or overrun. */
  async dump(msg: NfMessage): Promise<NfnlResult<NlMessage[]>> {
    const r = await this.engine.dump((seq) => encodeNfMessage({ ...msg, flags: msg.flags | NLM_F.REQUEST | NLM_F.DUMP }, seq));
    return r.ok ? ok(r.value.map(copyMessage)) : r;
  }

  /**
   * A dump handed to `each` message by message as the datagrams arrive (see the engine's
   * `dumpEach`): a message is a view into its datagram, valid only during the call, and
   * nothing is kept — a dump of 250k set elements collected whole was ~100 MiB of
   * messages, datagrams and decoded objects, which V8 keeps as heap afterwards.
   * `restart`: the dump is re-run (interrupted or overrun), what `each` saw is void.
   */
  dumpEach(msg: NfMessage, each: (m: NlMessage) => void, restart: () => void): Promise<NfnlResult<number>> {
    return this.engine.dumpEach((seq) => encodeNfMessage({ ...msg, flags: msg.flags | NLM_F.REQUEST | NLM_F.DUMP }, seq), each, restart);
  }

  /** A get with NLM_F_ACK: the answers before the ACK. */
  get(msg: NfMessage): Promise<NfnlResult<NlMessage[]>> {
    return new Promise((resolve) => {
      if (this.engine.closed) return resolve(err({ kind: 'closed' }));
      this.stats.gets++;
      const seq = this.engine.reserve(1);
      const got: NlMessage[] = [];
      const answer: AnswerHandler<NlMessage[]> = (m, finish) => {
        if (m.type !== NLMSG.ERROR) return void got.push(copyMessage(m));
        const e = decodeError(m);
        if (!e.ok) return finish(err({ kind: 'decode', error: e.error }));
        finish(e.value.errno === 0 ? ok(got) : err(errnoError(e.value.errno, e.value.extAck)));
      };
      const p = this.engine.expect(seq, seq, answer, resolve);
      this.engine.send(encodeNfMessage({ ...msg, flags: msg.flags | NLM_F.REQUEST | NLM_F.ACK }, seq), p);
    });
  }

  /** Fails everything pending with `closed` and closes the socket. */
  close(): void {
    this.engine.close();
  }
}

/** A kept message owns its bytes, not a view of the whole received datagram. */
function copyMessage(m: NlMessage): NlMessage {
  return { ...m, payload: new Uint8Array(m.payload) };
}

export { isOsError };
