import { addMs, earliest, type Instant } from '../time';
import {
  PAGING_ACK_STATUS, PAGING_DEREGISTER, pagingMessage, type PagingBody, type PagingMessage, type PagingPrefix,
} from '../wire/paging';
import { signMessage, verifyMessage, type HmacSha256 } from './auth';
import { AgentReplay } from './host-replay';

/**
 * The host side of the paging protocol (src/paging/PROTOCOL.md §5.1): the reference
 * host behind `gleand host register|deregister|listen` (platform/cli/host.ts), sans-IO
 * like the agent (CONVENTIONS 7): datagrams and the caller's wishes in through
 * `handle`, timers through `poll` / `nextDeadline`, datagrams to send and reports out.
 *
 * - It learns the agent's epoch and address from authenticated AREA_ADVERTs (§3.1: a
 *   host message carries the agent's current epoch or is dropped unanswered).
 * - REGISTER before going dormant, retried with a new counter after 1, 2 and 4 s
 *   (RFC 3154 §4.16), given up 8 s after the last; refreshed at ¾ of the granted
 *   lifetime (§4.4, §4.14); sent again on a newer epoch or an area change (§4.10).
 * - An authenticated PAGE for it, newer than the last: PAGE_RESPONSE and awake (§4.9).
 * - Every agent message is verified (area key for adverts, the host's key for acks and
 *   pages: PROTOCOL.md §4.1) and checked against a replay window (§4.2); what fails is
 *   counted and ignored, never answered.
 */
export interface HostSettings {
  readonly id: string;
  /** The host's key (PROTOCOL.md §4.1): `paging_host.key`, or derived from `key_master`. */
  readonly key: Uint8Array;
  /** Area keys by area id, to authenticate AREA_ADVERTs (RFC 3154 §4.21). */
  readonly areaKeys: ReadonlyMap<string, Uint8Array>;
  /** A key tried for an area not in `areaKeys` (a deployment with one area key); null: none. */
  readonly anyAreaKey: Uint8Array | null;
  /** The area to register in; null: the area of the adverts it hears (and follows, §4.10). */
  readonly area: string | null;
  readonly lifetimeS: number;
  readonly mode: number;
  readonly wake: number;
  readonly addresses: readonly Uint8Array[];
  readonly correspondents: readonly PagingPrefix[];
  /**
   * The counter before the first message (PROTOCOL.md §4.2: it grows across the host's
   * life): the platform passes the wall clock in microseconds, so a restarted host
   * never reuses a counter without keeping one on disk.
   */
  readonly counterSeed: bigint;
  readonly hmac: HmacSha256;
}

/** Where a datagram came from, or goes: the agent's address and UDP port. */
export interface Peer {
  readonly address: Uint8Array;
  readonly port: number;
}

export type HostInput =
  | { readonly kind: 'datagram'; readonly payload: Uint8Array; readonly from: Peer }
  /** The host wants to sleep: REGISTER as soon as it knows the agent (§5.2 H-DMA). */
  | { readonly kind: 'sleep' }
  /** Active again of its own accord: DEREGISTER(1) (§4.4). */
  | { readonly kind: 'wake' }
  /** A planned transition to inactive, e.g. shutting down: DEREGISTER(2) (§4.4, §5.2 H-TA). */
  | { readonly kind: 'stop' };

/** Why a REGISTER was sent (reported with its answer). */
export type RegisterCause = 'sleep' | 'refresh' | 'epoch' | 'area' | 'missed-adverts';

export type HostReport =
  | { readonly event: 'registered' | 're-registered'; readonly cause: RegisterCause; readonly area: string; readonly lifetimeS: number; readonly epoch: number }
  | { readonly event: 'dormant' }
  /** The first authenticated advert, and every one with a newer epoch or another area. */
  | { readonly event: 'advert'; readonly area: string; readonly epoch: number; readonly intervalS: number }
  | { readonly event: 'paged'; readonly attempt: number; readonly counter: string }
  | { readonly event: 'awake'; readonly cause: 'page' | 'wake' | 'no-answer' }
  | { readonly event: 'refused'; readonly status: number; readonly area: string }
  | { readonly event: 'deregistered'; readonly reason: number }
  | { readonly event: 'no-answer'; readonly message: 'register' | 'deregister' }
  | { readonly event: 'rejected'; readonly reason: HostRejection; readonly count: number };

export type HostAction =
  | { readonly kind: 'send'; readonly to: Peer; readonly payload: Uint8Array }
  | { readonly kind: 'report'; readonly report: HostReport };

