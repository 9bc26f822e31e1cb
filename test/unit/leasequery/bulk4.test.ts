// The DHCPv4 bulk leasequery client (RFC 6926) through the Agent, as scripts against time
// (CONVENTIONS 9): a scripted server on TCP 67 that misbehaves, `tcp` events in, exact
// actions out. The stream is what PROTOCOLS.md records of a real server: a BOOTREPLY
// DHCPLEASEACTIVE per binding (ciaddr, chaddr, 51, 91, 61, 82 as stored), then a
// DHCPLEASEQUERYDONE (option 151 only on error; alone when nothing matched).
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { frameMessage } from '../../../src/leasequery/bulk-frame';
import { addMs, type Instant } from '../../../src/time';
import {
  BOOTREPLY, dhcp4Message, encodeDhcp4OptionBody, getDhcp4Option, getRelayAgentInformation, type Dhcp4Message,
  type Dhcp4RawOption, type RelayAgentSubOption,
} from '../../../src/wire';
import { formatIPv4 } from '../../../src/wire/address';
import { RELAY_ID, T0, at, config, macOf, utf8, v4 } from '../relay/kit';
import { Peer, closes, concat, connects, kernel, tcpSends } from './bulk-peer';

const ACTIVE = 13, UNASSIGNED = 11, UNKNOWN = 12, DONE = 15;

const CONFIG = (extra = '') => `
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
	list dhcpv4_server '192.0.2.68'
	list dhcpv4_server '255.255.255.255'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option relay_v6 '0'
	list subnet4 '198.51.100.0/24'

config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option circuit_id 'port-2'
	option relay_v6 '0'
	list subnet4 '198.51.100.0/24'

config leasequery
${extra}`;

const OTHER_RELAY = Uint8Array.of(0, 3, 0, 1, 2, 0xbb, 0, 0, 0, 1);

interface Lease4 {
  ip: string;
  mac?: Uint8Array | null;
  lease?: number | null;
  clt?: number;
  /** null: no option 82 stored. */
  circuit?: string | null;
  relayId?: Uint8Array | null;
  giaddr?: string;
}

const opt = (code: number, data: Uint8Array): Dhcp4RawOption => ({ code, data });

function bootreply(type: number, xid: number, fields: Partial<Dhcp4Message>, options: Dhcp4RawOption[]): Uint8Array {
  const m: Dhcp4Message = {
    op: BOOTREPLY, htype: 0, hlen: 0, hops: 0, xid, secs: 0, flags: 0,
    ciaddr: new Uint8Array(4), yiaddr: new Uint8Array(4), siaddr: new Uint8Array(4), giaddr: new Uint8Array(4),
    chaddr: new Uint8Array(16), sname: new Uint8Array(64), file: new Uint8Array(128),
    options: [opt(53, Uint8Array.of(type)), ...options], trailer: new Uint8Array(0), ...fields,
  };
  return frameMessage(dhcp4Message.encode(m).slice());
}

function active(xid: number, l: Lease4, type = ACTIVE): Uint8Array {
  const chaddr = new Uint8Array(16);
  const mac = l.mac === undefined ? macOf(7) : l.mac;
  if (mac) chaddr.set(mac);
  const options: Dhcp4RawOption[] = [opt(54, v4('192.0.2.67'))];
  if (l.lease !== null) options.push(opt(51, encodeDhcp4OptionBody(51, l.lease ?? 500)));
  options.push(opt(91, encodeDhcp4OptionBody(91, l.clt ?? 100)));
  options.push(opt(152, encodeDhcp4OptionBody(152, 1_700_000_000)));
  if (l.circuit !== null) {
    const subs: RelayAgentSubOption[] = [{ kind: 'circuitId', circuitId: utf8(l.circuit ?? 'lan1') }];
    if (l.relayId !== null) subs.push({ kind: 'relayId', relayId: l.relayId ?? RELAY_ID });
    options.push(opt(82, encodeDhcp4OptionBody(82, subs)));
  }
  return bootreply(type, xid, {
    htype: mac ? 1 : 0, hlen: mac ? 6 : 0, chaddr, ciaddr: v4(l.ip), giaddr: v4(l.giaddr ?? '198.51.100.1'),
  }, options);
}

