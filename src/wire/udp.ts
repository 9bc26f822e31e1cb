/**
 * UDP (RFC 768) over IPv4 and IPv6, with the pseudo-header checksum.
 *
 *     0      7 8     15 16    23 24    31
 *    +--------+--------+--------+--------+
 *    |     Source      |   Destination   |
 *    |      Port       |      Port       |
 *    +--------+--------+--------+--------+
 *    |     Length      |    Checksum     |
 *    +--------+--------+--------+--------+
 *    |          data octets ...
 *    +---------------- ...
 *
 * Length and Checksum are computed on encode and checked on decode. The checksum
 * covers a pseudo-header (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6); a computed 0 is
 * sent as 0xffff. Over IPv4 a zero checksum means "none" (`noChecksum`); over IPv6
 * it is mandatory and a zero checksum is an error (RFC 8200 §8.1).
 *
 * Three entry points, by what the socket delivers:
 *  - `decodeUdp(bytes, {source, destination})`: UDP header + payload with known
 *    addresses (Linux AF_INET6 raw sockets strip the IPv6 header);
 *  - `ipv4Udp`: a whole IPv4 datagram (AF_INET raw sockets, IP_HDRINCL sends);
 *  - `ipv6Udp`: a whole IPv6 packet whose Next Header is UDP (packet sockets, captures).
 */
import { Reader, Writer, defineCodec, type Codec, type DecodeResult } from './cursor';
import { pseudoHeaderSum, rangeSum } from './checksum';
import { IPPROTO_UDP, IPV4_MORE_FRAGMENTS, ipv4HeaderLength, readIpv4Header, writeIpv4Header, type Ipv4Header } from './ipv4';
import { IPV6_HEADER_LENGTH, readIpv6Header, writeIpv6Header, type Ipv6Header } from './ipv6';

export const UDP_HEADER_LENGTH = 8;

export interface UdpDatagram {
  readonly sourcePort: number;
  readonly destinationPort: number;
  readonly payload: Uint8Array;
  /** IPv4 only: the sender put 0 in Checksum ("no checksum"); encode does the same. */
  readonly noChecksum?: boolean;
}

/** The addresses of the pseudo-header: 4 bytes each for IPv4, 16 for IPv6. */
export interface UdpAddresses {
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
}

/**
 * Read UDP occupying the whole reader window, verifying Length and Checksum. With
 * `verifyChecksum` false the Checksum is not looked at: for frames the kernel says
 * carry an unfinished checksum (tx offload on a veth/tap: only the pseudo-header sum,
 * to be finished by hardware that a virtual link never reaches) or one it verified.
 */
export function readUdp(r: Reader, addrs: UdpAddresses, verifyChecksum = true): UdpDatagram {
  const start = r.pos;
  const windowLength = r.end - start;
  const sourcePort = r.u16('udp.sourcePort');
  const destinationPort = r.u16('udp.destinationPort');
  const length = r.u16('udp.length');
  const checksum = r.u16('udp.checksum');
  if (!r.failed && length !== windowLength) {
    r.fail('udp.length', `length ${length} but ${windowLength} bytes in the IP payload`, start + 4);
  }
  const payload = r.bytesN('udp.payload', Math.max(0, length - UDP_HEADER_LENGTH));
  const v6 = addrs.source.length === 16;
  let noChecksum = false;
  if (!r.failed) {
    if (!verifyChecksum) {
      noChecksum = checksum === 0 && !v6;
    } else if (checksum === 0) {
      if (v6) r.fail('udp.checksum', 'zero checksum is not allowed over IPv6', start + 6);
      else noChecksum = true;
    } else {
      const ph = pseudoHeaderSum(addrs.source, addrs.destination, IPPROTO_UDP, length);
      if ((~rangeSum(r.bytes, start, start + length, ph) & 0xffff) !== 0) {
        r.fail('udp.checksum', 'bad checksum', start + 6);
      }
    }
  }
  return noChecksum ? { sourcePort, destinationPort, payload, noChecksum } : { sourcePort, destinationPort, payload };
}

export function writeUdp(w: Writer, u: UdpDatagram, addrs: UdpAddresses): void {
  const start = w.pos;
  const length = UDP_HEADER_LENGTH + u.payload.length;
  if (length > 0xffff) throw new RangeError('udp: datagram too long');
  w.u16(u.sourcePort).u16(u.destinationPort).u16(length).u16(0).bytes(u.payload);
  if (u.noChecksum && addrs.source.length === 4) return;
  setUdpChecksum(w.buf, start, length, addrs);
}

/**
 * Compute and store the Checksum of the UDP datagram of `length` octets at `start` in
 * `buf` (header with a zero Checksum, then the payload): for a caller that wrote the
 * payload in place first.
 */
