import { describe, expect, it } from 'vitest';
import { dhcpFilter } from '../../../platform/bpf';
import { HOST_ORDER, littleEndian } from '../../../platform/byte-order';
import { ipv4Packet, ipv6Packet, v4, v6 } from '../relay/kit';

/**
 * The subscriber ports' packet filter, run by a small interpreter of the classic BPF
 * instructions it uses (linux/filter.h), with the kernel's ancillary loads for the packet
 * type and EtherType. What passes: DHCP from subscribers, and of the frames the router
 * sends out of the port only server replies (issue 13 item 8); nothing else.
 */
const SKF_AD_OFF = -0x1000;
const PACKET_HOST = 0, PACKET_BROADCAST = 1, PACKET_OUTGOING = 4;

function run(prog: Uint8Array, pkttype: number, protocol: number, pkt: Uint8Array): number {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  let a = 0, x = 0;
  const word = (at: number, size: number): number => {
    if (at === SKF_AD_OFF + 4) return pkttype;
    if (at === SKF_AD_OFF + 0) return protocol;
    if (at < 0 || at + size > pkt.length) throw new Error('out of bounds: the kernel returns 0 (drop)');
    let n = 0;
    for (let i = 0; i < size; i++) n = (n << 8) | pkt[at + i]!;
    return n >>> 0;
  };
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = v.getUint16(pc * 8, littleEndian(HOST_ORDER)), jt = v.getUint8(pc * 8 + 2), jf = v.getUint8(pc * 8 + 3);
    const k = v.getInt32(pc * 8 + 4, littleEndian(HOST_ORDER));
    switch (code) {
      case 0x20: a = word(k, 4); break; // ld [k]
      case 0x28: a = word(k, 2); break; // ldh [k]
      case 0x30: a = word(k, 1); break; // ldb [k]
      case 0x48: a = word(x + k, 2); break; // ldh [x + k]
      case 0xb1: x = (word(k, 1) & 0x0f) * 4; break; // ldxb 4*([k]&0xf)
      case 0x15: pc += a === (k >>> 0) ? jt : jf; break; // jeq
      case 0x45: pc += (a & k) !== 0 ? jt : jf; break; // jset
      case 0x06: return k >>> 0; // ret
      default: throw new Error(`opcode ${code.toString(16)} not in the interpreter`);
    }
  }
  throw new Error('fell off the end');
}

const filter = dhcpFilter();
const pass4 = (type: number, sport: number, dport: number) =>
  run(filter, type, 0x0800, ipv4Packet(v4('10.0.0.2'), v4('10.1.0.100'), sport, dport, new Uint8Array(8))) > 0;
const pass6 = (type: number, sport: number, dport: number) =>
  run(filter, type, 0x86dd, ipv6Packet(v6('fd00::2'), v6('fd00:1::100'), sport, dport, new Uint8Array(8))) > 0;

describe('subscriber port packet filter (platform/bpf.ts)', () => {
  it('passes client requests: IPv4 UDP to 67, IPv6 UDP to 547, broadcast or not', () => {
    expect(pass4(PACKET_BROADCAST, 68, 67)).toBe(true);
    expect(pass4(PACKET_HOST, 68, 67)).toBe(true);
    expect(pass6(PACKET_HOST, 546, 547)).toBe(true);
    expect(pass4(PACKET_HOST, 68, 53)).toBe(false);
    expect(pass6(PACKET_HOST, 546, 53)).toBe(false);
  });

  it('of the outgoing frames, passes server replies (67 → 68, 547 → 546) and nothing else', () => {
    expect(pass4(PACKET_OUTGOING, 67, 68)).toBe(true);
    expect(pass6(PACKET_OUTGOING, 547, 546)).toBe(true);
    expect(pass4(PACKET_OUTGOING, 68, 67)).toBe(false); // a request leaving: not a server's
    expect(pass4(PACKET_OUTGOING, 67, 67)).toBe(false);
    expect(pass4(PACKET_OUTGOING, 1234, 68)).toBe(false);
    expect(pass6(PACKET_OUTGOING, 546, 547)).toBe(false);
    expect(pass6(PACKET_OUTGOING, 547, 547)).toBe(false);
    expect(run(filter, PACKET_OUTGOING, 0x0806, new Uint8Array(28))).toBe(0); // ARP
  });

  it('drops IPv4 fragments in both directions (no UDP header to read)', () => {
    const frag = ipv4Packet(v4('10.0.0.2'), v4('10.1.0.100'), 67, 68, new Uint8Array(8));
    frag[6] = 0x00; frag[7] = 0x10; // fragment offset 16
    expect(run(filter, PACKET_OUTGOING, 0x0800, frag)).toBe(0);
    expect(run(filter, PACKET_HOST, 0x0800, frag)).toBe(0);
  });

  it('on a paging area port, passes host messages to the paging port too (both families), nothing else more', () => {
    const paging = dhcpFilter(3154);
    const p4 = (type: number, sport: number, dport: number) =>
      run(paging, type, 0x0800, ipv4Packet(v4('10.0.0.2'), v4('10.1.0.1'), sport, dport, new Uint8Array(8))) > 0;
    const p6 = (type: number, sport: number, dport: number) =>
      run(paging, type, 0x86dd, ipv6Packet(v6('fe80::2'), v6('fe80::1'), sport, dport, new Uint8Array(8))) > 0;
    expect([p4(PACKET_HOST, 40000, 3154), p6(PACKET_HOST, 40000, 3154), p4(PACKET_BROADCAST, 3154, 3154)]).toEqual([true, true, true]);
    expect([p4(PACKET_HOST, 68, 67), p6(PACKET_HOST, 546, 547), p4(PACKET_OUTGOING, 67, 68)]).toEqual([true, true, true]);
    expect([p4(PACKET_HOST, 3154, 3155), p6(PACKET_HOST, 3154, 53), p4(PACKET_OUTGOING, 3154, 3154)]).toEqual([false, false, false]);
    // without a paging port the DHCP filter is unchanged
    expect(pass4(PACKET_HOST, 40000, 3154)).toBe(false);
  });
});
