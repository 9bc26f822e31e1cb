// The DHCPv6 side of the leasequery module (RFC 5007) through the Agent, as scripts
// against time (CONVENTIONS 9): `leasequery` events in, exact actions out; answers
// built with the wire codec, shaped as ISC dhcpd 4.4 and as an RFC server send them.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import type { QueryBy } from '../../../src/leasequery/message';
import type { Instant } from '../../../src/time';
import { dhcp6Message, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import { RELAY_ID, T0, at, config, macOf, udp6, utf8, v6 } from '../relay/kit';

const SERVER6 = v6('2001:db8::547');
const SERVER6B = v6('2001:db8::548');
const ADDR = v6('2001:db8:1::1000');
const PD = v6('2001:db8:100::');
const DUID = Uint8Array.of(0, 1, 0, 1, 0x2a, 0x3b, 0x4c, 0x5d, ...macOf(7));
const CONFIG = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv6_server '2001:db8::547'
	list dhcpv6_server '2001:db8::548'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:1::1'
	list subnet6 '2001:db8:1::/64'
	list subnet6 '2001:db8:100::/48'

config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:2::1'
	list subnet6 '2001:db8:2::/64'
`;

function core(text = CONFIG) {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x5000 + n++ });
  c.agent.handle({ kind: 'config', config: config(text) }, T0);
  c.agent.handle({ kind: 'identity', relayId: RELAY_ID }, T0);
  return c;
}
type Core = ReturnType<typeof core>;

let nextId = 1;
const ask = (c: Core, query: QueryBy, now: Instant = T0, o: { port?: string; expectMac?: Uint8Array } = {}) =>
  c.agent.handle({ kind: 'leasequery', id: nextId++, query, port: o.port ?? null, expectMac: o.expectMac ?? null, waitMs: 10_000 }, now);
const sends = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'udp-send' }> => x.kind === 'udp-send');
const results = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'query-result' }> => x.kind === 'query-result').map((x) => x.result);
const decode = (b: Uint8Array) => { const d = dhcp6Message.decode(b); if (!d.ok) throw new Error(d.error.reason); return d.value; };
const xidOf = (a: Action[]) => { const m = decode(sends(a)[0]!.payload); return m.kind === 'client' ? m.transactionId : -1; };

interface Ans { leases?: Dhcp6Option[]; clt?: number; iid?: string | null; mac?: Uint8Array | null; status?: number; clientId?: Uint8Array }
const iaAddr = (a: Uint8Array, valid = 3600): Dhcp6Option => ({ kind: 'iaAddr', address: a, preferredLifetime: valid / 2, validLifetime: valid, options: [] });
const iaPrefix = (p: Uint8Array, len = 56, valid = 7200): Dhcp6Option => ({ kind: 'iaPrefix', preferredLifetime: valid / 2, validLifetime: valid, prefixLength: len, prefix: p, options: [] });
function reply(xid: number, r: Ans = {}): Uint8Array {
  const options: Dhcp6Option[] = [{ kind: 'serverId', duid: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 5, 0x47) }, { kind: 'clientId', duid: RELAY_ID }];
  if (r.status !== undefined) options.push({ kind: 'statusCode', statusCode: r.status, message: 'x' });
  if (r.leases) {
    options.push({ kind: 'clientData', options: [{ kind: 'clientId', duid: r.clientId ?? DUID }, ...r.leases, { kind: 'cltTime', cltTime: r.clt ?? 30 }] });
    if (r.iid !== null) {
      const relayOpts: Dhcp6Option[] = [{ kind: 'interfaceId', interfaceId: utf8(r.iid ?? 'lan1') }];
      if (r.mac !== null) relayOpts.push({ kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: r.mac ?? macOf(7) });
      const stored: Dhcp6Message = { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:1::1'), peerAddress: v6('fe80::7'), options: relayOpts };
      options.push({ kind: 'lqRelayData', peerAddress: v6('2001:db8::1'), relayMessage: stored });
    }
  }
  return dhcp6Message.encode({ kind: 'client', msgType: 15, transactionId: xid, options });
}
const answer = (c: Core, bytes: Uint8Array, now: Instant, from = SERVER6) => c.agent.handle(udp6(bytes, from), now);
const lq = (c: Core) => c.agent.status(T0)['modules'] as { leasequery: Record<string, unknown> };

describe('DHCPv6 leasequery: sending (RFC 5007 §4.1.2)', () => {
  it('by address: LEASEQUERY from port 546 to every unicast dhcpv6_server port 547, CLIENTID = gleand\'s DUID, link-address of the port', () => {
    const out = ask(core(), { by: 'ip', address: ADDR });
    expect(sends(out).map((s) => [s.family, [...s.destination].slice(14).join('.'), s.destinationPort, s.sourcePort])).toEqual([[6, '5.71', 547, 546], [6, '5.72', 547, 546]]);
    const m = decode(sends(out)[0]!.payload);
    expect(m).toMatchObject({ kind: 'client', msgType: 14, transactionId: 0x5000 });
    if (m.kind !== 'client') return;
    expect(m.options[0]).toEqual({ kind: 'clientId', duid: RELAY_ID });
    expect(m.options[1]).toMatchObject({ kind: 'lqQuery', queryType: 1, linkAddress: v6('2001:db8:1::1'), options: [{ kind: 'iaAddr', address: ADDR }, { kind: 'oro' }] });
  });
  it('ciaddr restriction carried over: an address inside no port\'s subnet6 is never asked; a DUID query goes to the shared upstream', () => {
    const c = core();
    expect(results(ask(c, { by: 'ip', address: v6('2001:db8:9::1') }))).toMatchObject([{ verdict: 'refused', reason: 'outside-subnets' }]);
    const out = ask(c, { by: 'duid', duid: DUID });
    const m = decode(sends(out)[0]!.payload);
    expect(m.kind === 'client' && m.options[1]).toMatchObject({ kind: 'lqQuery', queryType: 2, linkAddress: new Uint8Array(16), options: [{ kind: 'clientId', duid: DUID }, { kind: 'oro' }] });
  });
  it('without gleand\'s DUID yet, or with v6 off, nothing is sent', () => {
    const c = createCore(T0, { random32: () => 1 });
    c.agent.handle({ kind: 'config', config: config(CONFIG) }, T0);
    expect(results(ask(c, { by: 'ip', address: ADDR }))).toMatchObject([{ verdict: 'refused', reason: 'no-identity' }]);
    const off = core(`${CONFIG}\nconfig leasequery\n\toption v6 '0'\n`);
    expect(results(ask(off, { by: 'ip', address: ADDR }))).toMatchObject([{ verdict: 'refused', reason: 'disabled' }]);
  });
});

describe('DHCPv6 leasequery: answers become bindings', () => {
  it('an RFC server\'s answer: address and prefix, port from the stored Interface-ID, MAC from option 79, link-local from the peer-address', () => {
    const c = core();
    const xid = xidOf(ask(c, { by: 'ip', address: ADDR }));
    expect(answer(c, reply(xid, { leases: [iaAddr(ADDR), iaPrefix(PD)] }), at(100))).toEqual([]); // the other server gets one retry interval
    const out = answer(c, reply(xid, { status: 0 }), at(200), SERVER6B); // "no binding" from the second: the active one wins
    expect(results(out)).toMatchObject([{ verdict: 'active', winner: '2001:db8::547', binding: { binding: '2001:db8:1::1000/128, 2001:db8:100::/56', port: 'lan1' } }]);
    const kernel = out.filter((a) => a.kind === 'kernel');
    expect(kernel.length).toBeGreaterThan(0);
    const answer6 = c.agent.query('bindings', at(200)) as Iterable<unknown>;
    expect(Array.isArray(answer6)).toBe(false); // lazy: rows are made as the control socket writes them
    const rows = [...answer6];
    expect(JSON.stringify(rows)).toContain('02:00:00:00:00:07');
    expect(JSON.stringify(rows)).toContain('fe80::7');
  });
  it('ISC dhcpd 4.4\'s answer (no relay data, absolute CLT_TIME): the port only because the query was for one port; no MAC', () => {
    const c = core();
    const xid = xidOf(ask(c, { by: 'ip', address: ADDR }));
    answer(c, reply(xid, { leases: [iaAddr(ADDR)], iid: null, clt: 0x67000000 }), at(10));
    const out = answer(c, reply(xid, { leases: [iaAddr(ADDR)], iid: null, clt: 0x67000000 }), at(20), SERVER6B);
    expect(results(out)).toMatchObject([{ verdict: 'active', binding: { binding: '2001:db8:1::1000/128', port: 'lan1' } }]);
    expect(results(out)[0]!['servers']).toMatchObject([{ cltS: null, cltAbsolute: 0x67000000, mac: null }, { cltS: null }]);
  });
  it('NotConfigured (ISC for a delegated prefix) and "no binding" are negative: cached, the same question sends nothing for 60 s', () => {
    const c = core();
    const xid = xidOf(ask(c, { by: 'ip', address: PD }));
    answer(c, reply(xid, { status: 9 }), at(10));
    const out = answer(c, reply(xid, { status: 9 }), at(20), SERVER6B);
    expect(results(out)).toMatchObject([{ verdict: 'unknown', type: 'NotConfigured' }]);
    const again = ask(c, { by: 'ip', address: PD }, at(30_000));
    expect(sends(again)).toEqual([]);
    expect(results(again)).toMatchObject([{ verdict: 'cached', type: 'NotConfigured' }]);
    expect(sends(ask(c, { by: 'ip', address: PD }, at(60_021)))).toHaveLength(2);
  });
  it('UnknownQueryType (ISC for every query by client id) is an error, not cached', () => {
    const c = core();
    const xid = xidOf(ask(c, { by: 'duid', duid: DUID }));
    answer(c, reply(xid, { status: 7 }), at(10));
    const out = answer(c, reply(xid, { status: 7 }), at(20), SERVER6B);
    expect(results(out)).toMatchObject([{ verdict: 'error', servers: [{ type: 'UnknownQueryType' }, { type: 'UnknownQueryType' }] }]);
    expect(lq(c).leasequery['negativeCache']).toBe(0);
    expect((lq(c).leasequery['servers'] as Record<string, { answers: Record<string, number> }>)['2001:db8::547']!.answers).toEqual({ active: 0, UnknownQueryType: 1 });
  });
});

describe('DHCPv6 leasequery: hostile answers create no state and are counted', () => {
  const run = (r: Ans, query: QueryBy = { by: 'ip', address: ADDR }, o: { expectMac?: Uint8Array } = {}) => {
    const c = core();
    const xid = xidOf(ask(c, query, T0, o));
    answer(c, reply(xid, r), at(10));
    const out = answer(c, reply(xid, r), at(20), SERVER6B);
    return { c, out, result: results(out)[0]!, kernel: out.filter((a) => a.kind === 'kernel') };
  };
  it('a lease outside the port\'s subnet6 (even beside a good one)', () => {
    const { result, kernel, c } = run({ leases: [iaAddr(ADDR), iaPrefix(v6('2001:db8:999::'))] });
    expect(result).toMatchObject({ verdict: 'active', binding: null, refused: 'outside-subnet' });
    expect(kernel).toEqual([]);
    expect(lq(c).leasequery['refused']).toEqual({ 'outside-subnet': 1 });
  });
  it('another port\'s Interface-ID, and an Interface-ID of no port', () => {
    expect(run({ leases: [iaAddr(ADDR)], iid: 'lan2' }).result).toMatchObject({ binding: null, refused: 'port-mismatch' });
    expect(run({ leases: [iaAddr(ADDR)], iid: 'eth9' }).result).toMatchObject({ binding: null, refused: 'unknown-interface-id' });
  });
  it('a MAC that does not match what was asked; an address that was not asked; another DUID', () => {
    expect(run({ leases: [iaAddr(ADDR)], mac: macOf(8) }, undefined, { expectMac: macOf(7) }).result).toMatchObject({ refused: 'mac-mismatch' });
    expect(run({ leases: [iaAddr(v6('2001:db8:1::2'))] }).result).toMatchObject({ refused: 'address-mismatch' });
    expect(run({ leases: [iaAddr(ADDR)], clientId: Uint8Array.of(0, 3, 0, 1, 1, 2, 3, 4, 5, 6) }, { by: 'duid', duid: DUID }).result)
      .toMatchObject({ refused: 'client-id-mismatch' });
  });
  it('truncated, unknown message types, and answers from strangers: counted, never read', () => {
    const c = core();
    const xid = xidOf(ask(c, { by: 'ip', address: ADDR }));
    const good = reply(xid, { leases: [iaAddr(ADDR)] });
    for (let n = 1; n < good.length; n += 7) expect(results(answer(c, good.subarray(0, n), at(5)))).toEqual([]);
    expect(answer(c, dhcp6Message.encode({ kind: 'client', msgType: 17, transactionId: xid, options: [] }), at(6))[0]).toMatchObject({ kind: 'log', level: 'warn' });
    answer(c, good, at(7), v6('2001:db8::666'));
    const s = lq(c).leasequery;
    expect(s['malformed']).toBeGreaterThan(0);
    expect(s['unexpectedType']).toEqual({ 'v6:17': 1 });
    expect(s['unknownServer']).toBe(1);
    expect([...(c.agent.query('bindings', at(7)) as Iterable<unknown>)]).toEqual([...(c.agent.query('bindings', T0) as Iterable<unknown>)]);
  });
});

describe('DHCPv6 leasequery: pacing against a dead server (RFC 4388 §6.3 rules, RFC 5007 follows them)', () => {
  it('two questions for 5 simulated minutes: at most one query per 10 s, backing off to once a minute, all of the first question', () => {
    const c = core(CONFIG.replace("\tlist dhcpv6_server '2001:db8::548'\n", ''));
    const sent: { t: number; xid: number }[] = [];
    const record = (a: Action[], t: number) => { for (const s of sends(a)) { const m = decode(s.payload); sent.push({ t, xid: m.kind === 'client' ? m.transactionId : -1 }); } };
    let waitMs = 300_000;
    const id = nextId++;
    record(c.agent.handle({ kind: 'leasequery', id, query: { by: 'ip', address: ADDR }, port: null, expectMac: null, waitMs }, T0), 0);
    record(c.agent.handle({ kind: 'leasequery', id: nextId++, query: { by: 'ip', address: v6('2001:db8:1::2') }, port: null, expectMac: null, waitMs }, T0), 0);
    for (let t = 0; t <= 300_000; ) {
      const due = c.agent.nextDeadline();
      if (due === null || due - T0 > 300_000) break;
      t = due - T0;
      record(c.agent.poll(due), t);
    }
    waitMs = 0;
    expect(sent.map((s) => s.t)).toEqual([0, 10_000, 30_000, 70_000, 130_000, 190_000, 250_000]);
    expect(new Set(sent.map((s) => s.xid)).size).toBe(1);
    expect((lq(c).leasequery['servers'] as Record<string, { supports: string }>)['2001:db8::547']!.supports).toBe('no');
  });
});
