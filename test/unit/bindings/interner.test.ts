import { describe, expect, it } from 'vitest';
import { ByteInterner } from '../../../src/bindings/interner';
import { prng } from './fixtures';

describe('ByteInterner', () => {
  it('gives equal bytes one id and frees it with its last reference', () => {
    const t = new ByteInterner();
    const a = t.intern(Uint8Array.of(0, 3, 0, 1, 2));
    expect(t.intern(Uint8Array.of(0, 3, 0, 1, 2))).toBe(a);
    const b = t.intern(Uint8Array.of(0, 3, 0, 1));
    expect(b).not.toBe(a);
    expect(t.size).toBe(2);
    t.release(a);
    expect(t.find(Uint8Array.of(0, 3, 0, 1, 2))).toBe(a);
    t.release(a);
    expect(t.find(Uint8Array.of(0, 3, 0, 1, 2))).toBe(-1);
    expect([...t.copy(b)]).toEqual([0, 3, 0, 1]);
    expect(t.intern(new Uint8Array(0))).toBeGreaterThanOrEqual(0);
  });

  // Random interns and releases of values of many lengths (so the arena compacts and
  // freed ids are reused) against a list of what is held.
  for (const seed of [1, 7, 99]) {
    it(`keeps every held value readable and findable (seed ${seed})`, () => {
      const rnd = prng(seed);
      const t = new ByteInterner();
      const held: { id: number; value: number[] }[] = [];
      const value = () => Array.from({ length: Math.floor(rnd() * 40) }, (_, i) => (i === 0 ? Math.floor(rnd() * 30) : i));
      for (let step = 0; step < 4000; step++) {
        if (rnd() < 0.55 || held.length === 0) {
          const v = value();
          held.push({ id: t.intern(Uint8Array.from(v)), value: v });
        } else {
          const [h] = held.splice(Math.floor(rnd() * held.length), 1);
          t.release(h!.id);
        }
        if (step % 50 !== 0) continue;
        for (const h of held) {
          expect([...t.copy(h.id)]).toEqual(h.value);
          expect(t.find(Uint8Array.from(h.value))).toBe(h.id);
        }
        expect(t.size).toBe(new Set(held.map((h) => h.value.join())).size);
      }
    });
  }
});
