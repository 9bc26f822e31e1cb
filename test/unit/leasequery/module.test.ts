// The leasequery module through the Agent, as scripts against time (CONVENTIONS 9):
// `leasequery` events in, exact actions out; answers built with the wire codec.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import type { QueryBy } from '../../../src/leasequery/message';
import { addMs, type Instant } from '../../../src/time';
import { dhcp4Message, getDhcp4Option, type Dhcp4Message, type Dhcp4RawOption } from '../../../src/wire';
import { BASE_CONFIG, SERVER4, T0, at, config, macOf, opt, typeOpt, udp4, utf8, v4 } from '../relay/kit';

const SERVER4B = v4('192.0.2.68');
const ADDR = v4('198.51.100.50');
const u32 = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];

function core() {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x1000 + n++ });
  expect(c.agent.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0)).toEqual([]);
  return c;
}
type Core = ReturnType<typeof core>;

let nextId = 1;
const ask = (c: Core, query: QueryBy, now: Instant = T0, o: { port?: string; expectMac?: Uint8Array; waitMs?: number } = {}) =>
  c.agent.handle({ kind: 'leasequery', id: nextId++, query, port: o.port ?? null, expectMac: o.expectMac ?? null, waitMs: o.waitMs ?? 10_000 }, now);

const sends = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'udp-send' }> => x.kind === 'udp-send');
const results = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'query-result' }> => x.kind === 'query-result').map((x) => x.result);
const kinds = (a: Action[]) => a.map((x) => x.kind);
const decode = (b: Uint8Array) => { const d = dhcp4Message.decode(b); if (!d.ok) throw new Error(d.error.reason); return d.value; };

interface Reply { ciaddr?: Uint8Array; mac?: Uint8Array | null; lease?: number | null; clt?: number; circuit?: string | null; giaddr?: Uint8Array; extra?: Dhcp4RawOption[] }
function reply(query: Dhcp4Message, type: number, r: Reply = {}): Uint8Array {
  const chaddr = new Uint8Array(16);
  const mac = r.mac === undefined ? macOf(7) : r.mac;
  if (mac) chaddr.set(mac);
  const options: Dhcp4RawOption[] = [typeOpt(type), opt(54, SERVER4)];
  if (type === 13 && r.lease !== null) options.push(opt(51, u32(r.lease ?? 600)));
  if (r.clt !== undefined) options.push(opt(91, u32(r.clt)));
  const circuit = r.circuit === undefined ? 'lan1' : r.circuit;
  if (circuit !== null && type === 13) options.push(opt(82, [1, circuit.length, ...utf8(circuit)]));
  options.push(...(r.extra ?? []));
  return dhcp4Message.encode({
    ...query, op: 2, htype: mac ? 1 : 0, hlen: mac ? 6 : 0, chaddr,
    ciaddr: type === 13 || type === 11 ? (r.ciaddr ?? query.ciaddr) : query.ciaddr,
    giaddr: r.giaddr ?? query.giaddr, options,
  });
}

describe('LeasequeryModule: sending (RFC 4388 §6.1, seed 003 §6.2)', () => {
  it('by IP: one DHCPLEASEQUERY to every dhcpv4_server, from the port\'s giaddr, ciaddr set, chaddr zero, PRL 51 82 91 61', () => {
    const c = core();
    const out = ask(c, { by: 'ip', address: ADDR });
    expect(kinds(out)).toEqual(['udp-send', 'udp-send']);
    expect(sends(out).map((s) => [[...s.destination].join('.'), s.destinationPort, s.upstream])).toEqual([['192.0.2.67', 67, 'wan'], ['192.0.2.68', 67, 'wan']]);
    const m = decode(sends(out)[0]!.payload);
    expect(sends(out)[1]!.payload).toEqual(sends(out)[0]!.payload); // one xid per query
    expect(m).toMatchObject({ op: 1, htype: 0, hlen: 0, xid: 0x1000, ciaddr: ADDR, giaddr: v4('198.51.100.1'), chaddr: new Uint8Array(16) });
    expect(getDhcp4Option(m, 53)).toEqual({ ok: true, value: { code: 10, name: 'DHCPLEASEQUERY' } });
    expect(getDhcp4Option(m, 55)).toEqual({ ok: true, value: [51, 82, 91, 61] });
    expect(getDhcp4Option(m, 61)).toBeUndefined();
  });

  it('by MAC: htype 1, hlen 6, chaddr, ciaddr zero, PRL with 92; by client id: option 61 and chaddr zero', () => {
    // separate cores: a server not known to answer gets one query at a time (RFC 4388 §6.3)
    const byMac = decode(sends(ask(core(), { by: 'mac', mac: macOf(7) }))[0]!.payload);
    expect(byMac).toMatchObject({ htype: 1, hlen: 6, ciaddr: new Uint8Array(4) });
    expect(byMac.chaddr.slice(0, 6)).toEqual(macOf(7));
    expect(getDhcp4Option(byMac, 55)).toEqual({ ok: true, value: [51, 82, 91, 61, 92] });
    const cid = Uint8Array.of(1, ...macOf(7));
    const byCid = decode(sends(ask(core(), { by: 'client-id', clientId: cid }))[0]!.payload);
    expect(byCid).toMatchObject({ htype: 0, hlen: 0, ciaddr: new Uint8Array(4), chaddr: new Uint8Array(16) });
    expect(getDhcp4Option(byCid, 61)).toEqual({ ok: true, value: { type: 1, id: macOf(7) } });
  });

  it('ciaddr restriction: an address outside every port\'s subnet4 is never queried', () => {
    const c = core();
    const out = ask(c, { by: 'ip', address: v4('203.0.113.9') });
    expect(kinds(out)).toEqual(['query-result']);
    expect(results(out)[0]).toMatchObject({ verdict: 'refused', reason: 'outside-subnets' });
    expect(c.leasequery.status()).toMatchObject({ refusedQueries: { 'outside-subnets': 1 } });
  });

  it('a port that does not exist, or is named with -p and is fine, decides the giaddr', () => {
    const c = core();
    expect(results(ask(c, { by: 'ip', address: ADDR }, T0, { port: 'nope' }))[0]).toMatchObject({ reason: 'no-such-port' });
    expect(kinds(ask(c, { by: 'ip', address: ADDR }, T0, { port: 'lan2' }))).toEqual(['udp-send', 'udp-send']);
  });
});

