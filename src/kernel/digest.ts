/**
 * An order-independent digest of a multiset of kernel entries (key and attributes), so
 * that a reconcile can tell "the kernel holds exactly what is desired" by streaming both
 * sides once, holding neither: 650k dumped entries materialised as objects and indexed
 * by key strings cost hundreds of MiB of heap that V8 keeps afterwards, while in steady
 * state (the periodic audit) nothing differs. When the digests differ, the reconcile
 * falls back to the full diff (`diffInSteps`).
 *
 * The digest is the count of entries and two sums (mod 2^32) of independent 32-bit
 * hashes of `key + attrs`, seeded per process: a sum commutes, so the order of a dump
 * does not matter; a missing, extra, duplicated or changed entry changes the count or
 * both sums, and two different multisets agree on all three with a probability near
 * 2^-64. The seed (chosen by the platform at random) keeps anyone who can choose
 * addresses or MACs from crafting entries whose difference cancels out.
 */
import { ENTRY_TYPES, type EntryKind, type KernelEntries } from './entries';

export class EntryDigest<K extends EntryKind> {
  private n = 0;
  private a = 0;
  private b = 0;
  private readonly key: (e: KernelEntries[K]) => string;
  private readonly attrs: (e: KernelEntries[K]) => string;

  constructor(kind: K, private readonly seed: number) {
    const t = ENTRY_TYPES.find((x) => x.kind === kind)! as unknown as {
      key(e: KernelEntries[K]): string; attrs(e: KernelEntries[K]): string;
    };
    this.key = t.key;
    this.attrs = t.attrs;
  }

  add(e: KernelEntries[K]): void {
    const s = `${this.key(e)}\u0000${this.attrs(e)}`;
    // Two FNV-1a style hashes with different offsets and primes, each seeded.
    let h1 = (0x811c9dc5 ^ this.seed) >>> 0;
    let h2 = (0x01000193 ^ Math.imul(this.seed, 0x9e3779b1)) >>> 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    // Final mixing (murmur3's fmix32), so that near-identical strings spread over the sum.
    h1 = fmix(h1);
    h2 = fmix(h2 ^ s.length);
    this.n++;
    this.a = (this.a + h1) >>> 0;
    this.b = (this.b + h2) >>> 0;
  }

  get count(): number {
    return this.n;
  }

  equals(o: EntryDigest<K>): boolean {
    return this.n === o.n && this.a === o.a && this.b === o.b;
  }

  /** Back to empty: a dump that is re-run (interrupted by a change) starts over. */
  reset(): void {
    this.n = this.a = this.b = 0;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
