import { describe, expect, it } from 'vitest';
import { dhcp4Message, dhcp6Message, type Dhcp4Message, type Dhcp6Message } from '../../../src/wire';
import {
  ACK, BASE_CONFIG, DISCOVER, NAK, RELEASE, REPLY, SOLICIT, T0, at, bootp, client4, client6, delta, dropLog, duidOf,
  iaNa, kinds, leaseOpt, macOf, opt, packet4, packet6, portStatus, relayRepl, started, typeOpt, udp4, udp6, utf8, v4, v6,
  SERVER4,
} from './kit';

const PASSIVE = `${BASE_CONFIG}
config subscriber 'pas1'
	option device 'eth3'
	option upstream 'wan'
	option mode 'passive'
	option giaddr '198.51.100.129'
	option link_address '2001:db8:3::1'
`;
const MAC1 = macOf(1);
const LL1 = v6('fe80::200:ff:fe00:1');
const DHCRELAY_GIADDR = v4('198.51.100.129');
const ADDR = v4('198.51.100.140');
const NA = v6('2001:db8:3::100');

/** What ISC dhcrelay's server sends back: giaddr = the relay, option 82 circuit-id = interface name. */
function ack(type = ACK, circuit: string | null = 'eth3', giaddr = DHCRELAY_GIADDR): Dhcp4Message {
  return bootp({
    op: 2, mac: MAC1, giaddr, yiaddr: type === ACK ? ADDR : new Uint8Array(4), hops: 1,
    options: [typeOpt(type), opt(54, SERVER4), leaseOpt(600), ...(circuit ? [opt(82, [1, circuit.length, ...utf8(circuit)])] : [])],
  });
}

const entries4 = {
  routes: [{ family: 4 as const, dst: ADDR, dstLen: 32, device: 'eth3', gateway: null }],
  neighbours: [{ family: 4 as const, address: ADDR, device: 'eth3', lladdr: MAC1 }],
  verifies: [{ family: 4 as const, device: 'eth3', mac: MAC1, prefix: ADDR, prefixLength: 32 }],
};

