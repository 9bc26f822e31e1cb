/**
 * The classic BPF program on each subscriber port's packet socket: only DHCP reaches
 * userspace, so gleand never copies a subscriber's data traffic.
 *
 * A SOCK_DGRAM packet socket runs its filter at the network header; the EtherType and
 * the packet type come from the kernel's ancillary loads (SKF_AD_PROTOCOL,
 * SKF_AD_PKTTYPE). Accepted from subscribers: IPv4 UDP to port 67 (not a fragment),
 * IPv6 UDP to port 547 right after the fixed header. Of the frames the router sends out
 * of the port (PACKET_OUTGOING; the socket is bound with ETH_P_ALL, so it sees them)
 * only server replies: IPv4 UDP 67 → 68 and IPv6 UDP 547 → 546, which is how a server's
 * unicast DHCPACK / REPLY to a renewing client looks as it crosses the router (RFC 2131
 * §4.3.2, RFC 8415 §18.3.10); the core checks it came from a configured server. The
 * replies gleand itself sends leave by this same socket, and the kernel never loops a
 * socket's own frames back to it (skb_loop_sk).
 */
import { HOST_ORDER, type ByteOrder } from './byte-order';

const SKF_AD_OFF = -0x1000;
const SKF_AD_PROTOCOL = 0;
const SKF_AD_PKTTYPE = 4;
const PACKET_OUTGOING = 4;

const LD_W_ABS = 0x20, LD_H_ABS = 0x28, LD_B_ABS = 0x30, LD_H_IND = 0x48, LDX_B_MSH = 0xb1;
const JEQ_K = 0x15, JSET_K = 0x45, RET_K = 0x06;

export type Insn = { code: number; jt?: string; jf?: string; k: number; label?: string };

/**
 * struct sock_filter { __u16 code; __u8 jt; __u8 jf; __u32 k; } (linux/filter.h), 8 bytes
 * an instruction: code and k are host order (MIPS routers are big-endian).
 */
export function assemble(prog: Insn[], order: ByteOrder = HOST_ORDER): Uint8Array {
  const labels = new Map<string, number>();
  prog.forEach((p, i) => p.label && labels.set(p.label, i));
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  const little = order === 'le';
  prog.forEach((p, i) => {
    const rel = (l?: string) => (l === undefined ? 0 : labels.get(l)! - i - 1);
    v.setUint16(i * 8, p.code, little);
    v.setUint8(i * 8 + 2, rel(p.jt));
    v.setUint8(i * 8 + 3, rel(p.jf));
    v.setUint32(i * 8 + 4, p.k >>> 0, little);
  });
  return out;
}

/**
 * `pagingPort`: on a port of a paging area, host messages to the paging port pass too
 * (IPv4 and IPv6 UDP, same placement as DHCP): the packet socket already reports the
 * ingress port and the Ethernet source that the paging agent checks a REGISTER
 * against (src/paging/PROTOCOL.md §6), so no second socket per port is needed.
 */
export function dhcpFilter(pagingPort: number | null = null, order: ByteOrder = HOST_ORDER): Uint8Array {
  const paging = (label: string): Insn[] => pagingPort === null ? [] : [{ code: JEQ_K, k: pagingPort, jt: 'accept', jf: 'drop', label }];
  return assemble([
    { code: LD_W_ABS, k: SKF_AD_OFF + SKF_AD_PKTTYPE },
    { code: JEQ_K, k: PACKET_OUTGOING, jt: 'out', jf: 'proto' },
    { code: LD_H_ABS, k: SKF_AD_OFF + SKF_AD_PROTOCOL, label: 'proto' },
    { code: JEQ_K, k: 0x0800, jt: 'v4', jf: 'isv6' },
    { code: JEQ_K, k: 0x86dd, jt: 'v6', jf: 'drop', label: 'isv6' },
    // IPv4: protocol UDP, no fragment offset, destination port 67 after IHL*4.
    { code: LD_B_ABS, k: 9, label: 'v4' },
    { code: JEQ_K, k: 17, jt: 'frag', jf: 'drop' },
    { code: LD_H_ABS, k: 6, label: 'frag' },
    { code: JSET_K, k: 0x1fff, jt: 'drop', jf: 'ihl' },
    { code: LDX_B_MSH, k: 0, label: 'ihl' },
    { code: LD_H_IND, k: 2 },
    { code: JEQ_K, k: 67, jt: 'accept', jf: pagingPort === null ? 'drop' : 'paging4' },
    ...paging('paging4'),
    // IPv6: next header UDP, destination port 547.
    { code: LD_B_ABS, k: 6, label: 'v6' },
    { code: JEQ_K, k: 17, jt: 'port6', jf: 'drop' },
    { code: LD_H_ABS, k: 42, label: 'port6' },
    { code: JEQ_K, k: 547, jt: 'accept', jf: pagingPort === null ? 'drop' : 'paging6' },
    ...paging('paging6'),
    // Outgoing: only server → client replies.
    { code: LD_H_ABS, k: SKF_AD_OFF + SKF_AD_PROTOCOL, label: 'out' },
    { code: JEQ_K, k: 0x0800, jt: 'out4', jf: 'out6?' },
    { code: JEQ_K, k: 0x86dd, jt: 'out6', jf: 'drop', label: 'out6?' },
    { code: LD_B_ABS, k: 9, label: 'out4' },
    { code: JEQ_K, k: 17, jt: 'out4frag', jf: 'drop' },
    { code: LD_H_ABS, k: 6, label: 'out4frag' },
    { code: JSET_K, k: 0x1fff, jt: 'drop', jf: 'out4ihl' },
    { code: LDX_B_MSH, k: 0, label: 'out4ihl' },
    { code: LD_H_IND, k: 0 },
    { code: JEQ_K, k: 67, jt: 'out4dport', jf: 'drop' },
    { code: LD_H_IND, k: 2, label: 'out4dport' },
    { code: JEQ_K, k: 68, jt: 'accept', jf: 'drop' },
    { code: LD_B_ABS, k: 6, label: 'out6' },
    { code: JEQ_K, k: 17, jt: 'out6sport', jf: 'drop' },
    { code: LD_H_ABS, k: 40, label: 'out6sport' },
    { code: JEQ_K, k: 547, jt: 'out6dport', jf: 'drop' },
    { code: LD_H_ABS, k: 42, label: 'out6dport' },
    { code: JEQ_K, k: 546, jt: 'accept', jf: 'drop' },
    { code: RET_K, k: 0xffff, label: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
  ], order);
}

/** For a UDP socket (the program starts at the UDP header): drop datagrams from `port`. */
export function dropFromPort(port: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  return assemble([
    { code: LD_H_ABS, k: 0 }, // UDP source port
    { code: JEQ_K, k: port, jt: 'drop', jf: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
    { code: RET_K, k: 0xffff, label: 'accept' },
  ], order);
}

/** A program that accepts nothing: for a socket that only sends (the v4 wildcard UDP socket). */
export function dropAll(order: ByteOrder = HOST_ORDER): Uint8Array {
  return assemble([{ code: RET_K, k: 0 }], order);
}
