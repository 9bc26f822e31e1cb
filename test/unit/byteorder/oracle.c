/*
 * The byte-order oracle: every kernel structure gleand writes in host order, filled
 * through the kernel's own UAPI headers and macros (NLMSG_*, RTA_*, NLA_*, BPF_STMT /
 * BPF_JUMP, IF_SET) with the values golden.test.ts gives the TypeScript encoders, and
 * printed as hex, one case a line:
 *
 *   endian be|le
 *   case NAME HEX
 *
 * golden.test.ts builds it twice at test time: with the host's cc (x86-64, little-endian)
 * and with mips-linux-gnu-gcc -static (big-endian, the most common router CPU), which it
 * runs under qemu-mips-static. Each arch's compiler lays the structs out as that arch's
 * kernel reads them (padding, alignment), so a layout difference shows as a length
 * difference, and a byte-order slip as swapped bytes. Values are distinctive (0x0102,
 * 0x01020304) so that a swapped pair cannot hide.
 *
 * Nothing here is copied from gleand's encoders: the programs and messages are written
 * from the kernel's definitions (linux/filter.h, linux/netlink.h, linux/rtnetlink.h,
 * linux/neighbour.h, linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h,
 * linux/if_packet.h, linux/mroute.h, linux/mroute6.h, linux/in.h, linux/in6.h). Some
 * cases are what the kernel sends and gleand only reads (getsockname's sockaddr_nl,
 * tp_status, a multicast routing dump): the decoders are checked against those.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/mroute.h>
#include <linux/mroute6.h>
#include <linux/neighbour.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

/* The values golden.test.ts passes to the TypeScript side (keep in step with VALUES there). */
#define SEQ 0x01020304u
#define PID 0x05060708u
#define IFINDEX 0x01020304
#define OIF 0x0a0b0c0du
#define PRIORITY 0x11121314u
#define TABLE 0x21222324u
#define RTM_FLAGS_VALUE 0x31323334u
#define VIFI 0x0102
#define PIFI 0x0304
#define PARENT 0x0102
#define NUD_STATE 0x0182
#define PORT 0x0a0b
#define SOCKOPT_INT 0x01020304
#define TP_STATUS 0x01020388u /* ...TP_STATUS_CSUM_VALID | TP_STATUS_CSUMNOTREADY in its low byte */
#define OIF2 0x41424344
#define MFC_PACKETS 0x000a0b0c0d0e0f10ull /* below 2^53: JavaScript numbers hold them exactly */
#define MFC_BYTES 0x0011121314151617ull
#define MFC_WRONG_IF 0x0001020304050607ull
#define MFC_EXPIRES 0x0000313233343536ull
static const unsigned char MAC[6] = { 0x02, 0x00, 0x5e, 0x10, 0x20, 0x30 };
static const unsigned char V4_DST[4] = { 192, 0, 2, 0 };       /* 192.0.2.0 (RFC 5737) */
static const unsigned char V4_SRC[4] = { 192, 0, 2, 1 };
static const unsigned char V4_GROUP[4] = { 232, 1, 2, 3 };
static const unsigned char V6_ADDR[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }; /* 2001:db8::1 (RFC 3849) */
static const unsigned char V6_PREFIX[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x01, 0 };           /* 2001:db8:0:100::/56 */
static const unsigned char V6_GROUP[16] = { 0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x01 }; /* ff3e::8000:1 */

static void print_case(const char *name, const void *p, size_t len)
{
	const unsigned char *b = p;
	printf("case %s ", name);
	for (size_t i = 0; i < len; i++)
		printf("%02x", b[i]);
	printf("\n");
}

/* ---------------------------------------------------------------------------------
 * Netlink messages, built the way iproute2 and libmnl build them: the header's
 * nlmsg_len grows by each aligned attribute. */

/* 8-aligned like the start of a kernel skb's data, for the RTA_PAD rule of nla_put_64bit below */
static _Alignas(8) unsigned char buf[8192];

