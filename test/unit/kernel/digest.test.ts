import { describe, expect, it } from 'vitest';
import { EntryDigest } from '../../../src/kernel/digest';
import type { RouteEntry } from '../../../src/kernel/entries';
import { v4 } from '../bindings/fixtures';

const host = (a: string, device = 'eth1'): RouteEntry => ({ family: 4, dst: v4(a), dstLen: 32, device, gateway: null });
const digest = (xs: RouteEntry[], seed = 7) => {
  const d = new EntryDigest('routes', seed);
  for (const x of xs) d.add(x);
  return d;
};
const many = (n: number) => Array.from({ length: n }, (_, i) => host(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`));

describe('EntryDigest (reconcile without holding both sides)', () => {
  it('does not depend on order', () => {
    const xs = many(5000);
    expect(digest(xs).equals(digest([...xs].reverse()))).toBe(true);
  });

  it('tells a missing, an extra, a duplicated and a changed entry apart from the same set', () => {
    const xs = many(5000);
    const base = digest(xs);
    expect(digest(xs.slice(1)).equals(base)).toBe(false);
    expect(digest([...xs, host('192.0.2.1')]).equals(base)).toBe(false);
    expect(digest([...xs.slice(1), xs[2]!]).equals(base)).toBe(false); // same count, one repeated
    const moved = [...xs];
    moved[100] = { ...moved[100]!, device: 'eth2' }; // same key, other attributes
    expect(digest(moved).equals(base)).toBe(false);
    // two entries swapped between devices: same keys, same attribute strings in total
    const swapped = [...xs];
    swapped[1] = { ...swapped[1]!, device: 'eth2' };
    const other = [...xs];
    other[2] = { ...other[2]!, device: 'eth2' };
    expect(digest(swapped).equals(digest(other))).toBe(false);
  });

  it('is seeded: the same set agrees only under the same seed; reset starts over', () => {
    const xs = many(100);
    expect(digest(xs, 1).equals(digest(xs, 2))).toBe(false);
    const d = digest(xs);
    d.reset();
    expect(d.count).toBe(0);
    for (const x of xs) d.add(x);
    expect(d.equals(digest(xs))).toBe(true);
  });
});
