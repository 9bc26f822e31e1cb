/** Where the heap reads a slot's key and keeps its position (the owner's columns). */
export interface HeapSlots {
  key(slot: number): number;
  /** Heap index of the slot, -1 when it is not in the heap. */
  heapPos(slot: number): number;
  setHeapPos(slot: number, i: number): void;
}

/**
 * Indexed binary min-heap of slot numbers ordered by an external Float64 key (the
 * `validUntil` column). Each slot knows its heap position (kept in the owner's
 * columns, so the heap needs no per-slot array of its own), so a refresh or removal
 * is an O(log n) sift instead of a lazy tombstone: the heap never holds more
 * entries than there are expiring bindings. `peek` is O(1).
 */
export class ExpiryHeap {
  private heap: Int32Array;
  private n = 0;

  constructor(
    capacity: number,
    private readonly slots: HeapSlots,
  ) {
    this.heap = new Int32Array(Math.max(16, capacity));
  }

  get size(): number {
    return this.n;
  }

  /** Bytes of the heap array (for the memory benchmark). */
  get bytes(): number {
    return this.heap.byteLength;
  }

  has(slot: number): boolean {
    return this.slots.heapPos(slot) >= 0;
  }

  /** The slot with the smallest key, or -1. */
  peek(): number {
    return this.n > 0 ? this.heap[0]! : -1;
  }

  push(slot: number): void {
    if (this.n === this.heap.length) {
      const heap = new Int32Array(Math.ceil(this.n * 1.5));
      heap.set(this.heap);
      this.heap = heap;
    }
    const i = this.n++;
    this.heap[i] = slot;
    this.slots.setHeapPos(slot, i);
    this.up(i);
  }

  remove(slot: number): void {
    const i = this.slots.heapPos(slot);
    if (i < 0) return;
    this.slots.setHeapPos(slot, -1);
    const last = this.heap[--this.n]!;
    if (i === this.n) return;
    this.heap[i] = last;
    this.slots.setHeapPos(last, i);
    this.up(i);
    this.down(this.slots.heapPos(last));
  }

  /** Restore order after the key of `slot` changed. */
  update(slot: number): void {
    const i = this.slots.heapPos(slot);
    if (i < 0) return;
    this.up(i);
    this.down(this.slots.heapPos(slot));
  }

  private up(i: number): void {
    const h = this.heap;
    const sl = this.slots;
    const s = h[i]!;
    const k = sl.key(s);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = h[p]!;
      if (sl.key(ps) <= k) break;
      h[i] = ps;
      sl.setHeapPos(ps, i);
      i = p;
    }
    h[i] = s;
    sl.setHeapPos(s, i);
  }

  private down(i: number): void {
    const h = this.heap;
    const sl = this.slots;
    const s = h[i]!;
    const k = sl.key(s);
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.n) break;
      if (c + 1 < this.n && sl.key(h[c + 1]!) < sl.key(h[c]!)) c++;
      const cs = h[c]!;
      if (sl.key(cs) >= k) break;
      h[i] = cs;
      sl.setHeapPos(cs, i);
      i = c;
    }
    h[i] = s;
    sl.setHeapPos(s, i);
  }
}