/** Why an incoming datagram was ignored (RFC 3154 §3.3 bogus paging areas / agents). */
export type HostRejection =
  | 'malformed' | 'unknown-type' | 'host-message' | 'no-area-key' | 'other-area' | 'other-host' | 'bad-mac' | 'replay'
  | 'unmatched-ack';

export type HostState = 'active' | 'registering' | 'dormant' | 'deregistering';

/** Waits before each retry and, last, before giving up (RFC 3154 §4.16: 1, 2, 4 s). */
export const RETRY_WAITS_MS = [1000, 2000, 4000, 8000] as const;
/** Adverts a host may miss while it wants to sleep before it registers again (PROTOCOL.md §5.1, §4.14). */
export const MISSED_ADVERTS = 3;
/** One `rejected` report per reason per this long: a flood of forgeries is counted, not echoed. */
export const REJECT_REPORT_MS = 10_000;

interface Pending {
  readonly kind: 'register' | 'deregister';
  readonly cause: RegisterCause;
  readonly reason: number;
  /** The counters of every try: an ACK may answer any of them. */
  readonly counters: bigint[];
  nextAt: Instant;
}

export class PagingHost {
  private state: 'active' | 'dormant' = 'active';
  private wantSleep = false;
  private stopping = false;
  private pending: Pending | null = null;
  private counter: bigint;
  /** The agent's epoch and address, from the last authenticated advert, ack or page (§3.1). */
  private epoch = 0;
  private agent: Peer | null = null;
  /** The area it registers in (the ACK may name `~custom` instead: reported, not followed). */
  private area: string | null;
  private advertIntervalMs: number | null = null;
  private lastAdvertAt: Instant | null = null;
  private refreshAt: Instant | null = null;
  private readonly advertReplay = new AgentReplay();
  private readonly hostReplay = new AgentReplay();
  private readonly rejectReportAt = new Map<HostRejection, Instant>();
  readonly counters = { received: 0, sent: 0, pages: 0, registrations: 0, rejected: {} as Partial<Record<HostRejection, number>> };
  /** True once a `stop` was answered or given up: the caller exits. */
  finished = false;

  constructor(private readonly s: HostSettings) {
    this.counter = s.counterSeed;
    this.area = s.area;
  }

  handle(input: HostInput, now: Instant): HostAction[] {
    switch (input.kind) {
      case 'datagram': return this.receive(input.payload, input.from, now);
      case 'sleep':
        this.wantSleep = true;
        return this.state === 'active' && !this.pending ? this.register('sleep', now) : [];
      case 'wake':
        // Sent whatever this process believes: an earlier run may have registered the host.
        this.wantSleep = false;
        return this.deregister(PAGING_DEREGISTER.ACTIVE, now);
      case 'stop':
        this.wantSleep = false;
        this.stopping = true;
        if (!this.agent) { this.finished = true; return []; }
        return this.deregister(PAGING_DEREGISTER.INACTIVE, now);
    }
  }

  poll(now: Instant): HostAction[] {
    const p = this.pending;
    if (p && now >= p.nextAt) return this.retry(p, now);
    if (!p && this.state === 'dormant' && this.refreshAt !== null && now >= this.refreshAt) return this.register('refresh', now);
    const missAt = this.missedAdvertsAt();
    if (!p && missAt !== null && now >= missAt) {
      // Counted from this attempt on, so an agent that stays silent costs one REGISTER per three intervals.
      this.lastAdvertAt = now;
      return this.register('missed-adverts', now);
    }
    return [];
  }

  nextDeadline(): Instant | null {
    if (this.pending) return this.pending.nextAt;
    return earliest(this.state === 'dormant' ? this.refreshAt : null, this.missedAdvertsAt());
  }

  status(): Record<string, unknown> {
    return {
      id: this.s.id, state: this.hostState(), epoch: this.epoch, area: this.area, counter: this.counter.toString(),
      ...this.counters, rejected: { ...this.counters.rejected },
    };
  }

  hostState(): HostState {
    if (this.pending) return this.pending.kind === 'register' ? 'registering' : 'deregistering';
    return this.state;
  }

  /** §5.1 "misses three AREA_ADVERTs while awake": awake, wanting to sleep, unregistered. */
  private missedAdvertsAt(): Instant | null {
    if (this.state !== 'active' || !this.wantSleep || this.advertIntervalMs === null || this.lastAdvertAt === null) return null;
    return addMs(this.lastAdvertAt, MISSED_ADVERTS * this.advertIntervalMs);
  }

