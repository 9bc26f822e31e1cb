import { FNV_OFFSET, SlotHash, fnv1a, mix32 } from './slot-hash';

/**
 * Reference-counted byte strings kept once each, in one arena (client ids, DUIDs,
 * circuit and remote ids). A binding stores a 4-byte id instead of a string: all
 * bindings of one client share its DUID, all bindings of a port its circuit id.
 *
 * Per distinct value: its bytes in the arena, 9 bytes of columns and 5–10 bytes of
 * hash index; no JS object. Released bytes stay in the arena as garbage until it is
 * half garbage, then the arena is compacted in place (ids do not change).
 */
export class ByteInterner {
  private arena = new Uint8Array(256);
  private top = 0;
  private garbage = 0;
  private off = new Uint32Array(16);
  /** Lengths: ids are at most 255 bytes (MAX_ID_LENGTH, validate.ts). */
  private len = new Uint8Array(16);
  /** References per id; 0 = free id (its `off` links the free list, plus one). */
  private refs = new Uint32Array(16);
  private ids = 0;
  private freeHead = -1;
  private readonly index = new SlotHash(16, (id) => this.hashOf(this.arena, this.off[id]!, this.len[id]!));

  /** Distinct values held. */
  get size(): number {
    return this.index.size;
  }

  /** Arena, column and index bytes (for status and the memory benchmark). */
  get bytes(): number {
    return this.arena.byteLength + this.off.byteLength + this.len.byteLength + this.refs.byteLength + this.index.bytes;
  }

  /** The id of `value` (at most 255 bytes), one more reference to it. */
  intern(value: Uint8Array): number {
    const found = this.find(value);
    if (found >= 0) {
      this.refs[found]!++;
      return found;
    }
    const id = this.newId();
    this.reserve(value.length);
    this.arena.set(value, this.top);
    this.off[id] = this.top;
    this.len[id] = value.length;
    this.refs[id] = 1;
    this.top += value.length;
    this.index.insert(id);
    return id;
  }

  /** The id of `value` if held (no new reference), or -1. */
  find(value: Uint8Array): number {
    return this.index.find(this.hashOf(value, 0, value.length), (id) => this.equals(id, value));
  }

  release(id: number): void {
    if (--this.refs[id]! > 0) return;
    this.index.remove(id);
    this.garbage += this.len[id]!;
    this.off[id] = this.freeHead + 1; // the free list, offset by one: 0 ends it
    this.freeHead = id;
  }

  /** A fresh copy of the value (the caller may keep it). */
  copy(id: number): Uint8Array {
    const at = this.off[id]!;
    return this.arena.slice(at, at + this.len[id]!);
  }

  /** The value as a view into the arena: valid only until the next `intern`. */
  view(id: number): Uint8Array {
    const at = this.off[id]!;
    return this.arena.subarray(at, at + this.len[id]!);
  }

  private equals(id: number, value: Uint8Array): boolean {
    const n = this.len[id]!;
    if (n !== value.length) return false;
    const a = this.arena;
    const at = this.off[id]!;
    for (let i = 0; i < n; i++) if (a[at + i] !== value[i]) return false;
    return true;
  }

  private hashOf(bytes: Uint8Array, from: number, n: number): number {
    return mix32(fnv1a(Math.imul(FNV_OFFSET ^ n, 16777619), bytes, from, from + n));
  }

  private newId(): number {
    if (this.freeHead >= 0) {
      const id = this.freeHead;
      this.freeHead = this.off[id]! - 1;
      return id;
    }
    if (this.ids === this.off.length) {
      const cap = Math.ceil(this.ids * 1.5);
      this.off = grown(this.off, new Uint32Array(cap));
      this.len = grown(this.len, new Uint8Array(cap));
      this.refs = grown(this.refs, new Uint32Array(cap));
    }
    return this.ids++;
  }

  /** Room for `n` more bytes: compact when half the arena is garbage, else grow by 1.5×. */
  private reserve(n: number): void {
    if (this.top + n <= this.arena.length) return;
    if (this.garbage * 2 >= this.top) this.compact();
    if (this.top + n <= this.arena.length) return;
    this.arena = grown(this.arena.subarray(0, this.top), new Uint8Array(Math.max(this.top + n, Math.ceil(this.arena.length * 1.5))));
  }

  /** Slide live values down over the garbage, in arena order (ids keep their number). */
  private compact(): void {
    const live: number[] = [];
    for (let id = 0; id < this.ids; id++) if (this.refs[id]! > 0) live.push(id);
    live.sort((x, y) => this.off[x]! - this.off[y]!);
    let top = 0;
    for (const id of live) {
      const at = this.off[id]!;
      const n = this.len[id]!;
      this.arena.copyWithin(top, at, at + n);
      this.off[id] = top;
      top += n;
    }
    this.top = top;
    this.garbage = 0;
  }
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array>(from: T, to: T): T {
  to.set(from);
  return to;
}
