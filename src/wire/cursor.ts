/**
 * Cursor reader and writer shared by every codec in `src/wire`.
 *
 * The reader never throws: the first failed check is kept (field name, absolute byte
 * offset, reason) and every later read returns zeros/empty bytes, so a decoder can read
 * a whole structure straight through and look at `error` once at the end (CONVENTIONS 3).
 * Lengths are checked against the bytes left *before* anything is sliced or allocated.
 *
 * Values never alias the caller's buffer. A plain reader copies each field it returns;
 * a codec's `decode` instead copies the whole input once and reads it with `views`
 * set, so every field is a window on that private copy (one allocation a message
 * instead of one a field: the relay decodes every datagram it forwards).
 */

import { poolAlloc, poolCopy } from './pool';

export interface DecodeError {
  /** Dotted path of the field being read, e.g. `dhcp4.options[82].circuitId`. */
  readonly field: string;
  /** Byte offset from the start of the buffer handed to `decode`. */
  readonly offset: number;
  readonly reason: string;
}

export type DecodeResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: DecodeError };

export const okResult = <T>(value: T): DecodeResult<T> => ({ ok: true, value });
export const errResult = <T>(error: DecodeError): DecodeResult<T> => ({ ok: false, error });

/** Shared by a reader and all its sub-readers so that only the first error survives. */
interface ErrorSlot {
  error: DecodeError | null;
}

