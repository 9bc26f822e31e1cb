/**
 * Netlink / rtnetlink numbers (linux/netlink.h, linux/rtnetlink.h, linux/neighbour.h,
 * linux/if_link.h, linux/if_addr.h). These are the same on every architecture; socket
 * level constants that are not (SOL_SOCKET, SO_RCVBUF) come from the addon.
 */

/** Message types (linux/netlink.h, linux/rtnetlink.h). */
export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;
export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18,
  NEWADDR: 20, DELADDR: 21, GETADDR: 22,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWNEIGH: 28, DELNEIGH: 29, GETNEIGH: 30,
} as const;

/** nlmsg_flags. GET requests use ROOT/MATCH (DUMP), NEW requests use REPLACE.. APPEND. */
export const NLM_F = {
  REQUEST: 0x01, MULTI: 0x02, ACK: 0x04, ECHO: 0x08, DUMP_INTR: 0x10, DUMP_FILTERED: 0x20,
  ROOT: 0x100, MATCH: 0x200, ATOMIC: 0x400, DUMP: 0x300,
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800,
  /** in NLMSG_ERROR: the original request was cut to its header (NETLINK_CAP_ACK) */
  CAPPED: 0x100,
  /** in NLMSG_ERROR / NLMSG_DONE: extended ACK TLVs follow */
  ACK_TLVS: 0x200,
} as const;

/** NLMSGERR_ATTR_* (extended ACK TLVs, linux/netlink.h). */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

/** Socket options at SOL_NETLINK. */
export const NETLINK_OPT = {
  ADD_MEMBERSHIP: 1, DROP_MEMBERSHIP: 2, PKTINFO: 3, BROADCAST_ERROR: 4, NO_ENOBUFS: 5,
  LISTEN_ALL_NSID: 8, LIST_MEMBERSHIPS: 9, CAP_ACK: 10, EXT_ACK: 11, GET_STRICT_CHK: 12,
} as const;

/** Netlink protocol numbers. */
export const NETLINK_ROUTE = 0;

/** Multicast groups (enum rtnetlink_groups). */
export const RTNLGRP = {
  LINK: 1, NEIGH: 3, IPV4_IFADDR: 5, IPV4_ROUTE: 7, IPV6_IFADDR: 9, IPV6_ROUTE: 11,
} as const;

export const AF = { UNSPEC: 0, INET: 2, INET6: 10 } as const;

/** rtm_table values; ids above 255 travel in RTA_TABLE. */
export const RT_TABLE = { UNSPEC: 0, DEFAULT: 253, MAIN: 254, LOCAL: 255 } as const;

/** rtm_protocol. gleand installs with its own number (CONVENTIONS 11). */
export const RTPROT = { UNSPEC: 0, REDIRECT: 1, KERNEL: 2, BOOT: 3, STATIC: 4, RA: 9, DHCP: 16 } as const;

export const RT_SCOPE = { UNIVERSE: 0, SITE: 200, LINK: 253, HOST: 254, NOWHERE: 255 } as const;

export const RTN = {
  UNSPEC: 0, UNICAST: 1, LOCAL: 2, BROADCAST: 3, ANYCAST: 4, MULTICAST: 5,
  BLACKHOLE: 6, UNREACHABLE: 7, PROHIBIT: 8, THROW: 9, NAT: 10,
} as const;

export const RTA = {
  DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8,
  MULTIPATH: 9, FLOW: 11, CACHEINFO: 12, TABLE: 15, MARK: 16, MFC_STATS: 17, VIA: 18,
  NEWDST: 19, PREF: 20, ENCAP_TYPE: 21, ENCAP: 22, EXPIRES: 23, UID: 25, TTL_PROPAGATE: 26,
  NH_ID: 30,
} as const;

/** Neighbour states (ndm_state) and flags (ndm_flags). */
export const NUD = {
  INCOMPLETE: 0x01, REACHABLE: 0x02, STALE: 0x04, DELAY: 0x08, PROBE: 0x10,
  FAILED: 0x20, NOARP: 0x40, PERMANENT: 0x80, NONE: 0x00,
} as const;
export const NTF = { USE: 0x01, SELF: 0x02, MASTER: 0x04, PROXY: 0x08, EXT_LEARNED: 0x10, OFFLOADED: 0x20, ROUTER: 0x80 } as const;

export const NDA = {
  DST: 1, LLADDR: 2, CACHEINFO: 3, PROBES: 4, VLAN: 5, PORT: 6, VNI: 7, IFINDEX: 8,
  MASTER: 9, LINK_NETNSID: 10, SRC_VNI: 11, PROTOCOL: 12, NH_ID: 13, FLAGS_EXT: 15,
} as const;

export const IFLA = {
  ADDRESS: 1, BROADCAST: 2, IFNAME: 3, MTU: 4, LINK: 5, QDISC: 6, STATS: 7, MASTER: 10,
  TXQLEN: 13, OPERSTATE: 16, LINKMODE: 17, LINKINFO: 18, GROUP: 27, CARRIER: 33,
} as const;

/** ifi_flags (linux/if.h). */
export const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, MULTICAST: 0x1000, LOWER_UP: 0x10000 } as const;

export const IFA = {
  ADDRESS: 1, LOCAL: 2, LABEL: 3, BROADCAST: 4, ANYCAST: 5, CACHEINFO: 6, MULTICAST: 7,
  FLAGS: 8, RT_PRIORITY: 9, TARGET_NETNSID: 10, PROTO: 11,
} as const;

/** nla_type bits that are not part of the type (linux/netlink.h). */
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = 0x3fff;
