/**
 * Bulk leasequery restore (RFC 5460; RFC 6926 for DHCPv4): after a reboot the kernel
 * state and the snapshot on tmpfs are gone, and the DHCP servers are the only ones who
 * still know this relay's clients. At start (when no snapshot brought bindings back) and
 * on `gleand recover`, every configured unicast `dhcpv6_server` is asked over TCP 547
 * and every `dhcpv4_server` over TCP 67 for every binding made through our Relay-ID
 * (QUERY_BY_RELAY_ID with link-address ::, RFC 5460 §6.1; option 82 sub-option 12, RFC
 * 6926 §6.3), then by the configured link-addresses / remote-ids, one query at a time
 * per connection, the servers in parallel up to BULK_LQ_MAX_CONNS. Each lease becomes a
 * binding through the owner as its message arrives, so kernel state is installed while
 * the stream is read.
 * Answers of several servers are reconciled by client-last-transaction time (RFC 5460
 * §7.4, RFC 5007 §4.3.4): the most recent transaction wins.
 */
import { log, type Action } from '../actions';
import { bindingKey } from '../bindings/binding';
import type { Glean } from '../bindings/glean';
import type { BindingWriter } from '../bindings/owner';
import type { Config } from '../config/config';
import type { LeasequeryConfig } from '../config/schema';
import type { Event } from '../events';
import type { Claim, Module } from '../module';
import { PortMap } from '../relay/ports';
import { earliest, type Instant } from '../time';
import { cltIsAbsolute, LINK_UNSPECIFIED, utf8Bytes } from '../wire';
import { bytesEqual, formatIPv4, formatIPv6 } from '../wire/address';
import { acceptBulkLease, acceptBulkLease4, type BulkRefusal, type BulkVerdict, type KnownClient } from './bulk-accept';
import type { BulkLease } from './bulk-message';
import { BulkServer, type BulkAsk, type BulkSink, type BulkTimers } from './bulk-server';
import type { LeaseAnswer } from './message';

type Trigger = 'start' | 'recover';

interface Run {
  readonly trigger: Trigger;
  readonly startedAt: Instant;
  finishedAt: Instant | null;
  /** Bindings the streams added or moved (new kernel state). */
  restored: number;
  /**
   * Bindings a stream confirmed that were already in place: a snapshot's, or one an
   * earlier query of the run found (the query by place finds again what the Relay-ID did).
   */
  refreshed: number;
  refused: Partial<Record<BulkRefusal | 'owner', number>>;
  /** Leases skipped because another server reported a more recent transaction. */
  older: number;
  /** The most recent transaction seen per binding this run, and from which server. */
  readonly seen: Map<string, { readonly at: number; readonly server: string }>;
}

export class BulkModule implements Module, BulkSink {
  readonly name = 'bulk';
  readonly claims: readonly Claim[] = [
    { kind: 'config' }, { kind: 'identity' }, { kind: 'restore' }, { kind: 'recover' }, { kind: 'tcp' },
  ];
  private cfg: LeasequeryConfig | null = null;
  private ports: PortMap | null = null;
  private maxTracked = 0;
  private relayId: Uint8Array | null = null;
  private readonly servers = new Map<string, BulkServer>();
  private run: Run | null = null;
  /** The run at start is due (config and identity known, no snapshot yet said otherwise). */
  private bootDue: Instant | null = null;
  private booted = false;
  /** Bindings the snapshot journal brought back at start: the first source of truth. */
  private snapshotRestored = 0;
  private nextConn = 1;
  private readonly counters = { runs: 0, recoverRequests: 0, unknownConn: 0 };

  constructor(private readonly bindings: BindingWriter, private readonly random32: () => number) {}

  handle(event: Event, now: Instant): Action[] {
    switch (event.kind) {
      case 'config': return this.configure(event.config, now);
      case 'identity':
        this.relayId = event.relayId;
        return this.armBoot(now);
      case 'restore':
        this.snapshotRestored += event.bindings.length;
        // A snapshot is the first source of truth (issue 8 item 1): after a restart it
        // holds every binding, so the servers are not asked; after a reboot it is empty.
        if (event.bindings.length > 0 && !this.booted) this.bootDue = null;
        return [];
      case 'recover': return this.recover(event.id, now);
      case 'tcp': return this.tcp(event, now);
      default: return [];
    }
  }

