// Location on demand (seed 003 §1, §4.1; issue 8 item 3) through the Agent, as scripts
// against time: `on-demand` events (what the kernel copies over NFLOG) in, exact actions
// out; the servers' answers built with the wire codec.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { HeldPackets, forwardCopy, readAddresses } from '../../../src/leasequery/held';
import { UPSTREAM_BURST } from '../../../src/leasequery/on-demand';
import type { Instant } from '../../../src/time';
import { internetChecksum, pseudoHeaderSum } from '../../../src/wire/checksum';
import { dhcp4Message, type Dhcp4Message, type Dhcp4RawOption } from '../../../src/wire';
import { BASE_CONFIG, SERVER4, T0, at, config, ipv4Packet, macOf, opt, typeOpt, udp4, utf8, v4 } from '../relay/kit';

/** One server (no waiting for a second one), both ports on demand, one shared subnet. */
const ON_DEMAND = BASE_CONFIG
  .replace("\tlist dhcpv4_server '192.0.2.68'\n", '')
  .replace(/list subnet4 '198.51.100.0\/24'/g, "list subnet4 '198.51.100.0/24'\n\toption on_demand '1'");
const OFF = BASE_CONFIG.replace("\tlist dhcpv4_server '192.0.2.68'\n", '');

const ADDR = v4('198.51.100.50');
const REMOTE = v4('203.0.113.5');
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function core(text = ON_DEMAND) {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x2000 + n++ });
  c.agent.handle({ kind: 'config', config: config(text) }, T0);
  return c;
}
type Core = ReturnType<typeof core>;

const toward = (dst: Uint8Array, n = 0, ttl = 64) => {
  const p = ipv4Packet(REMOTE, dst, 40000 + n, 9, utf8(`hello ${n}`));
  if (ttl !== 64) { p[8] = ttl; p[10] = 0; p[11] = 0; const s = internetChecksum(p.subarray(0, 20)); p[10] = s >> 8; p[11] = s & 0xff; }
  return p;
};
const down = (c: Core, bytes: Uint8Array, now: Instant = T0) =>
  c.agent.handle({ kind: 'on-demand', direction: 'down', family: 4, port: null, mac: null, bytes }, now);
const up = (c: Core, src: Uint8Array, port: string, mac: Uint8Array, now: Instant = T0) =>
  c.agent.handle({ kind: 'on-demand', direction: 'up', family: 4, port, mac, bytes: ipv4Packet(src, REMOTE, 5000, 53, utf8('q')) }, now);

const sends = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'udp-send' }> => x.kind === 'udp-send');
const delivered = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'link-send' }> => x.kind === 'link-send');
const decode = (b: Uint8Array) => { const d = dhcp4Message.decode(b); if (!d.ok) throw new Error(d.error.reason); return d.value; };
const onDemand = (c: Core) => c.leasequery.status()['onDemand'] as Record<string, Record<string, unknown>>;

interface Reply { ciaddr?: Uint8Array; mac?: Uint8Array; circuit?: string }
function reply(query: Dhcp4Message, type: number, r: Reply = {}): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(r.mac ?? macOf(7));
  const options: Dhcp4RawOption[] = [typeOpt(type), opt(54, SERVER4)];
  if (type === 13) options.push(opt(51, u32(600)), opt(82, [1, (r.circuit ?? 'lan2').length, ...utf8(r.circuit ?? 'lan2')]));
  return dhcp4Message.encode({ ...query, op: 2, htype: 1, hlen: 6, chaddr, ciaddr: r.ciaddr ?? query.ciaddr, options });
}

