// The bulk leasequery client (RFC 5460) through the Agent, as scripts against time
// (CONVENTIONS 9): a scripted server that misbehaves, `tcp` events in, exact actions out.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { addMs, type Instant } from '../../../src/time';
import { formatIPv6 } from '../../../src/wire/address';
import { findDhcp6Option } from '../../../src/wire';
import { RELAY_ID, T0, at, config, duidOf } from '../relay/kit';
import {
  DATA, DONE, Peer, REPLY, clientData, closes, concat, connects, kernel, message, sentQuery, serverId, status, tcpSends,
} from './bulk-peer';

const CONFIG = (extra = '') => `
config upstream 'wan'
	option device 'eth0'
	list dhcpv6_server '2001:db8::547'
	list dhcpv6_server '2001:db8::548'
	list dhcpv6_server 'ff05::1:3'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option link_address '2001:db8:1::1'
	option relay_v4 '0'
	list subnet6 '2001:db8:1::/64'
	list subnet6 '2001:db8:100::/40'

config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option link_address '2001:db8:2::1'
	option relay_v4 '0'
	list subnet6 '2001:db8:2::/64'
	list subnet6 '2001:db8:100::/40'

config leasequery
${extra}`;

const OTHER_RELAY = Uint8Array.of(0, 3, 0, 1, 2, 0xbb, 0, 0, 0, 1);

function start(extra = '') {
  let n = 0;
  const c = createCore(T0, { random32: () => 0x100 + n++ });
  expect(c.agent.handle({ kind: 'config', config: config(CONFIG(extra)) }, T0)).toEqual([]);
  expect(c.agent.handle({ kind: 'identity', relayId: RELAY_ID }, T0)).toEqual([]);
  expect(c.agent.nextDeadline()).toBe(T0);
  const out = c.agent.poll(T0);
  const handle = (e: Parameters<typeof c.agent.handle>[0], now: Instant) => c.agent.handle(e, now);
  const peers = connects(out).map((x) => new Peer(handle, x.conn));
  return { c, out, peers, handle };
}
type Started = ReturnType<typeof start>;

/** Connect peer i and return the transaction id of the query it got. */
function query(s: Started, i: number, now: Instant = T0): number {
  const q = sentQuery(s.peers[i]!.connected(now));
  return q.transactionId;
}

const bindings = (s: Started) => [...s.c.bindings.entries()].map((b) => ({
  key: `${formatIPv6(b.address)}/${b.prefixLength}`, port: b.port, linkLocal: b.linkLocal ? formatIPv6(b.linkLocal) : null,
  mac: b.mac ? [...b.mac].map((x) => x.toString(16).padStart(2, '0')).join(':') : null, source: b.source,
}));
const server = (s: Started, label = '2001:db8::547') => (s.c.bulk.status(T0)['servers'] as Record<string, Record<string, any>>)[label]!;
const recovery = (s: Started, now: Instant = T0) => s.c.bulk.status(now)['recovery'] as Record<string, any>;

const A = { duid: duidOf(7), address: '2001:db8:1::107' };
const P = { duid: duidOf(7), prefix: '2001:db8:100:700::', len: 56 };
const Q = { duid: duidOf(8), prefix: '2001:db8:100:800::', len: 56, peer: 'fe80::ff:fe00:108' };