const done = (xid: number, status?: number, text = ''): Uint8Array =>
  bootreply(DONE, xid, {}, status === undefined ? [] : [opt(151, Uint8Array.of(status, ...utf8(text)))]);

function start(extra = '') {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x100 + n++ });
  expect(c.agent.handle({ kind: 'config', config: config(CONFIG(extra)) }, T0)).toEqual([]);
  expect(c.agent.handle({ kind: 'identity', relayId: RELAY_ID }, T0)).toEqual([]);
  const out = c.agent.poll(T0);
  const handle = (e: Parameters<typeof c.agent.handle>[0], now: Instant) => c.agent.handle(e, now);
  const peers = connects(out).map((x) => new Peer(handle, x.conn));
  return { c, out, peers };
}
type Started = ReturnType<typeof start>;

/** The DHCPBULKLEASEQUERY in these actions, unframed and decoded. */
function sentQuery(a: Action[]): Dhcp4Message {
  const s = tcpSends(a);
  expect(s).toHaveLength(1);
  const b = s[0]!.bytes;
  expect((b[0]! << 8) | b[1]!).toBe(b.length - 2); // RFC 6926 §6.1: 2-octet length framing
  const d = dhcp4Message.decode(b.subarray(2));
  if (!d.ok) throw new Error('query does not decode');
  return d.value;
}
const query = (s: Started, i: number, now: Instant = T0): number => sentQuery(s.peers[i]!.connected(now)).xid;

const bindings = (s: Started) => [...s.c.bindings.entries()].map((b) => ({
  ip: formatIPv4(b.address), port: b.port, mac: b.mac ? [...b.mac].map((x) => x.toString(16).padStart(2, '0')).join(':') : null,
  circuit: b.circuitId ? new TextDecoder().decode(b.circuitId) : null, source: b.source,
}));
const server = (s: Started, label = '192.0.2.67') => (s.c.bulk.status(T0)['servers'] as Record<string, Record<string, any>>)[label]!;
const recovery = (s: Started, now: Instant = T0) => s.c.bulk.status(now)['recovery'] as Record<string, any>;

describe('DHCPv4 bulk leasequery: the query (RFC 6926 §6.3, §7.2)', () => {
  it('at start opens TCP 67 to every unicast dhcpv4_server in parallel and asks by our Relay-ID (82.12)', () => {
    const s = start();
    expect(connects(s.out).map((c) => [c.family, formatIPv4(c.destination), c.destinationPort])).toEqual([
      [4, '192.0.2.67', 67], [4, '192.0.2.68', 67], // the broadcast server cannot be asked over TCP
    ]);
    const q = sentQuery(s.peers[0]!.connected(T0));
    expect(q).toMatchObject({ op: 1, htype: 0, hlen: 0, xid: 0x100 });
    for (const f of [q.ciaddr, q.yiaddr, q.siaddr, q.giaddr]) expect(formatIPv4(f)).toBe('0.0.0.0');
    expect(getDhcp4Option(q, 53)).toEqual({ ok: true, value: { code: 14, name: 'DHCPBULKLEASEQUERY' } });
    expect(getDhcp4Option(q, 61)).toBeUndefined();
    expect(getRelayAgentInformation(q)).toEqual({ ok: true, value: [{ kind: 'relayId', relayId: RELAY_ID }] });
  });

  it('configured remote-ids are asked after the Relay-ID query, one at a time on the connection', () => {
    const s = start(`\tlist bulk_remote_id 'cpe-42'\n\tlist bulk_link_address '2001:db8:1::1'`);
    const xid = query(s, 0);
    const out = s.peers[0]!.send(done(xid), at(1)); // nothing by relay-id: DONE alone
    const q2 = sentQuery(out);
    expect(q2.xid).not.toBe(xid);
    expect(getRelayAgentInformation(q2)).toEqual({ ok: true, value: [{ kind: 'remoteId', remoteId: utf8('cpe-42') }] });
    expect(closes(s.peers[0]!.send(done(q2.xid), at(2)))).toHaveLength(1); // a link-address query is DHCPv6 only
    expect(server(s)).toMatchObject({ state: 'done', queries: 2, completed: 2 });
  });
});