  private receive(payload: Uint8Array, from: Peer, now: Instant): HostAction[] {
    this.counters.received++;
    const d = pagingMessage.decode(payload);
    if (!d.ok) return this.reject('malformed', now);
    const m = d.value;
    switch (m.body.type) {
      case 'unknown': return this.reject('unknown-type', now);
      case 'register': case 'deregister': case 'page-response': return this.reject('host-message', now);
      case 'advert': return this.onAdvert(payload, m, m.body.intervalS, from, now);
      default: break;
    }
    // A PAGE is wide cast to the whole area: another host's is normal traffic, counted.
    if (m.id !== this.s.id) return this.reject('other-host', now);
    if (!verifyMessage(payload, this.s.key, this.s.hmac)) return this.reject('bad-mac', now);
    if (!this.hostReplay.accept(m.epoch, m.counter)) return this.reject('replay', now);
    if (m.body.type === 'page') return this.onPage(m, m.body.attempt, from);
    if (m.body.type === 'register-ack') return this.onAck(m, m.body, from, now);
    return [];
  }

  /**
   * AREA_ADVERT (§4.10, §4.14, §4.21): the agent's address and epoch. A newer epoch (the
   * agent restarted and forgot every host) or another area (the host moved) while
   * dormant is a REGISTER at once; a host waiting to sleep registers now.
   */
  private onAdvert(payload: Uint8Array, m: PagingMessage, intervalS: number, from: Peer, now: Instant): HostAction[] {
    if (this.s.area !== null && m.id !== this.s.area) return this.reject('other-area', now);
    const key = this.s.areaKeys.get(m.id) ?? this.s.anyAreaKey;
    if (!key) return this.reject('no-area-key', now);
    if (!verifyMessage(payload, key, this.s.hmac)) return this.reject('bad-mac', now);
    // An unpinned host on a port of several areas hears them all: it follows another
    // area only when its own went silent for an interval (it moved), else it would
    // flip between them at every advert.
    const moved = this.area !== null && m.id !== this.area;
    if (moved && this.lastAdvertAt !== null && this.advertIntervalMs !== null && now < addMs(this.lastAdvertAt, this.advertIntervalMs * 1.5)) {
      return this.reject('other-area', now);
    }
    if (!this.advertReplay.accept(m.epoch, m.counter)) return this.reject('replay', now);
    const newer = m.epoch > this.epoch;
    const heard: HostAction[] = newer || moved || this.area === null ? [report({ event: 'advert', area: m.id, epoch: m.epoch, intervalS })] : [];
    this.learn(m.epoch, from, false);
    this.area = m.id;
    this.advertIntervalMs = Math.max(1, intervalS) * 1000;
    this.lastAdvertAt = now;
    if (this.pending?.kind === 'register' && newer) return [...heard, ...this.register(this.pending.cause, now)];
    if (this.pending) return heard;
    if (this.state === 'dormant' && (newer || moved)) return [...heard, ...this.register(newer ? 'epoch' : 'area', now)];
    if (this.state === 'active' && this.wantSleep) return [...heard, ...this.register('sleep', now)];
    return heard;
  }

  /**
   * PAGE for this host (§4.9, §4.22): a dormant host is awake now, and answers. The
   * reports come before the PAGE_RESPONSE: the caller lifts its sleep (a drop rule, a
   * powered-down link) on `awake` before the answer releases the held packets (§4.15).
   */
  private onPage(m: PagingMessage, attempt: number, from: Peer): HostAction[] {
    this.learn(m.epoch, from);
    this.counters.pages++;
    const out: HostAction[] = [report({ event: 'paged', attempt, counter: m.counter.toString() })];
    // An attempt after the first while awake: the agent missed the answer; answering is all.
    if (this.state === 'dormant' || this.pending?.kind === 'register') {
      this.state = 'active';
      this.wantSleep = false;
      this.pending = null;
      this.refreshAt = null;
      out.push(report({ event: 'awake', cause: 'page' }));
    }
    out.push(this.send({ type: 'page-response', paged: m.counter }));
    return out;
  }

