import { ipv4Udp } from '../wire/udp';

/**
 * A Wake-on-LAN magic packet (AMD "Magic Packet Technology", 1995): six 0xff octets then
 * the target MAC sixteen times, anywhere in a frame the sleeping NIC receives. gleand
 * sends it as the payload of a UDP datagram to the discard port 9 (the de-facto WoL
 * port), broadcast at IP, unicast at Ethernet to the host's MAC (the `link-send`
 * action), so a NIC filtering on its own address accepts it and no other host on the
 * port wakes (RFC 3154 §4.11: use the L2 paging mechanism there is).
 */
export const WOL_PORT = 9;
const BROADCAST = new Uint8Array([255, 255, 255, 255]);
const UNSPECIFIED = new Uint8Array(4);

export function magicPayload(mac: Uint8Array): Uint8Array {
  const out = new Uint8Array(6 + 16 * 6).fill(0xff, 0, 6);
  for (let i = 0; i < 16; i++) out.set(mac.subarray(0, 6), 6 + 6 * i);
  return out;
}

/** The IPv4 datagram (header included) carrying the magic packet for `mac`. */
export function magicPacket(mac: Uint8Array): Uint8Array {
  return ipv4Udp.encode({
    ip: {
      tos: 0, identification: 0, flags: 0, fragmentOffset: 0, ttl: 1, protocol: 17,
      // 0.0.0.0: the datagram is link-local in effect (TTL 1) and needs no address of the port.
      source: UNSPECIFIED, destination: BROADCAST, options: new Uint8Array(0),
    },
    udp: { sourcePort: WOL_PORT, destinationPort: WOL_PORT, payload: magicPayload(mac) },
  }).slice();
}
