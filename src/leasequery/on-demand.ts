import { log, type Action } from '../actions';
import type { Binding } from '../bindings/binding';
import type { Event } from '../events';
import type { PortMap, SubscriberPort } from '../relay/ports';
import type { Instant } from '../time';
import { bytesEqual, formatAddress, formatMac } from '../wire/address';
import { forwardCopy, HeldPackets, readAddresses, type HoldRefusal } from './held';
import type { QueryBy } from './message';
import { NegativeCache } from './negative-cache';
import { queryKey } from './query';
import { resolvePorts } from './targets';

type OnDemandEvent = Extract<Event, { kind: 'on-demand' }>;

/**
 * Location on demand, both directions and both families (seed 003 §1, §4.1; RFC 4388 §1,
 * RFC 5007 §3; issue 8 item 3). The kernel hands gleand (over NFLOG) what it could not place:
 *
 * - **down**: a packet toward an address inside a subscriber `subnet4` / `subnet6` with
 *   no route of gleand's. gleand holds it (bounded, `held.ts`), asks the servers by IP
 *   (DHCPLEASEQUERY, or LEASEQUERY by address), and on an accepted answer the binding
 *   goes in through the owner and the held packets go out of the port the answer names
 *   (stored option 82 circuit-id / Interface-ID: subnets are shared by unnumbered ports,
 *   so the answer, not a route, says which port) to the answer's MAC. A negative answer,
 *   a refusal or no answer drops them, counted. A DHCPv6 answer without the client's
 *   link-layer address (ISC dhcpd stores no relay data) installs the route but cannot
 *   address the held packets: they are dropped, counted `no-mac` (README "Location on
 *   demand": gleand sends no Neighbour Solicitation on the access side).
 * - **up**: a packet from an `on_demand` port whose source the verify chain did not
 *   accept (Cisco's `cable source-verify dhcp`). gleand asks by IP for that port,
 *   expecting the frame's MAC; an accepted answer installs the binding (and so the
 *   verify entry) and the client's next packets pass. Otherwise the source stays blocked
 *   and the outcome is cached for (address, MAC, port) as well as the module's own
 *   negative cache by address (RFC 4388 §6.5, §7), and each port may start only a few
 *   queries a second (`UpstreamBudget`): spoofing must not become a leasequery flood.
 *   DHCPv6: the query is made for every relaying port whose `subnet6` holds the source
 *   and must come back on the frame's port; an answer without a stored link-layer
 *   address takes the frame's MAC (accept6.ts, `framePort`).
 *
 * The queries themselves are the module's (pacing per server, acceptance checks); this
 * class decides whether a packet starts one, keeps the held packets and the counters.
 */
export const ON_DEMAND_MAX_QUERIES = 512;
/** Upstream: at most this many new queries a port may start in a burst, then `UPSTREAM_PER_S` a second. */
export const UPSTREAM_BURST = 8;
export const UPSTREAM_PER_S = 1;
export const UP_NEGATIVE_TTL_MS = 60_000;
export const UP_NEGATIVE_MAX = 4096;

export type DropReason =
  | 'malformed' | 'disabled' | 'no-identity' | 'no-mac' | 'not-on-demand' | 'outside-subnets' | 'ambiguous' | 'no-server'
  | 'port-not-relaying' | 'no-such-port' | 'cached' | 'bound-elsewhere' | 'rate-limited' | 'busy' | HoldRefusal
  | 'ttl' | 'unassigned' | 'unknown' | 'no-answer' | 'error' | 'refused';

/** What the module does for this class: its state and the query it starts. */
export interface OnDemandHost {
  readonly ports: PortMap | null;
  /** Leasequery on and this family's leasequery on; `no-identity`: DHCPv6 without gleand's DUID yet (RFC 5007 §4.1.2 CLIENTID). */
  enabled(family: 4 | 6): true | 'disabled' | 'no-identity';
  /** The module's negative cache (by query key) holds an answer for this question. */
  negativeCached(key: string, now: Instant): boolean;
  /** A query by this key, without MAC or port, is in flight (a new packet joins it). */
  inFlight(key: string): boolean;
  queriesInFlight(): number;
  find(family: 4 | 6, address: Uint8Array): Binding | null;
  /**
   * Starts a query for these ports; the module calls `settled` when it ends. `framePort`:
   * the port an upstream frame came in on (DHCPv6: the answer must put the lease there).
   */
  ask(q: {
    query: QueryBy; ports: readonly SubscriberPort[]; expectMac: Uint8Array | null; framePort: string | null; upKey: string | null;
  }, now: Instant): Action[];
}

interface DirectionCounters {
  packets: number;
  queries: number;
  dropped: Partial<Record<DropReason, number>>;
}

export interface OnDemandCounters {
  down: DirectionCounters & { held: number; delivered: number; deliveredBound: number };
  up: DirectionCounters & { verified: number };
}

