/**
 * IPv6 fixed header (RFC 8200 §3).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version| Traffic Class |           Flow Label                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Payload Length        |  Next Header  |   Hop Limit   |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                      Source Address (128 bits)                |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                   Destination Address (128 bits)              |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Payload Length is computed on encode and checked on decode. Extension headers are
 * part of the opaque payload here (`nextHeader` names the first one).
 *
 * Linux AF_INET6 raw sockets do not deliver this header (the kernel strips it and
 * gives addresses through recvmsg / IPV6_PKTINFO): use `udp.decodeUdp` with the known
 * addresses there, and this codec only for packet sockets or captures.
 */
import { Reader, Writer, defineCodec, type Codec } from './cursor';

export const IPV6_HEADER_LENGTH = 40;

export interface Ipv6Header {
  readonly trafficClass: number;
  /** 20 bits. */
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

export interface Ipv6Packet {
  readonly header: Ipv6Header;
  readonly payload: Uint8Array;
}

/** Read the fixed header; returns it and the declared Payload Length (checked against the bytes). */
export function readIpv6Header(r: Reader): { header: Ipv6Header; payloadLength: number } {
  const start = r.pos;
  const first = r.u32('ipv6.version');
  if (!r.failed && first >>> 28 !== 6) r.fail('ipv6.version', `version ${first >>> 28}, expected 6`, start);
  const payloadLength = r.u16('ipv6.payloadLength');
  const nextHeader = r.u8('ipv6.nextHeader');
  const hopLimit = r.u8('ipv6.hopLimit');
  const source = r.bytesN('ipv6.source', 16);
  const destination = r.bytesN('ipv6.destination', 16);
  if (!r.failed && payloadLength > r.remaining) {
    r.fail('ipv6.payloadLength', `${payloadLength} exceeds the ${r.remaining} bytes received`, start + 4);
  }
  return {
    header: { trafficClass: (first >>> 20) & 0xff, flowLabel: first & 0xfffff, nextHeader, hopLimit, source, destination },
    payloadLength,
  };
}

export function writeIpv6Header(w: Writer, h: Ipv6Header, payloadLength: number): void {
  if (payloadLength > 0xffff) throw new RangeError('ipv6: jumbograms are not supported');
  w.u32(((6 << 28) | ((h.trafficClass & 0xff) << 20) | (h.flowLabel & 0xfffff)) >>> 0);
  w.u16(payloadLength).u8(h.nextHeader).u8(h.hopLimit).bytes(h.source).bytes(h.destination);
}

export function readIpv6Packet(r: Reader): Ipv6Packet {
  const { header, payloadLength } = readIpv6Header(r);
  return { header, payload: r.bytesN('ipv6.payload', payloadLength) };
}

/** IPv6 packet codec (fixed header + opaque payload). Bytes past Payload Length are an error. */
export const ipv6Packet: Codec<Ipv6Packet> = defineCodec('ipv6', {
  read: readIpv6Packet,
  write: (w, p) => {
    writeIpv6Header(w, p.header, p.payload.length);
    w.bytes(p.payload);
  },
  length: (p) => IPV6_HEADER_LENGTH + p.payload.length,
});