describe('held packets and the forwarded copy', () => {
  it('bounded per address and in total; taken oldest first', () => {
    const h = new HeldPackets(2, 3, 1000);
    const p = (n: number) => Uint8Array.of(n);
    expect([h.hold('a', p(1)), h.hold('a', p(2)), h.hold('a', p(3))]).toEqual([null, null, 'held-per-address']);
    expect([h.hold('b', p(4)), h.hold('c', p(5))]).toEqual([null, 'held-total']);
    expect(h.take('a')).toEqual([p(1), p(2)]);
    expect(h.size).toBe(1);
    expect(new HeldPackets(4, 4, 10).hold('a', new Uint8Array(11))).toBe('held-total');
  });

  it('a router\'s copy: TTL one less, header checksum still right (RFC 1812 §5.3.1); TTL 1 is not forwarded', () => {
    const p = toward(ADDR);
    const f = forwardCopy(4, p)!;
    expect(f[8]).toBe(63);
    expect(internetChecksum(f.subarray(0, 20))).toBe(0);
    expect(f.subarray(20)).toEqual(p.subarray(20));
    expect(forwardCopy(4, toward(ADDR, 0, 1))).toBeNull();
  });

  it('a UDP checksum left partial by offload (pseudo-header sum only) is completed; a wrong one is left wrong', () => {
    const p = toward(ADDR);
    const good = [p[26], p[27]];
    const pseudo = pseudoHeaderSum(REMOTE, ADDR, 17, p.length - 20);
    p[26] = pseudo >> 8; p[27] = pseudo & 0xff;
    expect([...forwardCopy(4, p)!.subarray(26, 28)]).toEqual(good);
    p[27] = p[27]! ^ 1;
    expect([...forwardCopy(4, p)!.subarray(26, 28)]).toEqual([p[26], p[27]]);
  });

  it('an IPv4 header of 40 bytes (options) is still IPv4 when the partial UDP checksum is completed', () => {
    const plain = toward(ADDR);
    const good = [plain[26], plain[27]];
    // The same datagram behind 20 bytes of IP options (NOPs): IHL 10.
    const p = new Uint8Array(plain.length + 20);
    p.set(plain.subarray(0, 20));
    p.fill(1, 20, 40);
    p.set(plain.subarray(20), 40);
    p[0] = 0x4a;
    const total = p.length;
    p[2] = total >> 8; p[3] = total & 0xff; p[10] = 0; p[11] = 0;
    const h = internetChecksum(p.subarray(0, 40)); p[10] = h >> 8; p[11] = h & 0xff;
    const pseudo = pseudoHeaderSum(REMOTE, ADDR, 17, plain.length - 20);
    p[46] = pseudo >> 8; p[47] = pseudo & 0xff;
    expect([...forwardCopy(4, p)!.subarray(46, 48)]).toEqual(good);
  });

  it('never throws on what is not an IP packet', () => {
    for (const b of [new Uint8Array(0), Uint8Array.of(0x45), Uint8Array.of(0x60, 0, 0), new Uint8Array(19).fill(0x45), Uint8Array.of(0x4f, ...new Uint8Array(30))]) {
      expect(readAddresses(4, b)).toBeNull();
      expect(forwardCopy(4, b)).toBeNull();
    }
  });
});

