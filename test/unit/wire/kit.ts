/**
 * The shared codec test kit (CONVENTIONS 6), run over every codec in src/wire:
 *  - every valid vector decodes, re-encodes byte for byte, and `encodingLength` agrees;
 *  - every value round-trips (encode → decode → same value → same bytes);
 *  - encoding into a buffer pre-filled with 0xa5 at a non-zero offset leaves the
 *    surrounding bytes untouched;
 *  - hostile input: every truncation of every vector, seeded random byte flips, and
 *    huge claimed lengths (0xff/0xffff written at every offset) never make a decoder
 *    throw; errors name a field and an offset inside the input; and anything that is
 *    accepted re-encodes to exactly the bytes it was decoded from.
 */
import { describe, expect, it } from 'vitest';
import type { Codec, DecodeResult } from '../../../src/wire/cursor';

export interface KitCase<T> {
  readonly codec: Codec<T>;
  /** Valid encodings (captures or hand-built). */
  readonly vectors?: readonly Uint8Array[];
  /** Values to round-trip. */
  readonly values?: readonly T[];
  /** Random flips per vector (default 200). */
  readonly flips?: number;
}

import { prng } from '../prng';
export { prng };

export const hex = (s: string): Uint8Array => {
  const clean = s.replace(/[\s:]/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
};
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Decode without letting an exception escape the assertion. */
function safeDecode<T>(codec: Codec<T>, bytes: Uint8Array): DecodeResult<T> {
  let res: DecodeResult<T> | undefined;
  expect(() => {
    res = codec.decode(bytes);
  }, `${codec.name} threw on ${toHex(bytes)}`).not.toThrow();
  return res!;
}

/** The hostile-input check on one input: no throw; a sane error; or an exact re-encoding. */
export function checkHostile<T>(codec: Codec<T>, bytes: Uint8Array): void {
  const res = safeDecode(codec, bytes);
  if (res.ok) {
    expect(toHex(codec.encode(res.value)), `${codec.name} accepted ${toHex(bytes)} but re-encoded differently`).toBe(toHex(bytes));
  } else {
    expect(typeof res.error.field).toBe('string');
    expect(res.error.field.length).toBeGreaterThan(0);
    expect(res.error.offset).toBeGreaterThanOrEqual(0);
    expect(res.error.offset).toBeLessThanOrEqual(bytes.length);
  }
}

function checkEncodeAtOffset<T>(codec: Codec<T>, value: T): Uint8Array {
  const plain = codec.encode(value);
  expect(plain.length).toBe(codec.encodingLength(value));
  const offset = 7;
  const buf = new Uint8Array(offset + plain.length + 9).fill(0xa5);
  const written = codec.encode(value, buf, offset);
  expect(written.length).toBe(plain.length);
  expect(toHex(written)).toBe(toHex(plain));
  expect(buf.subarray(0, offset).every((b) => b === 0xa5)).toBe(true);
  expect(buf.subarray(offset + plain.length).every((b) => b === 0xa5)).toBe(true);
  return plain;
}

export function runCodecKit<T>(label: string, c: KitCase<T>): void {
  const { codec } = c;
  const vectors = c.vectors ?? [];
  describe(`codec kit: ${label} (${codec.name})`, () => {
    if (vectors.length > 0) {
      it('decodes every vector and re-encodes it byte for byte', () => {
        for (const v of vectors) {
          const res = codec.decode(v);
          if (!res.ok) throw new Error(`${codec.name}: ${JSON.stringify(res.error)} on ${toHex(v)}`);
          expect(codec.encodingLength(res.value)).toBe(v.length);
          expect(toHex(checkEncodeAtOffset(codec, res.value))).toBe(toHex(v));
          const again = codec.decode(codec.encode(res.value));
          expect(again).toEqual(res);
        }
      });
    }
    if ((c.values ?? []).length > 0) {
      it('round-trips every value', () => {
        for (const value of c.values ?? []) {
          const bytes = checkEncodeAtOffset(codec, value);
          const res = codec.decode(bytes);
          if (!res.ok) throw new Error(`${codec.name}: ${JSON.stringify(res.error)} on ${toHex(bytes)}`);
          expect(res.value).toEqual(value);
          expect(toHex(codec.encode(res.value))).toBe(toHex(bytes));
        }
      });
    }
    const all = [...vectors, ...(c.values ?? []).map((v) => codec.encode(v))];
    it('never throws on any truncation', () => {
      for (const v of all) for (let n = 0; n < v.length; n++) checkHostile(codec, v.slice(0, n));
    });
    it('decodes in place (decodeOwned, no private copy) to what decode gives, on vectors, truncations and flips', () => {
      const rnd = prng(0x5eed0dd);
      for (const v of all) {
        const inputs = [v, v.slice(0, v.length >> 1), v.slice(0, Math.max(0, v.length - 1))];
        for (let i = 0; i < 20 && v.length > 0; i++) {
          const m = v.slice();
          const at = Math.floor(rnd() * m.length);
          m[at] = m[at]! ^ (1 + Math.floor(rnd() * 255));
          inputs.push(m);
        }
        for (const b of inputs) expect(codec.decodeOwned(b.slice())).toEqual(codec.decode(b));
      }
    });
    it('never throws on seeded random byte flips', () => {
      const rnd = prng(0x9e3779b9);
      for (const v of all) {
        if (v.length === 0) continue;
        for (let i = 0; i < (c.flips ?? 200); i++) {
          const m = v.slice();
          const k = 1 + Math.floor(rnd() * 3);
          for (let j = 0; j < k; j++) {
            const at = Math.floor(rnd() * m.length);
            m[at] = m[at]! ^ (1 + Math.floor(rnd() * 255));
          }
          checkHostile(codec, m);
        }
      }
    });
    it('never throws on huge claimed lengths', () => {
      for (const v of all) {
        for (let at = 0; at < v.length; at++) {
          const one = v.slice();
          one[at] = 0xff;
          checkHostile(codec, one);
          if (at + 1 < v.length) {
            const two = v.slice();
            two[at] = 0xff;
            two[at + 1] = 0xff;
            checkHostile(codec, two);
          }
        }
      }
    });
  });
}
