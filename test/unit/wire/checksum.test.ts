/** The hot-path checksum forms against the RFC 1071 reference over parts. */
import { describe, expect, it } from 'vitest';
import { onesComplementSum, pseudoHeader, pseudoHeaderSum, rangeSum } from '../../../src/wire/checksum';

/** Deterministic bytes (xorshift), so a failure is reproducible. */
function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

describe('rangeSum', () => {
  it('equals onesComplementSum of the window, odd and even, at any offset', () => {
    for (const n of [0, 1, 2, 3, 20, 21, 300, 301, 16383, 16384, 16385, 40001, 65535]) {
      const b = bytes(n + 7, n);
      for (const start of [0, 1, 2, 7]) {
        const end = Math.min(b.length, start + n);
        expect(rangeSum(b, start, end)).toBe(onesComplementSum([b.subarray(start, end)]));
        expect(rangeSum(b, start, end, 0xfffe)).toBe(onesComplementSum([b.subarray(start, end)], 0xfffe));
      }
    }
  });
  it('sums all-0xff data without overflow', () => {
    const b = new Uint8Array(65535).fill(0xff);
    expect(rangeSum(b, 0, b.length)).toBe(onesComplementSum([b]));
  });
});

describe('pseudoHeaderSum', () => {
  it('equals the sum of the built pseudo-header, IPv4 and IPv6', () => {
    for (let i = 0; i < 200; i++) {
      const v6 = i % 2 === 1;
      const a = bytes(v6 ? 16 : 4, 3 * i + 1), b = bytes(v6 ? 16 : 4, 3 * i + 2);
      const len = (i * 7919) % (v6 ? 0x1_0000_0 : 0x10000);
      expect(pseudoHeaderSum(a, b, 17, len)).toBe(onesComplementSum([pseudoHeader(a, b, 17, len)]));
    }
  });
});
