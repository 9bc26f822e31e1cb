/**
 * The lab's DHCPv6 Bulk Leasequery responder (RFC 5460 server side; test equipment, not
 * in the bundle — no Debian package answers bulk leasequery over TCP). It listens on TCP
 * 547, accepts only the configured requesters (others are closed right after accept,
 * RFC 5460 §8.1, as Kea does), at most BULK_LQ_MAX_CONNS connections, closes idle ones,
 * and answers one query at a time per connection (PROTOCOLS.md): LEASEQUERY-REPLY (the
 * first binding), a LEASEQUERY-DATA per further binding, LEASEQUERY-DONE; no match is a
 * REPLY without CLIENT_DATA and no DONE; UnknownQueryType / MalformedQuery / NotAllowed
 * in the REPLY. One lease per CLIENT_DATA, CLT_TIME relative and lifetimes reduced by it,
 * the stored RELAY-FORW inside CLIENT_DATA — the shape PROTOCOLS.md records of a real
 * server. The leases come from `bulk-leases.ts`, re-read when the file changed.
 *
 * Run: tsx test/lab/bulk-responder.ts --leases FILE --allow ADDR[,ADDR] [--link-address A]
 *        [--max-conns 10] [--idle-s 30] [--listen ::] [--stall-after N] [--leases4 FILE]
 * `--leases4 FILE` (dhcpd -4's lease file) also serves DHCPv4 Bulk Leasequery on TCP 67
 * (RFC 6926, `bulk-responder4.ts`; its lines end in `4`: `query4`, `answered4`, …).
 * It prints one line per event (`accepted`, `refused`, `query`, `answered`, `stalled`,
 * `closed`) for the tests.
 *
 * `--stall-after N` makes a misbehaving server for the tests of RFC 5460 §7.3 (the
 * requester's BULK_LQ_DATA_TIMEOUT): after the REPLY and N LEASEQUERY-DATA messages it
 * sends nothing more on that connection — no DATA, no DONE — and keeps it open (the idle
 * close, `--idle-s`, still applies), as a server whose lease walk hung would.
 */
import * as net from 'node:net';
import { FrameReader, frameMessage } from '../../src/leasequery/bulk-frame';
import { dhcp6Message, findDhcp6Option, type Dhcp6Option } from '../../src/wire';
import { parseIPv6 } from '../../src/wire/address';
import { cachedLeaseSource, cachedLeaseSource4, type ResponderLease } from './bulk-leases';
import { startResponder4 } from './bulk-responder4';

const REPLY = 15, DONE = 16, DATA = 17;
const ST = { UnknownQueryType: 7, MalformedQuery: 8, NotAllowed: 10 } as const;
const SERVER_DUID = Uint8Array.of(0, 3, 0, 1, 0x02, 0x00, 0x00, 0x00, 0x05, 0x47);

export interface ResponderOptions {
  leases: () => ResponderLease[];
  allow: readonly string[];
  maxConns: number;
  idleMs: number;
  /** Stop sending after the REPLY and this many DATA messages, connection left open; null: never. */
  stallAfter: number | null;
  log: (line: string) => void;
}

const v6 = (t: string): Uint8Array => parseIPv6(t)!;
const same = (a: Uint8Array | null, b: Uint8Array): boolean => !!a && a.length === b.length && a.every((x, i) => x === b[i]);
const norm = (addr: string | undefined): string => (addr ?? '').replace(/^::ffff:/, '');

function clientData(l: ResponderLease, nowS: number): Dhcp6Option {
  const clt = Math.max(0, nowS - l.cltt);
  const valid = Math.max(0, l.ends - nowS);
  const preferred = Math.max(0, Math.min(valid, l.preferredLife - clt));
  const relayOptions: Dhcp6Option[] = [];
  if (l.interfaceId) relayOptions.push({ kind: 'interfaceId', interfaceId: l.interfaceId });
  if (l.remoteId && l.remoteId.length >= 4) {
    const en = ((l.remoteId[0]! << 24) | (l.remoteId[1]! << 16) | (l.remoteId[2]! << 8) | l.remoteId[3]!) >>> 0;
    relayOptions.push({ kind: 'remoteId', enterpriseNumber: en, remoteId: l.remoteId.subarray(4) });
  }
  if (l.relayId) relayOptions.push({ kind: 'relayId', duid: l.relayId });
  const lease: Dhcp6Option = l.kind === 'address'
    ? { kind: 'iaAddr', address: v6(l.address), preferredLifetime: preferred, validLifetime: valid, options: [] }
    : { kind: 'iaPrefix', prefix: v6(l.address), prefixLength: l.prefixLength, preferredLifetime: preferred, validLifetime: valid, options: [] };
  return {
    kind: 'clientData',
    options: [
      { kind: 'clientId', duid: l.duid }, lease, { kind: 'cltTime', cltTime: clt },
      { kind: 'lqRelayData', peerAddress: v6(l.linkAddress),
        relayMessage: { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6(l.linkAddress), peerAddress: v6(l.peerAddress), options: relayOptions } },
    ],
  };
}

const encode = (msgType: number, xid: number, options: Dhcp6Option[]): Uint8Array =>
  frameMessage(dhcp6Message.encode({ kind: 'client', msgType, transactionId: xid, options }).slice());