  private enabled(): boolean {
    return Boolean(this.cfg?.enabled && this.cfg.bulk);
  }

  private timers(): BulkTimers {
    const c = this.cfg!;
    return { connTimeoutMs: c.bulk_conn_timeout * 1000, dataTimeoutMs: c.bulk_data_timeout * 1000, maxRetryMs: c.bulk_max_retry * 1000 };
  }

  private configure(config: Config, now: Instant): Action[] {
    this.cfg = config.leasequery;
    this.ports = new PortMap(config);
    this.maxTracked = config.global.max_bindings;
    const actions: Action[] = [];
    const wanted = new Map<string, { family: 4 | 6; address: Uint8Array; upstream: string }>();
    const lq = config.leasequery;
    for (const u of config.upstreams) {
      // TCP needs a unicast server: a multicast dhcpv6_server (or none: ff05::1:3) cannot be asked.
      if (lq.v6) for (const a of u.dhcpv6_server) if (a[0] !== 0xff) wanted.set(formatIPv6(a), { family: 6, address: a, upstream: u.name });
      // Nor a broadcast or multicast dhcpv4_server (RFC 6926 §6.1: TCP to the server).
      if (lq.v4) for (const a of u.dhcpv4_server) if (a[0]! < 224) wanted.set(formatIPv4(a), { family: 4, address: a, upstream: u.name });
    }
    for (const [label, s] of this.servers) {
      if (wanted.get(label)?.family === s.family && this.enabled()) s.setTimers(this.timers());
      else {
        actions.push(...s.stop());
        this.servers.delete(label);
      }
    }
    if (this.enabled()) {
      for (const [label, w] of wanted) {
        if (!this.servers.has(label)) this.servers.set(label, new BulkServer(w.family, w.address, label, w.upstream, this.timers(), () => this.relayId!, this));
      }
    }
    actions.push(...this.armBoot(now));
    return actions;
  }

  /** The run at start waits for the config and the relay DUID (the query names it). */
  private armBoot(now: Instant): Action[] {
    if (this.booted || !this.cfg || !this.relayId || this.bootDue !== null) return [];
    if (!this.enabled() || this.servers.size === 0) return [];
    // Not at once: the snapshot journal's `restore` follows the first config in the same
    // turn and decides whether the servers need asking at all.
    this.bootDue = now;
    return [];
  }

  private recover(id: number, now: Instant): Action[] {
    this.counters.recoverRequests++;
    const refuse = (reason: string) => [{ kind: 'query-result' as const, id, result: { verdict: 'refused', reason } }];
    if (!this.enabled()) return refuse('bulk leasequery (leasequery enabled, bulk) is off in the configuration');
    if (!this.relayId) return refuse('no relay DUID yet');
    if (this.servers.size === 0) return refuse('no dhcpv4_server or unicast dhcpv6_server to ask over TCP (leasequery v4 / v6)');
    const actions = this.begin('recover', now);
    actions.push({ kind: 'query-result', id, result: { verdict: 'started', servers: [...this.servers.keys()] } });
    return actions;
  }

  private begin(trigger: Trigger, now: Instant): Action[] {
    this.booted = true;
    this.bootDue = null;
    this.counters.runs++;
    this.run = { trigger, startedAt: now, finishedAt: null, restored: 0, refreshed: 0, refused: {}, older: 0, seen: new Map() };
    const queries = this.queries();
    const actions: Action[] = [log('notice', 'bulk', 'bulk leasequery restore started', {
      trigger, servers: [...this.servers.keys()].join(','),
    })];
    for (const s of this.servers.values()) actions.push(...s.start(queries, now));
    actions.push(...this.connectReady(now));
    return actions;
  }

  /**
   * What every server is asked, in order (each server takes those of its family): by our
   * Relay-ID first, then by each configured link-address and remote-id.
   */
  private queries(): BulkAsk[] {
    const c = this.cfg!;
    const duid = this.relayId!;
    const out: BulkAsk[] = [
      { family: 6, query: { by: 'relay-id', duid, linkAddress: LINK_UNSPECIFIED } },
      { family: 4, query: { by: 'relay-id', duid } },
    ];
    for (const linkAddress of c.bulk_link_address) out.push({ family: 6, query: { by: 'link-address', linkAddress } });
    for (const text of c.bulk_remote_id) {
      const remoteId = utf8Bytes(text);
      out.push({ family: 4, query: { by: 'remote-id', remoteId } });
      out.push({ family: 6, query: { by: 'remote-id', enterpriseNumber: c.bulk_enterprise_number, remoteId, linkAddress: LINK_UNSPECIFIED } });
    }
    return out;
  }

