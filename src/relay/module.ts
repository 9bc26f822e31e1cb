import { log, type Action } from '../actions';
import { applyGleans } from '../bindings/apply';
import { keyOf, type Binding } from '../bindings/binding';
import type { Glean } from '../bindings/glean';
import { gleanReply4, gleanRequest4 } from '../bindings/glean4';
import { gleanReply6, gleanRequest6 } from '../bindings/glean6';
import { BindingTable, type BindingChange } from '../bindings/table';
import { isLinkLocal64 } from '../bindings/validate';
import type { Config } from '../config/config';
import { formatIPv6, formatMac } from '../wire/address';
import type { Event } from '../events';
import type { PortKernelConfig } from '../kernel/derive';
import { DesiredState } from '../kernel/desired';
import { isEmptyDelta } from '../kernel/entries';
import type { Module } from '../module';
import type { Instant } from '../time';
import { dhcp4Message, dhcp6Message, ipv4Udp, ipv6Udp, type Dhcp4Message, type Dhcp6Message } from '../wire';
import { countDrop, newPortCounters, RateLimiter, type PortCounters } from './counters';
import { relayReply4, relayRequest4 } from './dhcp4';
import { relayForward6, relayReply6 } from './dhcp6';
import type { DropReason } from './drop';
import { trimToIpLength, udp4Packet, udp6Packet } from './frames';
import { PeerCache } from './peers';
import { ALL_DHCP_SERVERS, PortMap, type SubscriberPort } from './ports';
import { passivePort4, passivePort6 } from './passive';

const PEER_CACHE_SIZE = 65536;
const PLACEHOLDER_MAX_BINDINGS = 1024;

/**
 * The DHCP data path: relays DHCPv4/DHCPv6 for the subscriber ports, gleans every
 * binding from what it relays (or, on passive ports, from what another relay sends),
 * keeps the binding table, and turns each binding change into a kernel delta.
 */
export class DhcpModule implements Module {
  readonly name = 'dhcp';
  private ports: PortMap | null = null;
  private relayId: Uint8Array | null = null;
  private readonly table: BindingTable;
  private desired = new DesiredState(new Map());
  private readonly peers = new PeerCache(PEER_CACHE_SIZE);
  private readonly linkLocal = new Map<string, Uint8Array | null>();
  private readonly counters = new Map<string, PortCounters>();
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly global = newPortCounters();

  constructor() {
    // Real limits arrive with the config. The placeholder must not be below the table's
    // initial capacity (16): BindingTable sizes its expiry heap at that capacity but the
    // store at maxBindings, and the first growth then overruns the heap (ExpiryHeap.resize).
    this.table = new BindingTable({ maxBindings: PLACEHOLDER_MAX_BINDINGS, maxPerPort: () => 0 });
  }

  handle(event: Event, now: Instant): Action[] {
    switch (event.kind) {
      case 'config': return this.configure(event.config);
      case 'identity': this.relayId = event.relayId; return [];
      case 'link': this.linkLocal.set(event.port, event.linkLocal); return [];
      case 'packet': return this.fromSubscriber(event, now);
      case 'udp': return this.fromServer(event, now);
    }
  }

  poll(now: Instant): Action[] {
    const changes: BindingChange[] = this.table.sweep(now).map((binding) => ({ kind: 'expired', binding }));
    return this.kernel(changes);
  }

  nextDeadline(): Instant | null {
    return this.table.nextExpiry();
  }

  // ---- configuration ---------------------------------------------------------------

  private configure(config: Config): Action[] {
    this.ports = new PortMap(config);
    const perPort = new Map(config.subscribers.map((s) => [s.name, s.max_bindings]));
    this.table.setLimits({ maxBindings: config.global.max_bindings, maxPerPort: (p) => perPort.get(p) ?? 0 });
    for (const s of config.subscribers) {
      if (!this.counters.has(s.name)) this.counters.set(s.name, newPortCounters());
      const limiter = this.limiters.get(s.name);
      if (limiter) limiter.setRate(s.rate_limit);
      else this.limiters.set(s.name, new RateLimiter(s.rate_limit));
    }
    const kernelPorts = new Map<string, PortKernelConfig>(config.subscribers.map((s) => [s.name, {
      device: s.device, routes: true, neighbours: true, verify: s.verify_source,
    }]));
    const delta = this.desired.reconfigure(kernelPorts, this.table);
    return isEmptyDelta(delta) ? [] : [{ kind: 'kernel', delta }];
  }

  // ---- subscriber side ---------------------------------------------------------------

