/**
 * Host byte order: the one place that knows which way this CPU lays out an integer.
 *
 * The kernel's ABI structures are host order ("native endian"): nlmsghdr and nlattr
 * (linux/netlink.h), rtmsg / ndmsg fields and u32 rtattr values, sockaddr_ll's
 * sll_family and sll_ifindex (linux/if_packet.h), struct sock_filter (linux/filter.h),
 * the multicast-routing socket options (linux/mroute.h, linux/mroute6.h), the socket
 * addresses' families, sin6_scope_id and nl_pid (platform/sockaddr.ts), every int
 * socket option (int32 below), rtnexthop and rta_mfc_stats of a multicast dump. That is
 * little-endian on x86, arm, aarch64 and mipsel, big-endian on mips (most routers),
 * ppc and s390x. Fields the UAPI marks __be16 / __be32 (nfgenmsg.res_id, nf_tables
 * values, sll_protocol, addresses) are network order on every host and never take one.
 *
 * Every codec of host-order fields takes a ByteOrder, default HOST_ORDER, so that the
 * golden test (test/unit/byteorder/) can encode and decode big-endian on this machine.
 */
export type ByteOrder = 'le' | 'be';

export const HOST_ORDER: ByteOrder = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 'le' : 'be';

/** DataView's `littleEndian` argument for an order. */
export const littleEndian = (order: ByteOrder): boolean => order === 'le';

/**
 * A C `int` in `order`: the value of an int socket option (SO_RCVBUF, IPV6_V6ONLY,
 * PACKET_AUXDATA, MRT_INIT, NETLINK_ADD_MEMBERSHIP...), which setsockopt(2) copies as
 * the host's int (socket(7)). 32 bits on every Linux ABI gleand runs on.
 */
export function int32(value: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, littleEndian(order));
  return b;
}
