/**
 * Netlink framing and the table-driven codec every rtnetlink message uses.
 *
 * Netlink is host byte order (every function here takes the ByteOrder, the host's by
 * default: platform/byte-order.ts). A message is a fixed family header (rtmsg, ndmsg, ...)
 * followed by type-length-value attributes, each padded to 4 bytes:
 *
 *   nlmsghdr (16 bytes)                        rtattr / nlattr (4 bytes + value)
 *   +--------------------------------+         +----------------+----------------+
 *   |         nlmsg_len (u32)        |         |  rta_len (u16) | rta_type (u16) |
 *   +----------------+---------------+         +----------------+----------------+
 *   | nlmsg_type u16 | nlmsg_flags   |         |  value ... padded to 4 bytes    |
 *   +----------------+---------------+         +---------------------------------+
 *   |         nlmsg_seq (u32)        |
 *   |         nlmsg_pid (u32)        |         rta_len counts header + value,
 *   +--------------------------------+         not the padding.
 *
 * Decoders never throw: they check every declared length against the bytes left and
 * return a DecodeError naming the structure, field and byte offset.
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NLA_TYPE_MASK } from './constants';

export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;

export interface DecodeError {
  readonly where: string;
  readonly offset: number;
  readonly reason: string;
}
export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: DecodeError };

export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const fail = <T>(where: string, offset: number, reason: string): Decoded<T> => ({
  ok: false,
  error: { where, offset, reason },
});

export const align4 = (n: number): number => (n + 3) & ~3;

export function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

// ---------------------------------------------------------------------------------
// Fixed-size fields (family headers)

export type FieldKind = 'u8' | 'u16' | 'u32' | 's32';
const FIELD_SIZE: Record<FieldKind, number> = { u8: 1, u16: 2, u32: 4, s32: 4 };

type NumericKey<T> = { [K in keyof T]-?: T[K] extends number ? K : never }[keyof T] & string;

/** One field of a family header: where it is and how wide. */
export interface FieldRow<T> {
  readonly key: NumericKey<T>;
  readonly offset: number;
  readonly kind: FieldKind;
}

export function readField(v: DataView, off: number, kind: FieldKind, order: ByteOrder = HOST_ORDER): number {
  const le = order === 'le';
  switch (kind) {
    case 'u8': return v.getUint8(off);
    case 'u16': return v.getUint16(off, le);
    case 'u32': return v.getUint32(off, le);
    case 's32': return v.getInt32(off, le);
  }
}

export function writeField(v: DataView, off: number, kind: FieldKind, x: number, order: ByteOrder = HOST_ORDER): void {
  const le = order === 'le';
  switch (kind) {
    case 'u8': v.setUint8(off, x & 0xff); return;
    case 'u16': v.setUint16(off, x & 0xffff, le); return;
    case 'u32': v.setUint32(off, x >>> 0, le); return;
    case 's32': v.setInt32(off, x | 0, le); return;
  }
}

// ---------------------------------------------------------------------------------
// Attribute value codecs

/** How one attribute's value is read and written, in place: decode reads the `len`
 *  value bytes at `off` (undefined: bytes it cannot represent); write puts the value at
 *  `off` and returns the bytes written (-1: a value it cannot encode). The encoder
 *  writes straight into the message buffer, sized by maxLength. */
export interface AttrCodec<V> {
  readonly kind: string;
  decode(b: Uint8Array, off: number, len: number, dv: DataView, order: ByteOrder): V | undefined;
  /** Upper bound of the value's encoded length. */
  maxLength(v: V): number;
  write(v: V, out: Uint8Array, off: number, dv: DataView, order: ByteOrder): number;
}

function scalar(kind: FieldKind): AttrCodec<number> {
  const size = FIELD_SIZE[kind];
  return {
    kind,
    decode: (_b, off, len, dv, order) => (len === size ? readField(dv, off, kind, order) : undefined),
    maxLength: () => size,
    write: (x, _out, off, dv, order) => {
      if (!Number.isInteger(x)) return -1;
      writeField(dv, off, kind, x, order);
      return size;
    },
  };
}

export const u8 = scalar('u8');
export const u16 = scalar('u16');
export const u32 = scalar('u32');
export const s32 = scalar('s32');

/** NUL-terminated string (the NUL is optional on input, always written). */
export const cstring: AttrCodec<string> = {
  kind: 'string',
  decode: (b, off, len) => {
    const value = b.subarray(off, off + len);
    const nul = value.indexOf(0);
    return Buffer.from(value.buffer, value.byteOffset, nul < 0 ? len : nul).toString('utf8');
  },
  maxLength: (s) => Buffer.byteLength(s, 'utf8') + 1,
  write: (s, out, off) => {
    const n = Buffer.from(out.buffer, out.byteOffset, out.byteLength).write(s, off, 'utf8');
    if (out.subarray(off, off + n).includes(0)) return -1;
    out[off + n] = 0;
    return n + 1;
  },
};

