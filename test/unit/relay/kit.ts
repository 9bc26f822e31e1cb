/**
 * Script kit for the DHCP module (CONVENTIONS 9): a config, packets built with the
 * wire codecs, and helpers that pick actions apart so tests can assert exact lists.
 */
import { expect } from 'vitest';
import type { Action } from '../../../src/actions';
import { loadConfig, formatProblem, type Config } from '../../../src/config/config';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';
import type { KernelDelta } from '../../../src/kernel/entries';
import type { Agent } from '../../../src/agent';
import type { Binding } from '../../../src/bindings/binding';
import type { Bindings } from '../../../src/bindings/owner';
import { createCore } from '../../../src/core';
import type { Event } from '../../../src/events';
import type { KernelState } from '../../../src/kernel/entries';
import type { DhcpModule } from '../../../src/relay/module';
import { addMs, instant, type Instant } from '../../../src/time';
import {
  dhcp4Message, dhcp6Message, ipv4Udp, ipv6Udp, IPPROTO_UDP,
  type Dhcp4Message, type Dhcp4RawOption, type Dhcp6ClientMessage, type Dhcp6Message, type Dhcp6Option,
} from '../../../src/wire';

export const v4 = (t: string): Uint8Array => parseIPv4(t)!;
export const v6 = (t: string): Uint8Array => parseIPv6(t)!;
export const macOf = (n: number): Uint8Array => Uint8Array.of(0x02, 0, 0, 0, (n >> 8) & 0xff, n & 0xff);
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export const T0 = instant(1_000_000);
export const at = (ms: number): Instant => addMs(T0, ms);

export const SERVER4 = v4('192.0.2.67');
export const SERVER6 = v6('2001:db8::547');
export const GIADDR = v4('198.51.100.1');
export const LINK_ADDRESS = v6('2001:db8:1::1');
export const PORT_LL = v6('fe80::1');
export const PORT_MAC = Uint8Array.of(0x02, 0xaa, 0, 0, 0, 1);
export const RELAY_ID = Uint8Array.of(0, 3, 0, 1, 0x02, 0xaa, 0, 0, 0, 0xfe);

export const BASE_CONFIG = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
	list dhcpv4_server '192.0.2.68'
	list dhcpv6_server '2001:db8::547'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option link_address '2001:db8:1::1'
	option remote_id 'sub-1'
	option remote_id_v6 'sub-1-v6'
	option enterprise_number '9'
	option max_hops '4'
	option rate_limit '50'
	list subnet4 '198.51.100.0/24'

config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option link_address '2001:db8:2::1'
	option trusted '1'
	list subnet4 '198.51.100.0/24'

# The relay's scripts assert every action and deadline: no bulk leasequery run at start
# (test/unit/leasequery/bulk*.test.ts script that one).
config leasequery
	option bulk '0'
