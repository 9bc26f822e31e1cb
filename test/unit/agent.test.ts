import { describe, expect, it } from 'vitest';
import type { Action } from '../../src/actions';
import { Agent } from '../../src/agent';
import type { Event } from '../../src/events';
import type { Instant } from '../../src/time';
import type { KernelState } from '../../src/kernel/entries';
import type { Claim, CoreQuery, Module } from '../../src/module';
import { dhcp4Message, dhcp6Message } from '../../src/wire';
import {
  BASE_CONFIG, Core, REPLY, SERVER6, T0, bootp, config, decode4, ipv4Packet, leaseOpt, packet4, portStatus,
  relayRepl, started, typeOpt, udp4, udp6, utf8, v4, v6, client4, macOf, only, REQUEST, ACK, serverReply4,
} from './relay/kit';

/** A module that records what it was given and answers with a marker log line. */
class Recorder implements Module {
  readonly seen: Event[] = [];
  constructor(
    readonly name: string,
    readonly claims: readonly Claim[],
    readonly answers: readonly CoreQuery[] = [],
    private readonly state: KernelState = {},
  ) {}
  handle(e: Event): Action[] {
    this.seen.push(e);
    return [{ kind: 'log', level: 'debug', subsystem: this.name, message: e.kind }];
  }
  poll(): Action[] { return []; }
  nextDeadline(): Instant | null { return null; }
  status() { return { seen: this.seen.length }; }
  query(what: CoreQuery) { return `${this.name}:${what}`; }
  desired() { return this.state; }
}

/** RFC 7341 §5: DHCPV4-QUERY (20) and DHCPV4-RESPONSE (21), which no module of the core claims. */
const DHCP4O6 = [20, 21];
/** RFC 4388 §6.1: DHCPLEASEUNASSIGNED 11, DHCPLEASEUNKNOWN 12, DHCPLEASEACTIVE 13. */

