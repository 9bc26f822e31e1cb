import { log, type Action } from '../actions';
import type { Config } from '../config/config';
import type { Event } from '../events';
import type { DivertEntry } from '../kernel/divert';
import type { KernelState } from '../kernel/entries';
import { readAddresses } from '../leasequery/held';
import type { Claim, CoreQuery, Module } from '../module';
import { addMs, earliest, msBetween, type Instant } from '../time';
import { formatAddress } from '../wire/address';
import { pagingMessage } from '../wire/paging';
import type { HmacSha256 } from './auth';
import { DivertDeltas } from './diverts';
import { markInactive, onDormantPacket, onTimer, WIDE_CAST } from './monitor';
import { CUSTOM_AREA, PagingPlan } from './plan';
import { onHostMessage } from './registrar';
import { PagingState, type BindingReader } from './state';
import { addressBytes, type HostState } from './tracking';

/** What the platform gives the paging module: a hash and a boot epoch it cannot make itself (sans-IO). */
export interface PagingPlatform {
  /** node:crypto's HMAC-SHA-256 (RFC 2104). */
  readonly hmacSha256: HmacSha256;
  /**
   * The agent's boot epoch (RFC 3154 §4.10): larger at every start, so hosts notice a
   * restart and re-register, and nothing signed in an earlier run is accepted again.
   */
  readonly epoch: number;
}

/** An address the kernel must divert to gleand (`dormant` events): a dormant, paged or inactive host's. */
export type { DivertEntry };

/**
 * Dormant-host alerting (RFC 3154; src/paging/PROTOCOL.md): the Paging Agent, the
 * Tracking Agent and the Dormant Monitoring Agent merged in one element (§5). Sans-IO:
 * host messages arrive as `paging` events, diverted traffic as `dormant` events; adverts,
 * pages and acks leave as `paging-send`, Wake-on-LAN and delivered packets as
 * `link-send`. Inert (no timers, nothing sent, nothing held) while the configuration
 * has paging off or no `paging` section, and while the platform gave no HMAC.
 */
export class PagingModule implements Module {
  readonly name = 'paging';
  readonly claims: readonly Claim[] = [{ kind: 'config' }, { kind: 'paging' }, { kind: 'dormant' }];
  private state: PagingState | null = null;
  private nextAdvertAt: Instant | null = null;
  /** Events that came while paging was off (a platform that diverts without being asked). */
  private ignored = 0;
  /** What the kernel was last told to divert (live deltas after each event and timer). */
  private readonly diverts = new DivertDeltas();
  readonly answers: readonly CoreQuery[] = ['hosts'];

  constructor(private readonly bindings: BindingReader, private readonly platform: PagingPlatform | null) {}

  handle(event: Event, now: Instant): Action[] {
    if (event.kind === 'config') return this.configure(event.config, now);
    const s = this.state;
    if (!s) {
      if (event.kind === 'paging' || event.kind === 'dormant') this.ignored++;
      return [];
    }
    if (event.kind === 'paging') {
      const out = onHostMessage(s, event, now);
      const d = pagingMessage.decode(event.payload);
      return d.ok ? [...out, ...this.diverts.update(s.table, [d.value.id])] : out;
    }
    if (event.kind === 'dormant') return [...onDormantPacket(s, event, now), ...this.diverts.update(s.table, touchedBy(s, event))];
    return [];
  }

  private configure(config: Config, now: Instant): Action[] {
    if (!config.paging.enabled) return this.disable();
    if (!this.platform) {
      this.disable();
      return [log('error', 'paging', 'paging is enabled but the platform gave no HMAC-SHA-256 and boot epoch: paging stays off')];
    }
    const plan = new PagingPlan(config, this.platform.hmacSha256);
    const old = this.state;
    const s = new PagingState(plan, this.bindings, this.platform.hmacSha256, this.platform.epoch);
    const actions: Action[] = [];
    if (old) actions.push(...this.carryOver(old, s, now));
    this.state = s;
    // Advertise at once: after a (re)start hosts learn the new epoch without waiting (§4.10, §4.14).
    this.nextAdvertAt = now;
    actions.push(...this.advertise(now));
    actions.push(...this.diverts.updateAll(s.table));
    return actions;
  }

  /**
   * A reload keeps every host, its replay state and its held packets (RFC 3154 §4.14: a
   * configuration change is no reason to lose track); a host whose fixed area is gone is
   * inactive, and the ports of the others follow their area's new definition.
   */
  private carryOver(old: PagingState, s: PagingState, now: Instant): Action[] {
    Object.assign(s, { counter: old.counter });
    const counters = s.counters;
    Object.assign(counters, old.counters);
    const held = s.held;
    const actions: Action[] = [];
    for (const h of [...old.table.all()]) {
      const packets = old.held.take(h.id);
      const copy = s.table.add({ ...h });
      for (const p of packets) {
        const refused = held.hold(h.id, p);
        if (refused) s.drop('reconfigured');
      }
      if (h.area === CUSTOM_AREA) continue;
      const area = s.plan.areas.get(h.area);
      if (area) copy.ports = area.ports;
      else if (copy.state !== 'inactive') actions.push(...markInactive(s, copy, 'reconfigured', now));
    }
    return actions;
  }

