import { describe, expect, it } from 'vitest';
import { dhcp4Message, dhcp6Message, type Dhcp4Message, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import {
  ACK, BASE_CONFIG, DISCOVER, GIADDR, NAK, PORT_MAC, RENEW6, REPLY, REQUEST, REQUEST6, SERVER4, SERVER6, SOLICIT, ADVERTISE, T0,
  at, bootp, client4, client6, duidOf, iaNa, iaPd, ipv4Packet, ipv6Packet, leaseOpt, macOf, only, opt, packet4, packet6,
  portStatus, relayRepl, serverReply4, started, typeOpt, udp4, udp6, utf8, v4, v6, type Core,
} from './kit';

/**
 * Unicast renewals (issue 13 items 3 and 8): on a relay-mode port the relay carries every
 * client request it reads, broadcast or unicast (the verify chain drops the unicast one,
 * so it reaches the server once, relayed); the reply comes back through the relay. A
 * server's unicast reply leaving a port (passive mode, or a second path) renews the
 * binding it names, only from a configured server and only for the binding's own client.
 */
const MAC1 = macOf(1);
const MAC2 = macOf(2);
const YIADDR = v4('198.51.100.50');
const LEASE_S = 3600;
const LL1 = v6('fe80::200:ff:fe00:1');
const DUID1 = duidOf(1);
const NA = v6('2001:db8:1::100');
const PD = v6('2001:db8:100::');

function dora(m: Core, mac = MAC1, addr = YIADDR) {
  const disc = m.handle(packet4('lan1', mac, client4(DISCOVER, mac)), T0);
  const relayed = dhcp4Message.decode(only(disc, 'udp-send')[0]!.payload);
  if (!relayed.ok) throw new Error('relayed DISCOVER did not decode');
  m.handle(udp4(dhcp4Message.encode(serverReply4(relayed.value, ACK, addr, [leaseOpt(LEASE_S)]))), T0);
  expect(m.bindings().map((b) => b.validUntil)).toEqual([at(LEASE_S * 1000)]);
}

/** What a server sends straight to a RENEWING client (RFC 2131 §4.3.2): giaddr 0, no option 82. */
const directAck = (mac: Uint8Array, addr: Uint8Array, leaseS: number, type = ACK): Dhcp4Message =>
  bootp({ op: 2, mac, ciaddr: addr, yiaddr: addr, options: [typeOpt(type), opt(54, SERVER4), leaseOpt(leaseS)] });

/** The frame as the port's packet socket sees it leave (PACKET_OUTGOING; the MAC is the router's). */
const leaving4 = (port: string, m: Dhcp4Message, source = SERVER4, destination = m.yiaddr) =>
  ({ kind: 'packet' as const, port, family: 4 as const, bytes: ipv4Packet(source, destination, 67, 68, dhcp4Message.encode(m)), mac: PORT_MAC, outgoing: true, checksum: 'check' as const });

const leaving6 = (port: string, m: Dhcp6Message, source = SERVER6, destination = NA) =>
  ({ kind: 'packet' as const, port, family: 6 as const, bytes: ipv6Packet(source, destination, 547, 546, dhcp6Message.encode(m)), mac: PORT_MAC, outgoing: true, checksum: 'check' as const });

describe('DHCPv4: on a relay port the relay carries unicast requests too (RFC 3046 §2.1, RFC 2131 §4.1)', () => {
  it('a RENEWING client\'s unicast REQUEST is relayed once to each server, with giaddr and option 82; the ACK comes back through the relay and renews', () => {
    const m = started();
    dora(m);
    const renew = client4(REQUEST, MAC1, { ciaddr: YIADDR });
    const unicast = { ...packet4('lan1', MAC1, renew), bytes: ipv4Packet(YIADDR, SERVER4, 68, 67, dhcp4Message.encode(renew)) };
    const sent = only(m.handle(unicast, at(1000)), 'udp-send');
    expect(sent.map((a) => a.destination)).toEqual([SERVER4, v4('192.0.2.68')]);
    const relayed = dhcp4Message.decode(sent[0]!.payload);
    if (!relayed.ok) throw new Error('relayed REQUEST did not decode');
    expect(relayed.value).toMatchObject({ giaddr: GIADDR, ciaddr: YIADDR, hops: 1 });
    expect(relayed.value.options.filter((o) => o.code === 82)).toHaveLength(1);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed4: 2, dropped: {} });
    // dhcpd answers the relay (giaddr): delivered to ciaddr at chaddr, and the binding renewed.
    const ack = serverReply4(relayed.value, ACK, YIADDR, [leaseOpt(7200)]);
    const out = m.handle(udp4(dhcp4Message.encode(ack)), at(60_000));
    expect(only(out, 'link-send').map((a) => [a.port, a.destinationMac])).toEqual([['lan1', MAC1]]);
    expect(m.bindings().map((b) => b.validUntil)).toEqual([at(60_000 + 7_200_000)]);
    expect(portStatus(m, 'lan1')).toMatchObject({ replies4: 2, unicastReplies: 0 });
  });
});