`;

export function config(text = BASE_CONFIG): Config {
  const r = loadConfig(text, 'test');
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.config;
}

/**
 * The core as the daemon composes it (Agent, bindings owner, DHCP module), with the
 * reads the tests make: the table's bindings, the desired kernel state, the DHCP status.
 */
export class Core {
  readonly agent: Agent;
  readonly owner: Bindings;
  readonly dhcp: DhcpModule;

  constructor(now: Instant = T0) {
    const c = createCore(now);
    this.agent = c.agent;
    this.owner = c.bindings;
    this.dhcp = c.dhcp;
  }

  handle(e: Event, now: Instant): Action[] {
    return this.agent.handle(e, now);
  }

  poll(now: Instant): Action[] {
    return this.agent.poll(now);
  }

  nextDeadline(): Instant | null {
    return this.agent.nextDeadline();
  }

  bindings(): Binding[] {
    return [...this.owner.entries()];
  }

  desiredState(): Required<KernelState> {
    return this.agent.desiredState() as Required<KernelState>;
  }

  status(): Record<string, unknown> {
    return this.dhcp.status();
  }
}

/** A core that has its config, its identity and its ports' links. */
export function started(text = BASE_CONFIG, relayId: Uint8Array | null = RELAY_ID): Core {
  const m = new Core();
  expect(m.handle({ kind: 'config', config: config(text) }, T0)).toEqual([]);
  if (relayId) expect(m.handle({ kind: 'identity', relayId }, T0)).toEqual([]);
  for (const port of config(text).subscribers.map((s) => s.name)) {
    expect(m.handle({ kind: 'link', port, up: true, mac: PORT_MAC, linkLocal: PORT_LL }, T0)).toEqual([]);
  }
  return m;
}

// ---- DHCPv4 -------------------------------------------------------------------------

export const DISCOVER = 1, OFFER = 2, REQUEST = 3, DECLINE = 4, ACK = 5, NAK = 6, RELEASE = 7;

const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
export const opt = (code: number, data: ArrayLike<number>): Dhcp4RawOption => ({ code, data: Uint8Array.from(data) });
export const typeOpt = (t: number) => opt(53, [t]);
export const leaseOpt = (s: number) => opt(51, u32(s));

export function bootp(fields: Partial<Dhcp4Message> & { mac?: Uint8Array }): Dhcp4Message {
  const chaddr = new Uint8Array(16);
  chaddr.set(fields.mac ?? macOf(1));
  const z = () => new Uint8Array(4);
  const { mac: _mac, ...rest } = fields;
  return {
    op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x1234, secs: 0, flags: 0,
    ciaddr: z(), yiaddr: z(), siaddr: z(), giaddr: z(), chaddr,
    sname: new Uint8Array(64), file: new Uint8Array(128), options: [], trailer: new Uint8Array(0),
    ...rest,
  };
}

/** A client's DHCPv4 message padded to the BOOTP minimum of 300 bytes, as clients send. */
export function client4(type: number, mac: Uint8Array, extra: Partial<Dhcp4Message> = {}, options: Dhcp4RawOption[] = []): Dhcp4Message {
  const m = bootp({ mac, options: [typeOpt(type), ...options], ...extra });
  const len = dhcp4Message.encodingLength(m);
  return { ...m, trailer: new Uint8Array(Math.max(0, 300 - len)) };
}

export function ipv4Packet(source: Uint8Array, destination: Uint8Array, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return ipv4Udp.encode({
    ip: { tos: 0, identification: 7, flags: 0, fragmentOffset: 0, ttl: 64, protocol: IPPROTO_UDP, source, destination, options: new Uint8Array(0) },
    udp: { sourcePort: sport, destinationPort: dport, payload },
  });
}

export function packet4(port: string, mac: Uint8Array, m: Dhcp4Message, source: Uint8Array = new Uint8Array(4)) {
  const bytes = ipv4Packet(source, v4('255.255.255.255'), 68, 67, dhcp4Message.encode(m));
  return { kind: 'packet' as const, port, family: 4 as const, bytes, mac, checksum: 'check' as const, outgoing: false };
}

export function udp4(payload: Uint8Array, source: Uint8Array = SERVER4, passive = false) {
  return { kind: 'udp' as const, family: 4 as const, source, sourcePort: 67, destinationPort: 67, payload, passive };
}

/** What a server answers to a relayed request: a BOOTREPLY echoing giaddr and option 82. */
export function serverReply4(relayed: Dhcp4Message, type: number, yiaddr: Uint8Array, options: Dhcp4RawOption[] = []): Dhcp4Message {
  const echoed = relayed.options.filter((o) => o.code === 82);
  return {
    ...relayed, op: 2, hops: 0, yiaddr, trailer: new Uint8Array(0),
    options: [typeOpt(type), opt(54, SERVER4), ...options, ...echoed],
  };
}

export function decode4(bytes: Uint8Array): Dhcp4Message {
  const d = dhcp4Message.decode(bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return d.value;
}

// ---- DHCPv6 -------------------------------------------------------------------------

export const SOLICIT = 1, ADVERTISE = 2, REQUEST6 = 3, RENEW6 = 5, REPLY = 7, RELEASE6 = 8;
export const ALL_RELAYS_AND_SERVERS = v6('ff02::1:2');

export const duidOf = (n: number): Uint8Array => Uint8Array.of(0, 3, 0, 1, ...macOf(n));

export function client6(msgType: number, duid: Uint8Array, options: Dhcp6Option[] = []): Dhcp6ClientMessage {
  return { kind: 'client', msgType, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid }, ...options] };
}

export const iaNa = (iaid: number, addr?: Uint8Array, valid = 3600): Dhcp6Option => ({
  kind: 'iaNa', iaid, t1: 0, t2: 0,
  options: addr ? [{ kind: 'iaAddr', address: addr, preferredLifetime: valid, validLifetime: valid, options: [] }] : [],
});
export const iaPd = (iaid: number, prefix?: Uint8Array, len = 56, valid = 7200): Dhcp6Option => ({
  kind: 'iaPd', iaid, t1: 0, t2: 0,
  options: prefix ? [{ kind: 'iaPrefix', preferredLifetime: valid, validLifetime: valid, prefixLength: len, prefix, options: [] }] : [],
});

export function ipv6Packet(source: Uint8Array, destination: Uint8Array, sport: number, dport: number, payload: Uint8Array): Uint8Array {
  return ipv6Udp.encode({
    ip: { trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_UDP, hopLimit: 1, source, destination },
    udp: { sourcePort: sport, destinationPort: dport, payload },
  });
}

export function packet6(port: string, mac: Uint8Array, source: Uint8Array, payload: Uint8Array, sport = 546) {
  const bytes = ipv6Packet(source, ALL_RELAYS_AND_SERVERS, sport, 547, payload);
  return { kind: 'packet' as const, port, family: 6 as const, bytes, mac, checksum: 'check' as const, outgoing: false };
}

export function udp6(payload: Uint8Array, source: Uint8Array = SERVER6, passive = false) {
  return { kind: 'udp' as const, family: 6 as const, source, sourcePort: 547, destinationPort: 547, payload, passive };
}

export function relayRepl(interfaceId: Uint8Array | null, peerAddress: Uint8Array, inner: Dhcp6Message, linkAddress: Uint8Array = LINK_ADDRESS): Uint8Array {
  const options: Dhcp6Option[] = [];
  if (interfaceId) options.push({ kind: 'interfaceId', interfaceId });
  options.push({ kind: 'relayMsg', message: inner });
  return dhcp6Message.encode({ kind: 'relay', msgType: 13, hopCount: 0, linkAddress, peerAddress, options });
}

export function decode6(bytes: Uint8Array): Dhcp6Message {
  const d = dhcp6Message.decode(bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return d.value;
}

// ---- actions ------------------------------------------------------------------------

/**
 * Action kinds in order, without the snapshot journal's records (every binding change
 * has one right after its kernel delta; test/unit/bindings/owner.test.ts asserts them).
 */
export const kinds = (as: readonly Action[]): string[] => as.filter((a) => a.kind !== 'journal').map((a) => a.kind);
export const only = <K extends Action['kind']>(as: readonly Action[], kind: K): Extract<Action, { kind: K }>[] =>
  as.filter((a) => a.kind === kind) as Extract<Action, { kind: K }>[];
/** Actions without log lines and journal records (asserted separately where they matter). */
export const quiet = (as: readonly Action[]): Action[] => as.filter((a) => a.kind !== 'log' && a.kind !== 'journal');

export function delta(parts: {
  routes?: Partial<KernelDelta['routes']>; neighbours?: Partial<KernelDelta['neighbours']>; verifies?: Partial<KernelDelta['verifies']>;
  mroutes?: Partial<KernelDelta['mroutes']>; diverts?: Partial<KernelDelta['diverts']>;
}): Action {
  const e = <T>(p: Partial<{ add: T[]; remove: T[]; replace: T[] }> = {}) => ({ add: p.add ?? [], remove: p.remove ?? [], replace: p.replace ?? [] });
  return { kind: 'kernel', delta: { routes: e(parts.routes), neighbours: e(parts.neighbours), verifies: e(parts.verifies), mroutes: e(parts.mroutes), diverts: e(parts.diverts) } };
}

export const dropLog = (port: string, reason: string, field?: string): Action => ({
  kind: 'log', level: 'debug', subsystem: 'relay', message: 'dropped',
  fields: { port, reason, ...(field ? { field } : {}) }, key: `drop:${port}:${reason}`,
});

export function portStatus(m: Core, port: string): { dropped: Record<string, number>; bindings: number; [k: string]: unknown } {
  return (m.status()['ports'] as Record<string, never>)[port]!;
}
