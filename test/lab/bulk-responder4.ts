/**
 * The DHCPv4 side of the lab's bulk leasequery responder (RFC 6926 server side; test
 * equipment, not in the bundle), serving dhcpd -4's own lease file over TCP 67. Shape as
 * PROTOCOLS.md records of a real server: each binding a full BOOTREPLY DHCPLEASEACTIVE
 * (ciaddr = lease, chaddr, options 51/58/59 reduced by the time since the last
 * transaction, 61, 91, 152 base-time as absolute epoch, 82 as stored), option 54 only in
 * the first message, then a BOOTREPLY DHCPLEASEQUERYDONE — alone when nothing matched,
 * with option 151 only on error (RFC 6926 §6.2.2): MalformedQuery for a query with
 * ciaddr/yiaddr/siaddr set or with more than one query type, NotAllowed for a query of no
 * type (all addresses) and for a requester not configured. One query at a time per
 * connection, the query's xid in every answer; framing as RFC 6926 §6.1.
 */
import * as net from 'node:net';
import { FrameReader, frameMessage } from '../../src/leasequery/bulk-frame';
import {
  BOOTREPLY, BOOTREQUEST, dhcp4Message, encodeDhcp4OptionBody, findSubOption, getDhcp4Option, getDhcp4OptionBytes,
  getRelayAgentInformation, type Dhcp4Message, type Dhcp4RawOption, type RelayAgentSubOption,
} from '../../src/wire';
import { parseIPv4 } from '../../src/wire/address';
import type { ResponderLease4 } from './bulk-leases';

const ACTIVE = 13, DONE = 15, BULKLEASEQUERY = 14;
const ST = { QueryTerminated: 2, MalformedQuery: 3, NotAllowed: 4 } as const;

export interface Responder4Options {
  leases: () => ResponderLease4[];
  allow: readonly string[];
  maxConns: number;
  idleMs: number;
  log: (line: string) => void;
}

const same = (a: Uint8Array | null, b: Uint8Array): boolean => !!a && a.length === b.length && a.every((x, i) => x === b[i]);
const norm = (addr: string | undefined): string => (addr ?? '').replace(/^::ffff:/, '');
const zero4 = (a: Uint8Array) => a.every((x) => x === 0);
const opt = <C extends Parameters<typeof encodeDhcp4OptionBody>[0]>(code: C, v: Parameters<typeof encodeDhcp4OptionBody<C>>[1]): Dhcp4RawOption =>
  ({ code, data: encodeDhcp4OptionBody(code, v) });

function reply(type: number, xid: number, fields: Partial<Dhcp4Message>, options: Dhcp4RawOption[]): Uint8Array {
  return frameMessage(dhcp4Message.encode({
    op: BOOTREPLY, htype: 0, hlen: 0, hops: 0, xid, secs: 0, flags: 0,
    ciaddr: new Uint8Array(4), yiaddr: new Uint8Array(4), siaddr: new Uint8Array(4), giaddr: new Uint8Array(4),
    chaddr: new Uint8Array(16), sname: new Uint8Array(64), file: new Uint8Array(128),
    options: [{ code: 53, data: Uint8Array.of(type) }, ...options], trailer: new Uint8Array(0), ...fields,
  }).slice());
}

function leaseActive(l: ResponderLease4, xid: number, nowS: number, serverId: Uint8Array | null): Uint8Array {
  const clt = Math.max(0, nowS - l.cltt);
  const left = Math.max(0, l.ends - nowS);
  const chaddr = new Uint8Array(16);
  if (l.mac) chaddr.set(l.mac.subarray(0, 16));
  const options: Dhcp4RawOption[] = [];
  if (serverId) options.push(opt(54, serverId));
  options.push(opt(51, left), opt(58, Math.floor(left / 2)), opt(59, Math.floor((left * 7) / 8)));
  if (l.clientId) options.push({ code: 61, data: l.clientId });
  options.push(opt(91, clt), opt(152, nowS));
  const subs: RelayAgentSubOption[] = [];
  if (l.circuitId) subs.push({ kind: 'circuitId', circuitId: l.circuitId });
  if (l.remoteId) subs.push({ kind: 'remoteId', remoteId: l.remoteId });
  if (l.relayId) subs.push({ kind: 'relayId', relayId: l.relayId });
  if (subs.length > 0) options.push(opt(82, subs));
  return reply(ACTIVE, xid, { htype: l.mac ? 1 : 0, hlen: l.mac ? 6 : 0, chaddr, ciaddr: parseIPv4(l.address)! }, options);
}

