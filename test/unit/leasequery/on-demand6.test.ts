// DHCPv6 location on demand (RFC 5007 §3 by address; issue 8 item 3) through the Agent,
// as scripts against time: `on-demand` events of family 6 (what the kernel copies over
// NFLOG) in, exact actions out; the servers' LEASEQUERY-REPLYs built with the wire codec,
// shaped as an RFC 5007 server that stores relay data sends them, and as ISC dhcpd 4.4
// does (no relay data: no Interface-ID, no link-layer address; NotConfigured for prefixes).
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { UPSTREAM_BURST } from '../../../src/leasequery/on-demand';
import type { Instant } from '../../../src/time';
import { dhcp6Message, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import { RELAY_ID, T0, at, config, ipv6Packet, macOf, udp6, utf8, v6 } from '../relay/kit';

const SERVER = v6('2001:db8::547');
/** lan1 alone holds 2001:db8:1::/64 and the PD pool; lan2 and lan3 share 2001:db8:2::/64. */
const CONFIG = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv6_server '2001:db8::547'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:1::1'
	option on_demand '1'
	list subnet6 '2001:db8:1::/64'
	list subnet6 '2001:db8:100::/48'

config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:2::1'
	option on_demand '1'
	list subnet6 '2001:db8:2::/64'

config subscriber 'lan3'
	option device 'eth3'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:3::1'
	list subnet6 '2001:db8:2::/64'

config leasequery
	option bulk '0'
`;
const ADDR = v6('2001:db8:1::1000');
const SHARED = v6('2001:db8:2::2000');
const PD_HOST = v6('2001:db8:100:4200::1');
const REMOTE = v6('2001:db8:ffff::5');
const DUID = Uint8Array.of(0, 1, 0, 1, 0x2a, 0x3b, 0x4c, 0x5d, ...macOf(7));

function core(text = CONFIG, identity = true) {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x7000 + n++ });
  c.agent.handle({ kind: 'config', config: config(text) }, T0);
  if (identity) c.agent.handle({ kind: 'identity', relayId: RELAY_ID }, T0);
  return c;
}
type Core = ReturnType<typeof core>;

const toward = (dst: Uint8Array, n = 0, hop = 64) => {
  const p = ipv6Packet(REMOTE, dst, 40000 + n, 9, utf8(`hello ${n}`));
  p[7] = hop;
  return p;
};
const down = (c: Core, bytes: Uint8Array, now: Instant = T0) =>
  c.agent.handle({ kind: 'on-demand', direction: 'down', family: 6, port: null, mac: null, bytes }, now);
const up = (c: Core, src: Uint8Array, port: string, mac: Uint8Array, now: Instant = T0) =>
  c.agent.handle({ kind: 'on-demand', direction: 'up', family: 6, port, mac, bytes: ipv6Packet(src, REMOTE, 5000, 53, utf8('q')) }, now);

const sends = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'udp-send' }> => x.kind === 'udp-send');
const delivered = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'link-send' }> => x.kind === 'link-send');
const kernel = (a: Action[]) => a.find((x): x is Extract<Action, { kind: 'kernel' }> => x.kind === 'kernel')?.delta ?? null;
const onDemand = (c: Core) => c.leasequery.status()['onDemand'] as Record<string, Record<string, unknown>>;
const refused = (c: Core) => c.leasequery.status()['refused'];

/** The LEASEQUERY a send carries: its xid, query type and address. */
function query(a: Action[]): { xid: number; type: number; address: Uint8Array } {
  const d = dhcp6Message.decode(sends(a)[0]!.payload);
  if (!d.ok || d.value.kind !== 'client') throw new Error('not a LEASEQUERY');
  const lq = d.value.options.find((o): o is Extract<Dhcp6Option, { kind: 'lqQuery' }> => o.kind === 'lqQuery')!;
  const ia = lq.options.find((o): o is Extract<Dhcp6Option, { kind: 'iaAddr' }> => o.kind === 'iaAddr')!;
  return { xid: d.value.transactionId, type: lq.queryType, address: ia.address };
}

interface Ans { lease?: Uint8Array; prefix?: number; relay?: { iid: string; mac?: Uint8Array }; status?: number; none?: boolean }
/** ISC dhcpd by default (no `relay`): CLIENT_DATA without relay data; `relay`: an RFC 5007 server that stored gleand's RELAY-FORW. */
function reply(xid: number, r: Ans = {}): Uint8Array {
  const options: Dhcp6Option[] = [{ kind: 'serverId', duid: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 5, 0x47) }, { kind: 'clientId', duid: RELAY_ID }];
  if (r.status !== undefined) options.push({ kind: 'statusCode', statusCode: r.status, message: 'x' });
  if (!r.none && r.status === undefined) {
    const lease: Dhcp6Option = r.prefix
      ? { kind: 'iaPrefix', prefix: r.lease!, prefixLength: r.prefix, preferredLifetime: 1800, validLifetime: 3600, options: [] }
      : { kind: 'iaAddr', address: r.lease ?? ADDR, preferredLifetime: 1800, validLifetime: 3600, options: [] };
    options.push({ kind: 'clientData', options: [{ kind: 'clientId', duid: DUID }, lease, { kind: 'cltTime', cltTime: 1_790_000_000 }] });
    if (r.relay) {
      const relayOpts: Dhcp6Option[] = [{ kind: 'interfaceId', interfaceId: utf8(r.relay.iid) }];
      if (r.relay.mac) relayOpts.push({ kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: r.relay.mac });
      const stored: Dhcp6Message = { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:1::1'), peerAddress: v6('fe80::7'), options: relayOpts };
      options.push({ kind: 'lqRelayData', peerAddress: v6('2001:db8::1'), relayMessage: stored });
    }
  }
  return dhcp6Message.encode({ kind: 'client', msgType: 15, transactionId: xid, options });
}
const answer = (c: Core, xid: number, r: Ans, now: Instant) => c.agent.handle(udp6(reply(xid, r), SERVER), now);

describe('DHCPv6 downstream: a packet toward an address gleand has no binding for', () => {
  it('is held; one LEASEQUERY by address from 546; an answer with Interface-ID and link-layer address delivers it there, Hop Limit one less', () => {
    const c = core();
    const out = down(c, toward(SHARED, 1));
    expect(sends(out).map((s) => [s.family, s.destinationPort, s.sourcePort])).toEqual([[6, 547, 546]]);
    const q = query(out);
    expect(q).toMatchObject({ type: 1, address: SHARED }); // RFC 5007 §4.1.2.1 QUERY_BY_ADDRESS
    expect(down(c, toward(SHARED, 2), at(10))).toEqual([]); // joins the question
    const got = answer(c, q.xid, { lease: SHARED, relay: { iid: 'lan3', mac: macOf(9) } }, at(20));
    // shared subnet: lan2 (on demand) and lan3 (not) both hold it; the Interface-ID says lan3
    expect(delivered(got).map((d) => [d.port, d.family, [...d.destinationMac], d.bytes[7], d.bytes.subarray(40)]))
      .toEqual([1, 2].map((n) => ['lan3', 6, [...macOf(9)], 63, toward(SHARED, n).subarray(40)]));
    expect([...c.bindings.entries()]).toMatchObject([{ address: SHARED, port: 'lan3', mac: macOf(9), source: 'leasequery' }]);
    expect(onDemand(c)['down']).toMatchObject({ packets: 2, queries: 1, held: 2, delivered: 2, dropped: {} });
  });

  it('ISC dhcpd (no relay data), a subnet of one port: the host route goes in, the held packets cannot be addressed — dropped, no-mac', () => {
    const c = core();
    const q = query(down(c, toward(ADDR)));
    down(c, toward(ADDR, 1), at(1));
    const got = answer(c, q.xid, { lease: ADDR }, at(5));
    expect(delivered(got)).toEqual([]);
    expect(kernel(got)).toMatchObject({ routes: { add: [{ device: 'eth1', dst: ADDR, dstLen: 128 }] }, neighbours: { add: [] }, verifies: { add: [] } });
    expect([...c.bindings.entries()]).toMatchObject([{ address: ADDR, port: 'lan1', mac: null }]);
    expect(onDemand(c)['down']).toMatchObject({ held: 2, delivered: 0, dropped: { 'no-mac': 2 } });
    // a copy the kernel made before the route was in: no MAC to send to, and nothing more to ask
    expect(down(c, toward(ADDR, 2), at(10))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ queries: 1, dropped: { 'no-mac': 3 } });
  });

  it('ISC dhcpd (no relay data), a subnet shared by two ports: the port is unknown — refused no-port, nothing installed', () => {
    const c = core();
    const q = query(down(c, toward(SHARED)));
    expect(delivered(answer(c, q.xid, { lease: SHARED }, at(5)))).toEqual([]);
    expect([...c.bindings.entries()]).toEqual([]);
    expect(refused(c)).toEqual({ 'no-port': 1 });
    expect(onDemand(c)['down']).toMatchObject({ dropped: { refused: 1 } });
  });

  it('an address inside a delegated-prefix pool: ISC says NotConfigured — dropped, cached; an RFC server\'s IAPREFIX installs the PD route', () => {
    const c = core();
    const q = query(down(c, toward(PD_HOST)));
    answer(c, q.xid, { status: 9 }, at(5));
    expect(onDemand(c)['down']).toMatchObject({ queries: 1, dropped: { unknown: 1 } });
    expect(down(c, toward(PD_HOST, 1), at(100))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ queries: 1, dropped: { unknown: 1, cached: 1 } });
    const k = core();
    const q2 = query(down(k, toward(PD_HOST)));
    const got = answer(k, q2.xid, { lease: v6('2001:db8:100:4200::'), prefix: 56, relay: { iid: 'lan1', mac: macOf(9) } }, at(5));
    expect(kernel(got)).toMatchObject({ routes: { add: [{ device: 'eth1', dst: v6('2001:db8:100:4200::'), dstLen: 56, gateway: v6('fe80::7') }] } });
    expect(delivered(got).map((d) => [d.port, [...d.destinationMac]])).toEqual([['lan1', [...macOf(9)]]]);
  });

  it('Hop Limit 1 is not forwarded (RFC 8200 §3); malformed copies are counted, never thrown on', () => {
    const c = core();
    const q = query(down(c, toward(SHARED, 0, 1)));
    expect(delivered(answer(c, q.xid, { lease: SHARED, relay: { iid: 'lan2', mac: macOf(9) } }, at(5)))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ dropped: { ttl: 1 } });
    expect(down(c, Uint8Array.of(0x60, 0, 0))).toEqual([]);
    expect(onDemand(c)['down']).toMatchObject({ dropped: { ttl: 1, malformed: 1 } });
  });

  it('no DHCPv6 leasequery, or no DUID yet (the CLIENTID of a LEASEQUERY): nothing is asked', () => {
    const off = core(CONFIG.replace("option bulk '0'", "option bulk '0'\n\toption v6 '0'"));
    expect(down(off, toward(ADDR))).toEqual([]);
    expect(onDemand(off)['down']).toMatchObject({ queries: 0, dropped: { disabled: 1 } });
    const early = core(CONFIG, false);
    expect(down(early, toward(ADDR))).toEqual([]);
    expect(onDemand(early)['down']).toMatchObject({ queries: 0, dropped: { 'no-identity': 1 } });
  });
});

describe('DHCPv6 upstream: a source the verify chain does not know', () => {
  it('ISC dhcpd (no relay data), the source\'s subnet is the frame\'s port alone: the binding goes in with the frame\'s MAC, so its verify entry', () => {
    const c = core();
    const q = query(up(c, ADDR, 'lan1', macOf(9)));
    const got = answer(c, q.xid, { lease: ADDR }, at(5));
    expect(kernel(got)!.verifies.add).toMatchObject([{ device: 'eth1', mac: macOf(9), prefix: ADDR, prefixLength: 128 }]);
    expect(kernel(got)!.neighbours.add).toMatchObject([{ device: 'eth1', address: ADDR, lladdr: macOf(9) }]);
    expect(onDemand(c)['up']).toMatchObject({ packets: 1, queries: 1, verified: 1, dropped: {} });
    // its next frames ask nothing; the same address from another MAC is a spoof
    expect(up(c, ADDR, 'lan1', macOf(9), at(10))).toEqual([]);
    expect(up(c, ADDR, 'lan1', macOf(66), at(11))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ queries: 1, dropped: { 'bound-elsewhere': 1 } });
  });

  it('a shared subnet: without relay data the port is unknown (no-port); with it, the lease must be on the frame\'s port and MAC', () => {
    const c = core();
    answer(c, query(up(c, SHARED, 'lan2', macOf(9))).xid, { lease: SHARED }, at(5));
    const c2 = core();
    answer(c2, query(up(c2, SHARED, 'lan2', macOf(9))).xid, { lease: SHARED, relay: { iid: 'lan3', mac: macOf(9) } }, at(5));
    const c3 = core();
    answer(c3, query(up(c3, SHARED, 'lan2', macOf(66))).xid, { lease: SHARED, relay: { iid: 'lan2', mac: macOf(9) } }, at(5));
    const c4 = core();
    answer(c4, query(up(c4, SHARED, 'lan2', macOf(9))).xid, { lease: SHARED, relay: { iid: 'lan2', mac: macOf(9) } }, at(5));
    expect([refused(c), refused(c2), refused(c3), refused(c4)]).toEqual([{ 'no-port': 1 }, { 'port-mismatch': 1 }, { 'mac-mismatch': 1 }, {}]);
    for (const x of [c, c3]) expect(onDemand(x)['up']).toMatchObject({ verified: 0, dropped: { refused: 1 } });
    // c2: the lease is on another port than the frame's: refused whole, nothing installed anywhere
    expect([...c2.bindings.entries()]).toEqual([]);
    expect(onDemand(c2)['up']).toMatchObject({ verified: 0, dropped: { refused: 1 } });
    expect(onDemand(c4)['up']).toMatchObject({ verified: 1 });
  });

  it('a spoofed source is asked once, negatively cached; another port\'s subnet or a port not on demand asks nothing', () => {
    const c = core();
    const unleased = v6('2001:db8:1::beef');
    const q = query(up(c, unleased, 'lan1', macOf(66)));
    for (let i = 1; i < 100; i++) expect(up(c, unleased, 'lan1', macOf(66), at(i))).toEqual([]); // in flight
    answer(c, q.xid, { none: true }, at(200)); // Success, no CLIENT_DATA: no binding (RFC 5007 §4.3.3)
    for (let i = 0; i < 100; i++) expect(up(c, unleased, 'lan1', macOf(66), at(300 + i))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ packets: 200, queries: 1, verified: 0, dropped: { unknown: 1, cached: 100 } });
    expect(up(c, SHARED, 'lan1', macOf(66), at(500))).toEqual([]);
    expect(up(c, SHARED, 'lan3', macOf(66), at(500))).toEqual([]);
    expect(onDemand(c)['up']).toMatchObject({ queries: 1, dropped: { 'outside-subnets': 1, 'not-on-demand': 1 } });
  });

  it('a flood of distinct spoofed sources starts at most the port\'s burst of LEASEQUERYs', () => {
    const c = core();
    let sent = 0;
    for (let i = 0; i < 100; i++) sent += sends(up(c, v6(`2001:db8:1::${(0x100 + i).toString(16)}`), 'lan1', macOf(66), at(i))).length;
    // the port's budget started the burst; the server's pacer (RFC 4388 §6.3, a server not known
    // to answer: one at a time) has sent only the first so far
    expect(sent).toBe(1);
    expect(onDemand(c)['up']).toMatchObject({ packets: 100, queries: UPSTREAM_BURST, dropped: { 'rate-limited': 100 - UPSTREAM_BURST } });
  });

  it('a binding a downstream answer left without a MAC learns it from the client\'s first frame (asked again for that MAC)', () => {
    const c = core();
    answer(c, query(down(c, toward(ADDR))).xid, { lease: ADDR }, at(5));
    expect([...c.bindings.entries()]).toMatchObject([{ address: ADDR, mac: null }]);
    const q = query(up(c, ADDR, 'lan1', macOf(9), at(100)));
    const got = answer(c, q.xid, { lease: ADDR }, at(105));
    expect(kernel(got)!.verifies.add).toMatchObject([{ mac: macOf(9), prefix: ADDR }]);
    expect([...c.bindings.entries()]).toMatchObject([{ address: ADDR, port: 'lan1', mac: macOf(9) }]);
  });
});
