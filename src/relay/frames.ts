import { IPPROTO_UDP, Writer, ipv4Udp, ipv6Udp, setUdpChecksum, writeIpv4Header, type Ipv4Header } from '../wire';
import { poolAlloc } from '../wire/pool';

/**
 * The IP packets the relay puts on a subscriber link itself (it addresses frames by
 * MAC, so it also writes the IP and UDP headers, with their checksums).
 */
const DEFAULT_TTL = 64;

export function udp4Packet(source: Uint8Array, destination: Uint8Array, sourcePort: number, destinationPort: number, payload: Uint8Array): Uint8Array {
  return ipv4Udp.encode({
    ip: { tos: 0, identification: 0, flags: 0, fragmentOffset: 0, ttl: DEFAULT_TTL, protocol: IPPROTO_UDP,
      source, destination, options: new Uint8Array(0) },
    udp: { sourcePort, destinationPort, payload },
  });
}

const IPV4_UDP_HEADERS = 20 + 8;
const NO_OPTIONS = new Uint8Array(0);

/**
 * `udp4Packet` for a payload written in place by `fill(frame, 28)`: the reply path
 * puts the server's message into the frame once, instead of encoding the message and
 * then copying it into the datagram.
 */
export function udp4PacketWith(
  source: Uint8Array, destination: Uint8Array, sourcePort: number, destinationPort: number,
  payloadLength: number, fill: (frame: Uint8Array, at: number) => void,
): Uint8Array {
  const udpLength = 8 + payloadLength;
  if (udpLength > 0xffff - 20) throw new RangeError('udp: datagram too long');
  const out = poolAlloc(IPV4_UDP_HEADERS + payloadLength);
  fill(out, IPV4_UDP_HEADERS);
  const ip: Ipv4Header = { tos: 0, identification: 0, flags: 0, fragmentOffset: 0, ttl: DEFAULT_TTL, protocol: IPPROTO_UDP,
    source, destination, options: NO_OPTIONS };
  const w = new Writer(out);
  writeIpv4Header(w, ip, udpLength);
  w.u16(sourcePort).u16(destinationPort).u16(udpLength).u16(0);
  setUdpChecksum(out, 20, udpLength, ip);
  return out;
}

export function udp6Packet(source: Uint8Array, destination: Uint8Array, sourcePort: number, destinationPort: number, payload: Uint8Array): Uint8Array {
  return ipv6Udp.encode({
    ip: { trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_UDP, hopLimit: DEFAULT_TTL, source, destination },
    udp: { sourcePort, destinationPort, payload },
  });
}

/**
 * The IP datagram inside a frame: Ethernet pads short frames to 60 bytes, so the
 * bytes after IPv4 Total Length / IPv6 Payload Length are not part of the packet.
 */
export function trimToIpLength(family: 4 | 6, bytes: Uint8Array): Uint8Array {
  if (family === 4 && bytes.length >= 4) return bytes.subarray(0, Math.min(bytes.length, (bytes[2]! << 8) | bytes[3]!));
  if (family === 6 && bytes.length >= 6) return bytes.subarray(0, Math.min(bytes.length, 40 + ((bytes[4]! << 8) | bytes[5]!)));
  return bytes;
}
