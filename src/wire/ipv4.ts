/**
 * IPv4 header and datagram (RFC 791 §3.1).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |Version|  IHL  |Type of Service|          Total Length         |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |         Identification        |Flags|      Fragment Offset    |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |  Time to Live |    Protocol   |         Header Checksum       |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                       Source Address                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Destination Address                        |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                    Options (IHL*4 - 20 bytes)                 |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * IHL, Total Length and Header Checksum are computed on encode and checked on decode,
 * never stored in the value (CONVENTIONS 5). Options are kept as raw bytes (a multiple
 * of 4, at most 40, bounded by IHL) — e.g. Router Alert (RFC 2113) for IGMP.
 */
import { Reader, Writer, defineCodec, type Codec } from './cursor';
import { rangeSum } from './checksum';

export const IPV4_MIN_HEADER = 20;
export const IPPROTO_IGMP = 2;
export const IPPROTO_UDP = 17;

export interface Ipv4Header {
  /** Type of Service octet (DSCP << 2 | ECN). */
  readonly tos: number;
  readonly identification: number;
  /** The 3 flag bits: 0b010 Don't Fragment, 0b001 More Fragments. */
  readonly flags: number;
  /** In units of 8 bytes. */
  readonly fragmentOffset: number;
  readonly ttl: number;
  readonly protocol: number;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  /** Raw options, length a multiple of 4, ≤ 40. */
  readonly options: Uint8Array;
}

export interface Ipv4Datagram {
  readonly header: Ipv4Header;
  readonly payload: Uint8Array;
}

export const IPV4_DONT_FRAGMENT = 0b010;
export const IPV4_MORE_FRAGMENTS = 0b001;

export const ipv4HeaderLength = (h: Ipv4Header): number => IPV4_MIN_HEADER + h.options.length;

/**
 * Read a header; returns the header and the Total Length it declared (the caller
 * bounds the payload with it). Checks version, IHL ≥ 5, IHL within Total Length, Total
 * Length within the bytes, and the header checksum.
 */
export function readIpv4Header(r: Reader): { header: Ipv4Header; totalLength: number } {
  const start = r.pos;
  const vihl = r.u8('ipv4.version');
  const version = vihl >> 4;
  const ihl = vihl & 0x0f;
  if (!r.failed && version !== 4) r.fail('ipv4.version', `version ${version}, expected 4`, start);
  if (!r.failed && ihl < 5) r.fail('ipv4.ihl', `IHL ${ihl} < 5`, start);
  const tos = r.u8('ipv4.tos');
  const totalLength = r.u16('ipv4.totalLength');
  if (!r.failed && totalLength < ihl * 4) r.fail('ipv4.totalLength', `${totalLength} < header length ${ihl * 4}`, start + 2);
  if (!r.failed && start + totalLength > r.end) {
    r.fail('ipv4.totalLength', `${totalLength} exceeds the ${r.end - start} bytes received`, start + 2);
  }
  const identification = r.u16('ipv4.identification');
  const fl = r.u16('ipv4.flags');
  const ttl = r.u8('ipv4.ttl');
  const protocol = r.u8('ipv4.protocol');
  r.u16('ipv4.headerChecksum');
  const source = r.bytesN('ipv4.source', 4);
  const destination = r.bytesN('ipv4.destination', 4);
  const options = r.bytesN('ipv4.options', Math.max(0, ihl * 4 - IPV4_MIN_HEADER));
  if (!r.failed && (~rangeSum(r.bytes, start, start + ihl * 4) & 0xffff) !== 0) {
    r.fail('ipv4.headerChecksum', 'bad header checksum', start + 10);
  }
  const header: Ipv4Header = {
    tos, identification, flags: fl >> 13, fragmentOffset: fl & 0x1fff, ttl, protocol, source, destination, options,
  };
  return { header, totalLength };
}

/** Write a header for a datagram of `payloadLength` bytes, with its checksum. */
export function writeIpv4Header(w: Writer, h: Ipv4Header, payloadLength: number): void {
  const start = w.pos;
  const hl = ipv4HeaderLength(h);
  if (h.options.length % 4 !== 0 || h.options.length > 40) throw new RangeError('ipv4: options must be a multiple of 4, at most 40 bytes');
  w.u8(0x40 | (hl >> 2)).u8(h.tos).u16(hl + payloadLength).u16(h.identification);
  w.u16(((h.flags & 0x7) << 13) | (h.fragmentOffset & 0x1fff)).u8(h.ttl).u8(h.protocol).u16(0);
  w.bytes(h.source).bytes(h.destination).bytes(h.options);
  const sum = ~rangeSum(w.buf, start, start + hl) & 0xffff;
  w.buf[start + 10] = sum >> 8;
  w.buf[start + 11] = sum & 0xff;
}

/** Read a whole datagram: header, then exactly Total Length − IHL·4 payload bytes. */
export function readIpv4Datagram(r: Reader): Ipv4Datagram {
  const start = r.pos;
  const { header, totalLength } = readIpv4Header(r);
  const payload = r.bytesN('ipv4.payload', Math.max(0, start + totalLength - r.pos));
  return { header, payload };
}

/** IPv4 datagram codec (header + opaque payload). Bytes past Total Length are an error. */
export const ipv4Datagram: Codec<Ipv4Datagram> = defineCodec('ipv4', {
  read: readIpv4Datagram,
  write: (w, d) => {
    writeIpv4Header(w, d.header, d.payload.length);
    w.bytes(d.payload);
  },
  length: (d) => ipv4HeaderLength(d.header) + d.payload.length,
});