describe('Agent: events routed by claim', () => {
  it('a datagram goes to the module that claims its message type; the relay never sees (or counts) it', () => {
    const core = started();
    // leasequery answers are the real LeasequeryModule's (in the composed core); DHCPv4-over-DHCPv6 a recorder's.
    const lq = new Recorder('dhcp4o6', [{ kind: 'udp', family: 6, passive: false, messageTypes: DHCP4O6 }]);
    core.agent.register(lq);
    const lqReply6 = dhcp6Message.encode({ kind: 'client', msgType: 21, transactionId: 7, options: [] });
    expect(core.handle(udp6(lqReply6, SERVER6), T0)).toEqual([{ kind: 'log', level: 'debug', subsystem: 'dhcp4o6', message: 'udp' }]);
    const active4 = dhcp4Message.encode(bootp({ op: 2, options: [typeOpt(13), leaseOpt(60)] }));
    expect(core.handle(udp4(active4), T0)).toHaveLength(1);
    expect(core.agent.status(T0)).toMatchObject({ modules: { leasequery: { unmatched: 1 } } });
    expect(lq.seen.map((e) => e.kind)).toEqual(['udp']);
    expect((core.status()['unmatched'] as { dropped: object }).dropped).toEqual({});
    // The relay still takes everything else of the stream: a RELAY-REPL for an unknown port is its drop.
    const repl = relayRepl(utf8('nope'), v6('fe80::1'), { kind: 'client', msgType: REPLY, transactionId: 1, options: [] });
    core.handle(udp6(repl, SERVER6), T0);
    expect((core.status()['unmatched'] as { dropped: object }).dropped).toEqual({ 'no-port': 1 });
    expect(lq.seen).toHaveLength(1);
  });

  it('a frame goes by IP protocol: a claimed protocol to its module, the rest of the family to the relay', () => {
    const core = started();
    const igmp = new Recorder('igmp-recorder', [{ kind: 'packet', family: 4, ipProtocol: [2] }]);
    core.agent.register(igmp);
    const frame = ipv4Packet(v4('198.51.100.9'), v4('224.0.0.22'), 0, 0, new Uint8Array(8));
    frame[9] = 2; // IGMP (RFC 3376 §4); the bytes after the header are the module's to judge
    core.handle({ kind: 'packet', port: 'lan1', family: 4, bytes: frame, mac: macOf(1), checksum: 'check', outgoing: false }, T0);
    expect(igmp.seen).toHaveLength(1);
    expect(portStatus(core, 'lan1').dropped).toEqual({});
    const dhcp = core.handle(packet4('lan1', macOf(1), client4(REQUEST, macOf(1))), T0);
    expect(only(dhcp, 'udp-send')).toHaveLength(2);
    expect(igmp.seen).toHaveLength(1);
  });

  it('traffic nobody claims is counted by the agent, not as anyone\'s drop', () => {
    const agent = new Agent(T0, [new Recorder('only-config', [{ kind: 'config' }])]);
    expect(agent.handle(udp4(new Uint8Array(300)), T0)).toEqual([]);
    expect(agent.handle({ kind: 'packet', port: 'x', family: 6, bytes: new Uint8Array(1), mac: macOf(1), checksum: 'check', outgoing: false }, T0)).toEqual([]);
    expect(agent.status(T0)['unclaimed']).toEqual({ packet: 1, udp: 1 });
  });

  it('broadcast events reach every module that claims them, and only those', () => {
    const a = new Recorder('a', [{ kind: 'config' }, { kind: 'link' }]);
    const b = new Recorder('b', [{ kind: 'config' }]);
    const agent = new Agent(T0, [a, b]);
    agent.handle({ kind: 'config', config: config() }, T0);
    agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: null }, T0);
    agent.handle({ kind: 'identity', relayId: new Uint8Array(10) }, T0);
    expect(a.seen.map((e) => e.kind)).toEqual(['config', 'link']);
    expect(b.seen.map((e) => e.kind)).toEqual(['config']);
    expect(agent.generation).toBe(1);
  });

  it('a broadcast event or a poll may return more actions than a spread call takes (a restore of 200k bindings)', () => {
    // 200k: above V8's argument limit for push(...xs) (~120k), which threw before.
    const many: Action[] = Array.from({ length: 200_000 }, () => ({ kind: 'log', level: 'debug', subsystem: 'x', message: 'm' }));
    class Bulk extends Recorder {
      override handle(e: Event): Action[] { super.handle(e); return many; }
      override poll(): Action[] { return many; }
      override nextDeadline() { return T0; }
    }
    const agent = new Agent(T0, [new Bulk('bulk', [{ kind: 'restore' }])]);
    expect(agent.handle({ kind: 'restore', bindings: [], from: 'test' }, T0)).toHaveLength(200_000);
    expect(agent.poll(T0)).toHaveLength(200_000);
  });

  it('two equally specific claims on the same traffic, or two owners of a query, are refused', () => {
    const agent = new Agent(T0, [new Recorder('a', [{ kind: 'udp', family: 6, passive: false, messageTypes: [15] }], ['bindings'])]);
    expect(() => agent.register(new Recorder('b', [{ kind: 'udp', family: 6, passive: false, messageTypes: [16, 15] }])))
      .toThrow(/claimed by a and b/);
    expect(() => agent.register(new Recorder('c', [], ['bindings']))).toThrow(/query bindings claimed by a and c/);
    expect(() => agent.register(new Recorder('a', []))).toThrow(/registered twice/);
    // A claim for the rest of the stream does not collide with a specific one.
    agent.register(new Recorder('d', [{ kind: 'udp', family: 6, passive: false }]));
    expect(agent.query('bindings', T0)).toBe('a:bindings');
  });

  it('the desired kernel state is the union of every module\'s, and empty for a kind nobody desires', () => {
    const route = { family: 4 as const, dst: v4('192.0.2.1'), dstLen: 32, device: 'eth1', gateway: null };
    const route2 = { ...route, dst: v4('192.0.2.2') };
    const agent = new Agent(T0, [
      new Recorder('a', [], [], { routes: [route] }),
      new Recorder('b', [], [], { routes: [route2] }),
    ]);
    const s = agent.desiredState();
    expect([...s.routes!]).toEqual([route, route2]);
    expect([...s.neighbours!]).toEqual([]);
    expect([...s.verifies!]).toEqual([]);
  });
});

