import { describe, expect, it } from 'vitest';
import { PeerCache } from '../../../src/relay/peers';
import { prng } from '../bindings/fixtures';

const ll = (i: number) => Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 16, (i >> 8) & 255, i & 255);
const mac = (i: number) => Uint8Array.of(2, 0, 0, i >> 16, (i >> 8) & 255, i & 255);

describe('PeerCache', () => {
  it('keys by port and address, refreshes the MAC, returns copies', () => {
    const c = new PeerCache(8);
    c.learn('lan1', ll(1), mac(1));
    expect(c.lookup('lan1', ll(1))).toEqual(mac(1));
    expect(c.lookup('lan2', ll(1))).toBeNull();
    c.learn('lan1', ll(1), mac(2));
    const got = c.lookup('lan1', ll(1))!;
    expect(got).toEqual(mac(2));
    got.fill(0);
    expect(c.lookup('lan1', ll(1))).toEqual(mac(2));
    expect(c.size).toBe(1);
  });

  // Random learns against a Map model with the same least-recently-seen eviction.
  for (const seed of [1, 5]) {
    it(`evicts the least recently seen entry at its bound (seed ${seed})`, () => {
      const rnd = prng(seed);
      const c = new PeerCache(100);
      const model = new Map<string, number>();
      let evicted = 0;
      for (let step = 0; step < 5000; step++) {
        const port = rnd() < 0.5 ? 'a' : 'b';
        const i = Math.floor(rnd() * 300);
        const m = Math.floor(rnd() * 1000);
        c.learn(port, ll(i), mac(m));
        const k = `${port}${i}`;
        model.delete(k);
        model.set(k, m);
        if (model.size > 100) {
          model.delete(model.keys().next().value!);
          evicted++;
        }
        if (step % 100 !== 0) continue;
        expect(c.size).toBe(model.size);
        for (const p of ['a', 'b']) {
          for (let j = 0; j < 300; j++) {
            const want = model.get(`${p}${j}`);
            expect(c.lookup(p, ll(j))).toEqual(want === undefined ? null : mac(want));
          }
        }
      }
      expect(c.evicted).toBe(evicted);
    });
  }
});