describe('passive mode: glean another relay\'s traffic, never send', () => {
  it('a client DISCOVER on a passive port is neither relayed nor answered', () => {
    const m = started(PASSIVE);
    expect(m.handle(packet4('pas1', MAC1, client4(DISCOVER, MAC1)), T0)).toEqual([]);
    expect(portStatus(m, 'pas1')).toMatchObject({ relayed4: 0, dropped: {} });
  });

  it('an observed ACK (circuit-id = dhcrelay\'s interface name) gleans a binding: kernel only', () => {
    const m = started(PASSIVE);
    const actions = m.handle(udp4(dhcp4Message.encode(ack()), SERVER4, true), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log']);
    expect(actions[0]).toEqual(delta({ routes: { add: entries4.routes }, neighbours: { add: entries4.neighbours }, verifies: { add: entries4.verifies } }));
    expect(m.bindings()).toMatchObject([{ address: ADDR, port: 'pas1', mac: MAC1, circuitId: utf8('eth3'), validUntil: T0 + 600_000 }]);
    expect(portStatus(m, 'pas1')).toMatchObject({ gleaned: 1, bindings: 1, replies4: 0 });
    // Expiry works the same way.
    expect(kinds(m.poll(m.nextDeadline()!))).toEqual(['kernel', 'log']);
    expect(m.bindings()).toEqual([]);
  });

  it('without option 82 the giaddr names the passive port', () => {
    const m = started(PASSIVE);
    expect(kinds(m.handle(udp4(dhcp4Message.encode(ack(ACK, null)), SERVER4, true), T0))).toEqual(['kernel', 'log']);
    expect(m.bindings()).toMatchObject([{ port: 'pas1' }]);
  });

  it('an observed reply for a relay-mode port or an unknown circuit is ignored', () => {
    const m = started(PASSIVE);
    expect(m.handle(udp4(dhcp4Message.encode(ack(ACK, 'lan1', v4('198.51.100.1'))), SERVER4, true), T0)).toEqual([]);
    expect(m.handle(udp4(dhcp4Message.encode(ack(ACK, 'eth9')), SERVER4, true), T0)).toEqual([]);
    expect(m.handle(udp4(dhcp4Message.encode({ ...ack(), op: 1 }), SERVER4, true), T0)).toEqual([]);
    expect(m.bindings()).toEqual([]);
  });

  it('a non-passive reply naming a passive port is not relayed', () => {
    const m = started(PASSIVE);
    const actions = m.handle(udp4(dhcp4Message.encode(ack(ACK, 'pas1', v4('198.51.100.1'))), SERVER4, false), T0);
    expect(actions).toEqual([dropLog('-', 'no-port')]); // the circuit's port does not own that giaddr
    expect(m.handle(udp4(dhcp4Message.encode(ack(ACK, 'pas1', DHCRELAY_GIADDR)), SERVER4, false), T0))
      .toEqual([dropLog('-', 'port-disabled')]);
    expect(m.bindings()).toEqual([]);
  });

  it('observed NAK forgets; the client\'s RELEASE seen on the port removes, without forwarding', () => {
    const m = started(PASSIVE);
    m.handle(udp4(dhcp4Message.encode(ack()), SERVER4, true), T0);
    expect(kinds(m.handle(udp4(dhcp4Message.encode(ack(NAK)), SERVER4, true), at(1)))).toEqual(['kernel', 'log']);
    expect(m.bindings()).toEqual([]);
    m.handle(udp4(dhcp4Message.encode(ack()), SERVER4, true), at(2));
    const actions = m.handle(packet4('pas1', MAC1, client4(RELEASE, MAC1, { ciaddr: ADDR }), ADDR), at(3));
    expect(kinds(actions)).toEqual(['kernel', 'log']);
    expect(m.bindings()).toEqual([]);
  });

  it('DHCPv6: the client\'s frame teaches the MAC; the observed RELAY-REPL (matched by link-address) gleans', () => {
    const m = started(PASSIVE);
    expect(m.handle(packet6('pas1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, duidOf(1), [iaNa(1)]))), T0)).toEqual([]);
    const replyMsg: Dhcp6Message = { kind: 'client', msgType: REPLY, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid: duidOf(1) }, iaNa(1, NA)] };
    // dhcrelay's Interface-ID is an opaque index of its own.
    const repl = relayRepl(Uint8Array.of(0, 0, 0, 3), LL1, replyMsg, v6('2001:db8:3::1'));
    const actions = m.handle(udp6(repl, undefined, true), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log']);
    expect(m.bindings()).toMatchObject([{ family: 6, address: NA, port: 'pas1', mac: MAC1, linkLocal: LL1 }]);
    // The same message, not passive, names no port of ours.
    expect(m.handle(udp6(repl), T0)).toEqual([dropLog('-', 'no-port')]);
  });

  it('DHCPv6: an observed RELAY-REPL for a link that is not ours is ignored', () => {
    const text = PASSIVE.replace(/$/, `
config subscriber 'pas2'
	option device 'eth4'
	option upstream 'wan'
	option mode 'passive'
	option link_address '2001:db8:4::1'
	option relay_v4 '0'
`);
    const m = started(text);
    const replyMsg: Dhcp6Message = { kind: 'client', msgType: REPLY, transactionId: 0xabcdef, options: [{ kind: 'clientId', duid: duidOf(1) }, iaNa(1, NA)] };
    expect(m.handle(udp6(relayRepl(Uint8Array.of(0, 0, 0, 3), LL1, replyMsg, v6('2001:db8:9::1')), undefined, true), T0)).toEqual([]);
    expect(kinds(m.handle(udp6(relayRepl(Uint8Array.of(0, 0, 0, 4), LL1, replyMsg, v6('2001:db8:4::1')), undefined, true), T0)))
      .toEqual(['kernel', 'log']); // no MAC learnt: the /128 route, but no neighbour or verify entry
    expect(m.bindings()).toMatchObject([{ port: 'pas2', mac: null }]);
    expect(m.desiredState().neighbours[Symbol.iterator]().next().done).toBe(true);
  });
});
