import { log, type Action } from '../actions';
import { keyOf, type Binding } from '../bindings/binding';
import type { Glean } from '../bindings/glean';
import { gleanReply4, gleanRequest4 } from '../bindings/glean4';
import { gleanReply6, gleanRequest6 } from '../bindings/glean6';
import type { BindingWriter } from '../bindings/owner';
import { isLinkLocal64 } from '../bindings/validate';
import type { Config } from '../config/config';
import type { Event } from '../events';
import type { Claim, Module } from '../module';
import type { Instant } from '../time';
import { formatIPv6, formatMac } from '../wire/address';
import { dhcp4Message, dhcp6Message, ipv4Udp, ipv4UdpUnverified, ipv6Udp, ipv6UdpUnverified, type Dhcp4Message, type Dhcp6Message } from '../wire';
import { countDrop, countGleanFailed, newPortCounters, RateLimiter, type PortCounters } from './counters';
import { deliveredReply4Length, relayReply4, relayRequest4Bytes, writeDeliveredReply4 } from './dhcp4';
import { relayForward6, relayReply6 } from './dhcp6';
import type { DropReason } from './drop';
import { trimToIpLength, udp4PacketWith, udp6Packet } from './frames';
import { PeerCache } from './peers';
import { ALL_DHCP_SERVERS, PortMap, type SubscriberPort } from './ports';
import { passivePort4, passivePort6 } from './passive';
import { renewals4, renewals6 } from './unicast';
import { foreignRelease4, foreignRelease6 } from './release-guard';
import { Transactions6, transactionIdOf } from './transactions';

const PEER_CACHE_SIZE = 65536;
/** Open DHCPv6 transactions: 65,536 cover 2 s of requests at 30k/s, while a server answers in ms. */
const TRANSACTIONS_SIZE = 65536;

/** RFC 8415 §7.3: the server messages that answer no request of the client. */
const RECONFIGURE = 10;
const RELAY_REPL = 13;

/**
 * The DHCP data path: relays DHCPv4/DHCPv6 for the subscriber ports and gleans every
 * binding from what it relays (or, on passive ports, from what another relay sends)
 * into the bindings owner. It takes every DHCP frame of the subscriber ports and every
 * server-side datagram that another module does not claim by message type.
 */
export class DhcpModule implements Module {
  readonly name = 'dhcp';
  readonly claims: readonly Claim[] = [
    { kind: 'config' }, { kind: 'identity' }, { kind: 'link' },
    { kind: 'packet', family: 4 }, { kind: 'packet', family: 6 },
    { kind: 'udp', family: 4, passive: false }, { kind: 'udp', family: 6, passive: false },
    { kind: 'udp', family: 4, passive: true }, { kind: 'udp', family: 6, passive: true },
  ];
  private ports: PortMap | null = null;
  private relayId: Uint8Array | null = null;
  private readonly peers = new PeerCache(PEER_CACHE_SIZE);
  private readonly transactions = new Transactions6(TRANSACTIONS_SIZE);
  private readonly linkLocal = new Map<string, Uint8Array | null>();
  private readonly counters = new Map<string, PortCounters>();
  private readonly limiters = new Map<string, RateLimiter>();
  private readonly global = newPortCounters();

  /** `bindings`: the owner every glean is written through. */
  constructor(private readonly bindings: BindingWriter) {}

  handle(event: Event, now: Instant): Action[] {
    switch (event.kind) {
      case 'config': return this.configure(event.config);
      case 'identity': this.relayId = event.relayId; return [];
      case 'link': this.linkLocal.set(event.port, event.linkLocal); return [];
      case 'packet': return this.fromSubscriber(event, now);
      case 'udp': return this.fromServer(event, now);
      case 'restore': return []; // not claimed: the bindings owner's
      case 'leasequery': return []; // not claimed: the leasequery module's
      case 'recover': case 'tcp': return []; // not claimed: the bulk module's
      case 'on-demand': return []; // not claimed: the leasequery module's
      case 'multicast': case 'mroute-miss': return []; // not claimed: the multicast router's
      case 'paging': case 'dormant': return []; // not claimed: the paging module's
    }
  }

  /** Nothing timed: lease expiry belongs to the bindings owner. */
  poll(): Action[] {
    return [];
  }

  nextDeadline(): Instant | null {
    return null;
  }

