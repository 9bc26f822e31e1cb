/**
 * The classic BPF program on each subscriber port's packet socket: only DHCP reaches
 * userspace, so gleand never copies a subscriber's data traffic.
 *
 * A SOCK_DGRAM packet socket runs its filter at the network header; the EtherType and
 * the packet type come from the kernel's ancillary loads (SKF_AD_PROTOCOL,
 * SKF_AD_PKTTYPE). Accepted: IPv4 UDP to port 67 (not a fragment), IPv6 UDP to port
 * 547 right after the fixed header; frames we sent ourselves (PACKET_OUTGOING) are not.
 */
import { HOST_LE } from './netlink/wire';

const SKF_AD_OFF = -0x1000;
const SKF_AD_PROTOCOL = 0;
const SKF_AD_PKTTYPE = 4;
const PACKET_OUTGOING = 4;

const LD_W_ABS = 0x20, LD_H_ABS = 0x28, LD_B_ABS = 0x30, LD_H_IND = 0x48, LDX_B_MSH = 0xb1;
const JEQ_K = 0x15, JSET_K = 0x45, RET_K = 0x06;

type Insn = { code: number; jt?: string; jf?: string; k: number; label?: string };

function assemble(prog: Insn[]): Uint8Array {
  const labels = new Map<string, number>();
  prog.forEach((p, i) => p.label && labels.set(p.label, i));
  const out = new Uint8Array(prog.length * 8);
  const v = new DataView(out.buffer);
  const little = HOST_LE; // struct sock_filter is host-endian (MIPS routers are big-endian)
  prog.forEach((p, i) => {
    const rel = (l?: string) => (l === undefined ? 0 : labels.get(l)! - i - 1);
    v.setUint16(i * 8, p.code, little);
    v.setUint8(i * 8 + 2, rel(p.jt));
    v.setUint8(i * 8 + 3, rel(p.jf));
    v.setUint32(i * 8 + 4, p.k >>> 0, little);
  });
  return out;
}

export function dhcpFilter(): Uint8Array {
  return assemble([
    { code: LD_W_ABS, k: SKF_AD_OFF + SKF_AD_PKTTYPE },
    { code: JEQ_K, k: PACKET_OUTGOING, jt: 'drop', jf: 'proto' },
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
    { code: JEQ_K, k: 67, jt: 'accept', jf: 'drop' },
    // IPv6: next header UDP, destination port 547.
    { code: LD_B_ABS, k: 6, label: 'v6' },
    { code: JEQ_K, k: 17, jt: 'port6', jf: 'drop' },
    { code: LD_H_ABS, k: 42, label: 'port6' },
    { code: JEQ_K, k: 547, jt: 'accept', jf: 'drop' },
    { code: RET_K, k: 0xffff, label: 'accept' },
    { code: RET_K, k: 0, label: 'drop' },
  ]);
}

/** A program that accepts nothing: for a socket that only sends (the v4 wildcard UDP socket). */
export function dropAll(): Uint8Array {
  return assemble([{ code: RET_K, k: 0 }]);
}