  /** Connect servers whose backoff is over, within BULK_LQ_MAX_CONNS (RFC 5460 §5.6). */
  private connectReady(now: Instant): Action[] {
    const actions: Action[] = [];
    let open = [...this.servers.values()].filter((s) => s.busy).length;
    for (const s of this.servers.values()) {
      if (open >= this.cfg!.bulk_max_conns) break;
      if (!s.ready(now)) continue;
      actions.push(...s.connect(now));
      open++;
    }
    return actions;
  }

  private tcp(e: Extract<Event, { kind: 'tcp' }>, now: Instant): Action[] {
    for (const s of this.servers.values()) {
      if (s.conn !== e.conn) continue;
      const actions = s.handle(e, now);
      actions.push(...this.connectReady(now), ...this.finishRun(now));
      return actions;
    }
    // A connection given up on (timeout, reload) may still report: nothing to do.
    this.counters.unknownConn++;
    return e.what === 'connected' ? [{ kind: 'tcp-close', conn: e.conn }] : [];
  }

  // ---- BulkSink --------------------------------------------------------------------------

  connId(): number {
    return this.nextConn++;
  }

  transactionId(): number {
    return this.random32() & 0xffffff;
  }

  /**
   * Leases of the messages of one received chunk, installed through the owner in one
   * write (installing overlaps reading: the next chunk is read while these go in).
   */
  leases(server: BulkServer, leases: readonly BulkLease[], now: Instant): Action[] {
    const run = this.run!;
    const actions: Action[] = [];
    const gleans: Glean[] = [];
    for (const lease of leases) {
      const known = lease.relay ? undefined : this.knownClient(lease.duid, gleans);
      const verdict = acceptBulkLease(lease, this.ports!, this.relayId, known, now);
      if (!verdict.ok) {
        actions.push(this.refuse(run, server, verdict));
        continue;
      }
      if (!this.mostRecent(run, server.label, 6, lease.address, lease.prefixLength, lease.cltS, now)) {
        run.older++;
        continue;
      }
      // The table keeps its own copy; these fields are windows on the received chunk.
      gleans.push({ op: 'upsert', fields: verdict.fields });
    }
    return actions.length === 0 ? this.write(run, gleans, now) : actions.concat(this.write(run, gleans, now));
  }

  /**
   * Where a client whose lease came without relay data sits: its other lease in the same
   * chunk, else a binding of its DUID (an earlier lease of the stream, already stored).
   * Looked up only for such a lease, so the stream keeps no per-client record.
   */
  private knownClient(duid: Uint8Array, gleans: readonly Glean[]): KnownClient | undefined {
    for (let i = gleans.length - 1; i >= 0; i--) {
      const g = gleans[i]!;
      if (g.op === 'upsert' && g.fields.family === 6 && g.fields.clientId && bytesEqual(g.fields.clientId, duid)) return g.fields;
    }
    const stored = this.bindings.byClientId(6, duid);
    return stored[stored.length - 1];
  }

  /** One DHCPLEASEACTIVE of a DHCPv4 stream (RFC 6926 §7.4), installed at once. */
  lease4(server: BulkServer, answer: LeaseAnswer, now: Instant): Action[] {
    const run = this.run!;
    const verdict = acceptBulkLease4(answer, this.ports!, this.relayId, now);
    if (!verdict.ok) return [this.refuse(run, server, verdict)];
    // Option 91 is seconds since the client's last transaction (RFC 4388 §6.1): relative.
    if (!this.mostRecent(run, server.label, 4, verdict.fields.address, 32, answer.cltS, now)) {
      run.older++;
      return [];
    }
    return this.write(run, [{ op: 'upsert', fields: verdict.fields }], now);
  }

  private refuse(run: Run, server: BulkServer, verdict: Extract<BulkVerdict, { ok: false }>): Action {
    run.refused[verdict.reason] = (run.refused[verdict.reason] ?? 0) + 1;
    return log('debug', 'bulk', 'lease refused', { server: server.label, reason: verdict.reason }, `bulk-refused:${verdict.reason}`);
  }

