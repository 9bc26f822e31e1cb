/**
 * Small field codecs shared by the option descriptor tables: each reads a whole option
 * body from a reader window and writes it back, with the encoded length computed.
 */
import type { Reader, Writer } from './cursor';

export interface FieldCodec<T> {
  /** Smallest valid body length. */
  readonly minLength: number;
  /** Largest valid body length (inclusive), when the RFC fixes one. */
  readonly maxLength?: number;
  /** Body length must be a multiple of this (address lists). */
  readonly multipleOf?: number;
  read(r: Reader, field: string): T;
  write(w: Writer, value: T): void;
  length(value: T): number;
}

export const fixedBytes = (n: number): FieldCodec<Uint8Array> => ({
  minLength: n,
  maxLength: n,
  read: (r, f) => r.bytesN(f, n),
  write: (w, v) => {
    if (v.length !== n) throw new RangeError(`wire: expected ${n} bytes, got ${v.length}`);
    w.bytes(v);
  },
  length: () => n,
});

export const opaque = (minLength = 0): FieldCodec<Uint8Array> => ({
  minLength,
  read: (r, f) => r.rest(f),
  write: (w, v) => void w.bytes(v),
  length: (v) => v.length,
});

export const uint = (bytes: 1 | 2 | 4): FieldCodec<number> => ({
  minLength: bytes,
  maxLength: bytes,
  read: (r, f) => (bytes === 1 ? r.u8(f) : bytes === 2 ? r.u16(f) : r.u32(f)),
  write: (w, v) => void (bytes === 1 ? w.u8(v) : bytes === 2 ? w.u16(v) : w.u32(v)),
  length: () => bytes,
});

/** A list of fixed-size addresses (body a non-empty multiple of `size`). */
export const addressList = (size: 4 | 16, minCount = 1): FieldCodec<Uint8Array[]> => ({
  minLength: size * minCount,
  multipleOf: size,
  read: (r, f) => {
    const out: Uint8Array[] = [];
    while (r.remaining >= size) out.push(r.bytesN(`${f}[${out.length}]`, size));
    return out;
  },
  write: (w, v) => v.forEach((a) => fixedBytes(size).write(w, a)),
  length: (v) => v.length * size,
});

/** A list of 1- or 2-byte codes (DHCPv4 PRL, DHCPv6 ORO). */
export const codeList = (bytes: 1 | 2, minCount = 1): FieldCodec<number[]> => ({
  minLength: bytes * minCount,
  multipleOf: bytes,
  read: (r, f) => {
    const out: number[] = [];
    while (r.remaining >= bytes) out.push(bytes === 1 ? r.u8(f) : r.u16(f));
    return out;
  },
  write: (w, v) => v.forEach((c) => (bytes === 1 ? w.u8(c) : w.u16(c))),
  length: (v) => v.length * bytes,
});

/** Octets as a string, one character per byte (round-trips any bytes; NVT ASCII fields). */
export const latin1: FieldCodec<string> = {
  minLength: 1,
  read: (r, f) => String.fromCharCode(...r.rest(f)),
  write: (w, v) => {
    for (let i = 0; i < v.length; i++) w.u8(v.charCodeAt(i));
  },
  length: (v) => v.length,
};

// ignoreBOM: a leading U+FEFF is part of the text; stripping it would make the
// re-encoding differ from the bytes received.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Replacing = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Decode UTF-8 from a reader window; invalid sequences are a decode error. */
export function readUtf8(r: Reader, field: string): string {
  const start = r.pos;
  const raw = r.rest(field);
  try {
    return utf8Decoder.decode(raw);
  } catch {
    r.fail(field, 'invalid UTF-8', start);
    return '';
  }
}
export const utf8Bytes = (s: string): Uint8Array => utf8Encoder.encode(s);

/**
 * Text that is meant to be UTF-8 but that a receiver must not reject when it is not
 * (RFC 8415 §21.13 status-message: a relay forwards it, a client only displays it).
 * Never fails: `text` has U+FFFD in place of invalid sequences, and `bytes` keeps the
 * octets as received, only when they are not valid UTF-8 (so they re-encode unchanged).
 */
export function readUtf8Lenient(r: Reader, field: string): { text: string; bytes: Uint8Array | null } {
  const raw = r.rest(field);
  try {
    return { text: utf8Decoder.decode(raw), bytes: null };
  } catch {
    return { text: utf8Replacing.decode(raw), bytes: raw };
  }
}

/** Check a body length against a field codec's bounds; records an error and returns false. */
export function checkLength(r: Reader, field: string, c: FieldCodec<unknown>, len: number, at: number): boolean {
  if (len < c.minLength) return r.fail(field, `length ${len} < minimum ${c.minLength}`, at);
  if (c.maxLength !== undefined && len > c.maxLength) return r.fail(field, `length ${len} > maximum ${c.maxLength}`, at);
  if (c.multipleOf !== undefined && len % c.multipleOf !== 0) return r.fail(field, `length ${len} is not a multiple of ${c.multipleOf}`, at);
  return true;
}