/** The bindings a query selects (RFC 6926 §6.3), or a status code; `by` names the query type. */
function select(m: Dhcp4Message, leases: ResponderLease4[], nowS: number): { by: string; found: ResponderLease4[] | number } {
  if (!zero4(m.ciaddr) || !zero4(m.yiaddr) || !zero4(m.siaddr)) return { by: 'malformed', found: ST.MalformedQuery };
  const info = getRelayAgentInformation(m);
  const subs = info?.ok ? info.value : [];
  const relayId = findSubOption(subs, 'relayId')?.relayId;
  const remoteId = findSubOption(subs, 'remoteId')?.remoteId;
  const clientId = getDhcp4OptionBytes(m, 61);
  const mac = m.hlen > 0 && !zero4(m.chaddr) ? m.chaddr.slice(0, m.hlen) : undefined;
  const types = [relayId && 'relay-id', remoteId && 'remote-id', clientId && 'client-id', mac && 'mac'].filter(Boolean) as string[];
  if (types.length > 1) return { by: types.join('+'), found: ST.MalformedQuery };
  // A query for every configured address: not offered to anyone (Kea answers the same).
  if (types.length === 0) return { by: 'all', found: ST.NotAllowed };
  const live = leases.filter((l) => l.ends > nowS);
  const by = types[0]!;
  const found = live.filter((l) => (by === 'relay-id' ? same(l.relayId, relayId!) : by === 'remote-id' ? same(l.remoteId, remoteId!)
    : by === 'client-id' ? same(l.clientId, clientId!) : same(l.mac, mac!)));
  return { by, found };
}

export function startResponder4(o: Responder4Options, listen = '::', port = 67): Promise<net.Server> {
  let open = 0;
  const server = net.createServer((sock) => {
    const peer = norm(sock.remoteAddress);
    if (open >= o.maxConns) { o.log(`refused4 ${peer} max-conns`); sock.destroy(); return; }
    const allowed = o.allow.includes(peer);
    open++;
    o.log(`accepted4 ${peer}${allowed ? '' : ' not-allowed'}`);
    sock.setTimeout(o.idleMs, () => { o.log(`idle-close4 ${peer}`); sock.destroy(); });
    sock.on('close', () => { open--; o.log(`closed4 ${peer}`); });
    sock.on('error', () => sock.destroy());
    const reader = new FrameReader(0xffff);
    let queue: Promise<void> = Promise.resolve();
    sock.on('data', (chunk: Buffer) => {
      for (const item of reader.push(new Uint8Array(chunk))) {
        if (item.kind !== 'frame') continue;
        const bytes = item.bytes.slice();
        // One query at a time per connection: the next is answered after this one's DONE.
        queue = queue.then(() => answer(sock, bytes, allowed, o));
      }
    });
  });
  return new Promise((resolve) => server.listen({ host: listen, port, ipv6Only: false }, () => resolve(server)));
}

async function answer(sock: net.Socket, bytes: Uint8Array, allowed: boolean, o: Responder4Options): Promise<void> {
  const d = dhcp4Message.decode(bytes);
  const type = d.ok ? getDhcp4Option(d.value, 53) : undefined;
  if (!d.ok || d.value.op !== BOOTREQUEST || !type?.ok || type.value.code !== BULKLEASEQUERY) {
    o.log('malformed-query4 close');
    sock.destroy();
    return;
  }
  const m = d.value;
  const serverId = parseIPv4(norm(sock.localAddress)) ?? null;
  const done = (status?: number) => reply(DONE, m.xid, {}, [
    ...(serverId ? [opt(54, serverId)] : []), ...(status === undefined ? [] : [opt(151, { status, message: '' })]),
  ]);
  if (!allowed) {
    // RFC 6926 §6.2.2 NotAllowed: this requester may not query; the connection then closes.
    o.log(`query4 xid=${m.xid} status=${ST.NotAllowed} not-allowed`);
    sock.end(done(ST.NotAllowed));
    return;
  }
  const nowS = Math.floor(Date.now() / 1000);
  const { by, found } = select(m, o.leases(), nowS);
  o.log(`query4 xid=${m.xid} by=${by} ${typeof found === 'number' ? `status=${found}` : `bindings=${found.length}`}`);
  if (typeof found === 'number') { sock.write(done(found)); return; }
  let first = true;
  for (const l of found) {
    // Option 54 only in the first message of the answer (PROTOCOLS.md).
    const frame = leaseActive(l, m.xid, nowS, first ? serverId : null);
    first = false;
    if (!sock.write(frame)) await new Promise((r) => sock.once('drain', r));
    if (sock.destroyed) return;
  }
  sock.write(reply(DONE, m.xid, {}, found.length === 0 && serverId ? [opt(54, serverId)] : []));
  o.log(`answered4 xid=${m.xid} bindings=${found.length}`);
}