describe('bindings owner: subnets', () => {
  it('a lease outside the port\'s subnet4 is refused and counted; the client still gets the reply', () => {
    const core = new Core();
    core.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    core.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const req = decode4(only(core.handle(packet4('lan1', macOf(1), client4(REQUEST, macOf(1))), T0), 'udp-send')[0]!.payload);
    const wrong = core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4('203.0.113.9'), [leaseOpt(600)]))), T0);
    expect(only(wrong, 'kernel')).toEqual([]);
    expect(only(wrong, 'link-send')).toHaveLength(1);
    expect(only(wrong, 'log').map((l) => l.message)).toEqual(["refused: outside the port's subnets"]);
    expect(core.bindings()).toEqual([]);
    expect((core.owner.status()['table'] as { rejectedSubnet: number }).rejectedSubnet).toBe(1);
    const right = core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4('198.51.100.9'), [leaseOpt(600)]))), T0);
    expect(only(right, 'kernel')).toHaveLength(1);
    expect(core.bindings()).toHaveLength(1);
  });

  it('a reload that narrows the subnets ends the bindings now outside them, with their kernel state', () => {
    const core = new Core();
    core.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    core.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const req = decode4(only(core.handle(packet4('lan1', macOf(1), client4(REQUEST, macOf(1))), T0), 'udp-send')[0]!.payload);
    core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4('198.51.100.9'), [leaseOpt(600)]))), T0);
    expect(core.bindings()).toHaveLength(1);
    const narrowed = BASE_CONFIG.replace("list subnet4 '198.51.100.0/24'", "list subnet4 '198.51.100.128/25'");
    const actions = core.handle({ kind: 'config', config: config(narrowed) }, T0);
    expect(core.bindings()).toEqual([]);
    const removed = only(actions, 'kernel').flatMap((k) => k.delta.routes.remove);
    expect(removed).toEqual([{ family: 4, dst: v4('198.51.100.9'), dstLen: 32, device: 'eth1', gateway: null }]);
    expect((core.owner.status()['table'] as { rejectedSubnet: number }).rejectedSubnet).toBe(1);
  });

  it('a reload that removes a port ends its bindings with their kernel state and journal records; one log line', () => {
    const core = new Core();
    core.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    core.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const journaled = [1, 2].map((n) => {
      const req = decode4(only(core.handle(packet4('lan1', macOf(n), client4(REQUEST, macOf(n))), T0), 'udp-send')[0]!.payload);
      return only(core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4(`198.51.100.${n}`), [leaseOpt(600)]))), T0), 'journal')[0]!;
    });
    expect(core.bindings()).toHaveLength(2);
    const withoutLan1 = BASE_CONFIG.replace(/config subscriber 'lan1'[^]*?(?=config subscriber 'lan2')/, '');
    expect(withoutLan1).not.toContain("'lan1'");
    const actions = core.handle({ kind: 'config', config: config(withoutLan1) }, T0);
    expect(core.bindings()).toEqual([]);
    const delta = only(actions, 'kernel').map((k) => k.delta);
    expect(delta.flatMap((d) => d.routes.remove).map((r) => [r.dst, r.device]))
      .toEqual([[v4('198.51.100.1'), 'eth1'], [v4('198.51.100.2'), 'eth1']]);
    expect(delta.flatMap((d) => d.neighbours.remove)).toHaveLength(2);
    expect(only(actions, 'journal').map((j) => j.op)).toEqual(['delete', 'delete']);
    expect(only(actions, 'log').map((l) => [l.message, l.fields])).toEqual([['ended: port removed by the reload', { port: 'lan1', bindings: 2 }]]);
    expect((core.owner.status()['table'] as { removedWithPort: number }).removedWithPort).toBe(2);
    // Nothing is left to derive, and a restore to the removed port stores nothing.
    expect([...core.owner.desired().routes!]).toEqual([]);
    const restored = core.handle({ kind: 'restore', bindings: [journaled[0]!.binding], from: 'test' }, T0);
    expect(core.bindings()).toEqual([]);
    expect(only(restored, 'log').map((l) => l.fields)).toEqual([{ from: 'test', restored: 0, refused: 1 }]);
  });

  it('journals every stored and ended binding, and a restore stores the previous run\'s again with one log line', () => {
    const core = new Core();
    core.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    core.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const req = decode4(only(core.handle(packet4('lan1', macOf(1), client4(REQUEST, macOf(1))), T0), 'udp-send')[0]!.payload);
    const acked = core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4('198.51.100.9'), [leaseOpt(600)]))), T0);
    const put = only(acked, 'journal');
    expect(put.map((j) => j.op)).toEqual(['put']);
    // the journal record comes after the kernel delta it stands for
    expect(acked.findIndex((a) => a.kind === 'journal')).toBeGreaterThan(acked.findIndex((a) => a.kind === 'kernel'));

    const fresh = new Core();
    fresh.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    const outside = { ...put[0]!.binding, address: v4('203.0.113.1') };
    const restored = fresh.handle({ kind: 'restore', bindings: [put[0]!.binding, outside], from: 'test' }, T0);
    expect(fresh.bindings()).toMatchObject([{ address: v4('198.51.100.9'), mac: macOf(1), port: 'lan1' }]);
    expect(only(restored, 'kernel')).toHaveLength(1);
    expect(only(restored, 'log').map((l) => [l.message, l.fields])).toEqual([['restored', { from: 'test', restored: 1, refused: 1 }]]);
    // The journal just read it: writing it back would double the file for nothing.
    expect(only(restored, 'journal')).toEqual([]);
  });

  it('a restore in chunks: file order, delete lines first in their chunk, one kernel delta a chunk, one log line at the end', () => {
    const core = new Core();
    core.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    core.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const puts = [9, 10, 11].map((n) => {
      const req = decode4(only(core.handle(packet4('lan1', macOf(n), client4(REQUEST, macOf(n))), T0), 'udp-send')[0]!.payload);
      const acked = core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4(`198.51.100.${n}`), [leaseOpt(600)]))), T0);
      return only(acked, 'journal')[0]!.binding;
    });
    const fresh = new Core();
    fresh.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    const first = fresh.handle({ kind: 'restore', bindings: puts.slice(0, 2), from: 'test', more: true }, T0);
    expect(only(first, 'kernel')).toHaveLength(1);
    expect(only(first, 'log')).toEqual([]); // not before the last chunk
    const ended = [{ family: 4 as const, address: v4('198.51.100.9'), prefixLength: 32 }];
    const last = fresh.handle({ kind: 'restore', bindings: [puts[2]!], ended, from: 'test' }, T0);
    expect(fresh.bindings().map((b) => b.address[3]).sort()).toEqual([10, 11]);
    // the ended binding's entries go in the same delta as the new one's
    const delta = only(last, 'kernel');
    expect(delta).toHaveLength(1);
    expect(delta[0]!.delta.routes.remove.map((r) => r.dst[3])).toEqual([9]);
    expect(delta[0]!.delta.routes.add.map((r) => r.dst[3])).toEqual([11]);
    expect(only(last, 'log').map((l) => [l.message, l.fields])).toEqual([['restored', { from: 'test', restored: 3, refused: 0 }]]);
  });

  it('between restore chunks live traffic goes on, and a later chunk does not override what it wrote', () => {
    const ack = (core: Core, n: number, seconds: number) => {
      const req = decode4(only(core.handle(packet4('lan1', macOf(n), client4(REQUEST, macOf(n))), T0), 'udp-send')[0]!.payload);
      return only(core.handle(udp4(dhcp4Message.encode(serverReply4(req, ACK, v4(`198.51.100.${n}`), [leaseOpt(seconds)]))), T0), 'journal')[0]!.binding;
    };
    const old = new Core();
    old.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    old.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    const journaled = [ack(old, 9, 600), ack(old, 10, 600)];
    const fresh = new Core();
    fresh.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0);
    fresh.handle({ kind: 'link', port: 'lan1', up: true, mac: macOf(99), linkLocal: v6('fe80::1') }, T0);
    fresh.handle({ kind: 'restore', bindings: [journaled[0]!], from: 'test', more: true }, T0);
    const renewed = ack(fresh, 10, 3600); // the client renews before its journal line is read
    fresh.handle({ kind: 'restore', bindings: [journaled[1]!], from: 'test' }, T0);
    expect(fresh.bindings().find((b) => b.address[3] === 10)!.validUntil).toBe(renewed.validUntil);
    // once the restore is over, nothing is held back any more
    const again = fresh.handle({ kind: 'restore', bindings: [journaled[1]!], from: 'test' }, T0);
    expect(fresh.bindings().find((b) => b.address[3] === 10)!.validUntil).toBe(journaled[1]!.validUntil);
    expect(only(again, 'log').map((l) => l.fields)).toEqual([{ from: 'test', restored: 1, refused: 0 }]);
  });
});
