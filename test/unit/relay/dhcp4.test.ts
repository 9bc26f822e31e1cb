import { describe, expect, it } from 'vitest';
import { dhcp4Message, getRelayAgentInformation, ipv4Udp } from '../../../src/wire';
import type { Action } from '../../../src/actions';
import {
  Core, ACK, BROADCAST_MAC, DECLINE, DISCOVER, GIADDR, NAK, OFFER, RELAY_ID, RELEASE, REQUEST, SERVER4, T0,
  at, bootp, client4, ipv4Packet, decode4, delta, dropLog, kinds, leaseOpt, macOf, only, opt, packet4, portStatus, quiet,
  serverReply4, started, udp4, utf8, v4,
} from './kit';

const MAC1 = macOf(1);
const MAC2 = macOf(2);
const YIADDR = v4('198.51.100.50');
const LEASE_S = 3600;

/** The kernel entries of one IPv4 lease on lan1 (device eth1). */
const lease4Entries = (addr = YIADDR, mac = MAC1, device = 'eth1') => ({
  routes: [{ family: 4 as const, dst: addr, dstLen: 32, device, gateway: null }],
  neighbours: [{ family: 4 as const, address: addr, device, lladdr: mac }],
  verifies: [{ family: 4 as const, device, mac, prefix: addr, prefixLength: 32 }],
});

function relayed(actions: readonly Action[]) {
  const sends = only(actions, 'udp-send');
  expect(sends.length).toBeGreaterThan(0);
  return { sends, message: decode4(sends[0]!.payload) };
}

/** DISCOVER → OFFER → REQUEST → ACK for MAC1 on lan1; returns the module and the ACK's actions. */
function dora(m = started(), mac = MAC1, addr = YIADDR, now = T0) {
  const disc = relayed(m.handle(packet4('lan1', mac, client4(DISCOVER, mac)), now));
  m.handle(udp4(dhcp4Message.encode(serverReply4(disc.message, OFFER, addr, [leaseOpt(LEASE_S)]))), now);
  const req = relayed(m.handle(packet4('lan1', mac, client4(REQUEST, mac, {}, [opt(50, addr)])), now));
  const ack = serverReply4(req.message, ACK, addr, [leaseOpt(LEASE_S)]);
  return { m, ack, actions: m.handle(udp4(dhcp4Message.encode(ack)), now) };
}