  // ---- configuration ---------------------------------------------------------------

  private configure(config: Config): Action[] {
    this.ports = new PortMap(config);
    for (const s of config.subscribers) {
      if (!this.counters.has(s.name)) this.counters.set(s.name, newPortCounters());
      const limiter = this.limiters.get(s.name);
      if (limiter) limiter.setRate(s.rate_limit);
      else this.limiters.set(s.name, new RateLimiter(s.rate_limit));
    }
    return [];
  }

  // ---- subscriber side ---------------------------------------------------------------

  private fromSubscriber(e: Extract<Event, { kind: 'packet' }>, now: Instant): Action[] {
    const port = this.ports?.port(e.port);
    if (!port) return [];
    const counters = this.counters.get(e.port)!;
    if (!this.limiters.get(e.port)!.admit(now)) return this.dropped(counters, port.cfg.name, 'rate-limit');
    const bytes = trimToIpLength(e.family, e.bytes);
    // A client on a veth/tap with tx offload sends an unfinished UDP checksum; the
    // kernel marks it (and frames it verified), and only the rest are checked here.
    // Nothing relays these checksum bytes: requests leave as new UDP datagrams.
    const verify = e.checksum === 'check';
    if (e.family === 4) {
      if (!port.cfg.relay_v4) return this.dropped(counters, port.cfg.name, 'port-disabled');
      const d = (verify ? ipv4Udp : ipv4UdpUnverified).decode(bytes);
      if (!d.ok) return this.dropped(counters, port.cfg.name, 'malformed', d.error.field);
      if (e.outgoing) return this.leaving4(port, counters, d.value.ip.source, d.value.ip.destination, d.value.udp, now);
      if (d.value.udp.destinationPort !== 67) return this.dropped(counters, port.cfg.name, 'not-dhcp');
      const m = dhcp4Message.decode(d.value.udp.payload);
      if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
      return this.clientMessage4(port, counters, e.mac, d.value.udp.payload, m.value, now);
    }
    if (!port.cfg.relay_v6) return this.dropped(counters, port.cfg.name, 'port-disabled');
    const d = (verify ? ipv6Udp : ipv6UdpUnverified).decode(bytes);
    if (!d.ok) return this.dropped(counters, port.cfg.name, 'malformed', d.error.field);
    if (e.outgoing) return this.leaving6(port, counters, d.value.ip.source, d.value.udp, now);
    if (d.value.udp.destinationPort !== 547) return this.dropped(counters, port.cfg.name, 'not-dhcp');
    const m = dhcp6Message.decode(d.value.udp.payload);
    if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
    const source = d.value.ip.source;
    const previous = this.peers.learn(port.cfg.name, source, e.mac, now);
    const actions = this.clientMessage6(port, counters, source, e.mac, d.value.udp.payload, m.value, now);
    return previous ? [...this.peerConflict(counters, port.cfg.name, source, e.mac, previous), ...actions] : actions;
  }

  /**
   * On a relay-mode port every client message the packet socket reads is the relay's,
   * whatever its destination: broadcast (RFC 2131 §4.1, RFC 8415 §19 to ff02::1:2) or
   * unicast to a server — a renewal (RFC 2131 §4.3.2, RFC 8415 §18.2.10) or a DHCPRELEASE,
   * which clients always unicast (RFC 2131 §4.4.4). The verify chain drops all of it on
   * those ports (platform/nft/ruleset.ts), so this is the one path: the DHCP-snooping
   * model, where an untrusted port's DHCP is intercepted and validated (RFC 3046 §2.1)
   * before it reaches a server — once, with option 82 / Interface-ID, past the
   * RELEASE/DECLINE guard — and its answer comes back through the relay to be gleaned.
   * On a passive port another relay forwards; gleand only reads.
   */
  private clientMessage4(
    port: SubscriberPort, counters: PortCounters, mac: Uint8Array, bytes: Uint8Array, m: Dhcp4Message, now: Instant,
  ): Action[] {
    if (port.cfg.mode !== 'relay') return this.glean(counters, gleanRequest4(port.cfg.name, m, mac), now);
    const foreign = foreignRelease4(port, m, mac, this.findBinding);
    if (foreign) return this.foreignRelease(counters, port.cfg.name, mac, foreign);
    const actions = this.glean(counters, gleanRequest4(port.cfg.name, m, mac), now);
    const v = relayRequest4Bytes(port, m, bytes, this.relayId);
    if (!v.ok) return [...actions, ...this.dropped(counters, port.cfg.name, v.reason)];
    counters.relayed4++;
    const payload = v.value;
    for (const server of port.upstream.dhcpv4_server) {
      actions.push({ kind: 'udp-send', family: 4, upstream: port.upstream.name, destination: server, destinationPort: 67, payload });
    }
    return actions;
  }