describe('DHCPv4: a server\'s unicast DHCPACK leaving the port renews the binding', () => {
  it('extends the lease of the binding whose MAC is chaddr; nothing else changes', () => {
    const m = started();
    dora(m);
    const before = m.bindings()[0]!;
    m.handle(leaving4('lan1', directAck(MAC1, YIADDR, 7200)), at(60_000));
    const after = m.bindings()[0]!;
    expect(after.validUntil).toEqual(at(60_000 + 7_200_000));
    expect({ ...after, validUntil: null, updatedAt: null }).toEqual({ ...before, validUntil: null, updatedAt: null });
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastReplies: 1, unicastRenewed: 1, unicastUnmatched: 0, dropped: {} });
  });

  it('believes only a configured dhcpv4_server', () => {
    const m = started();
    dora(m);
    const actions = m.handle(leaving4('lan1', directAck(MAC1, YIADDR, 7200), v4('198.51.100.1')), at(60_000));
    expect(m.bindings()[0]!.validUntil).toEqual(at(LEASE_S * 1000));
    expect(only(actions, 'kernel')).toEqual([]);
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastReplies: 0, unicastNotServer: 1 });
  });

  it('renews nothing that is not this client\'s binding on this port, and creates nothing', () => {
    const m = started();
    dora(m);
    m.handle(leaving4('lan1', directAck(MAC2, YIADDR, 7200)), at(1)); // another MAC
    m.handle(leaving4('lan2', directAck(MAC1, YIADDR, 7200)), at(2)); // another port
    m.handle(leaving4('lan1', directAck(MAC1, YIADDR, 7200), SERVER4, v4('198.51.100.51')), at(3)); // sent elsewhere
    m.handle(leaving4('lan1', { ...directAck(MAC1, YIADDR, 7200), ciaddr: v4('198.51.100.51') }), at(4)); // inconsistent ciaddr
    m.handle(leaving4('lan1', directAck(MAC1, YIADDR, 7200, NAK)), at(5)); // not an ACK
    m.handle(leaving4('lan1', directAck(MAC2, v4('198.51.100.52'), 7200)), at(6)); // no binding: not created
    expect(m.bindings()).toHaveLength(1);
    expect(m.bindings()[0]!.validUntil).toEqual(at(LEASE_S * 1000));
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastReplies: 5, unicastRenewed: 0, unicastUnmatched: 5 });
    expect(portStatus(m, 'lan2')).toMatchObject({ unicastReplies: 1, unicastRenewed: 0, unicastUnmatched: 1 });
  });

  it('an outgoing frame that is not a server reply is not read (another relay\'s, or forged)', () => {
    const m = started();
    dora(m);
    const bytes = ipv4Packet(SERVER4, YIADDR, 68, 67, dhcp4Message.encode(directAck(MAC1, YIADDR, 7200)));
    m.handle({ kind: 'packet', port: 'lan1', family: 4, bytes, mac: PORT_MAC, outgoing: true, checksum: 'check' }, at(1));
    expect(m.bindings()[0]!.validUntil).toEqual(at(LEASE_S * 1000));
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastNotServer: 1, relayed4: 1 });
  });
});