/** A token bucket per port (CONVENTIONS 10: a bounded table, one entry per configured port). */
class UpstreamBudget {
  private readonly buckets = new Map<string, { tokens: number; at: Instant }>();

  take(port: string, now: Instant): boolean {
    const b = this.buckets.get(port) ?? { tokens: UPSTREAM_BURST, at: now };
    const tokens = Math.min(UPSTREAM_BURST, b.tokens + ((now - b.at) / 1000) * UPSTREAM_PER_S);
    const ok = tokens >= 1;
    this.buckets.set(port, { tokens: ok ? tokens - 1 : tokens, at: now });
    return ok;
  }

  retain(ports: ReadonlySet<string>): void {
    for (const p of this.buckets.keys()) if (!ports.has(p)) this.buckets.delete(p);
  }
}

/** The module's key of a query by IP for `a` (either family): its negative cache and in-flight table use it. */
export const addressKey = (a: Uint8Array): string => queryKey({ by: 'ip', address: a });
const upKeyOf = (a: Uint8Array, mac: Uint8Array, port: string): string =>
  `up ${formatAddress(a.length === 16 ? 6 : 4, a)} ${formatMac(mac)} ${port}`;

export class OnDemand {
  private readonly held = new HeldPackets();
  private readonly upNegative = new NegativeCache(UP_NEGATIVE_TTL_MS, UP_NEGATIVE_MAX);
  private readonly upInFlight = new Set<string>();
  private readonly budget = new UpstreamBudget();
  readonly counters: OnDemandCounters = {
    down: { packets: 0, queries: 0, held: 0, delivered: 0, deliveredBound: 0, dropped: {} },
    up: { packets: 0, queries: 0, verified: 0, dropped: {} },
  };

  constructor(private readonly host: OnDemandHost) {}

  configure(ports: PortMap): void {
    this.budget.retain(new Set(ports.subscribers.keys()));
  }

  handle(e: OnDemandEvent, now: Instant): Action[] {
    return e.direction === 'down' ? this.down(e, now) : this.up(e, now);
  }

  private drop(dir: 'down' | 'up', reason: DropReason, n = 1): Action[] {
    const d = this.counters[dir].dropped;
    d[reason] = (d[reason] ?? 0) + n;
    return [];
  }

  /** The on-demand ports a query by IP for `address` is made for; a reason when none. */
  private targets(family: 4 | 6, address: Uint8Array, port: string | null): readonly SubscriberPort[] | DropReason {
    const ports = this.host.ports;
    const enabled = this.host.enabled(family);
    if (!ports || enabled !== true) return enabled === true ? 'disabled' : enabled;
    if (family === 6) return this.targets6(ports, address, port);
    const t = resolvePorts(ports, { by: 'ip', address }, port);
    if (!t.ok) return t.reason;
    const on = t.ports.filter((p) => p.cfg.on_demand);
    return on.length > 0 ? on : 'not-on-demand';
  }

  /**
   * DHCPv6: the query is made for **every** relaying port whose `subnet6` holds the
   * address, on demand or not, so that an answer without relay data (ISC dhcpd) names a
   * port only when the subnet has one port (accept6.ts: `no-port` otherwise) — a subnet
   * shared with a port that is not on demand gives no right to guess. `port`: the frame's
   * (upstream); it must be one of them and on demand.
   */
  private targets6(ports: PortMap, address: Uint8Array, port: string | null): readonly SubscriberPort[] | DropReason {
    const t = resolvePorts(ports, { by: 'ip', address }, null);
    if (!t.ok) return t.reason;
    const on = t.ports.filter((p) => p.cfg.on_demand && (port === null || p.cfg.name === port));
    if (on.length > 0) return t.ports;
    return port !== null && !t.ports.some((p) => p.cfg.name === port) ? 'outside-subnets' : 'not-on-demand';
  }

  // ---- downstream ---------------------------------------------------------------------

  private down(e: OnDemandEvent, now: Instant): Action[] {
    this.counters.down.packets++;
    const addrs = readAddresses(e.family, e.bytes);
    if (!addrs) return this.drop('down', 'malformed');
    const address = addrs.destination;
    // Installed since the kernel copied it (its route is on the way): deliver it now. A
    // DHCPv6 binding without a MAC cannot be addressed, and asking again would not say more.
    const bound = this.host.find(e.family, address);
    if (bound) {
      if (!bound.mac) return this.drop('down', 'no-mac');
      this.counters.down.deliveredBound++;
      return this.deliver(e.family, [e.bytes], bound.port, bound.mac, 'down');
    }
    const ports = this.targets(e.family, address, null);
    if (typeof ports === 'string') return this.drop('down', ports);
    const key = addressKey(address);
    if (this.host.negativeCached(key, now)) return this.drop('down', 'cached');
    const joining = this.host.inFlight(key);
    if (!joining && this.host.queriesInFlight() >= ON_DEMAND_MAX_QUERIES) return this.drop('down', 'busy');
    const refused = this.held.hold(key, e.bytes);
    if (refused) return this.drop('down', refused);
    this.counters.down.held++;
    if (joining) return [];
    this.counters.down.queries++;
    return this.host.ask({ query: { by: 'ip', address }, ports, expectMac: null, framePort: null, upKey: null }, now);
  }