  private clientMessage6(
    port: SubscriberPort, counters: PortCounters, source: Uint8Array, mac: Uint8Array,
    payload: Uint8Array, m: Dhcp6Message, now: Instant,
  ): Action[] {
    const name = port.cfg.name;
    const relaying = port.cfg.mode === 'relay';
    const v = relaying ? relayForward6({ port, source, mac, payload, message: m, relayId: this.relayId }) : null;
    if (v && !v.ok) return this.dropped(counters, name, v.reason);
    // The reply to this request goes to this MAC, whoever sends from `source` meanwhile.
    if (m.kind === 'client' && this.transactions.open(name, source, m.transactionId, mac, now) === 'conflict') {
      return this.dropped(counters, name, 'transaction-conflict');
    }
    if (relaying) {
      const foreign = foreignRelease6(port, m, mac, this.findBinding);
      if (foreign) return this.foreignRelease(counters, name, mac, foreign);
    }
    const actions = this.glean(counters, gleanRequest6(name, m, mac), now);
    if (!v) return actions;
    counters.relayed6++;
    const bytes = dhcp6Message.encode(v.value);
    const servers = port.upstream.dhcpv6_server.length ? port.upstream.dhcpv6_server : [ALL_DHCP_SERVERS];
    for (const server of servers) {
      actions.push({ kind: 'udp-send', family: 6, upstream: port.upstream.name, destination: server, destinationPort: 547, payload: bytes });
    }
    return actions;
  }

  // ---- server replies leaving a subscriber port (not through the relay) ---------------

  /**
   * A frame the router sends out of a port, UDP 67 → 68 (the packet filter passes no
   * other): on a passive port a server's unicast DHCPACK to a renewing client (which the
   * kernel forwarded), or another relay's reply. On a relay port renewals go through the
   * relay, so this is only a second path. Only a configured `dhcpv4_server` is believed,
   * and then only to renew what it names of this port's bindings (unicast.ts).
   */
  private leaving4(port: SubscriberPort, counters: PortCounters, source: Uint8Array, destination: Uint8Array,
    udp: { sourcePort: number; destinationPort: number; payload: Uint8Array }, now: Instant): Action[] {
    if (udp.sourcePort !== 67 || udp.destinationPort !== 68 || !this.ports!.isServer4(source)) {
      return this.notFromServer(counters, port.cfg.name);
    }
    const m = dhcp4Message.decode(udp.payload);
    if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
    counters.unicastReplies++;
    return this.renew(counters, port.cfg.name, renewals4(port.cfg.name, m.value, destination, now), now);
  }

  /** The same for DHCPv6: UDP 547 → 546 from a configured `dhcpv6_server` (not any source). */
  private leaving6(port: SubscriberPort, counters: PortCounters, source: Uint8Array,
    udp: { sourcePort: number; destinationPort: number; payload: Uint8Array }, now: Instant): Action[] {
    if (udp.sourcePort !== 547 || udp.destinationPort !== 546 || !this.ports!.isConfiguredServer6(source)) {
      return this.notFromServer(counters, port.cfg.name);
    }
    const m = dhcp6Message.decode(udp.payload);
    if (!m.ok) return this.dropped(counters, port.cfg.name, 'malformed', m.error.field);
    counters.unicastReplies++;
    return this.renew(counters, port.cfg.name, renewals6(port.cfg.name, m.value, now), now);
  }

  private renew(counters: PortCounters, port: string, gleans: readonly Glean[], now: Instant): Action[] {
    const { changes, actions } = this.bindings.write(gleans, now);
    for (const c of changes) {
      if (c.kind === 'removed') counters.released++;
      else counters.unicastRenewed++;
    }
    if (changes.length === 0) {
      counters.unicastUnmatched++;
      actions.push(log('debug', 'relay', 'unicast reply renews no binding of the port', { port }, `unicast-unmatched:${port}`));
    }
    return actions;
  }

