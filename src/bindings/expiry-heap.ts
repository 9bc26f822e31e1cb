/**
 * Indexed binary min-heap of slot numbers ordered by an external Float64 key (the
 * `validUntil` column). Each slot knows its heap position, so a refresh or removal
 * is an O(log n) sift instead of a lazy tombstone: the heap never holds more
 * entries than there are expiring bindings. `peek` is O(1).
 */
export class ExpiryHeap {
  private heap: Int32Array;
  /** Heap index per slot, -1 when the slot is not in the heap. */
  private pos: Int32Array;
  private n = 0;

  constructor(
    capacity: number,
    private key: Float64Array,
  ) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
  }

  get size(): number {
    return this.n;
  }

  /** Called after the owner grew its columns. */
  resize(capacity: number, key: Float64Array): void {
    const heap = new Int32Array(capacity);
    heap.set(this.heap.subarray(0, this.n));
    const pos = new Int32Array(capacity).fill(-1);
    // The store may have started smaller than this heap (a table limit below its
    // minimum capacity): copy only the slots that fit.
    pos.set(this.pos.subarray(0, Math.min(capacity, this.pos.length)));
    this.heap = heap;
    this.pos = pos;
    this.key = key;
  }

  has(slot: number): boolean {
    return this.pos[slot]! >= 0;
  }

  /** The slot with the smallest key, or -1. */
  peek(): number {
    return this.n > 0 ? this.heap[0]! : -1;
  }

  push(slot: number): void {
    const i = this.n++;
    this.heap[i] = slot;
    this.pos[slot] = i;
    this.up(i);
  }

  remove(slot: number): void {
    const i = this.pos[slot]!;
    if (i < 0) return;
    this.pos[slot] = -1;
    const last = this.heap[--this.n]!;
    if (i === this.n) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.up(i);
    this.down(this.pos[last]!);
  }

  /** Restore order after the key of `slot` changed. */
  update(slot: number): void {
    const i = this.pos[slot]!;
    if (i < 0) return;
    this.up(i);
    this.down(this.pos[slot]!);
  }

  private up(i: number): void {
    const s = this.heap[i]!;
    const k = this.key[s]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const ps = this.heap[p]!;
      if (this.key[ps]! <= k) break;
      this.heap[i] = ps;
      this.pos[ps] = i;
      i = p;
    }
    this.heap[i] = s;
    this.pos[s] = i;
  }

  private down(i: number): void {
    const s = this.heap[i]!;
    const k = this.key[s]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.n) break;
      if (c + 1 < this.n && this.key[this.heap[c + 1]!]! < this.key[this.heap[c]!]!) c++;
      const cs = this.heap[c]!;
      if (this.key[cs]! >= k) break;
      this.heap[i] = cs;
      this.pos[cs] = i;
      i = c;
    }
    this.heap[i] = s;
    this.pos[s] = i;
  }
}
