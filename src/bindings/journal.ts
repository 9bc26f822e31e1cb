import type { Instant } from '../time';
import { formatHex, parseHex } from '../wire/address';
import { parseBindingKey, keyOf, type Binding, type BindingFields, type BindingSource } from './binding';

/**
 * One binding as a line of the snapshot journal (JSON, bytes in hex). The journal lives
 * in RAM (tmpfs) and is read back by the next run of gleand on the same boot, so lease
 * ends are kept on the system's monotonic clock (`validUntilMono`: milliseconds since
 * boot), which both runs share; the platform converts to and from core instants.
 *
 * Reading a record back never throws: a file in /var/run can be damaged or edited, so
 * every field is checked and a bad record is skipped (and counted by the caller).
 */
export interface JournalRecord {
  readonly key: string;
  readonly kind: 'address' | 'prefix';
  readonly port: string;
  readonly mac: string | null;
  readonly clientId: string | null;
  readonly iaid?: number;
  readonly circuitId: string | null;
  readonly remoteId: string | null;
  readonly linkLocal: string | null;
  readonly validUntilMono: number | null;
  readonly source: BindingSource;
}

const hex = (b: Uint8Array | null): string | null => (b ? formatHex(b) : null);

/** `toMono`: a core instant on the system's monotonic clock. */
export function toRecord(b: Binding, toMono: (t: Instant) => number): JournalRecord {
  return {
    key: keyOf(b),
    kind: b.kind,
    port: b.port,
    mac: hex(b.mac),
    clientId: hex(b.clientId),
    ...(b.iaid !== undefined ? { iaid: b.iaid } : {}),
    circuitId: hex(b.circuitId),
    remoteId: hex(b.remoteId),
    linkLocal: hex(b.linkLocal),
    validUntilMono: b.validUntil === null ? null : toMono(b.validUntil),
    source: b.source,
  };
}

const hexOrNull = (b: Uint8Array | null): string => (b ? `"${formatHex(b)}"` : 'null');
/** A number as JSON.stringify writes it (non-finite: null). */
const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

/**
 * The journal line of a binding put: exactly `JSON.stringify({ op: 'put', rec:
 * toRecord(b, toMono) })`, written out without the record object and the serializer's
 * walk over it. One line per binding stored, so a bulk restore of 100k writes 100k.
 * Hex digits, binding keys, kinds and sources need no escaping; the port name goes
 * through JSON.stringify.
 */
export function putLine(b: Binding, toMono: (t: Instant) => number): string {
  return `{"op":"put","rec":{"key":"${keyOf(b)}","kind":"${b.kind}","port":${JSON.stringify(b.port)},` +
    `"mac":${hexOrNull(b.mac)},"clientId":${hexOrNull(b.clientId)},${b.iaid !== undefined ? `"iaid":${num(b.iaid)},` : ''}` +
    `"circuitId":${hexOrNull(b.circuitId)},"remoteId":${hexOrNull(b.remoteId)},"linkLocal":${hexOrNull(b.linkLocal)},` +
    `"validUntilMono":${b.validUntil === null ? 'null' : num(toMono(b.validUntil))},"source":"${b.source}"}}`;
}

const utf8 = new TextEncoder();
const HEX_DIGIT = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Port names as their JSON string's UTF-8 bytes: a handful of ports, each written with every put. */
const portJson = new Map<string, Uint8Array>();
const MAX_PORT_JSON = 4096;

/**
 * `putLine(b, toMono)` and its newline, as UTF-8 into `out` at `at`: the offset after it,
 * or -1 when it does not fit (nothing is written past `out`). A bulk restore appends one
 * line per binding; made as a string the line was ~1.5 kB of short-lived strings (the
 * pieces of the template, a string per hex octet) — a fifth of what the core's restore
 * path allocated. Here nothing is allocated but the binding key's text.
 */
