import { log, type Action } from '../actions';
import type { Config } from '../config/config';
import type { Event } from '../events';
import type { Claim, Module } from '../module';
import { addMs, earliest, type Instant } from '../time';
import type { HmacSha256 } from './auth';
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
export interface DivertEntry {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
}

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

  constructor(private readonly bindings: BindingReader, private readonly platform: PagingPlatform | null) {}

  handle(event: Event, now: Instant): Action[] {
    if (event.kind === 'config') return this.configure(event.config, now);
    const s = this.state;
    if (!s) {
      if (event.kind === 'paging' || event.kind === 'dormant') this.ignored++;
      return [];
    }
    if (event.kind === 'paging') return onHostMessage(s, event, now);
    if (event.kind === 'dormant') return onDormantPacket(s, event, now);
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
    return [log('notice', 'paging', 'paging turned off: hosts forgotten, held packets dropped', { hosts: s.table.size, held: s.held.size })];
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
    for (let h = s.table.due(now); h; h = s.table.due(now)) {
      for (const a of onTimer(s, h, now)) actions.push(a);
    }
    return actions;
  }

  nextDeadline(): Instant | null {
    if (!this.state) return null;
    return earliest(this.nextAdvertAt, this.state.table.nextDeadline() as Instant | null);
  }

  /**
   * The addresses the kernel must divert to gleand now: every address of a host that is
   * dormant, being paged or inactive. The platform half (issue 11) installs them.
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
