/**
 * Small byte arrays carved from shared slabs, the way Node pools small Buffers.
 *
 * Every typed array with its own ArrayBuffer costs an allocation outside the JS heap
 * and a registration the garbage collector sweeps; the relay makes two or three per
 * datagram (the decode's private copy, the encoded message, the frame). A window on a
 * 16 KiB slab costs only the small view object. A region is handed out once and a
 * fresh slab is zero-filled, so `poolAlloc(n)` reads as zeros like `new Uint8Array(n)`.
 * A slab lives while any window on it does: values kept for long (bindings, peers)
 * are copied into their own columns, so a slab is normally garbage a few hundred
 * messages after it fills.
 */
const SLAB_BYTES = 16384;
/** Larger requests get their own buffer: they would waste most of a slab. */
const MAX_POOLED = 2048;

/** The slab's ArrayBuffer (`.buffer` is a call into the runtime: read once per slab). */
let slab = new ArrayBuffer(SLAB_BYTES);
let used = 0;

/** `n` zeroed bytes, usually a window on a shared slab. */
export function poolAlloc(n: number): Uint8Array {
  if (n > MAX_POOLED) return new Uint8Array(n);
  if (used + n > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    used = 0;
  }
  const out = new Uint8Array(slab, used, n);
  used = (used + n + 7) & ~7; // 8-aligned, so a window never shares a word with the next
  return out;
}

/** A private copy of `bytes` (see `poolAlloc`). */
export function poolCopy(bytes: Uint8Array): Uint8Array {
  const out = poolAlloc(bytes.length);
  out.set(bytes);
  return out;
}