describe('LeasequeryModule: answers (RFC 4388 §6.4, §6.7; seed 003 §6.5, §7)', () => {
  function asked(c: Core, query: QueryBy = { by: 'ip', address: ADDR }, o: { port?: string; expectMac?: Uint8Array } = {}) {
    return decode(sends(ask(c, query, T0, o))[0]!.payload);
  }

  it('LEASEACTIVE from one server waits one retry interval for the other, then becomes a binding on the circuit\'s port', () => {
    const c = core();
    const q = asked(c);
    expect(c.agent.handle(udp4(reply(q, 13, { clt: 30, circuit: 'lan2' })), at(100))).toEqual([]);
    expect(c.agent.nextDeadline()).toBe(at(5100));
    const out = c.agent.poll(at(5100));
    expect(kinds(out)).toEqual(['kernel', 'log', 'journal', 'query-result']);
    const b = [...c.bindings.entries()];
    expect(b).toHaveLength(1);
    expect(b[0]).toMatchObject({ address: ADDR, port: 'lan2', mac: macOf(7), circuitId: utf8('lan2'), source: 'leasequery', validUntil: addMs(at(5100), 600_000) });
    expect(results(out)[0]).toMatchObject({ verdict: 'active', winner: '192.0.2.67', binding: { binding: '198.51.100.50/32', port: 'lan2', change: 'added' },
      servers: [{ server: '192.0.2.67', outcome: 'answered', type: 'DHCPLEASEACTIVE', mac: '02:00:00:00:00:07', circuitId: 'lan2', leaseTimeS: 600, cltS: 30 },
        { server: '192.0.2.68', outcome: 'pending' }] });
  });

  it('two servers: the most recent transaction (smallest option 91) wins; an UNASSIGNED more recent than an ACTIVE installs nothing', () => {
    const c = core();
    const q = asked(c);
    c.agent.handle(udp4(reply(q, 13, { clt: 300, mac: macOf(1), circuit: 'lan1' })), at(1));
    const out = c.agent.handle(udp4(reply(q, 13, { clt: 20, mac: macOf(2), circuit: 'lan2' }), SERVER4B), at(2));
    expect(results(out)[0]).toMatchObject({ verdict: 'active', winner: '192.0.2.68', binding: { port: 'lan2' } });
    expect([...c.bindings.entries()][0]).toMatchObject({ mac: macOf(2), port: 'lan2' });

    const c2 = core();
    const q2 = asked(c2);
    c2.agent.handle(udp4(reply(q2, 13, { clt: 300 })), at(1));
    const out2 = c2.agent.handle(udp4(reply(q2, 11, { clt: 5 }), SERVER4B), at(2));
    expect(results(out2)[0]).toMatchObject({ verdict: 'unassigned', winner: '192.0.2.68' });
    expect([...c2.bindings.entries()]).toEqual([]);
  });

  it('negative cache: UNASSIGNED/UNKNOWN answers are believed for 60 s; the same question is not asked again meanwhile', () => {
    const c = core();
    const q = asked(c);
    c.agent.handle(udp4(reply(q, 11)), at(1));
    expect(results(c.agent.handle(udp4(reply(q, 12), SERVER4B), at(2)))[0]).toMatchObject({ verdict: 'unassigned' });
    const again = ask(c, { by: 'ip', address: ADDR }, at(30_000));
    expect(kinds(again)).toEqual(['query-result']);
    expect(results(again)[0]).toMatchObject({ verdict: 'cached', type: 'DHCPLEASEUNASSIGNED', expiresInS: 31 });
    expect(c.leasequery.status()).toMatchObject({ negativeCache: 1, cached: 1 });
    expect(kinds(ask(c, { by: 'ip', address: ADDR }, at(60_002)))).toEqual(['udp-send', 'udp-send']);
  });

  it('hostile LEASEACTIVE answers create nothing and are counted by reason', () => {
    const cases: [string, Reply, { port?: string; expectMac?: Uint8Array }, QueryBy?][] = [
      ['outside-subnet', { ciaddr: v4('10.9.9.9') }, {}, { by: 'mac', mac: macOf(7) }],
      ['address-mismatch', { ciaddr: v4('198.51.100.51') }, {}],
      ['mac-mismatch', { mac: macOf(8) }, { expectMac: macOf(7) }],
      ['mac-mismatch', { mac: macOf(8), ciaddr: ADDR }, {}, { by: 'mac', mac: macOf(7) }],
      ['port-mismatch', { circuit: 'lan2' }, { port: 'lan1' }],
      ['unknown-circuit', { circuit: 'lan9' }, {}],
      ['no-port', { circuit: null }, {}], // giaddr shared by lan1 and lan2: option 82 alone can tell
      ['no-lease-time', { lease: null }, {}],
      ['no-mac', { mac: null }, {}],
      ['client-id-mismatch', { ciaddr: ADDR, extra: [opt(61, [1, 9, 9, 9, 9, 9, 9])] }, {}, { by: 'client-id', clientId: Uint8Array.of(1, ...macOf(7)) }],
    ];
    for (const [reason, r, o, query] of cases) {
      const c = core();
      const q = asked(c, query, o);
      c.agent.handle(udp4(reply(q, 13, r)), at(1));
      const out = c.agent.handle(udp4(reply(q, 12), SERVER4B), at(2));
      expect(results(out)[0], reason).toMatchObject({ verdict: 'active', binding: null, refused: reason });
      expect(kinds(out), reason).toEqual(['log', 'query-result']);
      expect([...c.bindings.entries()], reason).toEqual([]);
      expect(c.leasequery.status()['refused'], reason).toEqual({ [reason]: 1 });
    }
  });

  it('without option 82 the giaddr names the port when exactly one port uses it', () => {
    const c = createCore(T0, { random32: () => 7 });
    c.agent.handle({ kind: 'config', config: config(BASE_CONFIG.replace("option giaddr '198.51.100.1'\n\toption link_address '2001:db8:2::1'", "option giaddr '198.51.100.2'\n\toption link_address '2001:db8:2::1'")) }, T0);
    const q = decode(sends(c.agent.handle({ kind: 'leasequery', id: 1, query: { by: 'ip', address: ADDR }, port: 'lan1', expectMac: null, waitMs: 1000 }, T0))[0]!.payload);
    c.agent.handle(udp4(reply(q, 13, { circuit: null })), at(1));
    const out = c.agent.handle(udp4(reply(q, 12), SERVER4B), at(2));
    expect(results(out)[0]).toMatchObject({ binding: { port: 'lan1' } });
  });

  it('other message types are the module\'s (never relayed down), counted and never guessed; strangers and stray xids too', () => {
    const c = core();
    const q = asked(c);
    const other = c.agent.handle(udp4(reply(q, 14)), at(1));
    expect(kinds(other)).toEqual(['log']);
    expect(c.dhcp.status()['unmatched']).toMatchObject({ dropped: {} }); // the relay never saw it
    c.agent.handle(udp4(reply(q, 13), v4('192.0.2.99')), at(1));
    c.agent.handle(udp4(reply({ ...q, xid: 42 }, 13)), at(1));
    expect(c.leasequery.status()).toMatchObject({ unexpectedType: { 14: 1 }, unmatched: 1, unknownServer: 1 });
  });

  it('two servers that never answer: the asker hears "no-answer" when its wait ends, and the servers are polled at the RFC pace', () => {
    const c = core();
    ask(c, { by: 'ip', address: ADDR }, T0, { waitMs: 25_000 });
    const sentAt: number[] = [];
    let out: Action[] = [];
    for (let guard = 0; guard < 100; guard++) {
      const next = c.agent.nextDeadline();
      if (next === null) break;
      out = c.agent.poll(next);
      for (const s of sends(out)) sentAt.push((next - T0) / 1000);
      if (results(out).length) break;
    }
    expect(sentAt).toEqual([10, 10]); // 0 s was the ask itself; 10 s per server; the wait ends at 25 s
    expect(results(out)[0]).toMatchObject({ verdict: 'no-answer', servers: [{ outcome: 'pending' }, { outcome: 'pending' }] });
    expect(c.agent.nextDeadline()).toBeNull();
  });
});