describe('bulk leasequery: the query (RFC 5460 §7.1, §7.2)', () => {
  it('at start opens TCP 547 to every unicast dhcpv6_server in parallel and asks by Relay-ID with link-address ::', () => {
    const s = start();
    expect(connects(s.out).map((x) => [formatIPv6(x.destination), x.destinationPort, x.upstream, x.family]))
      .toEqual([['2001:db8::547', 547, 'wan', 6], ['2001:db8::548', 547, 'wan', 6]]);
    const q = sentQuery(s.peers[0]!.connected(T0));
    expect(q.msgType).toBe(14);
    expect(findDhcp6Option(q.options, 'clientId')?.duid).toEqual(RELAY_ID);
    const lq = findDhcp6Option(q.options, 'lqQuery')!;
    expect(lq.queryType).toBe(3);
    expect(lq.linkAddress).toEqual(new Uint8Array(16));
    expect(findDhcp6Option(lq.options, 'relayId')?.duid).toEqual(RELAY_ID);
  });

  it('configured link-addresses and remote-ids are asked after the Relay-ID query, one at a time, each after the last ended', () => {
    const s = start("\tlist bulk_link_address '2001:db8:1::1'\n\tlist bulk_remote_id 'cpe-42'\n\toption bulk_enterprise_number '9'\n");
    const x1 = query(s, 0);
    // the Relay-ID query's stream: REPLY + DONE; only then the next query goes out
    let out = s.peers[0]!.send(message(REPLY, x1, [serverId, clientData(A)]), at(1));
    expect(tcpSends(out)).toEqual([]);
    const q2 = sentQuery(s.peers[0]!.send(message(DONE, x1, []), at(2)));
    const lq2 = findDhcp6Option(q2.options, 'lqQuery')!;
    expect([lq2.queryType, formatIPv6(lq2.linkAddress)]).toEqual([4, '2001:db8:1::1']); // QUERY_BY_LINK_ADDRESS
    out = s.peers[0]!.send(message(REPLY, q2.transactionId, [serverId]), at(3)); // no binding there: no DONE follows
    const lq3 = findDhcp6Option(sentQuery(out).options, 'lqQuery')!;
    expect(lq3.queryType).toBe(5); // QUERY_BY_REMOTE_ID
    expect(findDhcp6Option(lq3.options, 'remoteId')).toMatchObject({ enterpriseNumber: 9, remoteId: new TextEncoder().encode('cpe-42') });
    expect(closes(s.peers[0]!.send(message(REPLY, sentQuery(out).transactionId, [serverId]), at(4)))).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'done', queries: 3, completed: 3 });
  });

  it('BULK_LQ_MAX_CONNS bounds the servers asked at once; the next connects when one finishes', () => {
    const s = start("\toption bulk_max_conns '1'\n");
    expect(s.peers).toHaveLength(1);
    const xid = query(s, 0);
    const out = s.peers[0]!.send(message(REPLY, xid, [serverId]), at(10));
    expect(closes(out)).toHaveLength(1);
    expect(connects(out).map((x) => formatIPv6(x.destination))).toEqual(['2001:db8::548']);
  });

  it('a snapshot that brought bindings back means no run at start; gleand recover starts one and answers at once', () => {
    const c = createCore(T0);
    c.agent.handle({ kind: 'config', config: config(CONFIG()) }, T0);
    c.agent.handle({ kind: 'identity', relayId: RELAY_ID }, T0);
    c.agent.handle({ kind: 'restore', from: 'snap', bindings: [{
      family: 6, kind: 'address', address: new Uint8Array([0x20, 1, 0xd, 0xb8, 0, 1, ...new Array(9).fill(0), 9]), prefixLength: 128,
      port: 'lan1', mac: null, clientId: null, circuitId: null, remoteId: null, linkLocal: null, validUntil: at(60_000), source: 'glean',
    }] }, T0);
    expect(connects(c.agent.poll(T0))).toEqual([]);
    expect(c.bulk.status(T0)['recovery']).toMatchObject({ source: 'snapshot', restored: 1 });
    const out = c.agent.handle({ kind: 'recover', id: 9 }, at(5));
    expect(connects(out)).toHaveLength(2);
    expect(out.filter((a) => a.kind === 'query-result')).toEqual([{ kind: 'query-result', id: 9, result: { verdict: 'started', servers: ['2001:db8::547', '2001:db8::548'] } }]);
  });
});

