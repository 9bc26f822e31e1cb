/**
 * Classic BPF programs of the multicast router's sockets.
 *
 * `igmpMldFilter`, on each port's packet socket (SOCK_DGRAM, so the program starts at the
 * network header; EtherType and packet type come from the ancillary loads): only
 * membership messages reach gleand, and only those arriving (the router's own frames,
 * PACKET_OUTGOING, are not):
 * - IPv4 protocol 2, IGMP (RFC 3376 §4), whatever the options (Router Alert, RFC 2113);
 * - IPv6 whose first header is Hop-by-Hop (0) followed by ICMPv6 (58): every MLD message
 *   carries a Router Alert in a Hop-by-Hop header (RFC 3810 §5; RFC 2710 §3), which is
 *   why a capture filter `icmp6` misses them;
 * - IPv6 ICMPv6 types 130–132 and 143 without that header, so the core counts those as
 *   malformed (RFC 3810 §5: "MUST be silently discarded") instead of the kernel losing them.
 * The core decodes and validates every one; this only keeps other traffic in the kernel.
 *
 * `upcallFilter`, on the multicast routing sockets: those raw sockets also receive every
 * IGMP packet (IPv4) or ICMPv6 message (IPv6) of the host. Only the kernel's upcalls are
 * queued: an `igmpmsg` has zero where an IPv4 header has its protocol, an `mrt6msg`
 * zero where ICMPv6 has its type (see multicast-mrt.ts). A flood of reports then cannot
 * fill the socket and cost the upcalls.
 */
import { HOST_ORDER, type ByteOrder } from './byte-order';
import { assemble } from './bpf';

const SKF_AD_OFF = -0x1000;
const SKF_AD_PROTOCOL = 0;
const SKF_AD_PKTTYPE = 4;
const PACKET_OUTGOING = 4;
const LD_W_ABS = 0x20, LD_H_ABS = 0x28, LD_B_ABS = 0x30;
const JEQ_K = 0x15, JGE_K = 0x35, RET_K = 0x06;

export function igmpMldFilter(order: ByteOrder = HOST_ORDER): Uint8Array {
  return assemble([
    { code: LD_W_ABS, k: SKF_AD_OFF + SKF_AD_PKTTYPE },
    { code: JEQ_K, k: PACKET_OUTGOING, jt: 'drop', jf: 'proto' },
    { code: LD_H_ABS, k: SKF_AD_OFF + SKF_AD_PROTOCOL, label: 'proto' },
    { code: JEQ_K, k: 0x0800, jt: 'v4', jf: 'isv6' },
    { code: JEQ_K, k: 0x86dd, jt: 'v6', jf: 'drop', label: 'isv6' },
    { code: LD_B_ABS, k: 9, label: 'v4' },
    { code: JEQ_K, k: 2, jt: 'accept', jf: 'drop' },
    { code: LD_B_ABS, k: 6, label: 'v6' },
    { code: JEQ_K, k: 0, jt: 'hbh', jf: 'icmp6' },
    { code: LD_B_ABS, k: 40, label: 'hbh' },
    { code: JEQ_K, k: 58, jt: 'accept', jf: 'drop' },
    { code: JEQ_K, k: 58, jt: 'type', jf: 'drop', label: 'icmp6' },
    { code: LD_B_ABS, k: 40, label: 'type' },
    { code: JEQ_K, k: 143, jt: 'accept', jf: 'low' },
    { code: JGE_K, k: 130, jt: 'high', jf: 'drop', label: 'low' },
    { code: JGE_K, k: 133, jt: 'drop', jf: 'accept', label: 'high' },
    { code: RET_K, k: 0xffff, label: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
  ], order);
}

/** Accept a datagram whose byte `at` is zero: 9 on the IPv4 socket, 0 on the IPv6 one. */
export function upcallFilter(family: 4 | 6, order: ByteOrder = HOST_ORDER): Uint8Array {
  return assemble([
    { code: LD_B_ABS, k: family === 4 ? 9 : 0 },
    { code: JEQ_K, k: 0, jt: 'accept', jf: 'drop' },
    { code: RET_K, k: 0xffff, label: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
  ], order);
}
