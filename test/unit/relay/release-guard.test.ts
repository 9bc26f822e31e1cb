// Issue 13 item 4: a RELEASE / DECLINE for another client's binding is dropped and
// counted, not relayed (DHCP snooping on untrusted ports). Scripts against time.
import { describe, expect, it } from 'vitest';
import { dhcp4Message, dhcp6Message, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import {
  ACK, DECLINE, RELEASE, RELEASE6, REPLY, REQUEST, REQUEST6, T0, at, client4, client6, decode4, duidOf, iaNa, iaPd, ipv4Packet, ipv6Packet,
  kinds, leaseOpt, macOf, only, opt, packet4, packet6, portStatus, relayRepl, serverReply4, started, udp4, udp6, utf8, v4, v6,
  type Core,
} from './kit';

const OWNER = macOf(1);
const OTHER = macOf(2);
const ADDR4 = v4('198.51.100.50');
const UNKNOWN4 = v4('198.51.100.77');
const LL1 = v6('fe80::200:ff:fe00:1');
const LL2 = v6('fe80::200:ff:fe00:2');
const DUID1 = duidOf(1);
const DUID2 = duidOf(2);
const NA = v6('2001:db8:1::100');
const PD = v6('2001:db8:100::');
const DECLINE6 = 9;

/** DHCPREQUEST → DHCPACK of ADDR4 for OWNER on lan1. */
function leased4(): Core {
  const m = started();
  const req = decode4(only(m.handle(packet4('lan1', OWNER, client4(REQUEST, OWNER, {}, [opt(50, ADDR4)])), T0), 'udp-send')[0]!.payload);
  m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, ADDR4, [leaseOpt(3600)]))), T0);
  expect(m.bindings()).toHaveLength(1);
  return m;
}

/** REQUEST → REPLY of NA + PD for DUID1 / OWNER on lan1. */
function leased6(): Core {
  const m = started();
  const ias = [iaNa(1, NA), iaPd(2, PD)];
  m.handle(packet6('lan1', OWNER, LL1, dhcp6Message.encode(client6(REQUEST6, DUID1, ias))), T0);
  const reply: Dhcp6Message = { kind: 'client', msgType: REPLY, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid: DUID1 }, ...ias] };
  m.handle(udp6(relayRepl(utf8('lan1'), LL1, reply)), T0);
  expect(m.bindings()).toHaveLength(2);
  return m;
}

const release4 = (chaddr: Uint8Array, ciaddr = ADDR4) => client4(RELEASE, chaddr, { ciaddr });
const decline4 = (chaddr: Uint8Array, address = ADDR4) => client4(DECLINE, chaddr, {}, [opt(50, address)]);
const give6 = (type: number, duid: Uint8Array, ias: Dhcp6Option[] = [iaNa(1, NA, 0), iaPd(2, PD, 56, 0)]) =>
  dhcp6Message.encode(client6(type, duid, ias));

const foreignLog = (port: string, mac: string, binding: string, ownerMac = '02:00:00:00:00:01') => ({
  kind: 'log', level: 'warn', subsystem: 'relay', message: 'dropped a RELEASE/DECLINE for another client\'s binding',
  fields: { port, mac, binding, owner: 'lan1', ownerMac }, key: `foreign-release:${port}`,
});