function linkSend(actions: readonly Action[]) {
  const sends = only(actions, 'link-send');
  expect(sends).toHaveLength(1);
  const d = ipv4Udp.decode(sends[0]!.bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return { send: sends[0]!, ip: d.value.ip, udp: d.value.udp, message: decode4(d.value.udp.payload) };
}

describe('DHCPv4 relay: client → servers (RFC 1542 §4.1, RFC 3046 §2.1)', () => {
  it('forwards a DISCOVER to every server with giaddr, hops+1 and option 82', () => {
    const m = started();
    const discover = client4(DISCOVER, MAC1);
    const actions = m.handle(packet4('lan1', MAC1, discover), T0);
    expect(kinds(actions)).toEqual(['udp-send', 'udp-send']);
    const [a, b] = only(actions, 'udp-send');
    expect(a).toMatchObject({ family: 4, upstream: 'wan', destination: SERVER4, destinationPort: 67 });
    expect(b).toMatchObject({ family: 4, upstream: 'wan', destination: v4('192.0.2.68'), destinationPort: 67 });
    expect(b!.payload).toEqual(a!.payload);
    const out = decode4(a!.payload);
    expect(out.giaddr).toEqual(GIADDR);
    expect(out.hops).toBe(1);
    expect(out.chaddr).toEqual(discover.chaddr);
    expect(out.xid).toBe(discover.xid);
    const info = getRelayAgentInformation(out);
    expect(info?.ok && info.value).toEqual([
      { kind: 'circuitId', circuitId: utf8('lan1') },
      { kind: 'remoteId', remoteId: utf8('sub-1') },
      { kind: 'relayId', relayId: RELAY_ID },
    ]);
    // Option 82 goes last, other options unchanged, the 300-byte datagram keeps its size.
    expect(out.options.slice(0, -1)).toEqual(discover.options);
    expect(a!.payload.length).toBe(300);
    expect(portStatus(m, 'lan1').relayed4).toBe(1);
  });

  it('sends no relay-id before the identity is known and no remote-id when unset', () => {
    const m = started(undefined, null);
    const out = relayed(m.handle(packet4('lan2', MAC1, client4(DISCOVER, MAC1)), T0)).message;
    const info = getRelayAgentInformation(out);
    expect(info?.ok && info.value).toEqual([{ kind: 'circuitId', circuitId: utf8('lan2') }]);
  });

  it('drops option 82 from an untrusted port, relays it unchanged from a trusted one', () => {
    const m = started();
    const spoof = client4(DISCOVER, MAC1, {}, [opt(82, [1, 4, ...utf8('evil')])]);
    expect(m.handle(packet4('lan1', MAC1, spoof), T0)).toEqual([dropLog('lan1', 'untrusted-option82')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'untrusted-option82': 1 });

    const out = relayed(m.handle(packet4('lan2', MAC1, spoof), T0)).message;
    // RFC 3046 §2.1.1: no second option 82; the one below us is kept as it was.
    expect(out.options.filter((o) => o.code === 82)).toEqual([opt(82, [1, 4, ...utf8('evil')])]);
    expect(out.giaddr).toEqual(GIADDR);
    expect(portStatus(m, 'lan2').dropped).toEqual({});
  });

  it('drops a non-zero giaddr from an untrusted port; a trusted port keeps the inner relay\'s giaddr', () => {
    const m = started();
    const inner = v4('203.0.113.1');
    const msg = client4(DISCOVER, MAC1, { giaddr: inner, hops: 1 });
    expect(m.handle(packet4('lan1', MAC1, msg), T0)).toEqual([dropLog('lan1', 'untrusted-giaddr')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'untrusted-giaddr': 1 });
    const out = relayed(m.handle(packet4('lan2', MAC1, msg), T0)).message;
    expect(out.giaddr).toEqual(inner); // RFC 1542 §4.1.1: only a zero giaddr is filled
    expect(out.hops).toBe(2);
  });

  it('drops hops at or above max_hops (RFC 1542 §4.1.1)', () => {
    const m = started();
    expect(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1, { hops: 4 })), T0)).toEqual([dropLog('lan1', 'hops')]);
    expect(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1, { hops: 255 })), T0)).toEqual([dropLog('lan1', 'hops')]);
    expect(relayed(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1, { hops: 3 })), T0)).message.hops).toBe(4);
    expect(portStatus(m, 'lan1').dropped).toEqual({ hops: 2 });
  });

  it('drops a BOOTREPLY and non-DHCP UDP from a subscriber', () => {
    const m = started();
    expect(m.handle(packet4('lan1', MAC1, { ...client4(OFFER, MAC1), op: 2 }), T0)).toEqual([dropLog('lan1', 'wrong-direction')]);
    const ntp = ipv4Packet(new Uint8Array(4), v4('255.255.255.255'), 68, 123, dhcp4Message.encode(client4(DISCOVER, MAC1)));
    expect(m.handle({ kind: 'packet', port: 'lan1', family: 4, bytes: ntp, mac: MAC1, checksum: 'check', outgoing: false }, T0)).toEqual([dropLog('lan1', 'not-dhcp')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'wrong-direction': 1, 'not-dhcp': 1 });
  });

  it('rate-limits each port with a one-second token bucket', () => {
    const m = started(); // lan1: rate_limit 50
    for (let i = 0; i < 50; i++) expect(kinds(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1)), T0))).toEqual(['udp-send', 'udp-send']);
    expect(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1)), T0)).toEqual([dropLog('lan1', 'rate-limit')]);
    // lan2 has its own budget.
    expect(kinds(m.handle(packet4('lan2', MAC1, client4(DISCOVER, MAC1)), T0))).toEqual(['udp-send', 'udp-send']);
    // 20 ms later one token (50/s) has come back, and only one.
    expect(kinds(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1)), at(20)))).toEqual(['udp-send', 'udp-send']);
    expect(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1)), at(20))).toEqual([dropLog('lan1', 'rate-limit')]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'rate-limit': 2 });
    expect(portStatus(m, 'lan1').relayed4).toBe(51);
  });

  it('ignores packets on a port it does not know', () => {
    const m = started();
    expect(m.handle(packet4('lan9', MAC1, client4(DISCOVER, MAC1)), T0)).toEqual([]);
  });
});