export function setUdpChecksum(buf: Uint8Array, start: number, length: number, addrs: UdpAddresses): void {
  const ph = pseudoHeaderSum(addrs.source, addrs.destination, IPPROTO_UDP, length);
  const sum = (~rangeSum(buf, start, start + length, ph) & 0xffff) || 0xffff;
  buf[start + 6] = sum >> 8;
  buf[start + 7] = sum & 0xff;
}

export const udpEncodingLength = (u: UdpDatagram): number => UDP_HEADER_LENGTH + u.payload.length;

/** A UDP codec bound to the addresses of one pseudo-header. */
export const udpCodec = (addrs: UdpAddresses): Codec<UdpDatagram> =>
  defineCodec('udp', { read: (r) => readUdp(r, addrs), write: (w, u) => writeUdp(w, u, addrs), length: udpEncodingLength });

/** UDP header + payload with addresses known from the socket (IPv6 raw sockets). */
export const decodeUdp = (bytes: Uint8Array, addrs: UdpAddresses): DecodeResult<UdpDatagram> => udpCodec(addrs).decode(bytes);
export const encodeUdp = (u: UdpDatagram, addrs: UdpAddresses, buf?: Uint8Array, offset?: number): Uint8Array =>
  udpCodec(addrs).encode(u, buf, offset);

// ---- IPv4 + UDP --------------------------------------------------------------------

export interface Ipv4UdpDatagram {
  /** `protocol` must be 17 (IPPROTO_UDP). */
  readonly ip: Ipv4Header;
  readonly udp: UdpDatagram;
}

function readIpv4Udp(r: Reader, verifyChecksum: boolean): Ipv4UdpDatagram {
  const start = r.pos;
  const { header, totalLength } = readIpv4Header(r);
  if (!r.failed && header.protocol !== IPPROTO_UDP) r.fail('ipv4.protocol', `protocol ${header.protocol} is not UDP`, start + 9);
  if (!r.failed && ((header.flags & IPV4_MORE_FRAGMENTS) !== 0 || header.fragmentOffset !== 0)) {
    r.fail('ipv4.fragmentOffset', 'fragments are not reassembled', start + 6);
  }
  const body = r.sub('ipv4.payload', Math.max(0, start + totalLength - r.pos));
  const udp = readUdp(body, header, verifyChecksum);
  return { ip: header, udp };
}

const ipv4UdpCodec = (verifyChecksum: boolean): Codec<Ipv4UdpDatagram> => defineCodec('ipv4+udp', {
  read: (r) => readIpv4Udp(r, verifyChecksum),
  write: (w, d) => {
    writeIpv4Header(w, d.ip, udpEncodingLength(d.udp));
    writeUdp(w, d.udp, d.ip);
  },
  length: (d) => ipv4HeaderLength(d.ip) + udpEncodingLength(d.udp),
});

/** A whole IPv4 datagram carrying UDP: what an AF_INET raw socket receives and IP_HDRINCL sends. */
export const ipv4Udp = ipv4UdpCodec(true);
/**
 * `ipv4Udp` that does not verify the UDP Checksum (the IPv4 header checksum still is):
 * for a frame whose checksum the kernel reports unfinished or already verified (see
 * `readUdp`). Encoding always writes a correct checksum.
 */
export const ipv4UdpUnverified = ipv4UdpCodec(false);

// ---- IPv6 + UDP --------------------------------------------------------------------

export interface Ipv6UdpPacket {
  /** `nextHeader` must be 17 (no extension headers). */
  readonly ip: Ipv6Header;
  readonly udp: UdpDatagram;
}

function readIpv6Udp(r: Reader, verifyChecksum: boolean): Ipv6UdpPacket {
  const start = r.pos;
  const { header, payloadLength } = readIpv6Header(r);
  if (!r.failed && header.nextHeader !== IPPROTO_UDP) r.fail('ipv6.nextHeader', `next header ${header.nextHeader} is not UDP`, start + 6);
  const body = r.sub('ipv6.payload', payloadLength);
  return { ip: header, udp: readUdp(body, header, verifyChecksum) };
}

const ipv6UdpCodec = (verifyChecksum: boolean): Codec<Ipv6UdpPacket> => defineCodec('ipv6+udp', {
  read: (r) => readIpv6Udp(r, verifyChecksum),
  write: (w, p) => {
    writeIpv6Header(w, p.ip, udpEncodingLength(p.udp));
    writeUdp(w, p.udp, p.ip);
  },
  length: (p) => IPV6_HEADER_LENGTH + udpEncodingLength(p.udp),
});

/** A whole IPv6 packet carrying UDP directly after the fixed header. */
export const ipv6Udp = ipv6UdpCodec(true);
/** `ipv6Udp` that does not verify the UDP Checksum (see `ipv4UdpUnverified`). */
export const ipv6UdpUnverified = ipv6UdpCodec(false);