/** A plain Uint8Array copy: a Buffer's slice would be a view that keeps the whole datagram alive. */
function copyOut(b: Uint8Array, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  out.set(b.subarray(off, off + len));
  return out;
}

/** IPv4 (4 bytes) or IPv6 (16 bytes) address, kept as bytes (the family is the length). */
export const ipAddr: AttrCodec<Uint8Array> = {
  kind: 'address',
  decode: (b, off, len) => (len === 4 || len === 16 ? copyOut(b, off, len) : undefined),
  maxLength: (a) => a.length,
  write: (a, out, off) => {
    if (a.length !== 4 && a.length !== 16) return -1;
    out.set(a, off);
    return a.length;
  },
};

/** MAX_ADDR_LEN (linux/netdevice.h): the longest link-layer address. */
export const MAX_LLADDR_LEN = 32;

/** Link-layer address bytes (6 for Ethernet; any length up to MAX_ADDR_LEN). */
export const lladdr: AttrCodec<Uint8Array> = {
  kind: 'lladdr',
  decode: (b, off, len) => (len <= MAX_LLADDR_LEN ? copyOut(b, off, len) : undefined),
  maxLength: (a) => a.length,
  write: (a, out, off) => {
    if (a.length > MAX_LLADDR_LEN) return -1;
    out.set(a, off);
    return a.length;
  },
};

/** Opaque bytes (nested attributes we do not interpret, cacheinfo, stats). */
export const bytes: AttrCodec<Uint8Array> = {
  kind: 'bytes',
  decode: (b, off, len) => b.slice(off, off + len),
  maxLength: (b) => b.length,
  write: (b, out, off) => {
    out.set(b, off);
    return b.length;
  },
};

// ---------------------------------------------------------------------------------
// Attribute lists

/** An attribute kept as it came: type including NLA_F_* bits, value bytes. */
export interface RawAttr {
  readonly type: number;
  readonly data: Uint8Array;
}

/** One row per attribute type: which property of T holds it and its value codec. */
export type AttrRow<T> = {
  [K in keyof T]-?: { readonly type: number; readonly key: K; readonly codec: AttrCodec<NonNullable<T[K]>> };
}[keyof T];

/** Split an attribute area into raw attributes; `base` is its offset for errors. */
export function splitAttrs(b: Uint8Array, where: string, base: number, order: ByteOrder = HOST_ORDER): Decoded<RawAttr[]> {
  const out: RawAttr[] = [];
  const v = view(b);
  const le = order === 'le';
  let off = 0;
  while (off < b.length) {
    if (b.length - off < NLA_HDRLEN) return fail(where, base + off, `${b.length - off} trailing bytes`);
    const len = v.getUint16(off, le);
    const type = v.getUint16(off + 2, le);
    if (len < NLA_HDRLEN) return fail(where, base + off, `attribute ${type & NLA_TYPE_MASK} length ${len} < 4`);
    if (len > b.length - off) {
      return fail(where, base + off, `attribute ${type & NLA_TYPE_MASK} length ${len} > ${b.length - off} bytes left`);
    }
    out.push({ type, data: b.subarray(off + NLA_HDRLEN, off + len) });
    off += align4(len);
  }
  return ok(out);
}

export function attrLength(dataLength: number): number {
  return align4(NLA_HDRLEN + dataLength);
}

export function writeAttr(out: Uint8Array, off: number, type: number, data: Uint8Array, order: ByteOrder = HOST_ORDER): number {
  const v = view(out);
  v.setUint16(off, NLA_HDRLEN + data.length, order === 'le');
  v.setUint16(off + 2, type, order === 'le');
  out.set(data, off + NLA_HDRLEN);
  out.fill(0, off + NLA_HDRLEN + data.length, off + attrLength(data.length));
  return off + attrLength(data.length);
}

// ---------------------------------------------------------------------------------
// Messages described as data

/** Every decoded family message keeps the attributes it did not understand. */
export interface Attributed {
  unknownAttrs: RawAttr[];
}

/** A family message: fixed header fields + attribute table (CONVENTIONS 11). */
export interface MessageSpec<T extends Attributed> {
  readonly name: string;
  readonly headerLength: number;
  readonly fields: readonly FieldRow<T>[];
  readonly attrs: readonly AttrRow<T>[];
  /** A value with every header field 0 and no attributes. */
  blank(): T;
}

/** Attribute rows indexed by type, built once per spec. */
const rowIndex = new WeakMap<object, (AttrRow<never> | undefined)[]>();
function rowsByType<T extends Attributed>(spec: MessageSpec<T>): (AttrRow<T> | undefined)[] {
  let idx = rowIndex.get(spec) as (AttrRow<T> | undefined)[] | undefined;
  if (idx === undefined) {
    idx = [];
    for (const r of spec.attrs) idx[r.type] = r;
    rowIndex.set(spec, idx as (AttrRow<never> | undefined)[]);
  }
  return idx;
}