export function writePutLine(out: Uint8Array, at: number, b: Binding, toMono: (t: Instant) => number): number {
  let port = portJson.get(b.port);
  if (port === undefined) {
    if (portJson.size >= MAX_PORT_JSON) portJson.clear();
    port = utf8.encode(JSON.stringify(b.port));
    portJson.set(b.port, port);
  }
  w = out;
  o = at;
  const ok = text('{"op":"put","rec":{"key":"') && text(keyOf(b)) && text('","kind":"') && text(b.kind) && text('","port":') &&
    bytes(port) && text(',"mac":') && hexJson(b.mac) && text(',"clientId":') && hexJson(b.clientId) &&
    (b.iaid === undefined || (text(',"iaid":') && text(num(b.iaid)))) &&
    text(',"circuitId":') && hexJson(b.circuitId) && text(',"remoteId":') && hexJson(b.remoteId) && text(',"linkLocal":') && hexJson(b.linkLocal) &&
    text(',"validUntilMono":') && text(b.validUntil === null ? 'null' : num(toMono(b.validUntil))) &&
    text(',"source":"') && text(b.source) && text('"}}\n');
  w = EMPTY;
  return ok ? o : -1;
}

// The line being written (one at a time: writePutLine does not re-enter).
const EMPTY = new Uint8Array(0);
let w: Uint8Array = EMPTY;
let o = 0;
/** ASCII text (keys, kinds, numbers, sources, the JSON around them). */
function text(t: string): boolean {
  if (o + t.length > w.length) return false;
  for (let i = 0; i < t.length; i++) w[o++] = t.charCodeAt(i);
  return true;
}
function bytes(v: Uint8Array): boolean {
  if (o + v.length > w.length) return false;
  w.set(v, o);
  o += v.length;
  return true;
}
/** A JSON string of hex digits, or null. */
function hexJson(v: Uint8Array | null): boolean {
  if (v === null) return text('null');
  if (o + 2 * v.length + 2 > w.length) return false;
  w[o++] = 0x22;
  for (let i = 0; i < v.length; i++) {
    w[o++] = HEX_DIGIT[v[i]! >> 4]!;
    w[o++] = HEX_DIGIT[v[i]! & 15]!;
  }
  w[o++] = 0x22;
  return true;
}

/** The journal line of a binding's end: `JSON.stringify({ op: 'delete', key })`. */
export const deleteLine = (b: Binding): string => `{"op":"delete","key":"${keyOf(b)}"}`;

const SOURCES: readonly BindingSource[] = ['glean', 'leasequery', 'static'];

/** The fields to store again, or null for a record that is not one; `fromMono`: inverse of `toMono`. */
export function fromRecord(r: unknown, fromMono: (mono: number) => Instant): BindingFields | null {
  if (typeof r !== 'object' || r === null) return null;
  const o = r as Record<string, unknown>;
  const key = typeof o['key'] === 'string' ? parseBindingKey(o['key']) : null;
  if (!key || (o['kind'] !== 'address' && o['kind'] !== 'prefix') || typeof o['port'] !== 'string') return null;
  if (!SOURCES.includes(o['source'] as BindingSource)) return null;
  const bytes = (k: string, lengths?: readonly number[]): Uint8Array | null | undefined => {
    const v = o[k];
    if (v === null || v === undefined) return null;
    if (typeof v !== 'string') return undefined;
    const b = parseHex(v);
    return b && (!lengths || lengths.includes(b.length)) ? b : undefined;
  };
  const mac = bytes('mac', [6]);
  const clientId = bytes('clientId');
  const circuitId = bytes('circuitId');
  const remoteId = bytes('remoteId');
  const linkLocal = bytes('linkLocal', [16]);
  if (mac === undefined || clientId === undefined || circuitId === undefined || remoteId === undefined || linkLocal === undefined) return null;
  const until = o['validUntilMono'];
  if (until !== null && (typeof until !== 'number' || !Number.isFinite(until))) return null;
  const iaid = o['iaid'];
  if (iaid !== undefined && (typeof iaid !== 'number' || !Number.isInteger(iaid) || iaid < 0 || iaid > 0xffffffff)) return null;
  return {
    family: key.family,
    kind: o['kind'],
    address: key.address,
    prefixLength: key.prefixLength,
    port: o['port'],
    mac,
    clientId,
    ...(iaid !== undefined ? { iaid } : {}),
    circuitId,
    remoteId,
    linkLocal,
    validUntil: until === null ? null : fromMono(until),
    source: o['source'] as BindingSource,
  };
}