describe('DHCPv4 relay: server → client (RFC 2131 §4.1, RFC 3046 §2.2)', () => {
  it('delivers an OFFER unicast to yiaddr at chaddr, option 82 stripped, nothing gleaned', () => {
    const m = started();
    const disc = relayed(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1)), T0)).message;
    const offer = serverReply4(disc, OFFER, YIADDR, [leaseOpt(LEASE_S)]);
    const actions = m.handle(udp4(dhcp4Message.encode(offer)), T0);
    expect(kinds(actions)).toEqual(['link-send']);
    const { send, ip, udp, message } = linkSend(actions);
    expect(send).toMatchObject({ port: 'lan1', family: 4, destinationMac: MAC1 });
    expect(ip.source).toEqual(GIADDR);
    expect(ip.destination).toEqual(YIADDR);
    expect([udp.sourcePort, udp.destinationPort]).toEqual([67, 68]);
    expect(message.options).toEqual(offer.options.filter((o) => o.code !== 82));
    expect(getRelayAgentInformation(message)).toBeUndefined();
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1').replies4).toBe(1);
  });

  it('broadcasts when the client set the broadcast flag', () => {
    const m = started();
    const disc = relayed(m.handle(packet4('lan1', MAC1, client4(DISCOVER, MAC1, { flags: 0x8000 })), T0)).message;
    const { send, ip } = linkSend(m.handle(udp4(dhcp4Message.encode(serverReply4(disc, OFFER, YIADDR))), T0));
    expect(send.destinationMac).toEqual(BROADCAST_MAC);
    expect(ip.destination).toEqual(v4('255.255.255.255'));
  });

  it('unicasts to ciaddr when the client has one, even with the broadcast flag', () => {
    const m = started();
    const ciaddr = YIADDR;
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1, { ciaddr, flags: 0x8000 })), T0)).message;
    const { send, ip } = linkSend(m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, YIADDR, [leaseOpt(60)]))), T0));
    expect(send.destinationMac).toEqual(MAC1);
    expect(ip.destination).toEqual(ciaddr);
  });

  it('ACK: kernel host route, neighbour and verify entry go out before the reply', () => {
    const { m, actions } = dora();
    expect(kinds(actions)).toEqual(['kernel', 'log', 'link-send']);
    expect(actions[0]).toEqual(delta({
      routes: { add: lease4Entries().routes }, neighbours: { add: lease4Entries().neighbours }, verifies: { add: lease4Entries().verifies },
    }));
    expect(actions[1]).toEqual({
      kind: 'log', level: 'info', subsystem: 'bindings', message: 'added',
      fields: { binding: '198.51.100.50/32', port: 'lan1', mac: '02:00:00:00:00:01', source: 'glean' },
    });
    const { send, ip, message } = linkSend(actions);
    expect(send.destinationMac).toEqual(MAC1);
    expect(ip.destination).toEqual(YIADDR);
    expect(getRelayAgentInformation(message)).toBeUndefined();
    const [b] = m.bindings();
    expect(b).toMatchObject({
      family: 4, address: YIADDR, prefixLength: 32, port: 'lan1', mac: MAC1, circuitId: utf8('lan1'), remoteId: utf8('sub-1'),
      validUntil: T0 + LEASE_S * 1000, source: 'glean',
    });
    expect(portStatus(m, 'lan1')).toMatchObject({ relayed4: 2, replies4: 2, gleaned: 1, bindings: 1 });
  });

  it('a renewal ACK refreshes the lease without a second kernel add', () => {
    const { m } = dora();
    const t = at(1_800_000);
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1, { ciaddr: YIADDR }), YIADDR), t)).message;
    const actions = m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, YIADDR, [leaseOpt(LEASE_S)]))), t);
    expect(kinds(actions)).toEqual(['log', 'link-send']);
    expect(actions[0]).toMatchObject({ kind: 'log', message: 'refreshed' });
    expect(m.bindings()).toHaveLength(1);
    expect(m.nextDeadline()).toBe(t + LEASE_S * 1000);
    expect(m.poll(at(LEASE_S * 1000))).toEqual([]); // the first lease's end passes quietly
    expect(m.bindings()).toHaveLength(1);
  });

  it('expires the binding at nextDeadline() and removes its kernel entries', () => {
    const { m } = dora();
    const deadline = m.nextDeadline()!;
    expect(deadline).toBe(T0 + LEASE_S * 1000);
    expect(m.poll(at(LEASE_S * 1000 - 1))).toEqual([]);
    const actions = m.poll(deadline);
    const e = lease4Entries();
    expect(actions).toEqual([
      delta({ routes: { remove: e.routes }, neighbours: { remove: e.neighbours }, verifies: { remove: e.verifies } }),
      { kind: 'log', level: 'info', subsystem: 'bindings', message: 'expired',
        fields: { binding: '198.51.100.50/32', port: 'lan1', mac: '02:00:00:00:00:01', source: 'glean' } },
      // the snapshot journal forgets it too
      { kind: 'journal', op: 'delete', binding: expect.objectContaining({ address: YIADDR, prefixLength: 32, port: 'lan1' }) },
    ]);
    expect(m.bindings()).toEqual([]);
    expect(m.nextDeadline()).toBeNull();
    expect(m.poll(at(LEASE_S * 2000))).toEqual([]);
  });

  it('an infinite lease (0xffffffff) sets no deadline', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, YIADDR, [leaseOpt(0xffffffff)]))), T0);
    expect(m.bindings()).toHaveLength(1);
    expect(m.nextDeadline()).toBeNull();
  });

  it('RELEASE from the client\'s own MAC removes the binding and its kernel entries', () => {
    const { m } = dora();
    const release = client4(RELEASE, MAC1, { ciaddr: YIADDR });
    const actions = m.handle(packet4('lan1', MAC1, release, YIADDR), at(10));
    const e = lease4Entries();
    expect(quiet(actions)).toEqual([
      delta({ routes: { remove: e.routes }, neighbours: { remove: e.neighbours }, verifies: { remove: e.verifies } }),
      ...only(actions, 'udp-send'),
    ]);
    expect(kinds(actions)).toEqual(['kernel', 'log', 'udp-send', 'udp-send']);
    expect(actions[1]).toMatchObject({ message: 'removed' });
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1').released).toBe(1);
    expect(m.nextDeadline()).toBeNull();
  });

  it('RELEASE naming the address from another MAC changes nothing and is not relayed (release-guard.test.ts)', () => {
    const { m } = dora();
    // Another client's chaddr:
    expect(kinds(m.handle(packet4('lan1', MAC2, client4(RELEASE, MAC2, { ciaddr: YIADDR })), at(10)))).toEqual(['log']);
    // The victim's chaddr sent from another station's MAC:
    expect(kinds(m.handle(packet4('lan1', MAC2, client4(RELEASE, MAC1, { ciaddr: YIADDR })), at(10)))).toEqual(['log']);
    // The right MAC on another port:
    expect(kinds(m.handle(packet4('lan2', MAC1, client4(RELEASE, MAC1, { ciaddr: YIADDR })), at(10)))).toEqual(['log']);
    expect(m.bindings()).toHaveLength(1);
    expect(portStatus(m, 'lan1')).toMatchObject({ released: 0, dropped: { 'foreign-release': 2 } });
    expect(portStatus(m, 'lan2').dropped).toEqual({ 'foreign-release': 1 });
  });

  it('DECLINE (option 50) from the owner removes the binding', () => {
    const { m } = dora();
    const actions = m.handle(packet4('lan1', MAC1, client4(DECLINE, MAC1, {}, [opt(50, YIADDR)])), at(10));
    expect(kinds(actions)).toEqual(['kernel', 'log', 'udp-send', 'udp-send']);
    expect(m.bindings()).toEqual([]);
  });

  it('NAK forgets the client\'s bindings and is broadcast', () => {
    const { m } = dora();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1, {}, [opt(50, v4('198.51.100.99'))])), at(10))).message;
    const nak = serverReply4(req, NAK, new Uint8Array(4));
    const actions = m.handle(udp4(dhcp4Message.encode(nak)), at(10));
    expect(kinds(actions)).toEqual(['kernel', 'log', 'link-send']);
    const e = lease4Entries();
    expect(actions[0]).toEqual(delta({ routes: { remove: e.routes }, neighbours: { remove: e.neighbours }, verifies: { remove: e.verifies } }));
    const { send, ip } = linkSend(actions);
    expect(send.destinationMac).toEqual(BROADCAST_MAC);
    expect(ip.destination).toEqual(v4('255.255.255.255'));
    expect(m.bindings()).toEqual([]);
  });

  it('NAK for another MAC leaves the binding alone', () => {
    const { m } = dora();
    const req = relayed(m.handle(packet4('lan1', MAC2, client4(REQUEST, MAC2)), at(10))).message;
    expect(kinds(m.handle(udp4(dhcp4Message.encode(serverReply4(req, NAK, new Uint8Array(4)))), at(10)))).toEqual(['link-send']);
    expect(m.bindings()).toHaveLength(1);
  });

  it('an ACK without a lease time, or to DHCPINFORM (no yiaddr), creates nothing', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    expect(kinds(m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, YIADDR))), T0))).toEqual(['link-send']);
    expect(kinds(m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, new Uint8Array(4), [leaseOpt(60)]))), T0))).toEqual(['link-send']);
    expect(m.bindings()).toEqual([]);
  });

  it('drops replies from a source that is not a configured server', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    const ack = dhcp4Message.encode(serverReply4(req, ACK, YIADDR, [leaseOpt(60)]));
    expect(m.handle(udp4(ack, v4('192.0.2.99')), T0)).toEqual([dropLog('-', 'unknown-server')]);
    expect((m.status()['unmatched'] as { dropped: object }).dropped).toEqual({ 'unknown-server': 1 });
    expect(m.bindings()).toEqual([]);
  });

  it('drops a reply whose echoed circuit-id names no port', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    const reply = serverReply4(req, ACK, YIADDR, [leaseOpt(60)]);
    const forged = { ...reply, options: [...reply.options.filter((o) => o.code !== 82), opt(82, [1, 5, ...utf8('lan99')])] };
    expect(m.handle(udp4(dhcp4Message.encode(forged)), T0)).toEqual([dropLog('-', 'no-port')]);
    expect((m.status()['unmatched'] as { dropped: object }).dropped).toEqual({ 'no-port': 1 });
    expect(m.bindings()).toEqual([]);
  });

  it('without option 82, a giaddr shared by two ports cannot name the port', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    const reply = serverReply4(req, ACK, YIADDR, [leaseOpt(60)]);
    const bare = { ...reply, options: reply.options.filter((o) => o.code !== 82) };
    expect(m.handle(udp4(dhcp4Message.encode(bare)), T0)).toEqual([dropLog('-', 'no-port')]);
  });

  it('a reply whose giaddr is not the port\'s is dropped', () => {
    const m = started();
    const req = relayed(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), T0)).message;
    const reply = { ...serverReply4(req, ACK, YIADDR, [leaseOpt(60)]), giaddr: v4('198.51.100.2') };
    expect(m.handle(udp4(dhcp4Message.encode(reply)), T0)).toEqual([dropLog('-', 'no-port')]);
  });

  it('malformed server payloads are counted, not thrown', () => {
    const m = started();
    expect(m.handle(udp4(Uint8Array.of(2, 1, 6)), T0)).toMatchObject([{ kind: 'log', fields: { reason: 'malformed' } }]);
    expect((m.status()['unmatched'] as { dropped: object }).dropped).toEqual({ malformed: 1 });
  });

  it('moves a lease to the new MAC when the server gives the address to another client', () => {
    const { m } = dora();
    const { actions } = dora(m, MAC2, YIADDR, at(10));
    expect(kinds(actions)).toEqual(['kernel', 'log', 'link-send']);
    const k = actions[0] as Extract<Action, { kind: 'kernel' }>;
    expect(k.delta.neighbours.replace).toEqual([{ family: 4, address: YIADDR, device: 'eth1', lladdr: MAC2 }]);
    expect(k.delta.verifies.add).toEqual(lease4Entries(YIADDR, MAC2).verifies);
    expect(k.delta.verifies.remove).toEqual(lease4Entries(YIADDR, MAC1).verifies);
    expect(k.delta.routes).toEqual({ add: [], remove: [], replace: [] });
  });
});

describe('DHCPv4 relay: bootp fixture sanity', () => {
  it('builds 300-byte client messages', () => {
    expect(dhcp4Message.encode(client4(DISCOVER, MAC1)).length).toBe(300);
    expect(bootp({}).op).toBe(1);
    expect(new Core().nextDeadline()).toBeNull();
  });
});