  /** Paging off: every host is forgotten and what was held is dropped (one line says how much). */
  private disable(): Action[] {
    const s = this.state;
    this.state = null;
    this.nextAdvertAt = null;
    if (!s) return [];
    return [...this.diverts.clear(), log('notice', 'paging', 'paging turned off: hosts forgotten, held packets dropped', { hosts: s.table.size, held: s.held.size })];
  }

  /** AREA_ADVERT on every port of every fixed area, both families, signed with the area key (§4.10, §4.21). */
  private advertise(now: Instant): Action[] {
    const s = this.state;
    if (!s || this.nextAdvertAt === null || now < this.nextAdvertAt) return [];
    const cfg = s.plan.cfg;
    const actions: Action[] = [];
    for (const area of s.plan.areas.values()) {
      const { bytes } = s.sign(area.id, { type: 'advert', intervalS: cfg.advert_interval }, area.key);
      s.counters.adverts++;
      for (const port of area.ports) {
        for (const family of [4, 6] as const) {
          actions.push({ kind: 'paging-send', port, family, destination: WIDE_CAST[family], destinationPort: cfg.port, payload: bytes });
        }
      }
    }
    this.nextAdvertAt = addMs(now, cfg.advert_interval * 1000);
    return actions;
  }

  poll(now: Instant): Action[] {
    const s = this.state;
    if (!s) return [];
    const actions = this.advertise(now);
    const touched: string[] = [];
    for (let h = s.table.due(now); h; h = s.table.due(now)) {
      touched.push(h.id);
      for (const a of onTimer(s, h, now)) actions.push(a);
    }
    for (const a of this.diverts.update(s.table, touched)) actions.push(a);
    return actions;
  }

  nextDeadline(): Instant | null {
    if (!this.state) return null;
    return earliest(this.nextAdvertAt, this.state.table.nextDeadline() as Instant | null);
  }

  /**
   * The addresses the kernel must divert to gleand now: every address of a host that is
   * dormant, being paged or inactive; and the wide-cast watches of the ports with a
   * dormant host that asked for broadcast / multicast wake-ups (§4.3). The platform half (issue 11) installs them.
   */
  *diverted(): Iterable<DivertEntry> {
    if (!this.state) return;
    for (const h of this.state.table.all()) {
      if (h.state === 'active') continue;
      for (const hex of h.addresses) {
        const address = addressBytes(hex);
        yield { family: address.length === 4 ? 4 : 6, address };
      }
    }
    yield* this.diverts.watches();
  }

  /** The full desired state of the kind this module owns (`diverts`), for a reconcile. */
  desired(): KernelState {
    return { diverts: this.diverted() };
  }

  query(what: CoreQuery, now: Instant): unknown {
    if (what !== 'hosts') return undefined;
    return this.hostRows(now);
  }

  /**
   * One JSON-safe row per tracked host (`gleand hosts`): state, area, ports, addresses,
   * the last PAGE, the packets held for it now, its wake-ups this hour. A generator:
   * the control socket streams rows, so a million hosts are never one array here.
   */
  *hostRows(now: Instant): Iterable<Record<string, unknown>> {
    const s = this.state;
    if (!s) return;
    for (const h of s.table.all()) {
      yield {
        id: h.id, state: h.state, area: h.area, port: h.port, family: h.family, ports: [...h.ports], mode: h.mode, wake: h.wake,
        addresses: h.addresses.map((a) => { const b = addressBytes(a); return formatAddress(b.length === 4 ? 4 : 6, b); }),
        lifetimeLeftMs: Math.max(0, msBetween(now, h.expiresAt as Instant)),
        pagesSent: h.pagesSent, lastPageAgoMs: h.lastPageAt < 0 ? null : Math.max(0, msBetween(h.lastPageAt as Instant, now)),
        held: s.held.count(h.id), wakeupsThisHour: h.wakeCount,
      };
    }
  }

  status(): Record<string, unknown> {
    const s = this.state;
    if (!s) return { enabled: false, ready: this.platform !== null, ignored: this.ignored };
    const hosts: Record<HostState, number> = { dormant: 0, paging: 0, active: 0, inactive: 0 };
    for (const h of s.table.all()) hosts[h.state]++;
    const c = s.counters;
    return {
      enabled: true, epoch: s.epoch, hosts, heldNow: s.held.size, heldBytes: s.held.byteSize, ignored: this.ignored,
      ...c, rejected: { ...c.rejected }, refused: { ...c.refused }, dropped: { ...c.dropped }, inactive: { ...c.inactive },
    };
  }
}

/** The hosts a diverted packet may have changed: its destination's, and on a wide cast the port's wakeable ones (§4.3). */
function touchedBy(s: PagingState, e: { family: 4 | 6; port: string | null; bytes: Uint8Array }): string[] {
  const ids: string[] = [];
  const a = readAddresses(e.family, e.bytes);
  const h = a && s.table.byDestination(a.destination);
  if (h) ids.push(h.id);
  if (e.port !== null) for (const w of s.table.wakeable(e.port)) ids.push(w.id);
  return ids;
}
