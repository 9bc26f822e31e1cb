/**
 * mulberry32: the one seeded PRNG of the test suites, so generated cases and hostile
 * sweeps are the same on every run and a failure reproduces (CONVENTIONS 8: randomness
 * is injected and seeded in tests).
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
