import { addMs, earliest, type Instant } from '../time';

/**
 * How often one DHCP server is asked (RFC 4388 §6.3; seed 003 §6.6). The RFC's two
 * timers, as built here:
 *
 * - **The per-server timer** starts expired. While it is expired the server gets one
 *   query at a time (the "poll"), resent after 10 s, 20 s, 40 s, then once a minute:
 *   never more than about one packet per 10 s to a server not known to support
 *   leasequery, and at least one a minute while a query is needed. (A server that has
 *   answered before is polled from `retryMs` instead of 10 s.) Any answer (LEASEACTIVE,
 *   LEASEUNASSIGNED, LEASEUNKNOWN) starts it running for `serverTimerMs`, and every
 *   further answer restarts it.
 * - While it runs, up to `maxOutstanding` queries are in flight, each with its own
 *   **per-message timer**: resent after `retryMs`, then twice as long each time, up to
 *   once a minute.
 * - When it expires with queries in flight, all of them but the oldest are dropped; that
 *   one polls the server until it answers again.
 *
 * The pacer knows queries only by number and xid; what a query asks and who waits for
 * it belong to the module. Time is passed in (CONVENTIONS 7).
 */
export interface Pacing {
  /** First per-message retry (`timeout` of the config). */
  readonly retryMs: number;
  /** Queries in flight while the per-server timer runs (`max_outstanding`). */
  readonly maxOutstanding: number;
}

/** Both timers back off to once a minute (RFC 4388 §6.3). */
export const BACKOFF_CAP_MS = 60_000;
/** At most about one query per 10 s to a server not known to support leasequery (RFC 4388 §6.3). */
export const UNKNOWN_SERVER_INTERVAL_MS = 10_000;
/** How long the per-server timer runs after an answer. */
export const serverTimerMs = (p: Pacing): number => Math.max(2 * p.retryMs, UNKNOWN_SERVER_INTERVAL_MS);

export type Supports = 'unknown' | 'yes' | 'no';

export type ServerTimer =
  /** `nextPollAt` null: a needed query may be sent now. */
  | { readonly state: 'expired'; readonly pollIntervalMs: number; readonly nextPollAt: Instant | null }
  | { readonly state: 'running'; readonly expiresAt: Instant };

interface Attempt {
  readonly query: number;
  readonly xid: number;
  nextAt: Instant;
  intervalMs: number;
}

/** What the pacer asks of the module. */
export type PacerStep =
  | { readonly kind: 'send'; readonly query: number; readonly xid: number; readonly retransmission: boolean }
  /** RFC 4388 §6.3: dropped when the per-server timer expired. */
  | { readonly kind: 'drop'; readonly query: number };

export interface PacerCounters {
  sent: number;
  retransmitted: number;
  dropped: number;
}

export class ServerPacer {
  supports: Supports = 'unknown';
  timer: ServerTimer;
  readonly counters: PacerCounters = { sent: 0, retransmitted: 0, dropped: 0 };
  private readonly queue: { query: number; xid: number }[] = [];
  /** By xid, oldest first (Map keeps insertion order). */
  private readonly outstanding = new Map<number, Attempt>();

  constructor(private pacing: Pacing) {
    this.timer = { state: 'expired', pollIntervalMs: this.firstPollMs(), nextPollAt: null };
  }

  setPacing(p: Pacing): void {
    this.pacing = p;
  }

  get queued(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.outstanding.size;
  }

  enqueue(query: number, xid: number): void {
    this.queue.push({ query, xid });
  }

  /** The query no longer needs this server (answered elsewhere, or its wait ended). */
  cancel(query: number): void {
    const i = this.queue.findIndex((q) => q.query === query);
    if (i >= 0) this.queue.splice(i, 1);
    for (const [xid, a] of this.outstanding) if (a.query === query) this.outstanding.delete(xid);
  }

  /** Is `xid` in flight to this server? */
  has(xid: number): boolean {
    return this.outstanding.has(xid);
  }

  /**
   * An answer of a leasequery type came from this server: its per-server timer restarts
   * (RFC 4388 §6.3) whether or not the xid is still in flight. Returns the query it
   * answers, or null.
   */
  answered(xid: number, now: Instant): number | null {
    this.supports = 'yes';
    this.timer = { state: 'running', expiresAt: addMs(now, serverTimerMs(this.pacing)) };
    const a = this.outstanding.get(xid);
    if (!a) return null;
    this.outstanding.delete(xid);
    return a.query;
  }