  /** REGISTER_ACK (§4.20: it proves the agent): answers the pending REGISTER or DEREGISTER. */
  private onAck(m: PagingMessage, ack: Extract<PagingBody, { type: 'register-ack' }>, from: Peer, now: Instant): HostAction[] {
    const p = this.pending;
    if (!p || !p.counters.includes(ack.acked)) return this.reject('unmatched-ack', now);
    this.learn(m.epoch, from);
    this.pending = null;
    if (p.kind === 'deregister') {
      this.state = 'active';
      this.refreshAt = null;
      if (p.reason === PAGING_DEREGISTER.INACTIVE) this.finished = true;
      const out = [report({ event: 'deregistered', reason: p.reason })];
      return p.reason === PAGING_DEREGISTER.ACTIVE ? [...out, report({ event: 'awake', cause: 'wake' })] : out;
    }
    if (ack.status !== PAGING_ACK_STATUS.OK || ack.lifetimeS === 0) {
      // Refused (a configuration problem, §3.2 table full): stay awake, do not insist.
      const wasDormant = this.state === 'dormant';
      this.state = 'active';
      this.wantSleep = false;
      this.refreshAt = null;
      const out: HostAction[] = [report({ event: 'refused', status: ack.status, area: ack.area })];
      return wasDormant ? [...out, report({ event: 'awake', cause: 'no-answer' })] : out;
    }
    const wasDormant = this.state === 'dormant';
    this.state = 'dormant';
    this.counters.registrations++;
    // Refresh at ¾ of the granted lifetime: a lost REGISTER still has ¼ to be retried (§4.4).
    this.refreshAt = addMs(now, ack.lifetimeS * 750);
    const out: HostAction[] = [report({
      event: wasDormant ? 're-registered' : 'registered', cause: p.cause, area: ack.area, lifetimeS: ack.lifetimeS, epoch: m.epoch,
    })];
    if (!wasDormant) out.push(report({ event: 'dormant' }));
    return out;
  }

  private retry(p: Pending, now: Instant): HostAction[] {
    const tries = p.counters.length;
    if (tries < RETRY_WAITS_MS.length) {
      const body = p.kind === 'register' ? this.registerBody() : { type: 'deregister' as const, reason: p.reason };
      const sent = this.send(body);
      p.counters.push(this.counter);
      p.nextAt = addMs(now, RETRY_WAITS_MS[tries]!);
      return [sent];
    }
    // No agent answered: nobody tracks this host, so nobody would page it — stay awake.
    // The epoch no agent acknowledged is not believed either: an area-key holder may
    // have forged the advert it came from, and the next genuine advert must be heard.
    this.pending = null;
    this.advertReplay.reset();
    const out: HostAction[] = [report({ event: 'no-answer', message: p.kind })];
    if (this.stopping) { this.finished = true; return out; }
    if (this.state === 'dormant') {
      this.state = 'active';
      this.refreshAt = null;
      out.push(report({ event: 'awake', cause: 'no-answer' }));
    }
    return out;
  }

  private register(cause: RegisterCause, now: Instant): HostAction[] {
    if (!this.agent || this.area === null) return [];
    return this.start('register', cause, 0, now);
  }

  private deregister(reason: number, now: Instant): HostAction[] {
    if (!this.agent) return [];
    return this.start('deregister', 'sleep', reason, now);
  }

  private start(kind: Pending['kind'], cause: RegisterCause, reason: number, now: Instant): HostAction[] {
    const body: PagingBody = kind === 'register' ? this.registerBody() : { type: 'deregister', reason };
    const sent = this.send(body);
    this.pending = { kind, cause, reason, counters: [this.counter], nextAt: addMs(now, RETRY_WAITS_MS[0]) };
    return [sent];
  }

  private registerBody(): PagingBody {
    const s = this.s;
    return {
      type: 'register', mode: s.mode, wake: s.wake, lifetimeS: s.lifetimeS, area: this.area ?? '', addresses: s.addresses,
      correspondents: s.correspondents,
    };
  }

  /** Signs `body` with the host key under the next counter, to the agent, in the agent's epoch (§3.1). */
  private send(body: PagingBody): HostAction {
    this.counter++;
    this.counters.sent++;
    const payload = signMessage({ epoch: this.epoch, counter: this.counter, id: this.s.id, body }, this.s.key, this.s.hmac);
    return { kind: 'send', to: this.agent!, payload };
  }

  private learn(epoch: number, from: Peer, proven = true): void {
    // An ACK or a PAGE proves the agent (only it shares the host's key, §4.1): an advert
    // epoch above the proven one came from an area-key holder, not from the agent, and
    // must not keep the host deaf to the agent's genuine adverts.
    if (proven && epoch < this.advertReplay.epoch) this.advertReplay.reset();
    this.epoch = epoch;
    this.agent = { address: from.address.slice(), port: from.port };
  }

  private reject(reason: HostRejection, now: Instant): HostAction[] {
    const n = (this.counters.rejected[reason] ?? 0) + 1;
    this.counters.rejected[reason] = n;
    const last = this.rejectReportAt.get(reason);
    if (last !== undefined && now < addMs(last, REJECT_REPORT_MS)) return [];
    this.rejectReportAt.set(reason, now);
    return [report({ event: 'rejected', reason, count: n })];
  }
}

const report = (r: HostReport): HostAction => ({ kind: 'report', report: r });