  private fromSubscriber(e: Extract<Event, { kind: 'packet' }>, now: Instant): Action[] {
    const port = this.ports?.port(e.port);
    if (!port) return [];
    const counters = this.counters.get(e.port)!;
    if (!this.limiters.get(e.port)!.admit(now)) return this.dropped(counters, port.cfg.name, 'rate-limit');
    const bytes = trimToIpLength(e.family, e.bytes);
    if (e.family === 4) {
      if (!port.cfg.relay_v4) return this.dropped(counters, port.cfg.name, 'port-disabled');
      const d = ipv4Udp.decode(bytes);
      if (!d.ok) return this.dropped(counters, port.cfg.name, 'malformed', d.error.field);
      if (d.value.udp.destinationPort !== 67) return this.dropped(counters, port.cfg.name, 'not-dhcp');
      const m = dhcp4Message.decode(d.value.udp.payload);
      if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
      return this.clientMessage4(port, counters, e.mac, m.value, now);
    }
    if (!port.cfg.relay_v6) return this.dropped(counters, port.cfg.name, 'port-disabled');
    const d = ipv6Udp.decode(bytes);
    if (!d.ok) return this.dropped(counters, port.cfg.name, 'malformed', d.error.field);
    if (d.value.udp.destinationPort !== 547) return this.dropped(counters, port.cfg.name, 'not-dhcp');
    const m = dhcp6Message.decode(d.value.udp.payload);
    if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
    this.peers.learn(port.cfg.name, d.value.ip.source, e.mac);
    return this.clientMessage6(port, counters, d.value.ip.source, e.mac, d.value.udp.payload, m.value, now);
  }

  private clientMessage4(port: SubscriberPort, counters: PortCounters, mac: Uint8Array, m: Dhcp4Message, now: Instant): Action[] {
    const actions = this.kernel(this.glean(counters, gleanRequest4(port.cfg.name, m, mac), now));
    if (port.cfg.mode !== 'relay') return actions;
    const v = relayRequest4(port, m, this.relayId);
    if (!v.ok) return [...actions, ...this.dropped(counters, port.cfg.name, v.reason)];
    counters.relayed4++;
    const payload = dhcp4Message.encode(v.value);
    for (const server of port.upstream.dhcpv4_server) {
      actions.push({ kind: 'udp-send', family: 4, upstream: port.upstream.name, destination: server, destinationPort: 67, payload });
    }
    return actions;
  }

  private clientMessage6(
    port: SubscriberPort, counters: PortCounters, source: Uint8Array, mac: Uint8Array,
    payload: Uint8Array, m: Dhcp6Message, now: Instant,
  ): Action[] {
    const actions = this.kernel(this.glean(counters, gleanRequest6(port.cfg.name, m, mac), now));
    if (port.cfg.mode !== 'relay') return actions;
    const v = relayForward6({ port, source, mac, payload, message: m, relayId: this.relayId });
    if (!v.ok) return [...actions, ...this.dropped(counters, port.cfg.name, v.reason)];
    counters.relayed6++;
    const bytes = dhcp6Message.encode(v.value);
    const servers = port.upstream.dhcpv6_server.length ? port.upstream.dhcpv6_server : [ALL_DHCP_SERVERS];
    for (const server of servers) {
      actions.push({ kind: 'udp-send', family: 6, upstream: port.upstream.name, destination: server, destinationPort: 547, payload: bytes });
    }
    return actions;
  }

  // ---- server side -------------------------------------------------------------------

  private fromServer(e: Extract<Event, { kind: 'udp' }>, now: Instant): Action[] {
    const ports = this.ports;
    if (!ports) return [];
    if (e.family === 4) {
      if (!ports.isServer4(e.source)) return this.dropped(this.global, null, 'unknown-server');
      const m = dhcp4Message.decode(e.payload);
      if (!m.ok) return this.dropped(this.global, null, 'malformed', m.error.field);
      return e.passive ? this.observed4(ports, m.value, now) : this.serverReply4(ports, m.value, now);
    }
    if (!ports.isServer6(e.source)) return this.dropped(this.global, null, 'unknown-server');
    const m = dhcp6Message.decode(e.payload);
    if (!m.ok) return this.dropped(this.global, null, 'malformed', m.error.field);
    return e.passive ? this.observed6(ports, m.value, now) : this.serverReply6(ports, m.value, now);
  }

  private serverReply4(ports: PortMap, m: Dhcp4Message, now: Instant): Action[] {
    const v = relayReply4(ports, m);
    if (!v.ok) return this.dropped(this.global, null, v.reason);
    const { port, message, destination, destinationMac } = v.value;
    const counters = this.counters.get(port.cfg.name)!;
    counters.replies4++;
    // Glean first: the kernel delta (host route, neighbour) goes out before the reply.
    const actions = this.kernel(this.glean(counters, gleanReply4(port.cfg.name, m, now), now));
    const bytes = udp4Packet(port.cfg.giaddr!, destination, 67, 68, dhcp4Message.encode(message));
    actions.push({ kind: 'link-send', port: port.cfg.name, family: 4, destinationMac, bytes });
    return actions;
  }

