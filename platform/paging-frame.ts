/**
 * The paging protocol's datagrams (src/paging/PROTOCOL.md §2) as they cross a subscriber
 * port's packet socket: a host's REGISTER / DEREGISTER / PAGE_RESPONSE read from the
 * frame (with the port and Ethernet source only a packet socket reports), and the
 * agent's AREA_ADVERT / PAGE / REGISTER_ACK written as a frame with the relay's own
 * builders (src/relay/frames.ts), so the hosts' wide casts need no address on the port
 * beyond the one the relay already uses.
 */
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { trimToIpLength, udp4Packet, udp6Packet } from '../src/relay/frames';
import { ipv4Udp, ipv4UdpUnverified, ipv6Udp, ipv6UdpUnverified } from '../src/wire/udp';
import { multicastMac } from './multicast-frame';

/** Ethernet broadcast, the link-layer destination of 255.255.255.255 (RFC 894). */
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/** The subscriber ports the paging protocol runs on: every fixed area's and every customised host area's (RFC 3154 §4.12, §4.18). */
export function pagingPorts(config: Config): Set<string> {
  const ports = new Set<string>();
  if (!config.paging.enabled) return ports;
  for (const a of config.pagingAreas) for (const p of a.port) ports.add(p);
  for (const h of config.pagingHosts) for (const p of h.port) ports.add(p);
  return ports;
}

/**
 * Whether a frame (from its IP header) is a UDP datagram to `port`: the cheap test the
 * receive loop makes per frame before anything is decoded. IPv4 only unfragmented (the
 * BPF filter lets no fragment through), IPv6 only UDP right after the fixed header.
 */
export function isUdpTo(family: 4 | 6, b: Uint8Array, port: number): boolean {
  if (family === 4) {
    if (b.length < 20 || b[9] !== 17) return false;
    const at = (b[0]! & 0x0f) * 4;
    return at >= 20 && b.length >= at + 4 && ((b[at + 2]! << 8) | b[at + 3]!) === port;
  }
  return b.length >= 44 && b[6] === 17 && ((b[42]! << 8) | b[43]!) === port;
}

export type HostDatagram = { readonly source: Uint8Array; readonly sourcePort: number; readonly payload: Uint8Array };

/**
 * A host's datagram to the paging port, or the decoder's field name when the frame is
 * not a well-formed one (never throws: every byte is the subscriber's). The checksum is
 * verified unless the kernel says it is unfinished (tx offload) or already checked.
 */
export function readHostDatagram(family: 4 | 6, frame: Uint8Array, checksum: 'check' | 'unfinished' | 'valid'): HostDatagram | string {
  const bytes = trimToIpLength(family, frame);
  const verify = checksum === 'check';
  const d = family === 4 ? (verify ? ipv4Udp : ipv4UdpUnverified).decode(bytes) : (verify ? ipv6Udp : ipv6UdpUnverified).decode(bytes);
  if (!d.ok) return d.error.field;
  return { source: d.value.ip.source, sourcePort: d.value.udp.sourcePort, payload: d.value.udp.payload };
}

type PagingSend = Extract<Action, { kind: 'paging-send' }>;

/**
 * The frame of a `paging-send`: UDP from the paging port at `source` (the port's giaddr
 * for IPv4, its link-local for IPv6: the rule the relay and the multicast querier use
 * for "our address on this port"), to the Ethernet broadcast for 255.255.255.255, to
 * 33:33:00:00:00:01 for ff02::1 (RFC 2464 §7), to the host's MAC for a unicast ack.
 * Null when a unicast send names no MAC (nothing to address the frame to).
 */
export function pagingFrame(a: PagingSend, source: Uint8Array, pagingPort: number): { bytes: Uint8Array; mac: Uint8Array } | null {
  const bytes = a.family === 4
    ? udp4Packet(source, a.destination, pagingPort, a.destinationPort, a.payload)
    : udp6Packet(source, a.destination, pagingPort, a.destinationPort, a.payload);
  const wide = a.family === 4 ? (a.destination.every((x) => x === 255) ? BROADCAST_MAC : null) : multicastMac(6, bytes);
  const mac = wide ?? a.destinationMac ?? null;
  return mac ? { bytes, mac } : null;
}