describe('bulk leasequery: reading the stream (RFC 5460 §5.1, §7.3)', () => {
  it('frames split across chunks and several frames in one chunk; each binding is installed as its message completes', () => {
    const s = start();
    const xid = query(s, 0);
    const stream = concat(
      message(REPLY, xid, [serverId, clientData(A)]),
      message(DATA, xid, [clientData(P)]),
      message(DATA, xid, [clientData(Q)]),
      message(DONE, xid, []),
    );
    const firstLen = ((stream[0]! << 8) | stream[1]!) + 2;
    // byte by byte up to the end of the REPLY: the address is installed before anything else arrives
    let out: Action[] = [];
    for (let i = 0; i < firstLen; i++) out.push(...s.peers[0]!.send(stream.subarray(i, i + 1), at(1)));
    expect(bindings(s).map((b) => b.key)).toEqual(['2001:db8:1::107/128']);
    expect(kernel(out).length).toBeGreaterThan(0);
    // the rest in two chunks cut inside the second DATA's length prefix
    const cut = firstLen + ((stream[firstLen]! << 8) | stream[firstLen + 1]!) + 2 + 1;
    s.peers[0]!.send(stream.subarray(firstLen, cut), at(2));
    expect(bindings(s)).toHaveLength(2);
    out = s.peers[0]!.send(stream.subarray(cut), at(3));
    expect(closes(out)).toHaveLength(1); // DONE: the requestor may close (RFC 5460 §7.6)
    expect(bindings(s)).toEqual([
      { key: '2001:db8:1::107/128', port: 'lan1', linkLocal: 'fe80::ff:fe00:107', mac: '02:00:00:00:01:07', source: 'leasequery' },
      { key: '2001:db8:100:700::/56', port: 'lan1', linkLocal: 'fe80::ff:fe00:107', mac: '02:00:00:00:01:07', source: 'leasequery' },
      { key: '2001:db8:100:800::/56', port: 'lan1', linkLocal: 'fe80::ff:fe00:108', mac: '02:00:00:00:01:08', source: 'leasequery' },
    ]);
    expect(server(s)).toMatchObject({ state: 'done', completed: 1, received: 3, retries: 0 });
  });

  it('a lease without relay data is placed by its client\'s DUID (PROTOCOLS.md: one lease per CLIENT_DATA)', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(concat(message(REPLY, xid, [clientData({ ...A, interfaceId: 'lan2', address: '2001:db8:2::107' })]),
      message(DATA, xid, [clientData({ ...P, interfaceId: null })]), message(DONE, xid, [])), at(1));
    expect(bindings(s).map((b) => [b.key, b.port])).toEqual([['2001:db8:2::107/128', 'lan2'], ['2001:db8:100:700::/56', 'lan2']]);
  });

  it('a successful REPLY without CLIENT_DATA: no bindings, no DONE awaited, the server is done', () => {
    const s = start();
    const out = s.peers[0]!.send(message(REPLY, query(s, 0), [serverId]), at(1));
    expect(closes(out)).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'done', completed: 1, retries: 0 });
    expect(s.c.agent.nextDeadline()).toBe(addMs(T0, 30_000)); // only the other server's connect timeout
  });

  it('an error status in the REPLY is reported and not retried (RFC 5460 §7.3)', () => {
    const s = start();
    const out = s.peers[0]!.send(message(REPLY, query(s, 0), [serverId, status(10, 'not you')]), at(1));
    expect(closes(out)).toHaveLength(1);
    expect(server(s)).toMatchObject({ state: 'done', errors: { NotAllowed: 1 }, lastError: 'NotAllowed: not you', retries: 0 });
  });

  it('the run finishes when every server is done; status shows the restored count and the source', () => {
    const s = start();
    s.peers[0]!.send(concat(message(REPLY, query(s, 0), [clientData(A)]), message(DONE, 0x100, [])), at(1));
    expect(recovery(s)).toMatchObject({ state: 'running', source: 'bulk-leasequery', restored: 1 });
    s.peers[1]!.send(message(REPLY, query(s, 1), []), at(2));
    expect(recovery(s, at(2))).toMatchObject({ state: 'finished', restored: 1, durationMs: 2 });
  });
});