/** The bindings a query selects (RFC 5460 §8.2), or a status code. */
function select(lq: Extract<Dhcp6Option, { kind: 'lqQuery' }>, leases: ResponderLease[]): ResponderLease[] | number {
  const unspecified = lq.linkAddress.every((x) => x === 0);
  const onLink = (l: ResponderLease) => unspecified || same(v6(l.linkAddress), lq.linkAddress);
  switch (lq.queryType) {
    case 3: {
      const rid = findDhcp6Option(lq.options, 'relayId');
      if (!rid) return ST.MalformedQuery;
      return leases.filter((l) => same(l.relayId, rid.duid) && onLink(l));
    }
    case 4:
      if (unspecified) return ST.MalformedQuery;
      return leases.filter(onLink);
    case 5: {
      const r = findDhcp6Option(lq.options, 'remoteId');
      if (!r) return ST.MalformedQuery;
      return leases.filter((l) => l.remoteId && same(l.remoteId.subarray(4), r.remoteId) && onLink(l));
    }
    default:
      return ST.UnknownQueryType;
  }
}

export function startResponder(o: ResponderOptions, listen = '::', port = 547): Promise<net.Server> {
  let open = 0;
  const server = net.createServer((sock) => {
    const peer = norm(sock.remoteAddress);
    // RFC 5460 §8.1: connections from requesters not permitted, or over the limit, are closed at once.
    if (!o.allow.includes(peer) || open >= o.maxConns) {
      o.log(`refused ${peer} ${!o.allow.includes(peer) ? 'not-allowed' : 'max-conns'}`);
      sock.destroy();
      return;
    }
    open++;
    o.log(`accepted ${peer}`);
    sock.setTimeout(o.idleMs, () => { o.log(`idle-close ${peer}`); sock.destroy(); });
    sock.on('close', () => { open--; o.log(`closed ${peer}`); });
    sock.on('error', () => sock.destroy());
    const reader = new FrameReader(0xffff);
    let queue: Promise<void> = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      for (const item of reader.push(new Uint8Array(chunk))) {
        if (item.kind !== 'frame') continue;
        const bytes = item.bytes.slice();
        // One query at a time per connection: the next is answered after this one's end.
        queue = queue.then(() => answer(sock, bytes, o));
      }
    });
  });
  return new Promise((resolve) => server.listen({ host: listen, port, ipv6Only: false }, () => resolve(server)));
}

async function answer(sock: net.Socket, bytes: Uint8Array, o: ResponderOptions): Promise<void> {
  const d = dhcp6Message.decode(bytes);
  if (!d.ok || d.value.kind !== 'client' || d.value.msgType !== 14) { o.log('malformed-query close'); sock.destroy(); return; }
  const m = d.value;
  const xid = m.transactionId;
  const client = findDhcp6Option(m.options, 'clientId');
  // PROTOCOLS.md: a real server closes the connection on a query without CLIENTID.
  if (!client) { o.log('no-clientid close'); sock.destroy(); return; }
  const head: Dhcp6Option[] = [{ kind: 'serverId', duid: SERVER_DUID }, { kind: 'clientId', duid: client.duid }];
  const lq = findDhcp6Option(m.options, 'lqQuery');
  const found = lq ? select(lq, o.leases()) : ST.MalformedQuery;
  o.log(`query xid=${xid} type=${lq?.queryType ?? '-'} ${typeof found === 'number' ? `status=${found}` : `bindings=${found.length}`}`);
  if (typeof found === 'number') {
    sock.write(encode(REPLY, xid, [...head, { kind: 'statusCode', statusCode: found, message: '' }]));
    return;
  }
  if (found.length === 0) { sock.write(encode(REPLY, xid, head)); return; }
  const nowS = Math.floor(Date.now() / 1000);
  sock.write(encode(REPLY, xid, [...head, clientData(found[0]!, nowS)]));
  let bytesOut = 0;
  for (let i = 1; i < found.length; i++) {
    if (o.stallAfter !== null && i - 1 >= o.stallAfter) {
      // Mid-stream silence: no more DATA, no DONE, the connection stays open.
      o.log(`stalled xid=${xid} after data=${i - 1} of ${found.length - 1}`);
      return new Promise<void>(() => undefined); // this connection's queue never moves again
    }
    const frame = encode(DATA, xid, [clientData(found[i]!, nowS)]);
    bytesOut += frame.length;
    // Respect TCP backpressure: a stream of 100k bindings must not sit in our memory.
    if (!sock.write(frame)) await new Promise((r) => sock.once('drain', r));
    if (sock.destroyed) return;
  }
  sock.write(encode(DONE, xid, []));
  o.log(`answered xid=${xid} bindings=${found.length} dataBytes=${bytesOut}`);
}

if (require.main === module) {
  const arg = (name: string, dflt?: string): string => {
    const i = process.argv.indexOf(name);
    if (i < 0 || i + 1 >= process.argv.length) { if (dflt === undefined) throw new Error(`${name} required`); return dflt; }
    return process.argv[i + 1]!;
  };
  const file = arg('--leases');
  const linkAddress = arg('--link-address', '::');
  const common = {
    allow: arg('--allow').split(','),
    maxConns: Number(arg('--max-conns', '10')),
    idleMs: Number(arg('--idle-s', '30')) * 1000,
    log: (l: string) => process.stdout.write(`${new Date().toISOString()} ${l}\n`),
  };
  const file4 = process.argv.includes('--leases4') ? arg('--leases4') : null;
  void Promise.all([
    startResponder({
      ...common, leases: cachedLeaseSource(file, linkAddress),
      stallAfter: process.argv.includes('--stall-after') ? Number(arg('--stall-after')) : null,
    }, arg('--listen', '::')),
    file4 ? startResponder4({ ...common, leases: cachedLeaseSource4(file4) }, arg('--listen', '::')) : null,
  ]).then(() => process.stdout.write(`bulk responder listening on 547${file4 ? ' and 67' : ''}\n`));
}