describe('DHCPv4 bulk leasequery: reading the stream (RFC 6926 §7.4)', () => {
  it('each LEASEACTIVE becomes a binding as its frame completes (split chunks, several per chunk); DONE ends it', () => {
    const s = start();
    const xid = query(s, 0);
    const first = active(xid, { ip: '198.51.100.7' });
    let out: Action[] = [];
    for (let i = 0; i < first.length; i++) out.push(...s.peers[0]!.send(first.subarray(i, i + 1), at(1)));
    expect(bindings(s).map((b) => b.ip)).toEqual(['198.51.100.7']);
    expect(kernel(out).length).toBeGreaterThan(0);
    out = s.peers[0]!.send(concat(active(xid, { ip: '198.51.100.8', mac: macOf(8), circuit: 'port-2' }), done(xid)), at(2));
    expect(closes(out)).toHaveLength(1);
    expect(bindings(s)).toEqual([
      { ip: '198.51.100.7', port: 'lan1', mac: '02:00:00:00:00:07', circuit: 'lan1', source: 'leasequery' },
      { ip: '198.51.100.8', port: 'lan2', mac: '02:00:00:00:00:08', circuit: 'port-2', source: 'leasequery' },
    ]);
    const b = [...s.c.bindings.entries()][0]!;
    expect(b.validUntil).toBe(addMs(at(1), 500_000)); // option 51: the time left, from the message's arrival
    expect(server(s)).toMatchObject({ family: 4, state: 'done', completed: 1, received: 2, retries: 0 });
  });

  it('without option 82, giaddr names the port only when one port alone uses it', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(concat(active(xid, { ip: '198.51.100.9', circuit: null }), done(xid)), at(1));
    expect(bindings(s)).toEqual([]); // lan1 and lan2 share 198.51.100.1
    expect(recovery(s).refused).toEqual({ 'unknown-port': 1 });
  });

  it('a DONE alone: no bindings, the server is done; the run finishes when every server is', () => {
    const s = start();
    s.peers[0]!.send(done(query(s, 0)), at(1));
    expect(server(s)).toMatchObject({ state: 'done', completed: 1 });
    expect(recovery(s, at(1))).toMatchObject({ state: 'running' });
    s.peers[1]!.send(concat(active(query(s, 1), { ip: '198.51.100.7' }), done(0x101)), at(2));
    expect(recovery(s, at(2))).toMatchObject({ state: 'finished', source: 'bulk-leasequery', restored: 1, durationMs: 2 });
  });

  it('DONE with NotAllowed or MalformedQuery is reported and not retried (RFC 6926 §6.2.2)', () => {
    const s = start();
    expect(closes(s.peers[0]!.send(done(query(s, 0), 4, 'not you'), at(1)))).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'done', errors: { NotAllowed: 1 }, lastError: 'NotAllowed: not you', retries: 0 });
    expect(closes(s.peers[1]!.send(done(query(s, 1), 3), at(1)))).toHaveLength(1);
    expect(server(s, '192.0.2.68')).toMatchObject({ state: 'done', errors: { MalformedQuery: 1 }, retries: 0 });
  });

  it('DONE with QueryTerminated after some bindings: they stay, the error is counted, the query is asked again', () => {
    const s = start();
    const xid = query(s, 0);
    const out = s.peers[0]!.send(concat(active(xid, { ip: '198.51.100.7' }), done(xid, 2)), at(1));
    expect(closes(out)).toHaveLength(1);
    expect(bindings(s)).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'backoff', retryInMs: 1001, errors: { QueryTerminated: 1 }, retries: 1 });
    expect(connects(s.c.agent.poll(at(1001))).map((c) => c.destinationPort)).toEqual([67]);
  });
});