describe('DHCPv6: on a relay port the relay carries multicast and unicast requests (RFC 8415 §19)', () => {
  const reply = (duid: Uint8Array, options: Dhcp6Option[], msgType = REPLY): Dhcp6Message =>
    ({ kind: 'client', msgType, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid }, { kind: 'serverId', duid: duidOf(99) }, ...options] });

  function lease(m = started()) {
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, DUID1, [iaNa(1), iaPd(2)]))), T0);
    m.handle(udp6(relayRepl(utf8('lan1'), LL1, reply(DUID1, [iaNa(1, NA), iaPd(2, PD)], ADVERTISE))), T0);
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(REQUEST6, DUID1, [iaNa(1, NA), iaPd(2, PD)]))), T0);
    m.handle(udp6(relayRepl(utf8('lan1'), LL1, reply(DUID1, [iaNa(1, NA, 3600), iaPd(2, PD, 56, 7200)]))), T0);
    expect(m.bindings()).toHaveLength(2);
    return m;
  }
  const ends = (m: Core) => m.bindings().map((b) => b.validUntil);

  it('a RENEW unicast to the server from the client\'s address is relayed once; the REPLY goes back to that address at the requesting MAC and renews', () => {
    const m = lease();
    const renew = dhcp6Message.encode(client6(RENEW6, DUID1, [iaNa(1, NA)]));
    const unicast = { ...packet6('lan1', MAC1, NA, renew), bytes: ipv6Packet(NA, SERVER6, 546, 547, renew) };
    const sent = only(m.handle(unicast, at(1000)), 'udp-send');
    expect(sent.map((a) => a.destination)).toEqual([SERVER6]);
    // RFC 8415 §19.1.1: peer-address is the client's source, the message carried as sent.
    const forw = dhcp6Message.decode(sent[0]!.payload);
    if (!forw.ok || forw.value.kind !== 'relay') throw new Error('not a RELAY-FORW');
    expect(forw.value.peerAddress).toEqual(NA);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed6: 3, dropped: {} });
    const out = m.handle(udp6(relayRepl(utf8('lan1'), NA, reply(DUID1, [iaNa(1, NA, 9000)]))), at(1500));
    expect(only(out, 'link-send').map((a) => [a.port, a.destinationMac])).toEqual([['lan1', MAC1]]);
    expect(ends(m)).toEqual([at(1500 + 9_000_000), at(7_200_000)]);
    expect(m.bindings().every((b) => b.linkLocal !== null)).toBe(true); // a global peer-address does not erase the next hop
  });

  it('a unicast RENEW from the client\'s link-local is relayed once', () => {
    const m = lease();
    const renew = dhcp6Message.encode(client6(RENEW6, DUID1, [iaNa(1, NA)]));
    const unicast = { ...packet6('lan1', MAC1, LL1, renew), bytes: ipv6Packet(LL1, SERVER6, 546, 547, renew) };
    expect(only(m.handle(unicast, at(1000)), 'udp-send')).toHaveLength(1);
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed6: 3 });
  });

  it('the server\'s REPLY leaving the port renews the leases of the same DUID and IAID', () => {
    const m = lease();
    m.handle(leaving6('lan1', reply(DUID1, [iaNa(1, NA, 9000), iaPd(2, PD, 56, 9000)])), at(60_000));
    expect(ends(m)).toEqual([at(60_000 + 9_000_000), at(60_000 + 9_000_000)]);
    expect(m.bindings().every((b) => b.linkLocal !== null && b.mac !== null)).toBe(true); // kept, not overwritten with null
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastReplies: 1, unicastRenewed: 2 });
  });

  it('another DUID, another IAID, an unlisted source: nothing renewed', () => {
    const m = lease();
    m.handle(leaving6('lan1', reply(duidOf(2), [iaNa(1, NA, 9000)])), at(1));
    m.handle(leaving6('lan1', reply(DUID1, [iaNa(7, NA, 9000)])), at(2));
    m.handle(leaving6('lan1', reply(DUID1, [iaNa(1, NA, 9000)]), v6('2001:db8::bad')), at(3));
    expect(ends(m)).toEqual([at(3_600_000), at(7_200_000)]);
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastReplies: 2, unicastUnmatched: 2, unicastNotServer: 1 });
  });

  it('on a multicast upstream (no dhcpv6_server listed) no source is believed', () => {
    const text = BASE_CONFIG.replace(`\tlist dhcpv6_server '2001:db8::547'\n`, '');
    const m = lease(started(text));
    m.handle(leaving6('lan1', reply(DUID1, [iaNa(1, NA, 9000)])), at(1));
    expect(ends(m)).toEqual([at(3_600_000), at(7_200_000)]);
    expect(portStatus(m, 'lan1')).toMatchObject({ unicastNotServer: 1 });
  });

  it('a valid-lifetime of 0 ends the binding of that DUID (RFC 8415 §18.2.10.1)', () => {
    const m = lease();
    m.handle(leaving6('lan1', reply(DUID1, [iaNa(1, NA, 0)])), at(1));
    expect(m.bindings().map((b) => b.kind)).toEqual(['prefix']);
    expect(portStatus(m, 'lan1')).toMatchObject({ released: 1 });
  });
});