/** Decode a family payload (the bytes after nlmsghdr). `base` is its offset for errors. */
export function decodeBody<T extends Attributed>(spec: MessageSpec<T>, p: Uint8Array, base = NLMSG_HDRLEN, order: ByteOrder = HOST_ORDER): Decoded<T> {
  if (p.length < spec.headerLength) {
    return fail(spec.name, base, `${p.length} bytes, header needs ${spec.headerLength}`);
  }
  const value = spec.blank();
  const rec = value as unknown as Record<string, unknown>;
  const v = view(p);
  const le = order === 'le';
  for (const f of spec.fields) rec[f.key] = readField(v, f.offset, f.kind, order);
  const rows = rowsByType(spec);
  let off = align4(spec.headerLength);
  while (off < p.length) {
    const left = p.length - off;
    if (left < NLA_HDRLEN) return fail(spec.name, base + off, `${left} trailing bytes`);
    const len = v.getUint16(off, le);
    const rawType = v.getUint16(off + 2, le);
    const type = rawType & NLA_TYPE_MASK;
    if (len < NLA_HDRLEN) return fail(spec.name, base + off, `attribute ${type} length ${len} < 4`);
    if (len > left) return fail(spec.name, base + off, `attribute ${type} length ${len} > ${left} bytes left`);
    const row = rows[type];
    if (row === undefined) {
      value.unknownAttrs.push({ type: rawType, data: p.slice(off + NLA_HDRLEN, off + len) });
    } else {
      const x = row.codec.decode(p, off + NLA_HDRLEN, len - NLA_HDRLEN, v, order);
      if (x === undefined) {
        return fail(spec.name, base + off, `${String(row.key)} (${row.codec.kind}) cannot be ${len - NLA_HDRLEN} bytes`);
      }
      rec[row.key as string] = x;
    }
    off += align4(len);
  }
  return ok(value);
}

export interface EncodeError {
  readonly where: string;
  readonly field: string;
  readonly reason: string;
}

/** Returned by encodeBodyInto when the value does not fit in the space left. */
export const NO_ROOM = -1;

/**
 * Encode a family payload into out at off; returns the offset after it, NO_ROOM if
 * the space left is too small (nothing that matters was written), or an EncodeError
 * for a value an attribute cannot carry. Never throws.
 */
export function encodeBodyInto<T extends Attributed>(
  spec: MessageSpec<T>, value: T, out: Uint8Array, off: number, v: DataView, order: ByteOrder = HOST_ORDER,
): number | EncodeError {
  const rec = value as unknown as Record<string, unknown>;
  const present: AttrRow<T>[] = [];
  const values: unknown[] = [];
  let max = align4(spec.headerLength);
  for (const row of spec.attrs) {
    const x = rec[row.key as string];
    if (x === undefined || x === null) continue;
    present.push(row);
    values.push(x);
    max += attrLength((row.codec as AttrCodec<unknown>).maxLength(x));
  }
  for (const a of value.unknownAttrs) max += attrLength(a.data.length);
  if (out.length - off < max) return NO_ROOM;
  out.fill(0, off, off + align4(spec.headerLength));
  for (const f of spec.fields) writeField(v, off + f.offset, f.kind, (rec[f.key] as number | undefined) ?? 0, order);
  const le = order === 'le';
  let at = off + align4(spec.headerLength);
  for (let i = 0; i < present.length; i++) {
    const row = present[i]!;
    const n = (row.codec as AttrCodec<unknown>).write(values[i], out, at + NLA_HDRLEN, v, order);
    if (n < 0) return { where: spec.name, field: String(row.key), reason: `not a valid ${row.codec.kind}: ${String(values[i])}` };
    v.setUint16(at, NLA_HDRLEN + n, le);
    v.setUint16(at + 2, row.type, le);
    out.fill(0, at + NLA_HDRLEN + n, at + attrLength(n));
    at += attrLength(n);
  }
  for (const a of value.unknownAttrs) at = writeAttr(out, at, a.type, a.data, order);
  return at;
}

/** Upper bound of encodeBody's output, for sizing a buffer. */
export function maxBodyLength<T extends Attributed>(spec: MessageSpec<T>, value: T): number {
  const rec = value as unknown as Record<string, unknown>;
  let max = align4(spec.headerLength);
  for (const row of spec.attrs) {
    const x = rec[row.key as string];
    if (x !== undefined && x !== null) max += attrLength((row.codec as AttrCodec<unknown>).maxLength(x));
  }
  for (const a of value.unknownAttrs) max += attrLength(a.data.length);
  return max;
}

/** Encode a family payload; fails (no throw) on a value an attribute cannot carry. */
export function encodeBody<T extends Attributed>(spec: MessageSpec<T>, value: T, order: ByteOrder = HOST_ORDER): Uint8Array | EncodeError {
  const out = new Uint8Array(maxBodyLength(spec, value));
  const end = encodeBodyInto(spec, value, out, 0, view(out), order);
  if (typeof end !== 'number') return end;
  return end === out.length ? out : out.subarray(0, end);
}

export function isEncodeError(x: Uint8Array | EncodeError): x is EncodeError {
  return !(x instanceof Uint8Array);
}