describe('DHCPv4 bulk leasequery: a peer that misbehaves — counted, never state', () => {
  it('hostile LEASEACTIVEs: outside subnet4, a circuit of no port, another relay\'s relay-id, no chaddr, no lease time', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(concat(
      active(xid, { ip: '203.0.113.7' }),
      active(xid, { ip: '198.51.100.7', circuit: 'lan9' }),
      active(xid, { ip: '198.51.100.7', relayId: OTHER_RELAY }),
      active(xid, { ip: '198.51.100.7', mac: null }),
      active(xid, { ip: '198.51.100.7', lease: null }),
      active(xid, { ip: '198.51.100.7', lease: 0 }),
      done(xid),
    ), at(1));
    expect(bindings(s)).toEqual([]);
    expect(recovery(s).refused).toEqual({
      'outside-subnet': 1, 'unknown-circuit': 1, 'other-relay': 1, 'no-mac': 1, 'no-lease-time': 1, expired: 1,
    });
  });

  it('garbage, a BOOTREQUEST, an RFC 4388 LEASEUNKNOWN, a LEASEUNASSIGNED and an unknown xid: dropped, counted', () => {
    const s = start();
    const xid = query(s, 0);
    const reply = dhcp4Message.decode(active(xid, { ip: '198.51.100.7' }).subarray(2));
    if (!reply.ok) throw new Error('fixture');
    const request = frameMessage(dhcp4Message.encode({ ...reply.value, op: 1 }).slice());
    const out = s.peers[0]!.send(concat(
      frameMessage(Uint8Array.of(1, 2, 3)),
      request,
      active(xid, { ip: '198.51.100.7' }, UNKNOWN),
      active(xid, { ip: '198.51.100.7' }, UNASSIGNED),
      active(xid + 1, { ip: '198.51.100.7' }),
    ), at(1));
    expect(bindings(s)).toEqual([]);
    expect(closes(out)).toEqual([]);
    expect(server(s)).toMatchObject({ state: 'streaming', unassigned: 1, drops: { malformed: 2, outOfOrder: 1, unknownXid: 1 } });
  });

  it('a DONE with an unknown xid closes the connection and retries (RFC 6926 §7.4, RFC 5460 §7.3)', () => {
    const s = start();
    const xid = query(s, 0);
    const out = s.peers[0]!.send(done(xid ^ 0xffff), at(1));
    expect(closes(out)).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'backoff', drops: { unknownXid: 1 }, retries: 1 });
  });

  it('oversized frame skipped unbuffered; truncated frame then close; a stalled stream abandoned at BULK_LQ_DATA_TIMEOUT', () => {
    const s = start('\toption bulk_data_timeout 5');
    const xid = query(s, 0);
    const big = new Uint8Array(2 + 40_000);
    big[0] = 40_000 >> 8; big[1] = 40_000 & 0xff;
    s.peers[0]!.send(big, at(1));
    const a = active(xid, { ip: '198.51.100.7' });
    s.peers[0]!.send(a.subarray(0, 100), at(2));
    s.peers[0]!.close(at(3));
    expect(bindings(s)).toEqual([]);
    expect(server(s)).toMatchObject({ state: 'backoff', drops: { oversized: 1, truncated: 1 }, retries: 1 });
    // the second server stalls after its first binding
    const x1 = query(s, 1);
    s.peers[1]!.send(active(x1, { ip: '198.51.100.8', mac: macOf(8) }), at(10));
    expect(s.c.agent.nextDeadline()).toBe(at(1003)); // the first server's retry comes first
    const out = s.c.agent.poll(at(5010));
    expect(closes(out).length).toBeGreaterThanOrEqual(1);
    expect(server(s, '192.0.2.68')).toMatchObject({ state: 'backoff', dataTimeouts: 1 });
    expect(bindings(s).map((b) => b.ip)).toEqual(['198.51.100.8']); // what arrived stays
  });
});

describe('DHCPv4 bulk leasequery: several servers (RFC 6926 §7.4, RFC 4388 §6.7)', () => {
  it('the most recent client-last-transaction (option 91) wins, whichever server answers first', () => {
    const s = start();
    const x0 = query(s, 0), x1 = query(s, 1);
    // server .67: the client on lan1, last seen 50 s ago; server .68: on lan2, 900 s ago (stale)
    s.peers[0]!.send(concat(active(x0, { ip: '198.51.100.7', clt: 50 }), done(x0)), at(1));
    s.peers[1]!.send(concat(active(x1, { ip: '198.51.100.7', clt: 900, circuit: 'port-2' }), done(x1)), at(2));
    expect(bindings(s).map((b) => [b.ip, b.port])).toEqual([['198.51.100.7', 'lan1']]);
    expect(recovery(s, at(2))).toMatchObject({ state: 'finished', older: 1 });
  });
});