describe('DHCPv4 RELEASE / DECLINE for another client\'s binding (RFC 2131 §4.3.3–§4.3.4)', () => {
  it('from another MAC on the same port: dropped, counted, logged; the binding stays', () => {
    const m = leased4();
    for (const msg of [release4(OTHER), release4(OWNER), decline4(OTHER), decline4(OWNER)]) {
      expect(m.handle(packet4('lan1', OTHER, msg), at(10))).toEqual([foreignLog('lan1', '02:00:00:00:00:02', '198.51.100.50/32')]);
    }
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed4: 1, released: 0, dropped: { 'foreign-release': 4 } });
    expect(m.bindings()).toHaveLength(1);
  });

  it('from the owner\'s MAC on another port: dropped', () => {
    const m = leased4();
    expect(m.handle(packet4('lan2', OWNER, release4(OWNER)), at(10))).toEqual([foreignLog('lan2', '02:00:00:00:00:01', '198.51.100.50/32')]);
    expect(m.handle(packet4('lan2', OWNER, decline4(OWNER)), at(10))).toHaveLength(1);
    expect(portStatus(m, 'lan2')).toMatchObject({ relayed4: 0, dropped: { 'foreign-release': 2 } });
    expect(m.bindings()).toHaveLength(1);
  });

  it('the owner\'s own RELEASE ends the binding and is relayed to every server', () => {
    const m = leased4();
    expect(kinds(m.handle(packet4('lan1', OWNER, release4(OWNER), ADDR4), at(10)))).toEqual(['kernel', 'log', 'udp-send', 'udp-send']);
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1').dropped).toEqual({});
  });

  it('the owner\'s own DECLINE ends the binding and is relayed', () => {
    const m = leased4();
    expect(kinds(m.handle(packet4('lan1', OWNER, decline4(OWNER)), at(10)))).toEqual(['kernel', 'log', 'udp-send', 'udp-send']);
    expect(m.bindings()).toEqual([]);
  });

  it('an address gleand holds no binding for is relayed as before: the server decides', () => {
    const m = leased4();
    expect(kinds(m.handle(packet4('lan1', OTHER, release4(OTHER, UNKNOWN4)), at(10)))).toEqual(['udp-send', 'udp-send']);
    expect(kinds(m.handle(packet4('lan2', OTHER, decline4(OTHER, UNKNOWN4)), at(10)))).toEqual(['udp-send', 'udp-send']);
    // A RELEASE without ciaddr names nothing (RFC 2131 §4.4.6): relayed.
    expect(kinds(m.handle(packet4('lan1', OTHER, release4(OTHER, new Uint8Array(4))), at(10)))).toEqual(['udp-send', 'udp-send']);
    expect(m.bindings()).toHaveLength(1);
  });

  it('a trusted port (a relay below it: every frame carries that relay\'s MAC) checks the port, not the MAC', () => {
    const m = started();
    const req = decode4(only(m.handle(packet4('lan2', OTHER, client4(REQUEST, OWNER)), T0), 'udp-send')[0]!.payload);
    m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, ADDR4, [leaseOpt(3600)]))), T0);
    expect(m.bindings()[0]).toMatchObject({ port: 'lan2', mac: OWNER });
    expect(kinds(m.handle(packet4('lan2', OTHER, release4(OWNER)), at(10)))).toEqual(['udp-send', 'udp-send']);
    expect(kinds(m.handle(packet4('lan1', OWNER, release4(OWNER)), at(10)))).toEqual(['log']);
  });
});

describe('DHCPv6 RELEASE / DECLINE for another client\'s binding (RFC 8415 §18.3.7–§18.3.8)', () => {
  it('from another MAC on the same port, with the victim\'s DUID or its own: dropped, counted, logged', () => {
    const m = leased6();
    for (const type of [RELEASE6, DECLINE6]) {
      for (const duid of [DUID1, DUID2]) {
        expect(m.handle(packet6('lan1', OTHER, LL2, give6(type, duid)), at(10))).toEqual([
          foreignLog('lan1', '02:00:00:00:00:02', '2001:db8:1::100/128'),
        ]);
      }
    }
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed6: 1, released: 0, dropped: { 'foreign-release': 4 } });
    expect(m.bindings()).toHaveLength(2);
  });

  it('from the victim\'s MAC and link-local but another DUID: dropped (the binding\'s DUID is not the sender\'s)', () => {
    const m = leased6();
    expect(m.handle(packet6('lan1', OWNER, LL1, give6(RELEASE6, DUID2, [iaPd(2, PD, 56, 0)])), at(10))).toEqual([
      foreignLog('lan1', '02:00:00:00:00:01', '2001:db8:100::/56'),
    ]);
  });

  it('from the owner\'s MAC and DUID on another port: dropped', () => {
    const m = leased6();
    expect(kinds(m.handle(packet6('lan2', OWNER, LL1, give6(RELEASE6, DUID1)), at(10)))).toEqual(['log']);
    expect(portStatus(m, 'lan2').dropped).toEqual({ 'foreign-release': 1 });
    expect(m.bindings()).toHaveLength(2);
  });

  it('one foreign lease among the client\'s own makes the whole message foreign', () => {
    const m = leased6();
    const other = v6('2001:db8:1::200');
    const ias = [iaNa(1, NA, 0), iaNa(3, other, 0)];
    expect(kinds(m.handle(packet6('lan1', OTHER, LL2, give6(RELEASE6, DUID2, ias)), at(10)))).toEqual(['log']);
  });

  it('the owner\'s own RELEASE ends both leases and is relayed', () => {
    const m = leased6();
    expect(kinds(m.handle(packet6('lan1', OWNER, LL1, give6(RELEASE6, DUID1)), at(10)))).toEqual(['kernel', 'log', 'kernel', 'log', 'udp-send']);
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1').dropped).toEqual({});
  });

  it('leases gleand holds no binding for are relayed as before', () => {
    const m = leased6();
    const ias = [iaNa(9, v6('2001:db8:1::999'), 0)];
    expect(kinds(m.handle(packet6('lan1', OTHER, LL2, give6(RELEASE6, DUID2, ias)), at(10)))).toEqual(['udp-send']);
    expect(kinds(m.handle(packet6('lan1', OTHER, LL2, give6(DECLINE6, DUID2, ias)), at(10)))).toEqual(['udp-send']);
  });
});

