/**
 * An order-independent digest of a multiset of kernel entries (key and attributes), so
 * that a reconcile can tell "the kernel holds exactly what is desired" by streaming both
 * sides once, holding neither: 650k dumped entries materialised as objects and indexed
 * by key strings cost hundreds of MiB of heap that V8 keeps afterwards, while in steady
 * state (the periodic audit) nothing differs. When the digests differ, the reconcile
 * falls back to the full diff (`diffInSteps`).
 *
 * The digest is the count of entries and two sums (mod 2^32) of independent 32-bit
 * hashes of an entry, seeded per process: a sum commutes, so the order of a dump does
 * not matter; a missing, extra, duplicated or changed entry changes the count or both
 * sums, and two different multisets agree on all three with a probability near 2^-64.
 * The seed (chosen by the platform at random) keeps anyone who can choose addresses or
 * MACs from crafting entries whose difference cancels out.
 *
 * An entry is hashed from its fields, not from its key and attribute text: formatting
 * two addresses and a MAC as strings for each of 650k entries, twice per audit, was
 * most of an audit's garbage. The fields hashed are exactly those the key and
 * attributes are made of (entries.ts), in a fixed order, each variable-length one with
 * its length, so two entries hash alike exactly when their key and attributes are the
 * same text. Addresses are the family's 4 or 16 bytes, as `formatAddress` reads them.
 * The kernel dump and the desired state both go through `add`: one owner of the
 * encoding. A kind without a field encoding here is hashed from its text.
 */
import { isWakeWatch } from './divert';
import { ENTRY_TYPES, type EntryKind, type KernelEntries } from './entries';

/** The fields of one entry, fed in order to a hasher. */
type Fields<K extends EntryKind> = (h: EntryDigest<K>, e: KernelEntries[K]) => void;

const FIELDS: { readonly [K in EntryKind]?: Fields<K> } = {
  // key `dst/len`, attrs `via GATEWAY dev DEV` or `dev DEV`
  routes: (h, r) => {
    h.byte(r.family);
    h.address(r.family, r.dst);
    h.byte(r.dstLen);
    if (r.gateway) {
      h.byte(1);
      h.address(r.family, r.gateway);
    } else h.byte(0);
    h.text(r.device);
  },
  // key `ADDR dev DEV`, attrs the link-layer address
  neighbours: (h, n) => {
    h.byte(n.family);
    h.address(n.family, n.address);
    h.text(n.device);
    h.bytes(n.lladdr);
  },
  // key `prefix/len mac MAC dev DEV`
  verifies: (h, v) => {
    h.byte(v.family);
    h.address(v.family, v.prefix);
    h.byte(v.prefixLength);
    h.bytes(v.mac);
    h.text(v.device);
  },
  // key the address, or the wake watch (a divert is all identity)
  diverts: (h, d) => {
    if (isWakeWatch(d)) {
      h.text(d.wake);
      h.text(d.port);
      return;
    }
    h.byte(d.family);
    h.address(d.family, d.address);
  },
};

export class EntryDigest<K extends EntryKind> {
  private n = 0;
  private a = 0;
  private b = 0;
  /** The hashes of the entry being added. */
  private h1 = 0;
  private h2 = 0;
  private readonly fields: Fields<K>;

  constructor(kind: K, private readonly seed: number) {
    const t = ENTRY_TYPES.find((x) => x.kind === kind)! as unknown as {
      key(e: KernelEntries[K]): string; attrs(e: KernelEntries[K]): string;
    };
    this.fields = (FIELDS[kind] as Fields<K> | undefined) ?? ((h, e) => h.text(`${t.key(e)}\u0000${t.attrs(e)}`));
  }

  add(e: KernelEntries[K]): void {
    // Two FNV-1a style hashes with different offsets and primes, each seeded.
    this.h1 = (0x811c9dc5 ^ this.seed) >>> 0;
    this.h2 = (0x01000193 ^ Math.imul(this.seed, 0x9e3779b1)) >>> 0;
    this.fields(this, e);
    // Final mixing (murmur3's fmix32), so that near-identical entries spread over the sum.
    this.n++;
    this.a = (this.a + fmix(this.h1)) >>> 0;
    this.b = (this.b + fmix(this.h2 ^ 0x5bd1e995)) >>> 0;
  }

  /** Hash one value below 2^16 (a byte, a length, a character code). */
  byte(c: number): void {
    this.h1 = Math.imul(this.h1 ^ c, 0x01000193);
    const h2 = Math.imul(this.h2 ^ c, 0x5bd1e995);
    this.h2 = h2 ^ (h2 >>> 15);
  }

  /** The family's address bytes (4 or 16), as `formatAddress` reads them. */
  address(family: 4 | 6, a: Uint8Array): void {
    for (let i = 0, n = family === 4 ? 4 : 16; i < n; i++) this.byte(a[i] ?? 0x100);
  }

  /** Bytes of any length, length first. */
  bytes(v: Uint8Array): void {
    this.byte(v.length);
    for (let i = 0; i < v.length; i++) this.byte(v[i]!);
  }

  /** A string (a device name), length first. */
  text(s: string): void {
    this.byte(s.length & 0xffff);
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i));
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
