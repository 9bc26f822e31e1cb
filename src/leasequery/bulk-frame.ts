/**
 * Message framing on a Bulk Leasequery TCP connection (RFC 5460 §5.1): every DHCPv6
 * message is preceded by two octets holding its size in network byte order.
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          message-size         |    msg-type   | transaction-id
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    .                       (DHCPv6 message) ...                      .
 *
 * TCP delivers a byte stream, so one chunk may hold several frames, part of one, or
 * the end of one and the start of the next. The reader keeps at most one partial frame
 * (bounded by `maxFrame`); a frame announced larger than that is skipped byte for byte
 * without being buffered, and reported, so the stream stays in step.
 */

/** What the reader found in a chunk, in stream order. */
export type FrameItem =
  | { readonly kind: 'frame'; readonly bytes: Uint8Array }
  /** A frame larger than the bound: its `size` octets were (or will be) skipped. */
  | { readonly kind: 'oversized'; readonly size: number };

export class FrameReader {
  /** The length prefix when only one of its octets has arrived. */
  private half: number | null = null;
  /** The frame being filled, and how many of its octets are in. */
  private partial: Uint8Array | null = null;
  private filled = 0;
  /** Octets of an oversized frame still to skip. */
  private skipping = 0;

  constructor(private readonly maxFrame: number) {}

  /** Every complete frame (and oversized notice) this chunk finishes. Never throws. */
  push(chunk: Uint8Array): FrameItem[] {
    const out: FrameItem[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skipping > 0) {
        const n = Math.min(this.skipping, chunk.length - at);
        this.skipping -= n;
        at += n;
        continue;
      }
      if (this.partial) {
        const n = Math.min(this.partial.length - this.filled, chunk.length - at);
        this.partial.set(chunk.subarray(at, at + n), this.filled);
        this.filled += n;
        at += n;
        if (this.filled === this.partial.length) {
          out.push({ kind: 'frame', bytes: this.partial });
          this.partial = null;
        }
        continue;
      }
      // A length prefix: both octets here, or the second completing a held first one.
      let size: number;
      if (this.half !== null) {
        size = (this.half << 8) | chunk[at]!;
        this.half = null;
        at += 1;
      } else if (at + 1 < chunk.length) {
        size = (chunk[at]! << 8) | chunk[at + 1]!;
        at += 2;
      } else {
        this.half = chunk[at]!;
        at += 1;
        continue;
      }
      if (size > this.maxFrame) {
        out.push({ kind: 'oversized', size });
        this.skipping = size;
        continue;
      }
      // Whole frame already in this chunk: a window on it, no copy until decode.
      if (chunk.length - at >= size) {
        out.push({ kind: 'frame', bytes: chunk.subarray(at, at + size) });
        at += size;
        continue;
      }
      this.partial = new Uint8Array(size);
      this.filled = 0;
    }
    return out;
  }

  /** Octets of an unfinished frame (prefix included) held at this moment: > 0 at a close means truncated. */
  get pending(): number {
    if (this.half !== null) return 1;
    if (this.partial) return 2 + this.filled;
    return this.skipping > 0 ? this.skipping : 0;
  }
}

/** One message framed for the connection (RFC 5460 §5.1). */
export function frameMessage(message: Uint8Array): Uint8Array {
  if (message.length > 0xffff) throw new RangeError('bulk leasequery: a message over 65535 octets cannot be framed');
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >>> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}
