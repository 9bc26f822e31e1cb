import { describe, expect, it } from 'vitest';
import { dhcp4Message, dhcp6Message } from '../../../src/wire';
import {
  ACK, BASE_CONFIG, DISCOVER, REPLY, REQUEST, SOLICIT, T0, at, client4, client6, config, decode4, duidOf, iaNa, iaPd,
  kinds, leaseOpt, macOf, only, packet4, packet6, portStatus, relayRepl, serverReply4, started, udp4, udp6, utf8, v4, v6,
} from './kit';

const MAC1 = macOf(1);

function ackFor(m: ReturnType<typeof started>, port: string, mac: Uint8Array, addr: Uint8Array, now = T0) {
  const req = decode4(only(m.handle(packet4(port, mac, client4(REQUEST, mac)), now), 'udp-send')[0]!.payload);
  return m.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, addr, [leaseOpt(600)]))), now);
}

describe('DhcpModule composition', () => {
  it('a DHCPv6 client that speaks from a global address still gets its IA_NA binding (no link-local next hop)', () => {
    const m = started();
    const global = v6('2001:db8:1::77');
    m.handle(packet6('lan1', MAC1, global, dhcp6Message.encode(client6(SOLICIT, duidOf(1)))), T0);
    const reply = { kind: 'client' as const, msgType: REPLY, transactionId: 0xabcdef,
      options: [{ kind: 'clientId' as const, duid: duidOf(1) }, iaNa(1, v6('2001:db8:1::100')), iaPd(2, v6('2001:db8:100::'))] };
    const actions = m.handle(udp6(relayRepl(utf8('lan1'), global, reply)), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log', 'link-send']);
    // The prefix gets no route without a link-local next hop, only its verify entry.
    expect((actions[2] as { delta: { routes: { add: unknown[] } } }).delta.routes.add).toEqual([]);
    const b = m.bindings();
    expect(b.map((x) => [x.kind, x.linkLocal]).sort()).toEqual([['address', null], ['prefix', null]]);
    expect(only(actions, 'link-send')[0]!.destinationMac).toEqual(MAC1);
  });

  it('Ethernet padding after the IP datagram is ignored', () => {
    const m = started();
    const p = packet4('lan1', MAC1, client4(DISCOVER, MAC1));
    const padded = new Uint8Array(p.bytes.length + 18);
    padded.set(p.bytes);
    expect(kinds(m.handle({ ...p, bytes: padded }, T0))).toEqual(['udp-send', 'udp-send']);
  });

  it('max_bindings per port refuses more leases; the reply is still delivered', () => {
    const m = started(BASE_CONFIG.replace("option trusted '1'", "option trusted '1'\n\toption max_bindings '1'"));
    expect(kinds(ackFor(m, 'lan2', macOf(1), v4('198.51.100.60')))).toEqual(['kernel', 'log', 'link-send']);
    expect(kinds(ackFor(m, 'lan2', macOf(2), v4('198.51.100.61')))).toEqual(['link-send']);
    expect(portStatus(m, 'lan2').bindings).toBe(1);
    expect((m.status()['table'] as Record<string, number>)['rejectedPortFull']).toBe(1);
  });

  it('reloading the same config changes nothing; turning verify_source off removes the verify entries', () => {
    const m = started();
    ackFor(m, 'lan1', MAC1, v4('198.51.100.50'));
    expect(m.handle({ kind: 'config', config: config() }, at(1))).toEqual([]);
    const off = m.handle({ kind: 'config', config: config(BASE_CONFIG.replace("option remote_id 'sub-1'", "option remote_id 'sub-1'\n\toption verify_source '0'")) }, at(2));
    expect(off).toEqual([{ kind: 'kernel', delta: {
      routes: { add: [], remove: [], replace: [] },
      neighbours: { add: [], remove: [], replace: [] },
      verifies: { add: [], remove: [{ family: 4, device: 'eth1', mac: MAC1, prefix: v4('198.51.100.50'), prefixLength: 32 }], replace: [] },
      mroutes: { add: [], remove: [], replace: [] },
      diverts: { add: [], remove: [], replace: [] },
    } }]);
    expect(m.bindings()).toHaveLength(1);
    // The full desired state (what a reconcile diffs against) follows the reload too:
    // the binding's route and neighbour stay, its verify entry is gone.
    const state = m.desiredState();
    const addr = v4('198.51.100.50');
    expect([...state.routes]).toEqual([{ family: 4, dst: addr, dstLen: 32, device: 'eth1', gateway: null }]);
    expect([...state.neighbours]).toEqual([{ family: 4, address: addr, device: 'eth1', lladdr: MAC1 }]);
    expect([...state.verifies]).toEqual([]);
  });

  it('status() lists every port with its counters and binding count', () => {
    const m = started();
    ackFor(m, 'lan1', MAC1, v4('198.51.100.50'));
    const s = m.status();
    expect(s['bindings']).toBe(1);
    expect(Object.keys(s['ports'] as object)).toEqual(['lan1', 'lan2']);
    expect(portStatus(m, 'lan1')).toEqual({ relayed4: 1, relayed6: 0, replies4: 1, replies6: 0, gleaned: 1, released: 0, gleanFailed: 0,
      peerConflicts: 0, unicastReplies: 0, unicastRenewed: 0, unicastUnmatched: 0, unicastNotServer: 0, dropped: {}, bindings: 1,
    });
  });
});