  /** Not a server's reply: another relay's answer (passive mode) or a forgery. Read no further. */
  private notFromServer(counters: PortCounters, port: string): Action[] {
    counters.unicastNotServer++;
    return [log('debug', 'relay', 'outgoing reply not from a configured server', { port }, `unicast-not-server:${port}`)];
  }

  // ---- server side -------------------------------------------------------------------

  private fromServer(e: Extract<Event, { kind: 'udp' }>, now: Instant): Action[] {
    const ports = this.ports;
    if (!ports) return [];
    if (e.family === 4) {
      if (!ports.isServer4(e.source)) return this.dropped(this.global, null, 'unknown-server');
      const m = dhcp4Message.decode(e.payload);
      if (!m.ok) return this.dropped(this.global, null, 'malformed', m.error.field);
      return e.passive ? this.observed4(ports, m.value, now) : this.serverReply4(ports, e.payload, m.value, now);
    }
    if (!ports.isServer6(e.source)) return this.dropped(this.global, null, 'unknown-server');
    const m = dhcp6Message.decode(e.payload);
    if (!m.ok) return this.dropped(this.global, null, 'malformed', m.error.field);
    return e.passive ? this.observed6(ports, m.value, now) : this.serverReply6(ports, m.value, now);
  }

  private serverReply4(ports: PortMap, payload: Uint8Array, m: Dhcp4Message, now: Instant): Action[] {
    const v = relayReply4(ports, m);
    if (!v.ok) return this.dropped(this.global, null, v.reason);
    const { port, destination, destinationMac } = v.value;
    const counters = this.counters.get(port.cfg.name)!;
    counters.replies4++;
    // Glean first: the kernel delta (host route, neighbour, verify entry) precedes the
    // reply in the action list, and the platform completes it before sending the reply.
    const actions = this.glean(counters, gleanReply4(port.cfg.name, m, now), now);
    // The server's bytes go into the frame once, option 82 left out (RFC 3046 §2.2).
    const bytes = udp4PacketWith(port.cfg.giaddr!, destination, 67, 68, deliveredReply4Length(m),
      (frame, at) => writeDeliveredReply4(payload, m, frame, at));
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
    const mac = this.clientMac(name, peerAddress, payload, now);
    // RFC 8415 §19.2: the reply is delivered as the server sent it even when it cannot
    // be read; that is only counted, since nothing could be gleaned from it.
    const actions = inner.ok ? this.glean(counters, gleanReply6({
      port: name, linkLocal: linkLocalOrNull(peerAddress), mac, circuitId: port.interfaceId, remoteId: port.remoteIdV6,
    }, inner.value, now), now) : countGleanFailed(counters, name, inner.error.field);
    const source = this.linkLocal.get(name);
    if (!source) return [...actions, ...this.dropped(counters, name, 'no-port')];
    if (!mac) return [...actions, ...this.dropped(counters, name, answersRequest(payload) ? 'no-transaction' : 'no-port')];
    const bytes = udp6Packet(source, peerAddress, 547, destinationPort, payload);
    actions.push({ kind: 'link-send', port: name, family: 6, destinationMac: mac, bytes });
    return actions;
  }

  /** Passive mode: another relay's traffic, read only (never answered, never forwarded). */
  private observed4(ports: PortMap, m: Dhcp4Message, now: Instant): Action[] {
    const port = passivePort4(ports, m);
    if (!port) return [];
    const counters = this.counters.get(port.cfg.name)!;
    return this.glean(counters, gleanReply4(port.cfg.name, m, now), now);
  }

  private observed6(ports: PortMap, m: Dhcp6Message, now: Instant): Action[] {
    const found = passivePort6(ports, m, (port, peer) => this.peers.lookup(port, peer) !== null);
    if (!found) return [];
    const { port, relay, inner } = found;
    const name = port.cfg.name;
    if (!inner.ok) return countGleanFailed(this.counters.get(name)!, name, inner.error.field);
    const reply = inner.value;
    // Another relay's reply: bound to the MAC of the request it answers, as our own are.
    const mac = reply.kind === 'client' ? this.transactions.macFor(name, relay.peerAddress, reply.transactionId, now) : null;
    return this.glean(this.counters.get(name)!, gleanReply6({
      port: name, linkLocal: linkLocalOrNull(relay.peerAddress), mac, circuitId: null, remoteId: null,
    }, reply, now), now);
  }