describe('bulk leasequery: a peer that misbehaves — counted, never state', () => {
  it('truncated frame, then the peer closes: nothing installed from it, retried after 1 s', () => {
    const s = start();
    const xid = query(s, 0);
    const full = message(REPLY, xid, [clientData(A)]);
    const out = s.peers[0]!.send(full.subarray(0, full.length - 5), at(1));
    expect(bindings(s)).toEqual([]);
    expect(kernel(out)).toEqual([]);
    s.peers[0]!.close(at(2));
    expect(server(s)).toMatchObject({ state: 'backoff', retries: 1, drops: { truncated: 1 } });
    expect(bindings(s)).toEqual([]);
    const again = connects(s.c.agent.poll(at(1002)));
    expect(again.map((x) => formatIPv6(x.destination))).toEqual(['2001:db8::547']);
  });

  it('a stalled stream is abandoned after BULK_LQ_DATA_TIMEOUT; retries back off 1, 2, 4 s up to BULK_LQ_MAX_RETRY', () => {
    const s = start("\toption bulk_max_retry '3'\n");
    const xid = query(s, 0);
    s.peers[0]!.send(message(REPLY, xid, [clientData(A)]), at(1000));
    expect(s.c.agent.poll(at(30_999)).filter((a) => a.kind !== 'log')).toEqual([
      { kind: 'tcp-close', conn: 2 }, // the other server's connect timeout (BULK_LQ_CONN_TIMEOUT 30 s)
    ]);
    const out = s.c.agent.poll(at(31_000));
    expect(closes(out)).toEqual([{ kind: 'tcp-close', conn: 1 }]);
    expect(server(s)).toMatchObject({ state: 'backoff', dataTimeouts: 1 });
    // what arrived before the stall stands
    expect(bindings(s).map((b) => b.key)).toEqual(['2001:db8:1::107/128']);
    // backoff: first retry 1 s, then 2 s, then capped at 3 s (BULK_LQ_MAX_RETRY here)
    const retryIn = (now: Instant) => (s.c.bulk.status(now)['servers'] as Record<string, any>)['2001:db8::547'].retryInMs;
    const retryAt: number[] = [];
    let now = at(31_000);
    for (let i = 0; i < 3; i++) {
      const wait = retryIn(now) as number;
      retryAt.push(wait);
      now = addMs(now, wait);
      const c = connects(s.c.agent.poll(now)).filter((x) => formatIPv6(x.destination) === '2001:db8::547');
      expect(c).toHaveLength(1);
      new Peer(s.handle, c[0]!.conn).close(now, 'ECONNREFUSED');
    }
    expect(retryAt).toEqual([1000, 2000, 3000]);
    expect(server(s)).toMatchObject({ connectFailures: 3 });
  });

  it('DATA with an unknown transaction id is discarded; DONE with one closes the connection (RFC 5460 §7.3)', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(message(REPLY, xid, [clientData(A)]), at(1));
    s.peers[0]!.send(message(DATA, xid ^ 1, [clientData(P)]), at(2));
    expect(bindings(s)).toHaveLength(1);
    const out = s.peers[0]!.send(message(DONE, xid ^ 1, []), at(3));
    expect(closes(out)).toEqual([{ kind: 'tcp-close', conn: 1 }]);
    expect(server(s)).toMatchObject({ state: 'backoff', drops: { unknownXid: 2 } });
    expect(bindings(s)).toHaveLength(1);
  });

  it('an error status in DONE: what arrived stays, the error is counted, the query is asked again', () => {
    const s = start();
    const xid = query(s, 0);
    const out = s.peers[0]!.send(concat(message(REPLY, xid, [clientData(A)]), message(DATA, xid, [clientData(P)]),
      message(DONE, xid, [status(11, 'shutting down')])), at(1));
    expect(closes(out)).toHaveLength(1);
    expect(bindings(s)).toHaveLength(2);
    expect(server(s)).toMatchObject({ state: 'backoff', errors: { QueryTerminated: 1 }, completed: 0 });
    const again = connects(s.c.agent.poll(at(1001)));
    expect(again).toHaveLength(1);
    expect(sentQuery(new Peer(s.handle, again[0]!.conn).connected(at(1002))).msgType).toBe(14);
  });

  it('the peer closes mid-stream, or right after accept (unauthorised, over its limit): retried', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(message(REPLY, xid, [clientData(A)]), at(1));
    s.peers[0]!.close(at(2));
    expect(server(s)).toMatchObject({ state: 'backoff', closedMidStream: 1, lastError: 'peer closed mid-stream' });
    s.peers[1]!.connected(T0);
    s.peers[1]!.close(at(3), null);
    expect(server(s, '2001:db8::548')).toMatchObject({ state: 'backoff', closedMidStream: 0, lastError: 'peer closed before the reply' });
  });

  it('oversized frame skipped unbuffered, DATA without CLIENT_DATA, LQ_CLIENT_LINK, DATA before REPLY, garbage: all dropped', () => {
    const s = start();
    const xid = query(s, 0);
    const huge = new Uint8Array(2 + 40_000);
    huge[0] = 40_000 >> 8; huge[1] = 40_000 & 0xff;
    s.peers[0]!.send(message(DATA, xid, [clientData(P)]), at(1)); // before the REPLY
    s.peers[0]!.send(concat(huge.subarray(0, 1000)), at(1));
    s.peers[0]!.send(concat(huge.subarray(1000), message(REPLY, xid, [clientData(A)])), at(1));
    s.peers[0]!.send(concat(
      message(DATA, xid, [serverId]),
      message(DATA, xid, [clientData(Q), { kind: 'lqClientLink', linkAddresses: [new Uint8Array(16)] }]),
      Uint8Array.of(0, 3, 17, 0, 0),
    ), at(2));
    expect(bindings(s).map((b) => b.key)).toEqual(['2001:db8:1::107/128']);
    expect(server(s).drops).toEqual({
      oversized: 1, truncated: 0, malformed: 1, unknownXid: 0, outOfOrder: 1, dataWithoutClientData: 1, clientLink: 1,
    });
  });

  it('leases that do not belong here are refused: unknown Interface-ID, another relay\'s Relay-ID, outside the port\'s subnets, expired', () => {
    const s = start();
    const xid = query(s, 0);
    s.peers[0]!.send(concat(
      message(REPLY, xid, [clientData({ ...A, interfaceId: 'nope' })]),
      message(DATA, xid, [clientData({ ...P, relayId: OTHER_RELAY })]),
      message(DATA, xid, [clientData({ duid: duidOf(9), address: '2001:db8:9::9' })]),
      message(DATA, xid, [clientData({ ...Q, valid: 0 })]),
      message(DATA, xid, [clientData({ ...Q, relayId: RELAY_ID })]),
      message(DONE, xid, []),
    ), at(1));
    expect(bindings(s).map((b) => b.key)).toEqual(['2001:db8:100:800::/56']);
    expect(recovery(s)).toMatchObject({ restored: 1, refused: { 'unknown-port': 1, 'other-relay': 1, expired: 1, owner: 1 } });
  });
});

