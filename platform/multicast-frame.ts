/**
 * What the platform does to an IGMP / MLD packet the core built before it leaves a port
 * (the `multicast-send` contract, src/actions.ts): the link-layer destination derived from
 * the IP destination, and an all-zero IP source filled in with the device's address.
 */
import { pseudoHeaderSum, rangeSum } from '../src/wire/checksum';

/**
 * RFC 1112 §6.4: 01:00:5e and the low 23 bits of an IPv4 group; RFC 2464 §7: 33:33 and
 * the low 32 bits of an IPv6 group. Null when the destination is not multicast (the
 * core only sends to groups; anything else is refused and counted).
 */
export function multicastMac(family: 4 | 6, packet: Uint8Array): Uint8Array | null {
  if (family === 4) {
    if (packet.length < 20 || (packet[16]! & 0xf0) !== 0xe0) return null;
    return Uint8Array.of(0x01, 0x00, 0x5e, packet[17]! & 0x7f, packet[18]!, packet[19]!);
  }
  if (packet.length < 40 || packet[24] !== 0xff) return null;
  return Uint8Array.of(0x33, 0x33, packet[36]!, packet[37]!, packet[38]!, packet[39]!);
}

const isZero = (b: Uint8Array, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
};

/** Whether the core left the IP source all-zero for the platform to fill in. */
export function hasZeroSource(family: 4 | 6, packet: Uint8Array): boolean {
  return family === 4 ? packet.length >= 20 && isZero(packet, 12, 16) : packet.length >= 40 && isZero(packet, 8, 24);
}

/**
 * A copy of `packet` with `source` as its IP source and the checksums that cover it
 * recomputed: the IPv4 header checksum (the IGMP checksum does not cover addresses,
 * RFC 3376 §4.1.2), or the MLD checksum over the IPv6 pseudo-header (RFC 3810 §5.1.2,
 * RFC 4443 §2.3), found behind the Hop-by-Hop header. Null when the packet is not laid
 * out as the core builds it (a header length past the end).
 */
export function withSource(family: 4 | 6, packet: Uint8Array, source: Uint8Array): Uint8Array | null {
  const b = packet.slice();
  if (family === 4) {
    const ihl = (b[0]! & 0x0f) * 4;
    if (ihl < 20 || ihl > b.length) return null;
    b.set(source.subarray(0, 4), 12);
    b[10] = 0;
    b[11] = 0;
    const sum = ~rangeSum(b, 0, ihl) & 0xffff;
    b[10] = sum >>> 8;
    b[11] = sum & 0xff;
    return b;
  }
  b.set(source.subarray(0, 16), 8);
  const end = 40 + ((b[4]! << 8) | b[5]!);
  if (end > b.length) return null;
  let next = b[6]!;
  let at = 40;
  if (next === 0) {
    if (at + 2 > end) return null;
    next = b[at]!;
    at += (b[at + 1]! + 1) * 8;
  }
  if (next !== 58 || at + 4 > end) return null;
  b[at + 2] = 0;
  b[at + 3] = 0;
  const sum = ~rangeSum(b, at, end, pseudoHeaderSum(b.subarray(8, 24), b.subarray(24, 40), 58, end - at)) & 0xffff;
  b[at + 2] = sum >>> 8;
  b[at + 3] = sum & 0xff;
  return b;
}
