import { describe, expect, it } from 'vitest';
import { EntryDigest } from '../../../src/kernel/digest';
import { ENTRY_TYPES, type Entry, type EntryKind, type KernelEntries, type RouteEntry } from '../../../src/kernel/entries';
import { mac, prng, v4, v6 } from '../bindings/fixtures';

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

describe('EntryDigest hashes the fields the key and attributes are made of', () => {
  const one = <K extends EntryKind>(kind: K, e: KernelEntries[K]) => {
    const d = new EntryDigest(kind, 11);
    d.add(e);
    return d;
  };
  // Small domains, so that equal and unequal entries both come up often.
  const pick = <T>(rnd: () => number, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  /** The same bytes as a view at an offset into a bigger buffer, as a dump decodes them. */
  const inBuffer = (b: Uint8Array) => {
    const buf = new Uint8Array(b.length + 7);
    buf.set(b, 5);
    return buf.subarray(5, 5 + b.length);
  };
  const gens: { [K in EntryKind]?: (rnd: () => number) => KernelEntries[K] } = {
    routes: (rnd) => {
      const family = pick(rnd, [4, 6] as const);
      const addr = family === 4 ? v4(pick(rnd, ['192.0.2.1', '192.0.2.2'])) : v6(pick(rnd, ['2001:db8::1', '2001:db8:1::']));
      return { family, dst: addr, dstLen: pick(rnd, [family === 4 ? 32 : 128, 24]), device: pick(rnd, ['eth1', 'eth10', 'eth']), gateway: rnd() < 0.5 ? null : inBuffer(family === 4 ? v4('192.0.2.9') : v6(pick(rnd, ['fe80::1', 'fe80::2']))) };
    },
    neighbours: (rnd) => {
      const family = pick(rnd, [4, 6] as const);
      return { family, address: inBuffer(family === 4 ? v4(pick(rnd, ['192.0.2.1', '192.0.2.2'])) : v6('2001:db8::1')), device: pick(rnd, ['eth1', 'eth2']), lladdr: mac(pick(rnd, [1, 2])) };
    },
    verifies: (rnd) => {
      const family = pick(rnd, [4, 6] as const);
      return { family, prefix: family === 4 ? v4('192.0.2.1') : inBuffer(v6(pick(rnd, ['2001:db8::', '2001:db8:1::']))), prefixLength: pick(rnd, [32, 56, 64]), mac: inBuffer(mac(pick(rnd, [1, 2]))), device: pick(rnd, ['eth1', 'eth11']) };
    },
    mroutes: (rnd) => {
      const family = pick(rnd, [4, 6] as const);
      const source = family === 4 ? v4(pick(rnd, ['192.0.2.1', '192.0.2.2'])) : v6(pick(rnd, ['2001:db8::1', '2001:db8::2']));
      const group = family === 4 ? v4(pick(rnd, ['232.1.1.1', '232.1.1.2'])) : v6('ff3e::8000:1');
      return { family, source: inBuffer(source), group, iif: pick(rnd, ['eth0', 'eth00']), oifs: pick(rnd, [['eth1'], ['eth1', 'eth2'], ['eth12']]) };
    },
    diverts: (rnd) => {
      const family = pick(rnd, [4, 6] as const);
      return { family, address: inBuffer(family === 4 ? v4(pick(rnd, ['192.0.2.1', '192.0.2.2'])) : v6(pick(rnd, ['2001:db8::1', '2001:db8::2']))) };
    },
  };
  for (const t of ENTRY_TYPES) {
    it(`agrees on two ${t.kind} entries exactly when their key and attributes are the same text`, () => {
      const gen = gens[t.kind] as ((rnd: () => number) => Entry) | undefined;
      expect(gen, `a generator for ${t.kind}`).toBeDefined();
      const rnd = prng(5);
      const text = (e: Entry) => `${(t.key as (e: Entry) => string)(e)}|${(t.attrs as (e: Entry) => string)(e)}`;
      let same = 0;
      for (let i = 0; i < 400; i++) {
        const x = gen!(rnd);
        const y = gen!(rnd);
        const eq = text(x) === text(y);
        same += eq ? 1 : 0;
        expect(one(t.kind, x as never).equals(one(t.kind, y as never)), `${text(x)} vs ${text(y)}`).toBe(eq);
      }
      expect(same).toBeGreaterThan(5);
    });
  }
});
