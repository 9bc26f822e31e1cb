import type { Action } from '../actions';
import type { BindingWriter } from '../bindings/owner';
import { HeldPackets } from '../leasequery/held';
import type { Instant } from '../time';
import type { PagingBody } from '../wire/paging';
import { signMessage, type HmacSha256 } from './auth';
import { PageBucket } from './limits';
import type { PagingPlan } from './plan';
import { HostTable } from './tracking';

/** Where the Paging Agent finds a host's MAC and port: the bindings owner, read only. */
export type BindingReader = Pick<BindingWriter, 'find'>;

/** Why a host message was not acted on (RFC 3154 §3.3: forged and replayed ones are counted). */
export type Rejection =
  | 'malformed' | 'unknown-type' | 'agent-message' | 'unknown-host' | 'bad-mac' | 'stale-epoch' | 'replay' | 'not-registered'
  | 'unmatched-response';

/** Why a packet toward a tracked host was dropped instead of held or delivered. */
export type PacketDrop =
  | 'malformed' | 'not-tracked' | 'wide-cast' | 'inactive' | 'correspondent' | 'wake-cap' | 'held-per-address' | 'held-total'
  | 'no-binding' | 'ttl' | 'unanswered' | 'expired' | 'planned' | 'reconfigured';

export type InactiveReason = 'expired' | 'unanswered' | 'planned' | 'reconfigured';

export interface PagingCounters {
  received: number;
  rejected: Partial<Record<Rejection, number>>;
  registrations: number;
  refused: Record<string, number>;
  deregistrations: number;
  responses: number;
  adverts: number;
  wakeups: number;
  pages: number;
  pagesDeferred: number;
  wol: number;
  wolNoBinding: number;
  wideCastWakes: number;
  held: number;
  delivered: number;
  deliveredLate: number;
  dropped: Partial<Record<PacketDrop, number>>;
  inactive: Partial<Record<InactiveReason, number>>;
}

export const newCounters = (): PagingCounters => ({
  received: 0, rejected: {}, registrations: 0, refused: {}, deregistrations: 0, responses: 0, adverts: 0, wakeups: 0,
  pages: 0, pagesDeferred: 0, wol: 0, wolNoBinding: 0, wideCastWakes: 0, held: 0, delivered: 0, deliveredLate: 0,
  dropped: {}, inactive: {},
});

/** The area bucket of every customised area (§4.18): one shared budget, so it stays one entry, not one per host. */
export const CUSTOM_BUCKET = '~custom';

/**
 * What the registrar (H-TA / H-DMA messages) and the monitor (DMA, PA) share: the host
 * table, the held packets, the configuration in force, the agent's replay counter, the
 * platform's HMAC and the counters.
 */
export class PagingState {
  readonly table = new HostTable();
  held: HeldPackets;
  readonly counters = newCounters();
  readonly buckets = new Map<string, PageBucket>();
  /** The agent's replay counter within its epoch (RFC 3154 §4.20): one more per message signed. */
  counter = 0;

  constructor(
    readonly plan: PagingPlan,
    readonly bindings: BindingReader,
    readonly hmac: HmacSha256,
    readonly epoch: number,
  ) {
    this.held = new HeldPackets(plan.cfg.held_per_host, plan.cfg.held_total, plan.cfg.held_total_bytes);
  }

  /** Signs `body` with `key` under the next agent counter (AREA_ADVERT: area key; PAGE, ACK: host key). */
  sign(id: string, body: PagingBody, key: Uint8Array): { bytes: Uint8Array; counter: number } {
    const counter = ++this.counter;
    return { bytes: signMessage({ epoch: this.epoch, counter: BigInt(counter), id, body }, key, this.hmac), counter };
  }

  bucket(area: string, now: Instant): PageBucket {
    let b = this.buckets.get(area);
    if (!b) {
      b = new PageBucket(this.plan.cfg.area_page_rate, now);
      this.buckets.set(area, b);
    }
    return b;
  }

  drop(reason: PacketDrop, n = 1): Action[] {
    this.counters.dropped[reason] = (this.counters.dropped[reason] ?? 0) + n;
    return [];
  }

  reject(reason: Rejection): void {
    this.counters.rejected[reason] = (this.counters.rejected[reason] ?? 0) + 1;
  }
}