static struct nlmsghdr *msg_start(unsigned char *at, uint16_t type, uint16_t flags, uint32_t seq, uint32_t pid, size_t family_len)
{
	struct nlmsghdr *n = (struct nlmsghdr *)at;
	n->nlmsg_len = NLMSG_LENGTH(family_len);
	n->nlmsg_type = type;
	n->nlmsg_flags = flags;
	n->nlmsg_seq = seq;
	n->nlmsg_pid = pid;
	return n;
}

static void *tail(struct nlmsghdr *n)
{
	return (char *)n + NLMSG_ALIGN(n->nlmsg_len);
}

/* rtnetlink attribute (struct rtattr; RTA_LENGTH counts header + value, not padding) */
static void rta_put(struct nlmsghdr *n, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = tail(n);
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

static void rta_u32(struct nlmsghdr *n, unsigned short type, uint32_t x)
{
	rta_put(n, type, &x, sizeof x);
}

/* nfnetlink attribute (struct nlattr) and nests (NLA_F_NESTED, linux/netlink.h) */
static void nla_put(struct nlmsghdr *n, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = tail(n);
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void nla_str(struct nlmsghdr *n, uint16_t type, const char *s)
{
	nla_put(n, type, s, strlen(s) + 1);
}

static struct nlattr *nest_start(struct nlmsghdr *n, uint16_t type)
{
	struct nlattr *a = tail(n);
	a->nla_type = type | NLA_F_NESTED;
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + NLA_HDRLEN;
	return a;
}

static void nest_end(struct nlmsghdr *n, struct nlattr *a)
{
	a->nla_len = (uint16_t)((char *)n + n->nlmsg_len - (char *)a);
}

/* RTM_NEWROUTE: rtmsg + RTA_DST, RTA_OIF, RTA_PRIORITY, RTA_TABLE (the order of
 * gleand's attribute table, route.ts) */
static size_t route(unsigned char *at)
{
	struct nlmsghdr *n = msg_start(at, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, SEQ, PID, sizeof(struct rtmsg));
	struct rtmsg *r = NLMSG_DATA(n);
	r->rtm_family = AF_INET;
	r->rtm_dst_len = 24;
	r->rtm_table = RT_TABLE_UNSPEC; /* the table id is above 255: RTA_TABLE carries it */
	r->rtm_protocol = 0x99;
	r->rtm_scope = RT_SCOPE_LINK;
	r->rtm_type = RTN_UNICAST;
	r->rtm_flags = RTM_FLAGS_VALUE;
	rta_put(n, RTA_DST, V4_DST, sizeof V4_DST);
	rta_u32(n, RTA_OIF, OIF);
	rta_u32(n, RTA_PRIORITY, PRIORITY);
	rta_u32(n, RTA_TABLE, TABLE);
	return n->nlmsg_len;
}

/* Two RTM_NEWROUTEs as rtnl.ts sends a batch in one sendmsg: numbered from SEQ, nlmsg_pid
 * 0 (the kernel), NLM_F_REQUEST on both, NLM_F_ACK on the last only. */
static size_t rtm_batch(unsigned char *at)
{
	struct nlmsghdr *a = (struct nlmsghdr *)at;
	size_t off = NLMSG_ALIGN(route(at));
	struct nlmsghdr *b = (struct nlmsghdr *)(at + off);
	off += NLMSG_ALIGN(route(at + off));
	a->nlmsg_flags &= ~NLM_F_ACK;
	a->nlmsg_pid = 0;
	b->nlmsg_seq = SEQ + 1;
	b->nlmsg_pid = 0;
	return off;
}

/* RTM_NEWNEIGH: ndmsg + NDA_DST, NDA_LLADDR, NDA_PROTOCOL */
static size_t neigh(unsigned char *at)
{
	struct nlmsghdr *n = msg_start(at, RTM_NEWNEIGH, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE, SEQ, PID, sizeof(struct ndmsg));
	struct ndmsg *d = NLMSG_DATA(n);
	uint8_t proto = 0x99;
	d->ndm_family = AF_INET6;
	d->ndm_ifindex = IFINDEX;
	d->ndm_state = NUD_STATE;
	d->ndm_flags = 0x12;
	d->ndm_type = 0x34;
	rta_put(n, NDA_DST, V6_ADDR, sizeof V6_ADDR);
	rta_put(n, NDA_LLADDR, MAC, sizeof MAC);
	rta_put(n, NDA_PROTOCOL, &proto, 1);
	return n->nlmsg_len;
}

/* NLMSG_ERROR answering the route request (NLM_F_CAPPED: its header only) */
static size_t nlerror(unsigned char *at)
{
	struct nlmsghdr *n = msg_start(at, NLMSG_ERROR, NLM_F_CAPPED, SEQ, PID, sizeof(struct nlmsgerr));
	struct nlmsgerr *e = NLMSG_DATA(n);
	struct nlmsghdr req;
	memset(&req, 0, sizeof req);
	req.nlmsg_len = 0x44;
	req.nlmsg_type = RTM_NEWROUTE;
	req.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	req.nlmsg_seq = SEQ;
	req.nlmsg_pid = PID;
	e->error = -EEXIST;
	e->msg = req;
	return n->nlmsg_len;
}

/* A multicast routing dump entry as the kernel writes it: ipmr_fill_mroute /
 * ip6mr_fill_mroute (rtmsg, RTA_TABLE, RTA_SRC, RTA_DST) then mr_fill_mroute
 * (net/ipv4/ipmr_base.c: RTA_IIF, RTA_MULTIPATH of struct rtnexthop, RTA_MFC_STATS,
 * RTA_EXPIRES). The last two go through nla_put_64bit / nla_put_u64_64bit with RTA_PAD
 * (include/net/netlink.h): an arch without CONFIG_HAVE_EFFICIENT_UNALIGNED_ACCESS
 * (mips; x86 has it) first puts a zero-length RTA_PAD when the tail is 8-byte aligned,
 * so that the u64 value is. */
static void rta_64bit(struct nlmsghdr *n, unsigned short type, const void *data, size_t len)
{
#ifndef __x86_64__
	if (((uintptr_t)tail(n) & 7) == 0)
		rta_put(n, RTA_PAD, NULL, 0);
#endif
	rta_put(n, type, data, len);
}

static size_t mfc_dump(unsigned char *at, int v6)
{
	struct nlmsghdr *n = msg_start(at, RTM_NEWROUTE, NLM_F_MULTI, SEQ, PID, sizeof(struct rtmsg));
	struct rtmsg *r = NLMSG_DATA(n);
	r->rtm_family = v6 ? RTNL_FAMILY_IP6MR : RTNL_FAMILY_IPMR;
	r->rtm_dst_len = v6 ? 128 : 32;
	r->rtm_src_len = v6 ? 128 : 32;
	r->rtm_table = RT_TABLE_DEFAULT;
	r->rtm_type = RTN_MULTICAST;
	r->rtm_scope = RT_SCOPE_UNIVERSE;
	r->rtm_protocol = RTPROT_MROUTED;
	rta_u32(n, RTA_TABLE, RT_TABLE_DEFAULT);
	rta_put(n, RTA_SRC, v6 ? V6_ADDR : V4_SRC, v6 ? 16 : 4);
	rta_put(n, RTA_DST, v6 ? V6_GROUP : V4_GROUP, v6 ? 16 : 4);
	rta_u32(n, RTA_IIF, IFINDEX);
	struct rtattr *mp = tail(n);
	mp->rta_type = RTA_MULTIPATH;
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_LENGTH(0);
	const int oifs[2] = { OIF, OIF2 };
	for (int i = 0; i < 2; i++) {
		struct rtnexthop *nh = tail(n);
		nh->rtnh_len = sizeof *nh;
		nh->rtnh_flags = 0;
		nh->rtnh_hops = 1; /* the VIF's TTL threshold */
		nh->rtnh_ifindex = oifs[i];
		n->nlmsg_len += RTNH_ALIGN(sizeof *nh);
	}
	mp->rta_len = (unsigned short)((char *)n + n->nlmsg_len - (char *)mp);
	struct rta_mfc_stats st = { .mfcs_packets = MFC_PACKETS, .mfcs_bytes = MFC_BYTES, .mfcs_wrong_if = MFC_WRONG_IF };
	uint64_t expires = MFC_EXPIRES;
	rta_64bit(n, RTA_MFC_STATS, &st, sizeof st);
	rta_64bit(n, RTA_EXPIRES, &expires, sizeof expires);
	return n->nlmsg_len;
}

/* The nf_tables batch: BEGIN, NEWSETELEM to `ports` (an ifindex key), NEWSETELEM to
 * allow4 and to allow6_56 (ifindex . ether_addr . address), END.
 * nfgenmsg.res_id is __be16 on every host; the ifindex in a key is the register's host
 * order (no byteorder expression in the rule for a plain set). */
struct nft_key {
	const char *set;
	unsigned char bytes[28];
	size_t len;
};

static size_t nfgen(unsigned char *at, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family, uint16_t res_id)
{
	struct nlmsghdr *n = msg_start(at, type, flags, seq, 0, sizeof(struct nfgenmsg));
	struct nfgenmsg *g = NLMSG_DATA(n);
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(res_id);
	return n->nlmsg_len;
}

static size_t setelem(unsigned char *at, uint32_t seq, const struct nft_key *k)
{
	uint16_t type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWSETELEM;
	struct nlmsghdr *n = (struct nlmsghdr *)at;
	nfgen(at, type, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_ACK, seq, NFPROTO_INET, 0);
	nla_str(n, NFTA_SET_ELEM_LIST_TABLE, "gleand");
	nla_str(n, NFTA_SET_ELEM_LIST_SET, k->set);
	struct nlattr *elems = nest_start(n, NFTA_SET_ELEM_LIST_ELEMENTS);
	struct nlattr *elem = nest_start(n, NFTA_LIST_ELEM);
	struct nlattr *key = nest_start(n, NFTA_SET_ELEM_KEY);
	nla_put(n, NFTA_DATA_VALUE, k->bytes, k->len);
	nest_end(n, key);
	nest_end(n, elem);
	nest_end(n, elems);
	return n->nlmsg_len;
}

static size_t nft_batch(unsigned char *at)
{
	struct nft_key keys[3];
	uint32_t ifindex = IFINDEX;
	memset(keys, 0, sizeof keys);
	keys[0].set = "ports";
	memcpy(keys[0].bytes, &ifindex, 4);
	keys[0].len = 4;
	/* a concatenation: each component takes whole 4-byte registers (ether_addr: 2) */
	keys[1].set = "allow4";
	memcpy(keys[1].bytes, &ifindex, 4);
	memcpy(keys[1].bytes + 4, MAC, 6);
	memcpy(keys[1].bytes + 12, V4_SRC, 4);
	keys[1].len = 16;
	keys[2].set = "allow6_56";
	memcpy(keys[2].bytes, &ifindex, 4);
	memcpy(keys[2].bytes + 4, MAC, 6);
	memcpy(keys[2].bytes + 12, V6_PREFIX, 16);
	keys[2].len = 28;
	size_t off = 0;
	uint32_t seq = SEQ;
	off += NLMSG_ALIGN(nfgen(at + off, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq++, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	for (int i = 0; i < 3; i++)
		off += NLMSG_ALIGN(setelem(at + off, seq++, &keys[i]));
	off += NLMSG_ALIGN(nfgen(at + off, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq++, AF_UNSPEC, NFNL_SUBSYS_NFTABLES));
	return off;
}

/* ---------------------------------------------------------------------------------
 * Packet sockets (linux/if_packet.h) */

static void packet_structs(void)
{
	struct sockaddr_ll sll;
	memset(&sll, 0, sizeof sll);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_IPV6);
	sll.sll_ifindex = IFINDEX;
	sll.sll_halen = 6;
	memcpy(sll.sll_addr, MAC, 6);
	print_case("sockaddr_ll", &sll, sizeof sll);

	struct packet_mreq mreq;
	memset(&mreq, 0, sizeof mreq);
	mreq.mr_ifindex = IFINDEX;
	mreq.mr_type = PACKET_MR_MULTICAST;
	mreq.mr_alen = 6;
	memcpy(mreq.mr_address, MAC, 6);
	print_case("packet_mreq", &mreq, sizeof mreq);

	/* the addon copies tp_status of the PACKET_AUXDATA cmsg into the frame's name slot */
	struct tpacket_auxdata aux;
	memset(&aux, 0, sizeof aux);
	aux.tp_status = TP_STATUS;
	print_case("tp_status", &aux.tp_status, sizeof aux.tp_status);
}

/* ---------------------------------------------------------------------------------
 * Socket addresses (linux/in.h, linux/in6.h, linux/netlink.h) and an int socket option */

static void socket_structs(void)
{
	struct sockaddr_in in;
	memset(&in, 0, sizeof in);
	in.sin_family = AF_INET;
	in.sin_port = htons(PORT);
	memcpy(&in.sin_addr, V4_SRC, 4);
	print_case("sockaddr_in", &in, sizeof in);

	struct sockaddr_in6 in6;
	memset(&in6, 0, sizeof in6);
	in6.sin6_family = AF_INET6;
	in6.sin6_port = htons(PORT);
	in6.sin6_flowinfo = 0; /* __be32; gleand never sets it */
	memcpy(&in6.sin6_addr, V6_ADDR, 16);
	in6.sin6_scope_id = IFINDEX;
	print_case("sockaddr_in6", &in6, sizeof in6);

	/* bind(2)'s: the kernel assigns nl_pid; getsockname(2)'s: the pid it assigned */
	struct sockaddr_nl nl;
	memset(&nl, 0, sizeof nl);
	nl.nl_family = AF_NETLINK;
	print_case("sockaddr_nl_bind", &nl, sizeof nl);
	nl.nl_pid = PID;
	print_case("sockaddr_nl_name", &nl, sizeof nl);

	int x = SOCKOPT_INT;
	print_case("sockopt_int", &x, sizeof x);
}

/* ---------------------------------------------------------------------------------
 * Classic BPF (linux/filter.h). The programs are written out here with their jump
 * offsets counted by hand from the instruction numbers in the comments: that checks
 * bpf.ts's label assembler as well as the byte order of struct sock_filter. */

#define LD_PKTTYPE BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE)
#define LD_PROTOCOL BPF_STMT(BPF_LD | BPF_H | BPF_ABS, SKF_AD_OFF + SKF_AD_PROTOCOL)
#define LDB(k) BPF_STMT(BPF_LD | BPF_B | BPF_ABS, k)
#define LDH(k) BPF_STMT(BPF_LD | BPF_H | BPF_ABS, k)
#define LDH_X(k) BPF_STMT(BPF_LD | BPF_H | BPF_IND, k)
#define LDX_IHL BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0)
#define JEQ(k, t, f) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k, t, f)
#define JGE(k, t, f) BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, k, t, f)
#define JSET(k, t, f) BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k, t, f)
#define RET(k) BPF_STMT(BPF_RET | BPF_K, k)
#define PACKET_OUTGOING_TYPE 4 /* PACKET_OUTGOING, linux/if_packet.h */

/* bpf.ts dhcpFilter: the subscriber ports' packet sockets */
static const struct sock_filter dhcp[] = {
	/*  0 */ LD_PKTTYPE,
	/*  1 */ JEQ(PACKET_OUTGOING_TYPE, 14, 0),   /* → 16 out, 2 proto */
	/*  2 */ LD_PROTOCOL,
	/*  3 */ JEQ(ETH_P_IP, 1, 0),                /* → 5 v4, 4 isv6 */
	/*  4 */ JEQ(ETH_P_IPV6, 7, 30),             /* → 12 v6, 35 drop */
	/*  5 */ LDB(9),
	/*  6 */ JEQ(IPPROTO_UDP, 0, 28),            /* → 7, 35 */
	/*  7 */ LDH(6),
	/*  8 */ JSET(0x1fff, 26, 0),                /* → 35, 9 */
	/*  9 */ LDX_IHL,
	/* 10 */ LDH_X(2),
	/* 11 */ JEQ(67, 22, 23),                    /* → 34 accept, 35 drop */
	/* 12 */ LDB(6),
	/* 13 */ JEQ(IPPROTO_UDP, 0, 21),            /* → 14, 35 */
	/* 14 */ LDH(42),
	/* 15 */ JEQ(547, 18, 19),                   /* → 34, 35 */
	/* 16 */ LD_PROTOCOL,
	/* 17 */ JEQ(ETH_P_IP, 1, 0),                /* → 19, 18 */
	/* 18 */ JEQ(ETH_P_IPV6, 9, 16),             /* → 28, 35 */
	/* 19 */ LDB(9),
	/* 20 */ JEQ(IPPROTO_UDP, 0, 14),            /* → 21, 35 */
	/* 21 */ LDH(6),
	/* 22 */ JSET(0x1fff, 12, 0),                /* → 35, 23 */
	/* 23 */ LDX_IHL,
	/* 24 */ LDH_X(0),
	/* 25 */ JEQ(67, 0, 9),                      /* → 26, 35 */
	/* 26 */ LDH_X(2),
	/* 27 */ JEQ(68, 6, 7),                      /* → 34, 35 */
	/* 28 */ LDB(6),
	/* 29 */ JEQ(IPPROTO_UDP, 0, 5),             /* → 30, 35 */
	/* 30 */ LDH(40),
	/* 31 */ JEQ(547, 0, 3),                     /* → 32, 35 */
	/* 32 */ LDH(42),
	/* 33 */ JEQ(546, 0, 1),                     /* → 34, 35 */
	/* 34 */ RET(0xffff),
	/* 35 */ RET(0),
};

/* multicast-bpf.ts igmpMldFilter: the multicast router's packet sockets */
static const struct sock_filter igmp_mld[] = {
	/*  0 */ LD_PKTTYPE,
	/*  1 */ JEQ(PACKET_OUTGOING_TYPE, 15, 0),   /* → 17 drop, 2 */
	/*  2 */ LD_PROTOCOL,
	/*  3 */ JEQ(ETH_P_IP, 1, 0),                /* → 5 v4, 4 */
	/*  4 */ JEQ(ETH_P_IPV6, 2, 12),             /* → 7 v6, 17 */
	/*  5 */ LDB(9),
	/*  6 */ JEQ(IPPROTO_IGMP, 9, 10),           /* → 16 accept, 17 */
	/*  7 */ LDB(6),
	/*  8 */ JEQ(IPPROTO_HOPOPTS, 0, 2),         /* → 9 hbh, 11 icmp6 */
	/*  9 */ LDB(40),
	/* 10 */ JEQ(IPPROTO_ICMPV6, 5, 6),          /* → 16, 17 */
	/* 11 */ JEQ(IPPROTO_ICMPV6, 0, 5),          /* → 12 type, 17 */
	/* 12 */ LDB(40),
	/* 13 */ JEQ(143, 2, 0),                     /* → 16, 14 low */
	/* 14 */ JGE(130, 0, 2),                     /* → 15 high, 17 */
	/* 15 */ JGE(133, 1, 0),                     /* → 17, 16 */
	/* 16 */ RET(0xffff),
	/* 17 */ RET(0),
};

/* multicast-bpf.ts upcallFilter(4): byte 9 (igmpmsg.im_mbz) is zero */
static const struct sock_filter upcall4[] = {
	LDB(9), JEQ(0, 0, 1), RET(0xffff), RET(0),
};

/* bpf.ts dropFromPort(68): the v4 wildcard UDP socket, at the UDP header */
static const struct sock_filter drop_from_68[] = {
	LDH(0), JEQ(68, 0, 1), RET(0), RET(0xffff),
};

/* ---------------------------------------------------------------------------------
 * Multicast routing (linux/mroute.h, linux/mroute6.h) */

static void multicast_structs(void)
{
	struct vifctl vif;
	memset(&vif, 0, sizeof vif);
	vif.vifc_vifi = VIFI;
	vif.vifc_flags = VIFF_USE_IFINDEX;
	vif.vifc_threshold = 1;
	vif.vifc_lcl_ifindex = IFINDEX;
	print_case("vifctl", &vif, sizeof vif);

	struct mif6ctl mif;
	memset(&mif, 0, sizeof mif);
	mif.mif6c_mifi = VIFI;
	mif.vifc_threshold = 1;
	mif.mif6c_pifi = PIFI;
	print_case("mif6ctl", &mif, sizeof mif);

	struct mfcctl mfc;
	memset(&mfc, 0, sizeof mfc);
	memcpy(&mfc.mfcc_origin, V4_SRC, 4);
	memcpy(&mfc.mfcc_mcastgrp, V4_GROUP, 4);
	mfc.mfcc_parent = PARENT;
	memset(mfc.mfcc_ttls, 255, sizeof mfc.mfcc_ttls);
	mfc.mfcc_ttls[1] = 1;
	mfc.mfcc_ttls[31] = 1;
	print_case("mfcctl", &mfc, sizeof mfc);

	struct mf6cctl mf6;
	memset(&mf6, 0, sizeof mf6);
	mf6.mf6cc_origin.sin6_family = AF_INET6;
	memcpy(&mf6.mf6cc_origin.sin6_addr, V6_ADDR, 16);
	mf6.mf6cc_mcastgrp.sin6_family = AF_INET6;
	memcpy(&mf6.mf6cc_mcastgrp.sin6_addr, V6_GROUP, 16);
	mf6.mf6cc_parent = PARENT;
	IF_SET(0, &mf6.mf6cc_ifset);
	IF_SET(5, &mf6.mf6cc_ifset);
	IF_SET(31, &mf6.mf6cc_ifset);
	IF_SET(33, &mf6.mf6cc_ifset);
	print_case("mf6cctl", &mf6, sizeof mf6);

	/* the upcalls, for the decoders */
	struct igmpmsg im;
	memset(&im, 0, sizeof im);
	im.im_msgtype = IGMPMSG_WRONGVIF;
	im.im_vif = 0x03;
	im.im_vif_hi = 0x01;
	memcpy(&im.im_src, V4_SRC, 4);
	memcpy(&im.im_dst, V4_GROUP, 4);
	print_case("igmpmsg", &im, sizeof im);

	struct mrt6msg m6;
	memset(&m6, 0, sizeof m6);
	m6.im6_msgtype = MRT6MSG_NOCACHE;
	m6.im6_mif = VIFI;
	memcpy(&m6.im6_src, V6_ADDR, 16);
	memcpy(&m6.im6_dst, V6_GROUP, 16);
	print_case("mrt6msg", &m6, sizeof m6);
}

int main(void)
{
	uint16_t one = 1;
	printf("endian %s\n", *(unsigned char *)&one == 1 ? "le" : "be");

	memset(buf, 0, sizeof buf);
	print_case("rtm_newroute", buf, route(buf));
	memset(buf, 0, sizeof buf);
	print_case("rtm_newneigh", buf, neigh(buf));
	memset(buf, 0, sizeof buf);
	print_case("rtm_batch", buf, rtm_batch(buf));
	memset(buf, 0, sizeof buf);
	print_case("nlmsgerr", buf, nlerror(buf));
	memset(buf, 0, sizeof buf);
	print_case("nft_batch", buf, nft_batch(buf));

	memset(buf, 0, sizeof buf);
	print_case("mfc_dump4", buf, mfc_dump(buf, 0));
	memset(buf, 0, sizeof buf);
	print_case("mfc_dump6", buf, mfc_dump(buf, 1));

	packet_structs();
	socket_structs();

	print_case("bpf_dhcp", dhcp, sizeof dhcp);
	print_case("bpf_igmp_mld", igmp_mld, sizeof igmp_mld);
	print_case("bpf_upcall4", upcall4, sizeof upcall4);
	print_case("bpf_drop_from_68", drop_from_68, sizeof drop_from_68);

	multicast_structs();
	return 0;
}
