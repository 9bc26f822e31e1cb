/**
 * The AF_PACKET vocabulary both packet-socket drivers use (the relay's subscriber ports,
 * `packet-driver.ts`, and the multicast router's ports, `multicast-driver.ts`): link-layer
 * addresses (`struct sockaddr_ll`), membership requests (`struct packet_mreq`) and the
 * receive buffer. packet(7); host order where the kernel's structs are host order (the
 * ByteOrder argument, the host's by default: platform/byte-order.ts).
 */
import type { NativeBinding, NativeConstants } from './native';
import { HOST_ORDER, int32, type ByteOrder } from './byte-order';

export const ETH_P_ALL = 0x0003;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_MULTICAST = 0;
export const PACKET_MR_ALLMULTI = 2;
export const SOCKADDR_LL_BYTES = 20;

export const htons = (x: number): number => ((x & 0xff) << 8) | (x >> 8);

/** `struct sockaddr_ll`; with `mac`, the link-layer destination of a send (sll_halen 6). */
export function sockaddrLl(
  native: { readonly constants: Pick<NativeConstants, 'AF_PACKET'> }, protocol: number, ifindex: number, mac?: Uint8Array, order: ByteOrder = HOST_ORDER,
): Uint8Array {
  const sa = new Uint8Array(SOCKADDR_LL_BYTES);
  const v = new DataView(sa.buffer);
  // linux/if_packet.h: sll_family and sll_ifindex are host-endian; sll_protocol is __be16.
  v.setUint16(0, native.constants.AF_PACKET, order === 'le');
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, order === 'le');
  if (mac) {
    sa[11] = 6; // sll_halen
    sa.set(mac, 12);
  }
  return sa;
}

/** `struct packet_mreq` for PACKET_ADD_MEMBERSHIP: `type` PACKET_MR_*, `mac` for MR_MULTICAST. */
export function packetMreq(ifindex: number, type: number, mac?: Uint8Array, order: ByteOrder = HOST_ORDER): Uint8Array {
  const mreq = new Uint8Array(16);
  const v = new DataView(mreq.buffer);
  // struct packet_mreq { int mr_ifindex; unsigned short mr_type, mr_alen; unsigned char mr_address[8]; }
  v.setInt32(0, ifindex, order === 'le');
  v.setUint16(4, type, order === 'le');
  if (mac) {
    v.setUint16(6, mac.length, order === 'le');
    mreq.set(mac, 8);
  }
  return mreq;
}

/**
 * tpacket_auxdata.tp_status (linux/if_packet.h: __u32, host order) as the addon copies it
 * from the PACKET_AUXDATA control message into a frame's name slot (LL_STATUS_AT), read
 * without a DataView: it runs for every frame.
 */
export const tpStatus = (b: Uint8Array, at: number, order: ByteOrder = HOST_ORDER): number => (order === 'le'
  ? b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)
  : (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** An `int` socket option value (the one helper: byte-order.ts; packet-driver.ts and paging-host.ts take it from here). */
export { int32 } from './byte-order';

/** SO_RCVBUFFORCE (root), else SO_RCVBUF, which the kernel caps at rmem_max. */
export function setReceiveBuffer(native: NativeBinding, fd: number, bytes: number): void {
  const k = native.constants;
  const size = int32(bytes);
  if (native.setsockopt(fd, k.SOL_SOCKET, k.SO_RCVBUFFORCE, size) < 0) native.setsockopt(fd, k.SOL_SOCKET, k.SO_RCVBUF, size);
}