describe('downstream: a packet toward an address gleand has no binding for', () => {
  it('is held, one DHCPLEASEQUERY by IP goes out, and on LEASEACTIVE the binding goes in and the packet goes out of the answer\'s port to its MAC', () => {
    const c = core();
    const out = down(c, toward(ADDR, 1));
    expect(sends(out)).toHaveLength(1);
    const q = decode(sends(out)[0]!.payload);
    expect(q).toMatchObject({ ciaddr: ADDR, giaddr: v4('198.51.100.1') });
    // a second packet joins the question; nothing more is sent
    expect(down(c, toward(ADDR, 2), at(10))).toEqual([]);
    const answer = c.agent.handle(udp4(reply(q, 13, { circuit: 'lan2' })), at(20));
    expect(answer.map((a) => a.kind)).toEqual(['kernel', 'log', 'journal', 'link-send', 'link-send']);
    // shared subnet: lan1 and lan2 both hold 198.51.100.0/24; the circuit-id says lan2
    expect(delivered(answer).map((d) => [d.port, [...d.destinationMac], d.bytes[8], d.bytes.subarray(20)]))
      .toEqual([1, 2].map((n) => ['lan2', [...macOf(7)], 63, toward(ADDR, n).subarray(20)]));
    expect([...c.bindings.entries()]).toMatchObject([{ address: ADDR, port: 'lan2', mac: macOf(7), source: 'leasequery' }]);
    expect(onDemand(c)['down']).toMatchObject({ packets: 2, queries: 1, held: 2, delivered: 2, dropped: {} });
    expect(onDemand(c)['held']).toBe(0);
  });

  it('the circuit-id picks the port among the ports sharing the subnet (lan1 this time)', () => {
    const c = core();
    const q = decode(sends(down(c, toward(ADDR)))[0]!.payload);
    const answer = c.agent.handle(udp4(reply(q, 13, { circuit: 'lan1', mac: macOf(9) })), at(5));
    expect(delivered(answer).map((d) => [d.port, [...d.destinationMac]])).toEqual([['lan1', [...macOf(9)]]]);
  });

  it('held packets are bounded per address (4): more are dropped and counted, still one query', () => {
    const c = core();
    const all = [0, 1, 2, 3, 4, 5].flatMap((n) => down(c, toward(ADDR, n), at(n)));
    expect(sends(all)).toHaveLength(1);
    expect(onDemand(c)['down']).toMatchObject({ packets: 6, held: 4, dropped: { 'held-per-address': 2 } });
  });

  it('a negative answer drops the held packets (counted) and is cached: the next packet asks nothing', () => {
    const c = core();
    const q = decode(sends(down(c, toward(ADDR)))[0]!.payload);
    down(c, toward(ADDR, 1), at(1));
    const out = c.agent.handle(udp4(reply(q, 11)), at(5));
    expect(delivered(out)).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ held: 2, delivered: 0, dropped: { unassigned: 2 } });
    expect(down(c, toward(ADDR, 2), at(100))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ queries: 1, dropped: { unassigned: 2, cached: 1 } });
    expect([...c.bindings.entries()]).toEqual([]);
  });

  it('no answer: dropped and counted when the query\'s wait (two first retries) ends', () => {
    const c = core();
    down(c, toward(ADDR));
    expect(c.agent.nextDeadline()).toBe(at(10_000)); // the unknown server's next poll and the wait coincide
    const out = c.agent.poll(at(10_000));
    expect(delivered(out)).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ dropped: { 'no-answer': 1 } });
    expect(onDemand(c)['held']).toBe(0);
  });

  it('hostile answers create nothing: another address, an unknown circuit — held packets dropped as refused', () => {
    for (const [r, reason] of [[{ ciaddr: v4('198.51.100.51') }, 'address-mismatch'], [{ circuit: 'lan9' }, 'unknown-circuit']] as const) {
      const c = core();
      const q = decode(sends(down(c, toward(ADDR)))[0]!.payload);
      const out = c.agent.handle(udp4(reply(q, 13, r)), at(5));
      expect(out.map((a) => a.kind), reason).toEqual(['log', 'log']); // the refusal, the held packets dropped
      expect([...c.bindings.entries()]).toEqual([]);
      expect(c.leasequery.status()['refused']).toEqual({ [reason]: 1 });
      expect(onDemand(c)['down']).toMatchObject({ delivered: 0, dropped: { refused: 1 } });
    }
  });

  it('outside every subnet4, on a port without on_demand, or a TTL that ends here: nothing is asked', () => {
    const c = core();
    expect(down(c, toward(v4('203.0.113.9')))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ queries: 0, dropped: { 'outside-subnets': 1 } });
    const off = core(OFF);
    expect(down(off, toward(ADDR))).toEqual([]);
    expect(onDemand(off)['down']).toMatchObject({ queries: 0, dropped: { 'not-on-demand': 1 } });
    const t = core();
    const q = decode(sends(down(t, toward(ADDR, 0, 1)))[0]!.payload);
    expect(delivered(t.agent.handle(udp4(reply(q, 13)), at(5)))).toEqual([]);
    expect(onDemand(t)['down']).toMatchObject({ dropped: { ttl: 1 } });
  });

  it('malformed copies are counted, never thrown on', () => {
    const c = core();
    expect(down(c, Uint8Array.of(0x45, 1, 2))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ dropped: { malformed: 1 } });
  });
});

