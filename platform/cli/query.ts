import type { Event } from '../../src/events';
import type { QueryBy } from '../../src/leasequery/message';
import { parseHex, parseIPv4, parseIPv6, parseMac } from '../../src/wire/address';
import { keyValues, table } from './table';

/**
 * `gleand query ip ADDR | mac MAC | client-id HEX [-6] [-p PORT] [--mac MAC] [--wait S]`:
 * the control request the CLI sends, the event the daemon makes of it, and how the
 * answer is printed. An IPv6 ADDR asks DHCPv6 servers (RFC 5007 QUERY_BY_ADDRESS);
 * `client-id HEX -6` (or `duid HEX`) asks them by the client's DUID (QUERY_BY_CLIENTID);
 * otherwise DHCPv4 (RFC 4388).
 */
export const QUERY_USAGE = 'query ip ADDR|mac MAC|client-id HEX [-6]|duid HEX [-p PORT] [--mac MAC] [--wait S] [--json]';
export const DEFAULT_WAIT_S = 10;
const MAX_WAIT_S = 120;

/** CLI side: argv after `query` → the control request, or a usage error. */
export function queryRequest(positional: readonly string[], flags: Map<string, string | true>): Record<string, unknown> | string {
  const [given, value] = positional;
  if ((given !== 'ip' && given !== 'mac' && given !== 'client-id' && given !== 'duid') || value === undefined) return `usage: gleand ${QUERY_USAGE}`;
  const by = given === 'client-id' && flags.has('-6') ? 'duid' : given;
  const port = flags.get('-p') ?? flags.get('--port');
  const mac = flags.get('--mac');
  const wait = flags.get('--wait');
  return {
    cmd: 'leasequery', by, value,
    ...(typeof port === 'string' ? { port } : {}),
    ...(typeof mac === 'string' ? { mac } : {}),
    waitS: typeof wait === 'string' ? Number(wait) : DEFAULT_WAIT_S,
  };
}

/** Daemon side: the request's arguments → a `leasequery` event, or what is wrong with them. */
export function leasequeryEvent(id: number, args: Record<string, unknown>): Extract<Event, { kind: 'leasequery' }> | string {
  const { by, value, port, mac, waitS } = args;
  if (typeof value !== 'string') return 'leasequery needs a string "value"';
  let query: QueryBy;
  if (by === 'ip') {
    const address = parseIPv4(value) ?? parseIPv6(value);
    if (!address) return `'${value}' is not an IPv4 or IPv6 address`;
    query = { by, address };
  } else if (by === 'duid') {
    const duid = parseHex(value);
    // RFC 8415 §11.1: a 2-octet type and at most 128 octets of identifier.
    if (!duid || duid.length < 3 || duid.length > 130) return `'${value}' is not a DUID (hex, 3..130 octets)`;
    query = { by, duid };
  } else if (by === 'mac') {
    const m = parseMac(value);
    if (!m) return `'${value}' is not a MAC address`;
    query = { by, mac: m };
  } else if (by === 'client-id') {
    const clientId = parseHex(value);
    // RFC 2132 §9.14: a type octet and at least one octet of identifier.
    if (!clientId || clientId.length < 2 || clientId.length > 255) return `'${value}' is not a client identifier (hex, 2..255 octets)`;
    query = { by, clientId };
  } else return 'leasequery "by" is ip, mac, client-id or duid';
  if (port !== undefined && typeof port !== 'string') return '"port" must be a string';
  const expectMac = typeof mac === 'string' ? parseMac(mac) : null;
  if (typeof mac === 'string' && !expectMac) return `'${mac}' is not a MAC address`;
  const wait = waitS === undefined ? DEFAULT_WAIT_S : Number(waitS);
  if (!Number.isFinite(wait) || wait <= 0 || wait > MAX_WAIT_S) return `wait must be 0..${MAX_WAIT_S} seconds`;
  return { kind: 'leasequery', id, query, port: port ?? null, expectMac, waitMs: Math.round(wait * 1000) };
}

type Row = Record<string, unknown>;
const s = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));

export function renderQuery(r: Row): string {
  const out: string[] = [];
  out.push(keyValues([
    ['query', s(r['query'])],
    ...(r['ports'] ? [['ports', (r['ports'] as string[]).join(', ')] as [string, string]] : []),
  ]));
  const servers = (r['servers'] ?? []) as Row[];
  if (servers.length > 0 && r['family'] === 6) {
    const clt = (x: Row): string => x['cltS'] !== null && x['cltS'] !== undefined ? `${s(x['cltS'])} s ago`
      : x['cltAbsolute'] ? `at ${s(x['cltAbsolute'])} (absolute)` : '-';
    out.push('', table(['SERVER', 'OUTCOME', 'TYPE', 'LEASES', 'MAC', 'CLT', 'CLIENT-ID', 'INTERFACE-ID', 'PEER'],
      servers.map((x) => [s(x['server']), s(x['outcome']), s(x['type']),
        ((x['leases'] ?? []) as Row[]).map((l) => `${s(l['lease'])} ${s(l['validS'])} s`).join(', ') || '-',
        s(x['mac']), clt(x), s(x['clientId']), s(x['interfaceId']), s(x['peerAddress'])])));
  } else if (servers.length > 0) {
    out.push('', table(['SERVER', 'OUTCOME', 'TYPE', 'ADDRESS', 'MAC', 'LEASE', 'CLT', 'CLIENT-ID', 'CIRCUIT', 'REMOTE-ID'],
      servers.map((x) => [s(x['server']), s(x['outcome']), s(x['type']), s(x['ciaddr']), s(x['mac']),
        x['leaseTimeS'] === null || x['leaseTimeS'] === undefined ? '-' : `${s(x['leaseTimeS'])} s`,
        x['cltS'] === null || x['cltS'] === undefined ? '-' : `${s(x['cltS'])} s ago`,
        s(x['clientId']), s(x['circuitId']), s(x['remoteId'])])));
  }
  const verdict = s(r['verdict']);
  const lines: [string, string][] = [['verdict', verdict + (r['winner'] ? ` (from ${s(r['winner'])})` : '')]];
  if (verdict === 'unknown' && r['type']) lines.push(['type', s(r['type'])]);
  if (verdict === 'cached') lines.push(['cached', `${s(r['type'])}, ${s(r['expiresInS'])} s left (negative cache)`]);
  if (verdict === 'refused') lines.push(['refused', `${s(r['reason'])}: ${s(r['detail'])}`]);
  if (verdict === 'active') {
    const b = r['binding'] as Row | null;
    lines.push(['binding', b ? `${s(b['binding'])} on ${s(b['port'])} (${s(b['change'])})` : `not installed: ${s(r['refused'])}`]);
  }
  out.push('', keyValues(lines));
  return out.join('\n');
}

/** Exit status: 0 when the servers said something (or the cache did), 1 otherwise. */
export const queryExitCode = (r: Row): number =>
  ['active', 'unassigned', 'unknown', 'cached'].includes(String(r['verdict'])) ? 0 : 1;