describe('bulk leasequery: several servers (RFC 5460 §7.4)', () => {
  const disagree = (newerFirst: boolean) => {
    const s = start();
    const x0 = query(s, 0);
    const x1 = query(s, 1);
    const older = { ...P, clt: 500, peer: 'fe80::ff:fe00:1', interfaceId: 'lan2' };
    const newer = { ...P, clt: 20, peer: 'fe80::ff:fe00:2', interfaceId: 'lan1' };
    const [first, second] = newerFirst ? [newer, older] : [older, newer];
    s.peers[0]!.send(concat(message(REPLY, x0, [clientData(first)]), message(DONE, x0, [])), at(1));
    s.peers[1]!.send(concat(message(REPLY, x1, [clientData(second)]), message(DONE, x1, [])), at(2));
    return s;
  };

  it('the most recent client-last-transaction wins, whichever server answers first', () => {
    for (const newerFirst of [true, false]) {
      const s = disagree(newerFirst);
      expect(bindings(s).map((b) => [b.key, b.port, b.linkLocal])).toEqual([['2001:db8:100:700::/56', 'lan1', 'fe80::ff:fe00:2']]);
      expect(recovery(s, at(2))).toMatchObject({ state: 'finished', older: newerFirst ? 1 : 0 });
    }
  });
});