  // ---- upstream -----------------------------------------------------------------------

  private up(e: OnDemandEvent, now: Instant): Action[] {
    this.counters.up.packets++;
    const addrs = readAddresses(e.family, e.bytes);
    if (!addrs || e.port === null || e.mac === null || e.mac.length !== 6) return this.drop('up', 'malformed');
    const address = addrs.source;
    const bound = this.host.find(e.family, address);
    // Known: either its verify entry is on the way (same port and MAC) or someone else
    // uses a leased address (a spoof): nothing to ask either way. A DHCPv6 binding on
    // this port without a MAC (an ISC answer to a downstream query) is asked again, for
    // this frame's MAC (accept6.ts).
    if (bound && !(bound.mac === null && bound.port === e.port)) {
      return bound.port === e.port && bytesEqual(bound.mac, e.mac) ? [] : this.drop('up', 'bound-elsewhere');
    }
    const ports = this.targets(e.family, address, e.port);
    if (typeof ports === 'string') return this.drop('up', ports);
    const upKey = upKeyOf(address, e.mac, e.port);
    if (this.host.negativeCached(addressKey(address), now) || this.upNegative.get(upKey, now)) return this.drop('up', 'cached');
    if (this.upInFlight.has(upKey)) return [];
    if (this.host.queriesInFlight() >= ON_DEMAND_MAX_QUERIES) return this.drop('up', 'busy');
    if (!this.budget.take(e.port, now)) return this.drop('up', 'rate-limited');
    this.upInFlight.add(upKey);
    this.counters.up.queries++;
    return this.host.ask({ query: { by: 'ip', address }, ports, expectMac: e.mac, framePort: e.port, upKey }, now);
  }

  // ---- outcomes -----------------------------------------------------------------------

  /**
   * A query by IP ended. `installed`: the binding the answer made (its port and MAC).
   * Held packets go out on an install whoever asked; a query made for a known MAC
   * (upstream) that fails leaves them to the downstream query that holds them.
   */
  settled(
    q: { family: 4 | 6; key: string; upKey: string | null; expectMac: Uint8Array | null },
    installed: { port: string; mac: Uint8Array | null } | null, verdict: 'unassigned' | 'unknown' | 'no-answer' | 'error' | 'refused' | 'active',
    now: Instant,
  ): Action[] {
    const actions: Action[] = [];
    if (q.upKey !== null) {
      this.upInFlight.delete(q.upKey);
      if (installed) this.counters.up.verified++;
      else {
        this.upNegative.put(q.upKey, 0, now);
        this.drop('up', verdict === 'active' ? 'refused' : verdict);
      }
    }
    if (installed) {
      const packets = this.held.take(q.key);
      // RFC 5007 answers may name no link-layer address: the route is in, the packets cannot go.
      if (packets.length > 0 && installed.mac === null) this.drop('down', 'no-mac', packets.length);
      else if (packets.length > 0) actions.push(...this.deliver(q.family, packets, installed.port, installed.mac!, 'down'));
    } else if (q.expectMac === null) {
      const packets = this.held.take(q.key);
      if (packets.length > 0) {
        this.drop('down', verdict === 'active' ? 'refused' : verdict, packets.length);
        actions.push(log('debug', 'leasequery', 'on demand: held packets dropped', { query: q.key, verdict, packets: packets.length }, 'od-drop'));
      }
    }
    return actions;
  }

  /** Out of the port to the client's MAC, as a router forwards (RFC 1812 §5.3.1; RFC 8200 §3: Hop Limit). */
  private deliver(family: 4 | 6, packets: readonly Uint8Array[], port: string, mac: Uint8Array, dir: 'down'): Action[] {
    const actions: Action[] = [];
    for (const p of packets) {
      const bytes = forwardCopy(family, p);
      if (!bytes) {
        this.drop(dir, 'ttl');
        continue;
      }
      this.counters.down.delivered++;
      actions.push({ kind: 'link-send', port, family, destinationMac: mac, bytes });
    }
    return actions;
  }

  status(): Record<string, unknown> {
    return {
      held: this.held.size, heldBytes: this.held.byteSize, upInFlight: this.upInFlight.size, upNegativeCache: this.upNegative.size,
      down: { ...this.counters.down, dropped: { ...this.counters.down.dropped } },
      up: { ...this.counters.up, dropped: { ...this.counters.up.dropped } },
    };
  }
}
