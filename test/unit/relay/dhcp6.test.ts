import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { dhcp6Message, ipv6Udp, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import {
  ADVERTISE, LINK_ADDRESS, PORT_LL, RELAY_ID, RELEASE6, RENEW6, REPLY, REQUEST6, SERVER6, SOLICIT, T0,
  at, client6, decode6, delta, dropLog, duidOf, iaNa, iaPd, ipv6Packet, kinds, macOf, only, packet6,
  portStatus, relayRepl, started, udp6, utf8, v6,
} from './kit';

const MAC1 = macOf(1);
const MAC2 = macOf(2);
const LL1 = v6('fe80::200:ff:fe00:1');
const LL2 = v6('fe80::200:ff:fe00:2');
const DUID1 = duidOf(1);
const DUID2 = duidOf(2);
const NA = v6('2001:db8:1::100');
const PD = v6('2001:db8:100::');
const IID1 = utf8('lan1');
const NA_S = 3600;
const PD_S = 7200;

/** Option TLVs of a DHCPv6 message as raw bytes, from `offset` (34 for a relay message). */
function rawOptions(bytes: Uint8Array, offset: number): { code: number; data: Uint8Array }[] {
  const out: { code: number; data: Uint8Array }[] = [];
  for (let i = offset; i + 4 <= bytes.length; ) {
    const code = (bytes[i]! << 8) | bytes[i + 1]!;
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    out.push({ code, data: bytes.slice(i + 4, i + 4 + len) });
    i += 4 + len;
  }
  return out;
}

const naEntries = (mac = MAC1, ll = LL1, device = 'eth1') => ({
  route: { family: 6 as const, dst: NA, dstLen: 128, device, gateway: null },
  neigh: { family: 6 as const, address: NA, device, lladdr: mac },
  verify: { family: 6 as const, device, mac, prefix: NA, prefixLength: 128 },
  llNeigh: { family: 6 as const, address: ll, device, lladdr: mac },
  llVerify: { family: 6 as const, device, mac, prefix: ll, prefixLength: 128 },
});
const pdEntries = (mac = MAC1, ll = LL1, device = 'eth1') => ({
  route: { family: 6 as const, dst: PD, dstLen: 56, device, gateway: ll },
  verify: { family: 6 as const, device, mac, prefix: PD, prefixLength: 56 },
});

function linkSend6(actions: readonly Action[]) {
  const sends = only(actions, 'link-send');
  expect(sends).toHaveLength(1);
  const d = ipv6Udp.decode(sends[0]!.bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return { send: sends[0]!, ip: d.value.ip, udp: d.value.udp };
}

const reply = (duid: Uint8Array, options: Dhcp6Option[], msgType = REPLY): Dhcp6Message =>
  ({ kind: 'client', msgType, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid }, { kind: 'serverId', duid: duidOf(99) }, ...options] });

/** SOLICIT → ADVERTISE, REQUEST → REPLY (IA_NA + IA_PD) for client 1 on lan1. */
function lease(m = started()) {
  m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, DUID1, [iaNa(1), iaPd(2)]))), T0);
  m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaNa(1, NA), iaPd(2, PD)], ADVERTISE))), T0);
  m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(REQUEST6, DUID1, [iaNa(1, NA), iaPd(2, PD)]))), T0);
  const actions = m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaNa(1, NA, NA_S), iaPd(2, PD, 56, PD_S)]))), T0);
  return { m, actions };
}

