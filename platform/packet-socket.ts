/**
 * The AF_PACKET vocabulary both packet-socket drivers use (the relay's subscriber ports,
 * `packet-driver.ts`, and the multicast router's ports, `multicast-driver.ts`): link-layer
 * addresses (`struct sockaddr_ll`), membership requests (`struct packet_mreq`) and the
 * receive buffer. packet(7); host order where the kernel's structs are host order.
 */
import type { NativeBinding } from './native';
import { HOST_LE } from './netlink/wire';

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
export function sockaddrLl(native: NativeBinding, protocol: number, ifindex: number, mac?: Uint8Array): Uint8Array {
  const sa = new Uint8Array(SOCKADDR_LL_BYTES);
  const v = new DataView(sa.buffer);
  // sll_family and sll_ifindex are host-endian; sll_protocol is network order.
  v.setUint16(0, native.constants.AF_PACKET, HOST_LE);
  v.setUint16(2, protocol, false);
  v.setInt32(4, ifindex, HOST_LE);
  if (mac) {
    sa[11] = 6; // sll_halen
    sa.set(mac, 12);
  }
  return sa;
}

/** `struct packet_mreq` for PACKET_ADD_MEMBERSHIP: `type` PACKET_MR_*, `mac` for MR_MULTICAST. */
export function packetMreq(ifindex: number, type: number, mac?: Uint8Array): Uint8Array {
  const mreq = new Uint8Array(16);
  const v = new DataView(mreq.buffer);
  v.setInt32(0, ifindex, HOST_LE);
  v.setUint16(4, type, HOST_LE);
  if (mac) {
    v.setUint16(6, mac.length, HOST_LE);
    mreq.set(mac, 8);
  }
  return mreq;
}

/** An `int` socket option value. */
export function int32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, v, HOST_LE);
  return b;
}

/** SO_RCVBUFFORCE (root), else SO_RCVBUF, which the kernel caps at rmem_max. */
export function setReceiveBuffer(native: NativeBinding, fd: number, bytes: number): void {
  const k = native.constants;
  const size = int32(bytes);
  if (native.setsockopt(fd, k.SOL_SOCKET, k.SO_RCVBUFFORCE, size) < 0) native.setsockopt(fd, k.SOL_SOCKET, k.SO_RCVBUF, size);
}
