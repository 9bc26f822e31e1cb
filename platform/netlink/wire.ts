/**
 * Netlink framing and the table-driven codec every rtnetlink message uses.
 *
 * Netlink is host byte order. A message is a fixed family header (rtmsg, ndmsg, ...)
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
import { NLA_TYPE_MASK } from './constants';
import { formatIP, formatLladdr, parseIP, parseLladdr } from './ip';

export const HOST_LE: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
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

export function readField(v: DataView, off: number, kind: FieldKind): number {
  switch (kind) {
    case 'u8': return v.getUint8(off);
    case 'u16': return v.getUint16(off, HOST_LE);
    case 'u32': return v.getUint32(off, HOST_LE);
    case 's32': return v.getInt32(off, HOST_LE);
  }
}

export function writeField(v: DataView, off: number, kind: FieldKind, x: number): void {
  switch (kind) {
    case 'u8': v.setUint8(off, x & 0xff); return;
    case 'u16': v.setUint16(off, x & 0xffff, HOST_LE); return;
    case 'u32': v.setUint32(off, x >>> 0, HOST_LE); return;
    case 's32': v.setInt32(off, x | 0, HOST_LE); return;
  }
}

// ---------------------------------------------------------------------------------
// Attribute value codecs

/** How one attribute's value is read and written. decode/encode return undefined for
 *  bytes or values they cannot represent; the caller turns that into an error. */
export interface AttrCodec<V> {
  readonly kind: string;
  decode(b: Uint8Array): V | undefined;
  encode(v: V): Uint8Array | undefined;
}

function scalar(kind: FieldKind): AttrCodec<number> {
  const size = FIELD_SIZE[kind];
  return {
    kind,
    decode: (b) => (b.length === size ? readField(view(b), 0, kind) : undefined),
    encode: (x) => {
      if (!Number.isInteger(x)) return undefined;
      const out = new Uint8Array(size);
      writeField(view(out), 0, kind, x);
      return out;
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
  decode: (b) => {
    const nul = b.indexOf(0);
    return Buffer.from(b.buffer, b.byteOffset, nul < 0 ? b.length : nul).toString('utf8');
  },
  encode: (s) => {
    const bytes = Buffer.from(s, 'utf8');
    if (bytes.includes(0)) return undefined;
    const out = new Uint8Array(bytes.length + 1);
    out.set(bytes);
    return out;
  },
};

/** IPv4 (4 bytes) or IPv6 (16 bytes) address as text. */
export const ipAddr: AttrCodec<string> = {
  kind: 'address',
  decode: (b) => formatIP(b) ?? undefined,
  encode: (s) => parseIP(s) ?? undefined,
};

/** Link-layer address as colon-separated hex. */
export const lladdr: AttrCodec<string> = {
  kind: 'lladdr',
  decode: (b) => formatLladdr(b),
  encode: (s) => parseLladdr(s) ?? undefined,
};

/** Opaque bytes (nested attributes we do not interpret, cacheinfo, stats). */
export const bytes: AttrCodec<Uint8Array> = {
  kind: 'bytes',
  decode: (b) => b.slice(),
  encode: (b) => b,
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
export function splitAttrs(b: Uint8Array, where: string, base: number): Decoded<RawAttr[]> {
  const out: RawAttr[] = [];
  const v = view(b);
  let off = 0;
  while (off < b.length) {
    if (b.length - off < NLA_HDRLEN) return fail(where, base + off, `${b.length - off} trailing bytes`);
    const len = v.getUint16(off, HOST_LE);
    const type = v.getUint16(off + 2, HOST_LE);
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

export function writeAttr(out: Uint8Array, off: number, type: number, data: Uint8Array): number {
  const v = view(out);
  v.setUint16(off, NLA_HDRLEN + data.length, HOST_LE);
  v.setUint16(off + 2, type, HOST_LE);
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

/** Decode a family payload (the bytes after nlmsghdr). `base` is its offset for errors. */
export function decodeBody<T extends Attributed>(spec: MessageSpec<T>, p: Uint8Array, base = NLMSG_HDRLEN): Decoded<T> {
  if (p.length < spec.headerLength) {
    return fail(spec.name, base, `${p.length} bytes, header needs ${spec.headerLength}`);
  }
  const value = spec.blank();
  const rec = value as unknown as Record<string, unknown>;
  const v = view(p);
  for (const f of spec.fields) rec[f.key] = readField(v, f.offset, f.kind);
  const hdr = align4(spec.headerLength);
  const attrs = splitAttrs(p.subarray(Math.min(hdr, p.length)), spec.name, base + hdr);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    const row = spec.attrs.find((r) => r.type === (a.type & NLA_TYPE_MASK));
    if (row === undefined) {
      value.unknownAttrs.push(a);
      continue;
    }
    const x = row.codec.decode(a.data);
    if (x === undefined) {
      const at = base + hdr + (a.data.byteOffset - p.byteOffset - hdr) - NLA_HDRLEN;
      return fail(spec.name, at, `${String(row.key)} (${row.codec.kind}) cannot be ${a.data.length} bytes`);
    }
    rec[row.key as string] = x;
  }
  return ok(value);
}

export interface EncodeError {
  readonly where: string;
  readonly field: string;
  readonly reason: string;
}

/** Encode a family payload; fails (no throw) on a value an attribute cannot carry. */
export function encodeBody<T extends Attributed>(spec: MessageSpec<T>, value: T): Uint8Array | EncodeError {
  const rec = value as unknown as Record<string, unknown>;
  const parts: { type: number; data: Uint8Array }[] = [];
  let len = align4(spec.headerLength);
  for (const row of spec.attrs) {
    const x = rec[row.key as string];
    if (x === undefined || x === null) continue;
    const data = (row.codec as AttrCodec<unknown>).encode(x);
    if (data === undefined) return { where: spec.name, field: String(row.key), reason: `not a valid ${row.codec.kind}: ${String(x)}` };
    parts.push({ type: row.type, data });
    len += attrLength(data.length);
  }
  for (const a of value.unknownAttrs) {
    parts.push(a);
    len += attrLength(a.data.length);
  }
  const out = new Uint8Array(len);
  const v = view(out);
  for (const f of spec.fields) writeField(v, f.offset, f.kind, (rec[f.key] as number | undefined) ?? 0);
  let off = align4(spec.headerLength);
  for (const p of parts) off = writeAttr(out, off, p.type, p.data);
  return out;
}

export function isEncodeError(x: Uint8Array | EncodeError): x is EncodeError {
  return !(x instanceof Uint8Array);
}
