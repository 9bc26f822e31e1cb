/**
 * An open-addressing hash set of slot numbers (linear probing, backward-shift
 * deletion, no tombstones). The key of a slot lives in the owner's columns; the
 * set only stores the 4-byte slot number, so an index costs 5–10 bytes per entry
 * (load between 0.4 and 0.8) instead of a Map entry plus a key string.
 */
export class SlotHash {
  private t: Int32Array;
  private mask: number;
  private count = 0;

  constructor(
    minCapacity: number,
    /** Hash of the key stored at a slot (must stay stable while the slot is in the set). */
    private readonly hashSlot: (slot: number) => number,
  ) {
    this.t = new Int32Array(SlotHash.sizeFor(minCapacity)).fill(-1);
    this.mask = this.t.length - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Bytes of the table (for the memory benchmark). */
  get bytes(): number {
    return this.t.byteLength;
  }

  /** The slot whose key has `hash` and satisfies `matches`, or -1. */
  find(hash: number, matches: (slot: number) => boolean): number {
    for (let i = hash & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.t[i]!;
      if (s < 0) return -1;
      if (matches(s)) return s;
    }
  }

  /** Add a slot whose key is not yet present. */
  insert(slot: number): void {
    if ((this.count + 1) * 5 > this.t.length * 4) this.rehash(this.t.length * 2);
    let i = this.hashSlot(slot) & this.mask;
    while (this.t[i]! >= 0) i = (i + 1) & this.mask;
    this.t[i] = slot;
    this.count++;
  }

  /** Replace `oldSlot` by `newSlot` (same key) in place. */
  replace(oldSlot: number, newSlot: number): void {
    const i = this.indexOf(oldSlot);
    if (i >= 0) this.t[i] = newSlot;
  }

  /** Remove a slot; its key must still be readable (hash it before clearing columns). */
  remove(slot: number): void {
    let i = this.indexOf(slot);
    if (i < 0) return;
    // Backward shift: pull later members of the probe run into the hole.
    for (let j = (i + 1) & this.mask; ; j = (j + 1) & this.mask) {
      const s = this.t[j]!;
      if (s < 0) break;
      const home = this.hashSlot(s) & this.mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      this.t[i] = s;
      i = j;
    }
    this.t[i] = -1;
    this.count--;
  }

  private indexOf(slot: number): number {
    for (let i = this.hashSlot(slot) & this.mask; ; i = (i + 1) & this.mask) {
      const s = this.t[i]!;
      if (s < 0) return -1;
      if (s === slot) return i;
    }
  }

  private rehash(size: number): void {
    const old = this.t;
    this.t = new Int32Array(size).fill(-1);
    this.mask = size - 1;
    for (const s of old) {
      if (s < 0) continue;
      let i = this.hashSlot(s) & this.mask;
      while (this.t[i]! >= 0) i = (i + 1) & this.mask;
      this.t[i] = s;
    }
  }

  private static sizeFor(n: number): number {
    let size = 16;
    while (size * 4 < n * 5) size *= 2;
    return size;
  }
}

/** FNV-1a over bytes, continuing from `h`; finish with `mix32`. */
export function fnv1a(h: number, bytes: ArrayLike<number>, from = 0, to = bytes.length): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i]!, 16777619);
  return h;
}

export const FNV_OFFSET = 0x811c9dc5 | 0;

/** Final avalanche so the low bits used by the mask depend on every input byte. */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