  private serverReply6(ports: PortMap, m: Dhcp6Message, now: Instant): Action[] {
    const v = relayReply6(ports, m);
    if (!v.ok) return this.dropped(this.global, null, v.reason);
    const { port, peerAddress, destinationPort, payload, inner } = v.value;
    const name = port.cfg.name;
    const counters = this.counters.get(name)!;
    counters.replies6++;
    const mac = this.peers.lookup(name, peerAddress);
    const actions = this.kernel(this.glean(counters, gleanReply6({
      port: name, linkLocal: linkLocalOrNull(peerAddress), mac, circuitId: port.interfaceId, remoteId: port.remoteIdV6,
    }, inner, now), now));
    const source = this.linkLocal.get(name);
    if (!mac || !source) return [...actions, ...this.dropped(counters, name, 'no-port')];
    const bytes = udp6Packet(source, peerAddress, 547, destinationPort, payload);
    actions.push({ kind: 'link-send', port: name, family: 6, destinationMac: mac, bytes });
    return actions;
  }

  /** Passive mode: another relay's traffic, read only (never answered, never forwarded). */
  private observed4(ports: PortMap, m: Dhcp4Message, now: Instant): Action[] {
    const port = passivePort4(ports, m);
    if (!port) return [];
    const counters = this.counters.get(port.cfg.name)!;
    return this.kernel(this.glean(counters, gleanReply4(port.cfg.name, m, now), now));
  }

  private observed6(ports: PortMap, m: Dhcp6Message, now: Instant): Action[] {
    const found = passivePort6(ports, m, (port, peer) => this.peers.lookup(port, peer) !== null);
    if (!found) return [];
    const { port, relay, inner } = found;
    const name = port.cfg.name;
    return this.kernel(this.glean(this.counters.get(name)!, gleanReply6({
      port: name, linkLocal: linkLocalOrNull(relay.peerAddress), mac: this.peers.lookup(name, relay.peerAddress),
      circuitId: null, remoteId: null,
    }, inner, now), now));
  }

  // ---- bindings → kernel ---------------------------------------------------------------

  private glean(counters: PortCounters, gleans: readonly Glean[], now: Instant): BindingChange[] {
    const changes = applyGleans(this.table, gleans, now);
    for (const c of changes) {
      if (c.kind === 'removed') counters.released++;
      else counters.gleaned++;
    }
    return changes;
  }

  private kernel(changes: readonly BindingChange[]): Action[] {
    const actions: Action[] = [];
    for (const c of changes) {
      const delta = this.desired.apply(c);
      if (!isEmptyDelta(delta)) actions.push({ kind: 'kernel', delta });
      // Renewals are the bulk of the traffic (every client, every T1): debug, so a
      // router with 100k subscribers does not flood logd; new, moved and ended are info.
      actions.push(log(c.kind === 'refreshed' ? 'debug' : 'info', 'bindings', c.kind, describe(c.binding)));
    }
    return actions;
  }

  private dropped(counters: PortCounters, port: string | null, reason: DropReason, field?: string): Action[] {
    countDrop(counters, reason);
    return [log('debug', 'relay', 'dropped', { port: port ?? '-', reason, ...(field ? { field } : {}) },
      `drop:${port ?? '-'}:${reason}`)];
  }

  // ---- inspection ----------------------------------------------------------------------

  status(): Record<string, unknown> {
    const ports: Record<string, unknown> = {};
    for (const [name, c] of this.counters) ports[name] = { ...c, bindings: this.table.portSize(name) };
    return {
      bindings: this.table.size,
      table: this.table.counters,
      kernel: this.desired.counters,
      peers: { size: this.peers.size, evicted: this.peers.evicted },
      unmatched: this.global,
      ports,
    };
  }

  bindings(): Binding[] {
    return [...this.table.entries()];
  }

  /** `gleand bindings`: one stable JSON row per binding. */
  query(what: string, now: Instant): unknown {
    if (what !== 'bindings') return undefined;
    return this.bindings().map((b) => bindingRow(b, now));
  }

  /** The full desired kernel state, for the platform's reconcile (dump → diff → apply). */
  desiredState() {
    return this.desired.state(this.table);
  }
}

const hex = (b: Uint8Array | null) => (b ? formatMac(b) : null); // colon-separated octets, any length

export function bindingRow(b: Binding, now: Instant): Record<string, unknown> {
  return {
    binding: keyOf(b),
    family: b.family,
    kind: b.kind,
    port: b.port,
    mac: b.mac ? formatMac(b.mac) : null,
    clientId: hex(b.clientId),
    ...(b.iaid !== undefined ? { iaid: b.iaid } : {}),
    circuitId: hex(b.circuitId),
    remoteId: hex(b.remoteId),
    via: b.linkLocal ? formatIPv6(b.linkLocal) : null,
    expiresInS: b.validUntil === null ? null : Math.max(0, Math.round((b.validUntil - now) / 1000)),
    source: b.source,
  };
}

export function describe(b: Binding): Record<string, string | number> {
  return {
    binding: keyOf(b),
    port: b.port,
    mac: b.mac ? formatMac(b.mac) : '-',
    ...(b.linkLocal ? { via: formatIPv6(b.linkLocal) } : {}),
    source: b.source,
  };
}

/**
 * A binding's next hop must be a link-local (RFC 4291 §2.5.6; the table refuses
 * anything else, and would then refuse the whole lease).
 */
const linkLocalOrNull = (a: Uint8Array): Uint8Array | null => (isLinkLocal64(a) ? a : null);