  /** Sends and drops due at `now`, in order. */
  poll(now: Instant): PacerStep[] {
    const steps: PacerStep[] = [];
    if (this.timer.state === 'running' && now >= this.timer.expiresAt) this.expire(now, steps);
    if (this.timer.state === 'running') this.pollRunning(now, steps);
    else this.pollExpired(now, steps);
    return steps;
  }

  nextDeadline(): Instant | null {
    if (this.timer.state === 'expired') {
      if (this.outstanding.size === 0 && this.queue.length === 0) return null;
      return this.timer.nextPollAt;
    }
    let next: Instant | null = this.outstanding.size > 0 ? this.timer.expiresAt : null;
    for (const a of this.outstanding.values()) next = earliest(next, a.nextAt);
    return next;
  }

  private firstPollMs(): number {
    return this.supports === 'yes' ? this.pacing.retryMs : Math.max(this.pacing.retryMs, UNKNOWN_SERVER_INTERVAL_MS);
  }

  /** RFC 4388 §6.3: all outstanding but one are dropped; that one polls the server. */
  private expire(now: Instant, steps: PacerStep[]): void {
    const inFlight = [...this.outstanding.values()];
    const keep = inFlight[0];
    for (const a of inFlight.slice(1)) {
      this.outstanding.delete(a.xid);
      this.counters.dropped++;
      steps.push({ kind: 'drop', query: a.query });
    }
    const pollIntervalMs = this.firstPollMs();
    const nextPollAt = keep ? addMs(keep.nextAt, pollIntervalMs - keep.intervalMs) : null;
    this.timer = { state: 'expired', pollIntervalMs, nextPollAt: nextPollAt !== null && nextPollAt > now ? nextPollAt : null };
  }

  private pollExpired(now: Instant, steps: PacerStep[]): void {
    if (this.timer.state !== 'expired') return;
    const { nextPollAt } = this.timer;
    if (nextPollAt !== null && now < nextPollAt) return;
    let poll = this.outstanding.values().next().value as Attempt | undefined;
    const retransmission = poll !== undefined;
    if (!poll) {
      const head = this.queue.shift();
      if (!head) return;
      poll = { query: head.query, xid: head.xid, nextAt: now, intervalMs: 0 };
      this.outstanding.set(head.xid, poll);
    }
    const interval = this.timer.pollIntervalMs;
    // Polled at the once-a-minute pace and still silent: a server that never answered
    // is taken not to support leasequery (status only; the pace is the same).
    if (interval >= BACKOFF_CAP_MS && this.supports === 'unknown') this.supports = 'no';
    poll.nextAt = addMs(now, interval);
    poll.intervalMs = interval;
    this.timer = { state: 'expired', pollIntervalMs: Math.min(2 * interval, BACKOFF_CAP_MS), nextPollAt: poll.nextAt };
    this.count(retransmission);
    steps.push({ kind: 'send', query: poll.query, xid: poll.xid, retransmission });
  }

  private pollRunning(now: Instant, steps: PacerStep[]): void {
    for (const a of this.outstanding.values()) {
      if (now < a.nextAt) continue;
      a.intervalMs = Math.min(2 * a.intervalMs, BACKOFF_CAP_MS);
      a.nextAt = addMs(now, a.intervalMs);
      this.count(true);
      steps.push({ kind: 'send', query: a.query, xid: a.xid, retransmission: true });
    }
    while (this.outstanding.size < this.pacing.maxOutstanding && this.queue.length > 0) {
      const { query, xid } = this.queue.shift()!;
      this.outstanding.set(xid, { query, xid, nextAt: addMs(now, this.pacing.retryMs), intervalMs: this.pacing.retryMs });
      this.count(false);
      steps.push({ kind: 'send', query, xid, retransmission: false });
    }
  }

  private count(retransmission: boolean): void {
    this.counters.sent++;
    if (retransmission) this.counters.retransmitted++;
  }

  /** `gleand status`: supports, the per-server timer's state, in flight and queued. */
  status(now: Instant): Record<string, unknown> {
    const t = this.timer;
    const backoff = t.state === 'running'
      ? { state: now < t.expiresAt ? 'running' : 'expired', expiresInMs: Math.max(0, t.expiresAt - now) }
      : { state: 'expired', pollIntervalMs: t.pollIntervalMs, nextPollInMs: t.nextPollAt === null ? null : Math.max(0, t.nextPollAt - now) };
    return { supports: this.supports, backoff, outstanding: this.outstanding.size, queued: this.queue.length, ...this.counters };
  }
}
