/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement
 * sum of the data taken as big-endian 16-bit words, an odd final byte padded with zero.
 * Several parts are summed as if concatenated (an odd-length part shifts the next one),
 * which is how pseudo-header + header + payload are checksummed without copying.
 */

/** One's complement sum (not yet complemented, folded to 16 bits) of the parts. */
export function onesComplementSum(parts: readonly Uint8Array[], initial = 0): number {
  let sum = initial;
  let odd = false; // true when the previous part ended on the high byte of a word
  for (const p of parts) {
    for (let i = 0; i < p.length; i++) {
      sum += odd ? p[i]! : p[i]! << 8;
      odd = !odd;
    }
    // fold periodically so the sum stays a small integer even for 64 KiB payloads
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** RFC 1071 checksum of the concatenated parts (the value to put in the header). */
export function internetChecksum(...parts: readonly Uint8Array[]): number {
  return ~onesComplementSum(parts) & 0xffff;
}

/**
 * One's complement sum (folded, not complemented) of `bytes[start, end)` added to
 * `initial`, taken as 16-bit words from `start`: the hot-path form of
 * `onesComplementSum` over one range, two octets a step and no array of parts.
 */
export function rangeSum(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  // Folded every 16 KiB: 8,192 words add less than 2^29, so the sum stays a small integer.
  while (i + 1 < end) {
    const stop = Math.min(end - 1, i + 16384);
    for (; i < stop; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
    sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (i < end) sum += bytes[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * The one's complement sum of the RFC 768 / RFC 8200 §8.1 pseudo-header (see
 * `pseudoHeader`), computed from the fields without building it. Folded.
 */
export function pseudoHeaderSum(source: Uint8Array, destination: Uint8Array, protocol: number, upperLength: number): number {
  const n = source.length === 4 ? 4 : 16;
  let sum = rangeSum(source, 0, n, rangeSum(destination, 0, n));
  // IPv4: zero, protocol, 16-bit length; IPv6: 32-bit length, three zero octets, next header.
  sum += protocol + (upperLength & 0xffff) + (n === 16 ? upperLength >>> 16 : 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/**
 * RFC 768 / RFC 8200 §8.1 pseudo-header for an upper-layer checksum: source,
 * destination, upper-layer length and next header. The IPv4 form is 12 bytes
 * (zero, protocol, 16-bit length); the IPv6 form is 40 bytes (32-bit length,
 * 3 zero bytes, next header). The family is taken from the address size.
 */
export function pseudoHeader(source: Uint8Array, destination: Uint8Array, protocol: number, upperLength: number): Uint8Array {
  if (source.length === 4) {
    const p = new Uint8Array(12);
    p.set(source, 0);
    p.set(destination.subarray(0, 4), 4);
    p[9] = protocol;
    p[10] = upperLength >>> 8;
    p[11] = upperLength & 0xff;
    return p;
  }
  const p = new Uint8Array(40);
  p.set(source.subarray(0, 16), 0);
  p.set(destination.subarray(0, 16), 16);
  new DataView(p.buffer).setUint32(32, upperLength);
  p[39] = protocol;
  return p;
}