  /**
   * The MAC a server's message for `peer` goes to. An answer to a client's request
   * (ADVERTISE, REPLY: RFC 8415 §18.3.9–§18.3.10 copy the request's transaction-id) goes
   * to the MAC that sent that request, and a lease in it is bound to that MAC: never
   * to whoever last sent a frame from the same link-local (transactions.ts). Only what
   * answers no request — RECONFIGURE (§18.3.11), a RELAY-REPL for a lower relay (§19.2)
   * — goes by the peer cache; nothing is gleaned from those.
   */
  private clientMac(port: string, peer: Uint8Array, payload: Uint8Array, now: Instant): Uint8Array | null {
    if (!answersRequest(payload)) return this.peers.lookup(port, peer);
    const txid = transactionIdOf(payload);
    return txid === null ? null : this.transactions.macFor(port, peer, txid, now);
  }

  // ---- gleaning ------------------------------------------------------------------------

  /** Write what was read into the bindings owner; its kernel deltas and logs come first. */
  private glean(counters: PortCounters, gleans: readonly Glean[], now: Instant): Action[] {
    if (gleans.length === 0) return [];
    const { changes, actions } = this.bindings.write(gleans, now);
    for (const c of changes) {
      if (c.kind === 'removed') counters.released++;
      else counters.gleaned++;
    }
    return actions;
  }

  private readonly findBinding = (family: 4 | 6, address: Uint8Array, prefixLength: number) =>
    this.bindings.find(family, address, prefixLength);

  /** DHCP snooping: a RELEASE / DECLINE for another client's binding is not relayed (release-guard.ts). */
  private foreignRelease(counters: PortCounters, port: string, mac: Uint8Array, owner: Binding): Action[] {
    countDrop(counters, 'foreign-release');
    return [log('warn', 'relay', 'dropped a RELEASE/DECLINE for another client\'s binding', {
      port, mac: formatMac(mac), binding: keyOf(owner), owner: owner.port, ownerMac: owner.mac ? formatMac(owner.mac) : '-',
    }, `foreign-release:${port}`)];
  }

  /**
   * A DHCPv6 client address seen from a second MAC on a port: two stations claim one
   * link-local (a copied address, or a client whose MAC changed). Counted and logged;
   * replies still go by transaction, and bindings keep their MAC (owner.ts).
   */
  private peerConflict(counters: PortCounters, port: string, address: Uint8Array, mac: Uint8Array, previous: Uint8Array): Action[] {
    counters.peerConflicts++;
    return [log('warn', 'relay', 'link-local seen from two MACs', {
      port, address: formatIPv6(address), mac: formatMac(mac), previous: formatMac(previous),
    }, `peer-conflict:${port}`)];
  }

  private dropped(counters: PortCounters, port: string | null, reason: DropReason, field?: string): Action[] {
    countDrop(counters, reason);
    return [log('debug', 'relay', 'dropped', { port: port ?? '-', reason, ...(field ? { field } : {}) },
      `drop:${port ?? '-'}:${reason}`)];
  }

  // ---- inspection ----------------------------------------------------------------------

  status(): Record<string, unknown> {
    const ports: Record<string, unknown> = {};
    for (const [name, c] of this.counters) ports[name] = { ...c, bindings: this.bindings.portSize(name) };
    // `bindings`, `table` and `kernel` are the owner's (modules.bindings); repeated here
    // because `status --json` keys are only ever added, never moved.
    const owner = this.bindings.status();
    return {
      bindings: owner['bindings'],
      table: owner['table'],
      kernel: owner['kernel'],
      peers: { size: this.peers.size, evicted: this.peers.evicted },
      transactions: { size: this.transactions.size, evicted: this.transactions.evicted },
      unmatched: this.global,
      ports,
    };
  }
}

/**
 * A binding's next hop must be a link-local (RFC 4291 §2.5.6; the table refuses
 * anything else, and would then refuse the whole lease).
 */
const linkLocalOrNull = (a: Uint8Array): Uint8Array | null => (isLinkLocal64(a) ? a : null);

/** Every server message but RECONFIGURE and a nested RELAY-REPL answers a client's request (msg-type: first octet). */
const answersRequest = (payload: Uint8Array): boolean => payload[0] !== RECONFIGURE && payload[0] !== RELAY_REPL;
