/**
 * Socket addresses of the IP and netlink families, as bind(2), sendto(2) and
 * getsockname(2) exchange them with the kernel. Host order where the UAPI says a plain
 * integer (the families, sin6_scope_id, nl_pid, nl_groups), network order where it says
 * __be16 / __be32 (sin_port, sin6_port, sin6_flowinfo): the ByteOrder argument, the
 * host's by default (platform/byte-order.ts), lets the golden test
 * (test/unit/byteorder/) ask for big-endian on any machine.
 */
import type { NativeConstants } from './native';
import { HOST_ORDER, littleEndian, type ByteOrder } from './byte-order';

type Family = 4 | 6;
type InetConstants = { readonly constants: Pick<NativeConstants, 'AF_INET' | 'AF_INET6'> };

/** sizeof(struct sockaddr_in) and sizeof(struct sockaddr_in6) (linux/in.h, linux/in6.h). */
export const SOCKADDR_IN_BYTES: Record<Family, number> = { 4: 16, 6: 28 };

/**
 * struct sockaddr_in { sa_family_t sin_family; __be16 sin_port; struct in_addr sin_addr; pad[8] }
 * struct sockaddr_in6 { sa_family_t sin6_family; __be16 sin6_port; __be32 sin6_flowinfo;
 *                       struct in6_addr sin6_addr; __u32 sin6_scope_id; }
 * written into `out` at `at` (which the caller zeroed: the padding and sin6_flowinfo,
 * which gleand never sets, stay 0), allocating nothing: the send path's form.
 */
export function writeSockaddr(
  out: Uint8Array, at: number, n: InetConstants, family: Family, address: Uint8Array, port: number, scopeId: number, order: ByteOrder = HOST_ORDER,
): void {
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  v.setUint16(at, family === 4 ? n.constants.AF_INET : n.constants.AF_INET6, littleEndian(order));
  v.setUint16(at + 2, port, false);
  if (family === 4) out.set(address.subarray(0, 4), at + 4);
  else {
    out.set(address.subarray(0, 16), at + 8);
    v.setUint32(at + 24, scopeId >>> 0, littleEndian(order));
  }
}

/** `writeSockaddr` into a struct of its own. */
export function sockaddrBytes(
  n: InetConstants, family: Family, address: Uint8Array, port: number, scopeId: number, order: ByteOrder = HOST_ORDER,
): Uint8Array {
  const sa = new Uint8Array(SOCKADDR_IN_BYTES[family]);
  writeSockaddr(sa, 0, n, family, address, port, scopeId, order);
  return sa;
}

/** sizeof(struct sockaddr_nl) (linux/netlink.h). */
export const SOCKADDR_NL_BYTES = 12;

/**
 * struct sockaddr_nl { __kernel_sa_family_t nl_family; unsigned short nl_pad; __u32 nl_pid;
 * __u32 nl_groups; } for bind(2): nl_pid 0 lets the kernel assign the port id, nl_groups 0
 * (groups are joined with NETLINK_ADD_MEMBERSHIP instead). netlink(7).
 */
export function sockaddrNl(afNetlink: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const sa = new Uint8Array(SOCKADDR_NL_BYTES);
  new DataView(sa.buffer).setUint16(0, afNetlink, littleEndian(order));
  return sa;
}

/** nl_pid of the sockaddr_nl getsockname(2) returned: the port id the kernel assigned; null if too short. */
export function sockaddrNlPid(name: Uint8Array, order: ByteOrder = HOST_ORDER): number | null {
  if (name.length < 8) return null;
  return new DataView(name.buffer, name.byteOffset, name.byteLength).getUint32(4, littleEndian(order));
}