describe('DHCPv6 relay: client → servers (RFC 8415 §19.1.1)', () => {
  it('wraps a SOLICIT in RELAY-FORW with link-address, peer-address and the relay options', () => {
    const m = started();
    const solicit = client6(SOLICIT, DUID1, [iaNa(1), iaPd(2), { kind: 'unknown', code: 999, data: Uint8Array.of(1, 2, 3) }]);
    const payload = dhcp6Message.encode(solicit);
    const actions = m.handle(packet6('lan1', MAC1, LL1, payload), T0);
    expect(kinds(actions)).toEqual(['udp-send']);
    const [send] = only(actions, 'udp-send');
    expect(send).toMatchObject({ family: 6, upstream: 'wan', destination: SERVER6, destinationPort: 547 });
    const fwd = decode6(send!.payload);
    if (fwd.kind !== 'relay') throw new Error('not a relay message');
    expect(fwd).toMatchObject({ msgType: 12, hopCount: 0, linkAddress: LINK_ADDRESS, peerAddress: LL1 });
    expect(fwd.options.map((o) => o.kind)).toEqual(['interfaceId', 'remoteId', 'relayId', 'clientLinklayerAddr', 'relayMsg']);
    expect(fwd.options.slice(0, 4)).toEqual([
      { kind: 'interfaceId', interfaceId: IID1 },
      { kind: 'remoteId', enterpriseNumber: 9, remoteId: utf8('sub-1-v6') },
      { kind: 'relayId', duid: RELAY_ID },
      { kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: MAC1 },
    ]);
    // RELAY_MSG carries the client's UDP payload byte for byte.
    const raw = rawOptions(send!.payload, 34);
    expect(raw.map((o) => o.code)).toEqual([18, 37, 53, 79, 9]);
    expect(raw[4]!.data).toEqual(payload);
    expect(portStatus(m, 'lan1').relayed6).toBe(1);
  });

  it('sends to All_DHCP_Servers when the upstream names no server', () => {
    const text = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option link_address '2001:db8:1::1'
`;
    const m = started(text, null);
    const actions = m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, DUID1))), T0);
    expect(only(actions, 'udp-send').map((a) => a.destination)).toEqual([v6('ff05::1:3')]);
    const fwd = decode6(only(actions, 'udp-send')[0]!.payload);
    // No remote_id_v6 configured, no identity yet: neither Remote-ID nor Relay-ID.
    expect(fwd.kind === 'relay' && fwd.options.map((o) => o.kind)).toEqual(['interfaceId', 'clientLinklayerAddr', 'relayMsg']);
  });

  it('drops server-only messages from a subscriber', () => {
    const m = started();
    const adv = dhcp6Message.encode(client6(ADVERTISE, DUID1));
    expect(m.handle(packet6('lan1', MAC1, LL1, adv), T0)).toEqual([dropLog('lan1', 'wrong-direction')]);
    const repl = relayRepl(IID1, LL1, client6(REPLY, DUID1));
    expect(m.handle(packet6('lan1', MAC1, LL1, repl), T0)).toEqual([dropLog('lan1', 'wrong-direction')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'wrong-direction': 2 });
  });

  it('drops a RELAY-FORW from below an untrusted port; relays it from a trusted one (RFC 8415 §19.1.2)', () => {
    const m = started();
    const lower = v6('2001:db8:2::9');
    const inner = dhcp6Message.encode({
      kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:2::8'), peerAddress: LL2,
      options: [{ kind: 'relayMsg', message: client6(SOLICIT, DUID2) }],
    });
    expect(m.handle(packet6('lan1', MAC2, lower, inner, 547), T0)).toEqual([dropLog('lan1', 'untrusted-relay')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'untrusted-relay': 1 });

    const actions = m.handle(packet6('lan2', MAC2, lower, inner, 547), T0);
    expect(kinds(actions)).toEqual(['udp-send']);
    const payload = only(actions, 'udp-send')[0]!.payload;
    const fwd = decode6(payload);
    if (fwd.kind !== 'relay') throw new Error('not a relay message');
    expect(fwd).toMatchObject({ msgType: 12, hopCount: 1, linkAddress: new Uint8Array(16), peerAddress: lower });
    // RFC 6939 §4: no client link-layer address when relaying a relay's message.
    expect(fwd.options.map((o) => o.kind)).toEqual(['interfaceId', 'relayId', 'relayMsg']);
    expect(rawOptions(payload, 34).at(-1)!.data).toEqual(inner);
  });

  it('drops a RELAY-FORW whose hop-count reached max_hops', () => {
    const m = started(); // lan2: default max_hops 8
    const inner = dhcp6Message.encode({
      kind: 'relay', msgType: 12, hopCount: 8, linkAddress: new Uint8Array(16), peerAddress: LL2,
      options: [{ kind: 'relayMsg', message: client6(SOLICIT, DUID2) }],
    });
    expect(m.handle(packet6('lan2', MAC2, v6('2001:db8:2::9'), inner, 547), T0)).toEqual([dropLog('lan2', 'hops')]);
  });

  it('drops UDP that is not to the server port, and malformed DHCPv6', () => {
    const m = started();
    const ntp = ipv6Packet(LL1, v6('ff02::1:2'), 546, 123, dhcp6Message.encode(client6(SOLICIT, DUID1)));
    expect(m.handle({ kind: 'packet', port: 'lan1', family: 6, bytes: ntp, mac: MAC1, checksum: 'check', outgoing: false }, T0)).toEqual([dropLog('lan1', 'not-dhcp')]);
    const bad = m.handle(packet6('lan1', MAC1, LL1, Uint8Array.of(1, 0, 0, 1, 0, 1, 0, 9, 0)), T0);
    expect(bad).toMatchObject([{ kind: 'log', fields: { port: 'lan1', reason: 'malformed' } }]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'not-dhcp': 1, malformed: 1 });
  });
});

describe('DHCPv6 relay: server → client (RFC 8415 §19.2) and gleaning', () => {
  it('ADVERTISE is delivered to the client\'s MAC on port 546 from the port\'s link-local and creates nothing', () => {
    const m = started();
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, DUID1, [iaNa(1)]))), T0);
    const adv: Dhcp6Message = reply(DUID1, [iaNa(1, NA)], ADVERTISE);
    const repl = relayRepl(IID1, LL1, adv);
    const actions = m.handle(udp6(repl), T0);
    expect(kinds(actions)).toEqual(['link-send']);
    const { send, ip, udp } = linkSend6(actions);
    expect(send).toMatchObject({ port: 'lan1', family: 6, destinationMac: MAC1 });
    expect(ip.source).toEqual(PORT_LL);
    expect(ip.destination).toEqual(LL1);
    expect([udp.sourcePort, udp.destinationPort]).toEqual([547, 546]);
    // RFC 8415 §19.2: the RELAY_MSG body as it arrived, sliced from the RELAY-REPL's bytes.
    const raw = rawOptions(repl, 34);
    expect(raw.map((o) => o.code)).toEqual([18, 9]);
    expect(udp.payload).toEqual(raw[1]!.data);
    expect(m.bindings()).toEqual([]);
  });

  it('REPLY with IA_NA and IA_PD: /128 route, PD route via the link-local, neighbours, verify — then the reply', () => {
    const { m, actions } = lease();
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log', 'link-send']);
    const na = naEntries();
    const pd = pdEntries();
    expect(actions[0]).toEqual(delta({
      routes: { add: [na.route] }, neighbours: { add: [na.neigh, na.llNeigh] }, verifies: { add: [na.verify, na.llVerify] },
    }));
    expect(actions[1]).toEqual({
      kind: 'log', level: 'info', subsystem: 'bindings', message: 'added',
      fields: { binding: '2001:db8:1::100/128', port: 'lan1', mac: '02:00:00:00:00:01', via: 'fe80::200:ff:fe00:1', source: 'glean' },
    });
    expect(actions[2]).toEqual(delta({ routes: { add: [pd.route] }, verifies: { add: [pd.verify] } }));
    const { send, ip, udp } = linkSend6(actions);
    expect(send.destinationMac).toEqual(MAC1);
    expect(ip.destination).toEqual(LL1);
    expect(udp.destinationPort).toBe(546);
    const bindings = m.bindings();
    expect(bindings).toHaveLength(2);
    expect(bindings.find((b) => b.kind === 'address')).toMatchObject({
      family: 6, address: NA, prefixLength: 128, port: 'lan1', mac: MAC1, clientId: DUID1, iaid: 1,
      circuitId: IID1, remoteId: utf8('sub-1-v6'), linkLocal: LL1, validUntil: T0 + NA_S * 1000,
    });
    expect(bindings.find((b) => b.kind === 'prefix')).toMatchObject({ address: PD, prefixLength: 56, iaid: 2, validUntil: T0 + PD_S * 1000 });
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed6: 2, replies6: 2, gleaned: 2, bindings: 2 });
  });

  it('a RENEW reply refreshes both leases without kernel changes', () => {
    const { m } = lease();
    const t = at(1_000_000);
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(RENEW6, DUID1, [iaNa(1, NA), iaPd(2, PD)]))), t);
    const actions = m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaNa(1, NA, NA_S), iaPd(2, PD, 56, PD_S)]))), t);
    expect(kinds(actions)).toEqual(['log', 'log', 'link-send']);
    expect(actions.slice(0, 2)).toMatchObject([{ message: 'refreshed' }, { message: 'refreshed' }]);
    expect(m.nextDeadline()).toBe(t + NA_S * 1000);
  });

  it('valid-lifetime 0 removes the lease; the link-local entries go with the last one (RFC 8415 §18.2.10.1)', () => {
    const { m } = lease();
    const na = naEntries();
    const pd = pdEntries();
    const a1 = m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaNa(1, NA, 0)]))), at(10));
    expect(kinds(a1)).toEqual(['kernel', 'log', 'link-send']);
    expect(a1[0]).toEqual(delta({ routes: { remove: [na.route] }, neighbours: { remove: [na.neigh] }, verifies: { remove: [na.verify] } }));
    const a2 = m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaPd(2, PD, 56, 0)]))), at(20));
    expect(a2[0]).toEqual(delta({
      routes: { remove: [pd.route] }, neighbours: { remove: [na.llNeigh] }, verifies: { remove: [pd.verify, na.llVerify] },
    }));
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1').released).toBe(2);
  });

  it('valid-lifetime 0 for another client\'s DUID removes nothing', () => {
    const { m } = lease();
    expect(kinds(m.handle(udp6(relayRepl(IID1, LL1, reply(DUID2, [iaNa(1, NA, 0)]))), at(10)))).toEqual(['link-send']);
    expect(m.bindings()).toHaveLength(2);
  });

  it('expiry by poll(now) at nextDeadline(), one lease at a time', () => {
    const { m } = lease();
    expect(m.nextDeadline()).toBe(T0 + NA_S * 1000);
    expect(m.poll(at(NA_S * 1000 - 1))).toEqual([]);
    const na = naEntries();
    const a1 = m.poll(m.nextDeadline()!);
    expect(kinds(a1)).toEqual(['kernel', 'log']);
    expect(a1[0]).toEqual(delta({ routes: { remove: [na.route] }, neighbours: { remove: [na.neigh] }, verifies: { remove: [na.verify] } }));
    expect(a1[1]).toMatchObject({ message: 'expired' });
    expect(m.nextDeadline()).toBe(T0 + PD_S * 1000);
    const a2 = m.poll(at(PD_S * 1000 + 5));
    expect(kinds(a2)).toEqual(['kernel', 'log']);
    expect(m.bindings()).toEqual([]);
    expect(m.nextDeadline()).toBeNull();
  });

  it('RELEASE from the client removes its leases; another DUID, or the DUID from another MAC, does not', () => {
    const { m } = lease();
    const release = (duid: Uint8Array) => dhcp6Message.encode(client6(RELEASE6, duid, [iaNa(1, NA, 0), iaPd(2, PD, 56, 0)]));
    // Dropped, not relayed: the server would release the victim's leases (release-guard.test.ts).
    expect(kinds(m.handle(packet6('lan1', MAC2, LL2, release(DUID2)), at(10)))).toEqual(['log']);
    expect(kinds(m.handle(packet6('lan1', MAC2, LL2, release(DUID1)), at(10)))).toEqual(['log']);
    expect(kinds(m.handle(packet6('lan2', MAC1, LL1, release(DUID1)), at(10)))).toEqual(['log']);
    expect(m.bindings()).toHaveLength(2);
    const actions = m.handle(packet6('lan1', MAC1, LL1, release(DUID1)), at(20));
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log', 'udp-send']);
    expect(m.bindings()).toEqual([]);
  });

  it('RELAY-REPL with an unknown or missing Interface-ID is dropped, so is one from an unknown server', () => {
    const m = started();
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, DUID1))), T0);
    const r = reply(DUID1, [iaNa(1, NA)]);
    expect(m.handle(udp6(relayRepl(utf8('nope'), LL1, r)), T0)).toEqual([dropLog('-', 'no-port')]);
    expect(m.handle(udp6(relayRepl(null, LL1, r)), T0)).toEqual([dropLog('-', 'no-port')]);
    expect(m.handle(udp6(relayRepl(IID1, LL1, r), v6('2001:db8::666')), T0)).toEqual([dropLog('-', 'unknown-server')]);
    expect(m.handle(udp6(dhcp6Message.encode(client6(SOLICIT, DUID1))), T0)).toEqual([dropLog('-', 'wrong-direction')]);
    expect((m.status()['unmatched'] as { dropped: object }).dropped).toEqual({ 'no-port': 2, 'unknown-server': 1, 'wrong-direction': 1 });
    expect(m.bindings()).toEqual([]);
  });

  it('a reply for a client the relay never saw is gleaned without a MAC and not delivered', () => {
    const m = started();
    const actions = m.handle(udp6(relayRepl(IID1, LL1, reply(DUID1, [iaNa(1, NA, NA_S)]))), T0);
    expect(only(actions, 'link-send')).toEqual([]);
    expect(actions.at(-1)).toEqual(dropLog('lan1', 'no-transaction'));
    // Without a MAC only the /128 route can be installed: a neighbour entry and a
    // source-verify entry both need the client's link-layer address.
    expect(kinds(actions)).toEqual(['kernel', 'log', 'log']);
    expect(actions[0]).toEqual(delta({ routes: { add: [naEntries().route] } }));
    expect(actions[1]).toMatchObject({ message: 'added', fields: { binding: '2001:db8:1::100/128', mac: '-' } });
    const bindings = m.bindings();
    expect(bindings).toHaveLength(1);
    expect(bindings[0]).toMatchObject({
      family: 6, kind: 'address', address: NA, prefixLength: 128, port: 'lan1', mac: null, clientId: DUID1, iaid: 1,
      linkLocal: LL1, validUntil: T0 + NA_S * 1000,
    });
    expect(portStatus(m, 'lan1')).toMatchObject({ replies6: 1, gleaned: 1, gleanFailed: 0, dropped: { 'no-transaction': 1 } });
  });

  it('a nested RELAY-REPL goes to the lower relay on port 547', () => {
    const m = started();
    const lower = v6('2001:db8:2::9');
    const lowerMac = macOf(9);
    const inner = dhcp6Message.encode({
      kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:2::8'), peerAddress: LL2,
      options: [{ kind: 'relayMsg', message: client6(SOLICIT, DUID2) }],
    });
    m.handle(packet6('lan2', lowerMac, lower, inner, 547), T0);
    const innerRepl: Dhcp6Message = {
      kind: 'relay', msgType: 13, hopCount: 0, linkAddress: v6('2001:db8:2::8'), peerAddress: LL2,
      options: [{ kind: 'relayMsg', message: reply(DUID2, [iaNa(1, NA)]) }],
    };
    const repl = relayRepl(utf8('lan2'), lower, innerRepl, new Uint8Array(16));
    const actions = m.handle(udp6(repl), T0);
    expect(kinds(actions)).toEqual(['link-send']);
    const { send, ip, udp } = linkSend6(actions);
    expect(send).toMatchObject({ port: 'lan2', destinationMac: lowerMac });
    expect(ip.destination).toEqual(lower);
    expect([udp.sourcePort, udp.destinationPort]).toEqual([547, 547]);
    // The inner RELAY-REPL as it arrived: the outer RELAY_MSG body, sliced by hand.
    const raw = rawOptions(repl, 34);
    expect(raw.map((o) => o.code)).toEqual([18, 9]);
    expect(udp.payload).toEqual(raw[1]!.data);
    expect(udp.payload[0]).toBe(13);
  });
});