describe('upstream: a source the verify chain does not know (cable source-verify dhcp)', () => {
  it('asks by IP for that port; LEASEACTIVE for the frame\'s MAC on that port installs the binding (and so its verify entry)', () => {
    const c = core();
    const out = up(c, ADDR, 'lan1', macOf(9));
    expect(sends(out)).toHaveLength(1);
    const q = decode(sends(out)[0]!.payload);
    const answer = c.agent.handle(udp4(reply(q, 13, { circuit: 'lan1', mac: macOf(9) })), at(5));
    const kernel = answer.find((a): a is Extract<Action, { kind: 'kernel' }> => a.kind === 'kernel')!;
    expect(kernel.delta.verifies.add).toMatchObject([{ device: 'eth1', mac: macOf(9), prefix: ADDR, prefixLength: 32 }]);
    expect(onDemand(c)['up']).toMatchObject({ packets: 1, queries: 1, verified: 1, dropped: {} });
  });

  it('a spoofer: LEASEACTIVE for another MAC, or for another port, installs nothing; the source stays blocked and is cached', () => {
    const c = core();
    const q = decode(sends(up(c, ADDR, 'lan1', macOf(66)))[0]!.payload);
    expect(c.agent.handle(udp4(reply(q, 13, { circuit: 'lan1', mac: macOf(9) })), at(5)).map((a) => a.kind)).toEqual(['log']);
    expect([...c.bindings.entries()]).toEqual([]);
    expect(c.leasequery.status()['refused']).toEqual({ 'mac-mismatch': 1 });
    // the same spoof again: answered from the cache, nothing on the wire
    expect(up(c, ADDR, 'lan1', macOf(66), at(1000))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ queries: 1, dropped: { refused: 1, cached: 1 } });
    const c2 = core();
    const q2 = decode(sends(up(c2, ADDR, 'lan1', macOf(9)))[0]!.payload);
    c2.agent.handle(udp4(reply(q2, 13, { circuit: 'lan2', mac: macOf(9) })), at(5));
    expect(c2.leasequery.status()['refused']).toEqual({ 'port-mismatch': 1 });
  });

  it('a flood of spoofed sources starts at most the port\'s burst of queries, then one a second; other ports keep theirs', () => {
    const c = core();
    let queries = 0;
    for (let i = 0; i < 100; i++) {
      const out = up(c, v4(`198.51.100.${100 + i}`), 'lan1', macOf(66), at(i));
      queries += (onDemand(c)['up']!['queries'] as number) > queries ? 1 : 0;
      void out;
    }
    expect(onDemand(c)['up']).toMatchObject({ packets: 100, queries: UPSTREAM_BURST, dropped: { 'rate-limited': 100 - UPSTREAM_BURST } });
    up(c, v4('198.51.100.250'), 'lan1', macOf(66), at(1100));
    expect(onDemand(c)['up']!['queries']).toBe(UPSTREAM_BURST + 1);
    up(c, v4('198.51.100.251'), 'lan2', macOf(67), at(1100));
    expect(onDemand(c)['up']!['queries']).toBe(UPSTREAM_BURST + 2);
  });

  it('a source outside the port\'s subnet4 is never asked about (ciaddr restriction); a leased address from another MAC neither', () => {
    const c = core();
    expect(up(c, v4('203.0.113.7'), 'lan1', macOf(9))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ queries: 0, dropped: { 'outside-subnets': 1 } });
    const q = decode(sends(down(c, toward(ADDR)))[0]!.payload);
    c.agent.handle(udp4(reply(q, 13, { circuit: 'lan1', mac: macOf(9) })), at(5));
    expect(up(c, ADDR, 'lan1', macOf(66), at(10))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ queries: 0, dropped: { 'outside-subnets': 1, 'bound-elsewhere': 1 } });
  });
});
