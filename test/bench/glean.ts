/**
 * Decode + relay + glean throughput and binding-table memory, through the real
 * Agent → DhcpModule → bindings owner (the path a server reply takes), on one core.
 *
 *   npx tsx test/bench/glean.ts rate     messages/s for DHCPv4 ACKs and DHCPv6 RELAY-REPL(REPLY IA_NA+IA_PD)
 *   npx tsx --expose-gc test/bench/glean.ts rss   RSS with 100k v4 + 100k v6 bindings vs bare Node
 * Prints numbers; asserts nothing.
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../../src/config/config';
import { parseIPv4, parseIPv6 } from '../../src/wire/address';
import type { Event } from '../../src/events';
import type { Agent } from '../../src/agent';
import { createCore } from '../../src/core';
import { instant } from '../../src/time';
import { dhcp4Message, dhcp6Message, utf8Bytes, type Dhcp6Message } from '../../src/wire';

const CONFIG = `
config global
	option max_bindings '1000000'
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
	list dhcpv6_server '2001:db8::547'
config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option giaddr '10.0.0.1'
	option link_address '2001:db8:1::1'
	option max_bindings '100000'
config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option giaddr '10.0.0.1'
	option link_address '2001:db8:2::1'
	option max_bindings '100000'
`;
const SERVER4 = parseIPv4('192.0.2.67')!;
const SERVER6 = parseIPv6('2001:db8::547')!;

function module(): Agent {
  const r = loadConfig(CONFIG, 'bench');
  if (!r.ok) throw new Error('bench config');
  const m = createCore(instant(0)).agent;
  m.handle({ kind: 'config', config: r.config }, instant(0));
  for (const port of ['lan1', 'lan2']) {
    m.handle({ kind: 'link', port, up: true, mac: new Uint8Array(6), linkLocal: parseIPv6('fe80::1')! }, instant(0));
  }
  return m;
}

const mac = (i: number) => Uint8Array.of(2, 0, (i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);

/** A DHCPACK as the server sends it to giaddr, echoing option 82 (RFC 3046 §2.2). */
function ack(i: number): Event {
  const port = i % 2 === 0 ? 'lan1' : 'lan2';
  const yiaddr = Uint8Array.of(10, 64 + ((i >> 16) & 0x3f), (i >> 8) & 0xff, i & 0xff);
  const circuit = utf8Bytes(port);
  const payload = dhcp4Message.encode({
    op: 2, htype: 1, hlen: 6, hops: 1, xid: i, secs: 0, flags: 0,
    ciaddr: new Uint8Array(4), yiaddr, siaddr: new Uint8Array(4), giaddr: parseIPv4('10.0.0.1')!,
    chaddr: Uint8Array.from([...mac(i), ...new Uint8Array(10)]), sname: new Uint8Array(64), file: new Uint8Array(128),
    options: [
      { code: 53, data: Uint8Array.of(5) }, { code: 54, data: SERVER4 }, { code: 51, data: Uint8Array.of(0, 0, 0x0e, 0x10) },
      { code: 1, data: Uint8Array.of(255, 255, 255, 0) }, { code: 3, data: parseIPv4('10.0.0.1')! },
      { code: 82, data: Uint8Array.from([1, circuit.length, ...circuit]) },
    ],
    trailer: new Uint8Array(0),
  });
  return { kind: 'udp', family: 4, source: SERVER4, sourcePort: 67, destinationPort: 67, payload, passive: false };
}

