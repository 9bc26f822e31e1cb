/**
 * The reference host (src/paging/host.ts) against the agent's real core (createCore with
 * paging configured, real bindings owner), exchanging bytes through a small in-memory
 * wire: what the agent sends out of a port reaches the hosts on that port (wide cast, or
 * unicast to the host's address); what a host sends reaches the agent as a `paging`
 * event from its port, address and MAC. Scripts against time (CONVENTIONS 9).
 */
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { PagingHost, type HostAction, type HostInput, type HostReport, type HostSettings, type Peer } from '../../../src/paging/host';
import { bytesEqual } from '../../../src/wire/address';
import type { Instant } from '../../../src/time';
import { config } from '../relay/kit';
import { AREA_KEY, EPOCH, PAGING_PORT, T0, bind, hmac, macOf, pagingConfig, v4, type PagingCore } from './kit';
import { deriveHostKey } from '../../../src/paging/auth';

/** The agent's address on every port, as a host sees the source of adverts and pages. */
export const AGENT: Peer = { address: v4('198.51.100.1'), port: PAGING_PORT };
export const LAPTOP_ADDRESS = v4('198.51.100.7');
export const LAPTOP_MAC = macOf(7);
export const LAPTOP_PORT = 40000;
export const LAPTOP_KEY = deriveHostKey(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'), 'laptop', hmac);

export function agentCore(epoch = EPOCH, text = pagingConfig()): PagingCore {
  const c = createCore(T0, { paging: { hmacSha256: hmac, epoch } });
  const core = { ...c, first: c.agent.handle({ kind: 'config', config: config(text) }, T0) };
  bind(core, LAPTOP_ADDRESS, 'lan1', LAPTOP_MAC);
  return core;
}

export function laptopSettings(o: Partial<HostSettings> = {}): HostSettings {
  return {
    id: 'laptop', key: LAPTOP_KEY, areaKeys: new Map([['lobby', AREA_KEY]]), anyAreaKey: null, area: 'lobby', lifetimeS: 600,
    mode: 1, wake: 0, addresses: [LAPTOP_ADDRESS], correspondents: [], counterSeed: 1_000_000n, hmac, ...o,
  };
}

/** What crossed the wire in one step: the host's reports, its sends, and packets delivered to it. */
export interface Step {
  reports: HostReport[];
  hostSent: Uint8Array[];
  agentSent: Extract<Action, { kind: 'paging-send' }>[];
  delivered: Uint8Array[];
}

/** One agent core, one host on `lan1`; `cut` drops what the host sends (an agent that does not answer). */
export class Wire {
  cut = false;
  readonly log: HostReport[] = [];

  constructor(public c: PagingCore, readonly host: PagingHost, readonly port = 'lan1') {}

  /** Feeds agent actions to the host and host actions to the agent until nothing more crosses. */
  run(agentActions: Action[], hostActions: HostAction[], now: Instant): Step {
    const step: Step = { reports: [], hostSent: [], agentSent: [], delivered: [] };
    let fromAgent = agentActions;
    let fromHost = hostActions;
    for (let round = 0; round < 16 && (fromAgent.length > 0 || fromHost.length > 0); round++) {
      const toHost: HostAction[] = [];
      for (const a of fromAgent) {
        if (a.kind === 'paging-send') {
          step.agentSent.push(a);
          const forHost = a.port === this.port && a.family === 4 && (a.destination.every((b) => b === 255) || bytesEqual(a.destination, LAPTOP_ADDRESS));
          if (forHost) toHost.push(...this.host.handle({ kind: 'datagram', payload: a.payload, from: AGENT }, now));
        } else if (a.kind === 'link-send' && a.port === this.port && a.bytes[22] === 0x30 && a.bytes[23] === 0x39) {
          step.delivered.push(a.bytes);
        }
      }
      const toAgent: Action[] = [];
      for (const h of [...fromHost, ...toHost]) {
        if (h.kind === 'report') { step.reports.push(h.report); this.log.push(h.report); continue; }
        step.hostSent.push(h.payload);
        if (this.cut) continue;
        toAgent.push(...this.c.agent.handle({
          kind: 'paging', port: this.port, family: 4, source: LAPTOP_ADDRESS, sourcePort: LAPTOP_PORT, mac: LAPTOP_MAC, payload: h.payload,
        }, now));
      }
      fromAgent = toAgent;
      fromHost = [];
    }
    return step;
  }

  /** The caller's wish (sleep, wake, stop) at `now`. */
  input(i: HostInput, now: Instant): Step {
    return this.run([], this.host.handle(i, now), now);
  }

  /** Both sides' timers at `now`. */
  poll(now: Instant): Step {
    return this.run(this.c.agent.poll(now), this.host.poll(now), now);
  }

  /** Every instant either side has a deadline at, up to `until` (time moves as the daemon's loop moves it). */
  advance(until: Instant): Step {
    const all: Step = { reports: [], hostSent: [], agentSent: [], delivered: [] };
    for (let i = 0; i < 10_000; i++) {
      const next = [this.c.paging.nextDeadline(), this.host.nextDeadline()].filter((d): d is Instant => d !== null && d <= until);
      if (next.length === 0) break;
      const s = this.poll(Math.min(...next) as Instant);
      all.reports.push(...s.reports); all.hostSent.push(...s.hostSent); all.agentSent.push(...s.agentSent); all.delivered.push(...s.delivered);
    }
    return all;
  }
}

export const events = (s: Step) => s.reports.map((r) => r.event);