  private write(run: Run, gleans: Glean[], now: Instant): Action[] {
    if (gleans.length === 0) return [];
    const actions: Action[] = [];
    // One summary line per run (finishRun), not one per binding: a reboot of a router with
    // 100k subscribers must not write 100k lines to logd.
    const written = this.bindings.write(gleans, now, { logEach: false });
    for (const c of written.changes) {
      if (c.kind === 'refreshed') run.refreshed++;
      else run.restored++;
    }
    const refusedByOwner = gleans.length - written.changes.length;
    if (refusedByOwner > 0) run.refused.owner = (run.refused.owner ?? 0) + refusedByOwner;
    actions.push(...written.actions);
    return actions;
  }

  /**
   * RFC 5460 §7.4 / RFC 5007 §4.3.4: with several servers, the binding data with the
   * most recent client-last-transaction time wins. True when this lease is at least as
   * recent as any other server's for the same binding in this run.
   */
  private mostRecent(
    run: Run, server: string, family: 4 | 6, address: Uint8Array, prefixLength: number, cltS: number | null, now: Instant,
  ): boolean {
    // Only answers of several servers need reconciling: a run that asks one keeps no
    // per-binding record (100k keys and objects the collector would carry for nothing).
    if (this.servers.size < 2) return true;
    const key = bindingKey(family, address, prefixLength);
    // An absolute CLT_TIME (ISC dhcpd, PROTOCOLS.md) is not comparable: it ranks after every relative one.
    const at = cltS !== null && !(family === 6 && cltIsAbsolute(cltS)) ? now - cltS * 1000 : Number.NEGATIVE_INFINITY;
    const prev = run.seen.get(key);
    if (prev && prev.server !== server && prev.at > at) return false;
    if (prev || run.seen.size < this.maxTracked) run.seen.set(key, { at, server });
    return true;
  }

  private finishRun(now: Instant): Action[] {
    const run = this.run;
    if (!run || run.finishedAt !== null) return [];
    if ([...this.servers.values()].some((s) => s.phase.phase !== 'done')) return [];
    run.finishedAt = now;
    // What reconciled this run's streams is not needed once they ended: the bindings hold it.
    run.seen.clear();
    return [log('notice', 'bulk', 'bulk leasequery restore finished', {
      trigger: run.trigger, restored: run.restored, refreshed: run.refreshed, older: run.older,
      refused: Object.values(run.refused).reduce((a, b) => a + (b ?? 0), 0), ms: now - run.startedAt,
    })];
  }

  // ---- timers ------------------------------------------------------------------------------

  poll(now: Instant): Action[] {
    const actions: Action[] = [];
    if (this.bootDue !== null && now >= this.bootDue) actions.push(...this.begin('start', now));
    for (const s of this.servers.values()) {
      const due = s.nextDeadline();
      if (due !== null && due <= now && s.busy) actions.push(...s.poll(now));
    }
    actions.push(...this.connectReady(now), ...this.finishRun(now));
    return actions;
  }

  nextDeadline(): Instant | null {
    let next: Instant | null = this.bootDue;
    for (const s of this.servers.values()) next = earliest(next, s.nextDeadline());
    return next;
  }

  // ---- inspection --------------------------------------------------------------------------

  status(now?: Instant): Record<string, unknown> {
    const t = now ?? (0 as Instant);
    const run = this.run;
    const servers: Record<string, unknown> = {};
    for (const [label, s] of this.servers) servers[label] = s.status(t);
    const recovery = run
      ? {
          state: run.finishedAt === null ? 'running' : 'finished',
          source: 'bulk-leasequery',
          trigger: run.trigger,
          restored: run.restored,
          refreshed: run.refreshed,
          older: run.older,
          refused: { ...run.refused },
          startedMsAgo: t - run.startedAt,
          durationMs: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
        }
      : this.snapshotRestored > 0
        ? { state: 'finished', source: 'snapshot', trigger: 'start', restored: this.snapshotRestored }
        : { state: this.bootDue !== null ? 'pending' : 'idle', source: null };
    return { enabled: this.enabled(), recovery, servers, ...this.counters };
  }
}