/** A RELAY-REPL wrapping a REPLY with one IA_NA address and one IA_PD /56 (RFC 8415 §18.3.2). */
function reply6(i: number): Event {
  const port = i % 2 === 0 ? 'lan1' : 'lan2';
  const addr = parseIPv6(`2001:db8:${(1 + (i % 2)).toString(16)}::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`)!;
  const prefix = parseIPv6(`2001:db8:${(0x4000 + (i >> 8)).toString(16)}:${((i & 0xff) << 8).toString(16)}::`)!;
  const ll = parseIPv6(`fe80::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`)!;
  const inner: Dhcp6Message = {
    kind: 'client', msgType: 7, transactionId: i & 0xffffff, options: [
      { kind: 'clientId', duid: Uint8Array.from([0, 3, 0, 1, ...mac(i)]) },
      { kind: 'serverId', duid: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0, 1) },
      { kind: 'iaNa', iaid: 1, t1: 1800, t2: 2880, options: [
        { kind: 'iaAddr', address: addr, preferredLifetime: 3600, validLifetime: 7200, options: [] }] },
      { kind: 'iaPd', iaid: 2, t1: 1800, t2: 2880, options: [
        { kind: 'iaPrefix', preferredLifetime: 3600, validLifetime: 7200, prefixLength: 56, prefix, options: [] }] },
    ],
  };
  const payload = dhcp6Message.encode({
    kind: 'relay', msgType: 13, hopCount: 0, linkAddress: parseIPv6('2001:db8:1::1')!, peerAddress: ll, options: [
      { kind: 'interfaceId', interfaceId: utf8Bytes(port) },
      { kind: 'relayMsg', message: inner },
    ],
  });
  return { kind: 'udp', family: 6, source: SERVER6, sourcePort: 547, destinationPort: 547, payload, passive: false };
}

/**
 * The reference: decoding the same payloads alone (the codec, no relay, no bindings), so
 * the figure says what the relay and glean logic cost on top of parsing the message.
 */
function decodeOnly(family: 4 | 6, events: Event[]): number {
  const codec = family === 4 ? dhcp4Message : dhcp6Message;
  const t0 = performance.now();
  let ok = 0;
  for (const e of events) if (e.kind === 'udp' && codec.decode(e.payload).ok) ok++;
  const ms = performance.now() - t0;
  if (ok !== events.length) throw new Error('bench: a payload did not decode');
  return (events.length / ms) * 1000;
}

function rate(): void {
  for (const [name, make, n, family] of [['DHCPv4 ACK', ack, 100_000, 4], ['DHCPv6 REPLY (IA_NA+IA_PD)', reply6, 50_000, 6]] as const) {
    const events = Array.from({ length: n }, (_, i) => make(i));
    decodeOnly(family, events.slice(0, 5000)); // warm the codec up as the full path warms up on its first messages
    const reference = decodeOnly(family, events);
    const m = module();
    const t0 = performance.now();
    let actions = 0;
    for (let i = 0; i < n; i++) actions += m.handle(events[i]!, instant(1)).length;
    const ms = performance.now() - t0;
    const bindings = (m.status(instant(1))['modules'] as { bindings: { bindings: number } }).bindings.bindings;
    const full = (n / ms) * 1000;
    console.log(`${name.padEnd(28)} ${Math.round(full).toLocaleString('en').padStart(9)} msg/s  (${n} messages, ${bindings} bindings, ${actions} actions); ` +
      `reference: decode alone ${Math.round(reference).toLocaleString('en')} msg/s — the full path costs ${(reference / full).toFixed(1)}× decoding`);
  }
}

function rss(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  gc?.();
  const bare = process.memoryUsage.rss();
  const before = process.memoryUsage();
  const m = module();
  // Peak RSS while the bindings arrive (sampled every 1,000 messages): the burst the
  // target bounds, not only what stays after a GC.
  let peak = 0;
  const sample = (i: number) => {
    if (i % 1000 === 0) peak = Math.max(peak, process.memoryUsage.rss());
  };
  for (let i = 0; i < 100_000; i++) {
    m.handle(ack(i), instant(1));
    sample(i);
  }
  for (let i = 0; i < 50_000; i++) {
    m.handle(reply6(i), instant(1));
    sample(i);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  gc?.();
  const after = process.memoryUsage.rss();
  const mem = process.memoryUsage();
  const d = (k: 'heapUsed' | 'heapTotal' | 'arrayBuffers') => mib(mem[k] - before[k]);
  console.log(`heapUsed +${d('heapUsed')} (heapTotal +${d('heapTotal')}), arrayBuffers +${d('arrayBuffers')}`);
  const n = (m.status(instant(1))['modules'] as { bindings: { bindings: number } }).bindings.bindings;
  console.log(`RSS before ${mib(bare)}, with ${n} bindings (100k v4, 50k v6 addresses + 50k PD) ${mib(after)}: +${mib(after - bare)} (target ≤ +20 MiB); peak during the burst +${mib(peak - bare)} (target ≤ +40 MiB)`);
}

if (process.argv[2] === 'rss') rss();
else rate();
