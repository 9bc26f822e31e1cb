/** platform/loop-budget.ts against a scripted clock: slices end by time, the clock read every `every` entries. */
import { describe, expect, it } from 'vitest';
import { LoopBudget } from '../../../platform/loop-budget';

describe('LoopBudget', () => {
  it('is spent once the slice ran for its milliseconds, read every `every` entries; restart begins a new slice', () => {
    let t = 1000;
    let reads = 0;
    const b = new LoopBudget(4, 8, () => (reads++, t));
    reads = 0;
    for (let i = 0; i < 7; i++) expect(b.spent()).toBe(false);
    expect(reads).toBe(0); // no clock read before `every` entries
    expect(b.spent()).toBe(false); // 8th entry: read, 0 ms spent
    expect(reads).toBe(1);
    t += 3.9;
    for (let i = 0; i < 8; i++) expect(b.spent()).toBe(false);
    t += 0.1;
    for (let i = 0; i < 7; i++) expect(b.spent()).toBe(false);
    expect(b.spent()).toBe(true); // 4 ms
    b.restart();
    for (let i = 0; i < 8; i++) expect(b.spent()).toBe(false);
  });

  it('a weight counts several entries at once (a diff step)', () => {
    let t = 0;
    const b = new LoopBudget(4, 64, () => t);
    t = 5;
    expect(b.spent(128)).toBe(true);
    b.restart();
    expect(b.spent(128)).toBe(false);
  });
});