export class Reader {
  private readonly slot: ErrorSlot;
  /** `bytes.buffer`, once a view has been made. */
  private arrayBuffer: ArrayBufferLike | undefined;
  /** Absolute position in `bytes`. */
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    /** Exclusive end of this reader's window. */
    readonly end = bytes.length,
    slot?: ErrorSlot,
    /** Return windows on `bytes` instead of copies: set only when `bytes` is private to the decode. */
    readonly views = false,
  ) {
    this.pos = start;
    this.slot = slot ?? { error: null };
  }

  get error(): DecodeError | null {
    return this.slot.error;
  }
  get failed(): boolean {
    return this.slot.error !== null;
  }
  get remaining(): number {
    return this.failed ? 0 : this.end - this.pos;
  }

  /** Record an error (only the first one is kept). Returns false for `return r.fail(...)`. */
  fail(field: string, reason: string, offset = this.pos): false {
    if (this.slot.error === null) this.slot.error = { field, offset, reason };
    return false;
  }

  /** True when `n` more bytes are available; records a truncation error otherwise. */
  need(field: string, n: number, offset = this.pos): boolean {
    if (this.failed) return false;
    if (n < 0 || n > this.end - this.pos) {
      return this.fail(field, `needs ${n} bytes, ${this.end - this.pos} left`, offset);
    }
    return true;
  }

  u8(field: string): number {
    if (!this.need(field, 1)) return 0;
    return this.bytes[this.pos++]!;
  }
  u16(field: string): number {
    if (!this.need(field, 2)) return 0;
    const b = this.bytes;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  u24(field: string): number {
    if (!this.need(field, 3)) return 0;
    const b = this.bytes;
    const v = (b[this.pos]! << 16) | (b[this.pos + 1]! << 8) | b[this.pos + 2]!;
    this.pos += 3;
    return v;
  }
  u32(field: string): number {
    if (!this.need(field, 4)) return 0;
    const b = this.bytes;
    const v = ((b[this.pos]! << 24) | (b[this.pos + 1]! << 16) | (b[this.pos + 2]! << 8) | b[this.pos + 3]!) >>> 0;
    this.pos += 4;
    return v;
  }
  /**
   * The next `n` bytes: a copy, or with `views` a window on the reader's private copy
   * (values never alias the caller's buffer). `lengthAt` is where the length was
   * declared, reported if `n` overruns the window.
   */
  bytesN(field: string, n: number, lengthAt = this.pos): Uint8Array {
    if (!this.need(field, n, lengthAt)) return new Uint8Array(0);
    const b = this.bytes;
    // A view made by the constructor: cheaper than subarray(), which looks up a species
    // constructor. `.buffer` is a call into the runtime, so it is read once per reader.
    const out = this.views ? new Uint8Array(this.arrayBuffer ??= b.buffer, b.byteOffset + this.pos, n) : b.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  /** Everything left in this window. */
  rest(field: string): Uint8Array {
    return this.bytesN(field, this.remaining);
  }
  /**
   * A reader over the next `n` bytes that shares this reader's error slot; this reader
   * skips past them. Checked against the bytes left before the window is made.
   */
  sub(field: string, n: number, lengthAt = this.pos): Reader {
    if (!this.need(field, n, lengthAt)) return new Reader(this.bytes, this.pos, this.pos, this.slot, this.views);
    const r = new Reader(this.bytes, this.pos, this.pos + n, this.slot, this.views);
    this.pos += n;
    return r;
  }
  /** Record an error if bytes are left over (where the RFC forbids trailing data). */
  expectEnd(field: string): boolean {
    if (this.failed) return false;
    if (this.pos !== this.end) return this.fail(field, `${this.end - this.pos} unexpected trailing bytes`);
    return true;
  }
  /** Convert to a result: the value if no error was recorded. */
  result<T>(value: T): DecodeResult<T> {
    return this.slot.error ? errResult(this.slot.error) : okResult(value);
  }
}

/**
 * Writer into a caller-provided buffer at an offset. Encoders compute the length first
 * (`encodingLength`) and allocate once, so running out of room is a programming error:
 * it throws a RangeError rather than writing past the caller's window.
 */
export class Writer {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
  }
  private room(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError(`wire: encode needs ${n} bytes at ${this.pos}, buffer is ${this.buf.length}`);
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.room(2);
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u24(v: number): this {
    this.room(3);
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  u32(v: number): this {
    this.room(4);
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  /** Write `n` copies of `v` (padding). */
  fill(v: number, n: number): this {
    this.room(n);
    this.buf.fill(v & 0xff, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }
}

/**
 * The shape every codec in `src/wire` exports. `encode` writes into `buf` at `offset`
 * (fresh zeroed bytes from `pool.ts` when omitted) and returns the written window; `decode` never throws.
 */
export interface Codec<T> {
  readonly name: string;
  decode(bytes: Uint8Array): DecodeResult<T>;
  /**
   * `decode` for bytes handed over to the decode: nobody writes to them afterwards (a
   * window on another decode's private copy, a datagram fresh from the socket). The
   * same checks; the values are windows on `bytes` itself, without the private copy.
   */
  decodeOwned(bytes: Uint8Array): DecodeResult<T>;
  encode(value: T, buf?: Uint8Array, offset?: number): Uint8Array;
  encodingLength(value: T): number;
}

/** Build a `Codec` from a read/write/length triple (the read must consume all bytes). */
export function defineCodec<T>(
  name: string,
  parts: {
    read(r: Reader): T;
    write(w: Writer, value: T): void;
    length(value: T): number;
  },
): Codec<T> {
  return {
    name,
    decode(bytes) {
      // One private copy; every field read from it is a window (see the header).
      const r = new Reader(poolCopy(bytes), 0, bytes.length, undefined, true);
      const value = parts.read(r);
      r.expectEnd(name);
      return r.result(value);
    },
    decodeOwned(bytes) {
      const r = new Reader(bytes, 0, bytes.length, undefined, true);
      const value = parts.read(r);
      r.expectEnd(name);
      return r.result(value);
    },
    encode(value, buf, offset = 0) {
      const len = parts.length(value);
      const out = buf ?? poolAlloc(offset + len);
      const w = new Writer(out, offset);
      parts.write(w, value);
      if (w.pos !== offset + len) throw new Error(`wire: ${name} wrote ${w.pos - offset} bytes, encodingLength said ${len}`);
      return out.subarray(offset, offset + len);
    },
    encodingLength: parts.length,
  };
}