/**
 * A forged RELEASE unicast to the server from a station with a lease of its own (RFC 2131
 * §4.4.4: clients unicast DHCPRELEASE). Its source passes verification, but on a relay
 * port the verify chain drops all client DHCP and gleand relays what it reads: so the
 * guard judges unicast ones too. A forgery is dropped; the owner's own is relayed.
 */
describe('a RELEASE for another client\'s binding unicast to the server goes through the guard', () => {
  const SERVER4 = v4('192.0.2.67');
  const SERVER6 = v6('2001:db8::547');
  const ATTACKER4 = v4('198.51.100.60');
  const ATTACKER6 = v6('2001:db8:1::600');
  const unicast4 = (mac: Uint8Array, msg: ReturnType<typeof client4>, source = ATTACKER4) =>
    ({ ...packet4('lan1', mac, msg), bytes: ipv4Packet(source, SERVER4, 68, 67, dhcp4Message.encode(msg)) });
  const unicast6 = (mac: Uint8Array, payload: Uint8Array, source = ATTACKER6) =>
    ({ ...packet6('lan1', mac, source, payload), bytes: ipv6Packet(source, SERVER6, 546, 547, payload) });

  it('DHCPv4: dropped (foreign-release), nothing relayed, the binding stays', () => {
    const m = leased4();
    expect(m.handle(unicast4(OTHER, release4(OWNER)), at(10))).toEqual([foreignLog('lan1', '02:00:00:00:00:02', '198.51.100.50/32')]);
    expect(m.handle(unicast4(OTHER, decline4(OWNER)), at(10))).toEqual([foreignLog('lan1', '02:00:00:00:00:02', '198.51.100.50/32')]);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed4: 1, released: 0, dropped: { 'foreign-release': 2 } });
    expect(m.bindings()).toHaveLength(1);
  });

  it('DHCPv6: dropped (foreign-release), nothing relayed, the bindings stay', () => {
    const m = leased6();
    expect(m.handle(unicast6(OTHER, give6(RELEASE6, DUID1)), at(10))).toEqual([foreignLog('lan1', '02:00:00:00:00:02', '2001:db8:1::100/128')]);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed6: 1, released: 0, dropped: { 'foreign-release': 1 } });
    expect(m.bindings()).toHaveLength(2);
  });

  it('the owner\'s own unicast RELEASE is relayed to every server and ends its binding', () => {
    const m = leased4();
    const sent = m.handle(unicast4(OWNER, release4(OWNER), ADDR4), at(10));
    expect(kinds(sent)).toEqual(['kernel', 'log', 'udp-send', 'udp-send']);
    expect(only(sent, 'udp-send').map((a) => decode4(a.payload).giaddr)).toEqual([v4('198.51.100.1'), v4('198.51.100.1')]);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed4: 2, released: 1, dropped: {} });
    expect(m.bindings()).toEqual([]);
  });

  it('the owner\'s own unicast DHCPv6 RELEASE is relayed and ends both leases', () => {
    const m = leased6();
    expect(kinds(m.handle(unicast6(OWNER, give6(RELEASE6, DUID1), NA), at(10)))).toEqual(['kernel', 'log', 'kernel', 'log', 'udp-send']);
    expect(m.bindings()).toEqual([]);
  });
});
