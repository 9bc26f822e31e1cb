/**
 * The multicast sockets' classic BPF programs (platform/multicast-bpf.ts), run by a small
 * interpreter of the instructions they use, with the kernel's ancillary loads for packet
 * type and EtherType. Out-of-bounds loads drop, as in the kernel.
 */
import { describe, expect, it } from 'vitest';
import { igmpMldFilter, upcallFilter } from '../../../platform/multicast-bpf';
import { HOST_ORDER, littleEndian } from '../../../platform/byte-order';

const AD = -0x1000;
const HOST = 0, MULTICAST = 2, OUTGOING = 4;

function run(prog: Uint8Array, pkt: Uint8Array, pkttype = MULTICAST, protocol = 0): number {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  let a = 0;
  const load = (at: number, size: number): number | null => {
    if (at === AD + 4) return pkttype;
    if (at === AD) return protocol;
    if (at < 0 || at + size > pkt.length) return null;
    let n = 0;
    for (let i = 0; i < size; i++) n = (n << 8) | pkt[at + i]!;
    return n >>> 0;
  };
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = v.getUint16(pc * 8, littleEndian(HOST_ORDER)), jt = v.getUint8(pc * 8 + 2), jf = v.getUint8(pc * 8 + 3);
    const k = v.getInt32(pc * 8 + 4, littleEndian(HOST_ORDER));
    const size = code === 0x20 ? 4 : code === 0x28 ? 2 : code === 0x30 ? 1 : 0;
    if (size) {
      const x = load(k, size);
      if (x === null) return 0;
      a = x;
      continue;
    }
    if (code === 0x15) pc += a === (k >>> 0) ? jt : jf;
    else if (code === 0x35) pc += a >= (k >>> 0) ? jt : jf;
    else if (code === 0x06) return k >>> 0;
    else throw new Error(`opcode ${code.toString(16)} not in the interpreter`);
  }
  throw new Error('fell off the end');
}

const v4 = (protocol: number) => { const p = new Uint8Array(32); p[0] = 0x46; p[9] = protocol; return p; };
const v6 = (next: number, after: number) => { const p = new Uint8Array(56); p[0] = 0x60; p[6] = next; p[40] = after; return p; };
const pass = (pkt: Uint8Array, proto: number, type = MULTICAST) => run(igmpMldFilter(), pkt, type, proto) > 0;

describe('igmpMldFilter', () => {
  it('passes IGMP, and MLD behind a Hop-by-Hop header, as they arrive', () => {
    expect(pass(v4(2), 0x0800)).toBe(true);
    expect(pass(v6(0, 58), 0x86dd)).toBe(true);
    expect(pass(v6(0, 58), 0x86dd, HOST)).toBe(true);
  });
  it('passes bare ICMPv6 130–132 and 143 (the core counts them as malformed), nothing else of ICMPv6', () => {
    for (const t of [130, 131, 132, 143]) expect(pass(v6(58, t), 0x86dd)).toBe(true);
    for (const t of [1, 128, 129, 133, 135, 136, 142, 144]) expect(pass(v6(58, t), 0x86dd)).toBe(false);
  });
  it('drops the router\'s own frames, UDP, Hop-by-Hop before UDP, other EtherTypes and runts', () => {
    expect(pass(v4(2), 0x0800, OUTGOING)).toBe(false);
    expect(pass(v6(0, 58), 0x86dd, OUTGOING)).toBe(false);
    expect(pass(v4(17), 0x0800)).toBe(false);
    expect(pass(v6(17, 0), 0x86dd)).toBe(false);
    expect(pass(v6(0, 17), 0x86dd)).toBe(false);
    expect(pass(v4(2), 0x0806)).toBe(false);
    expect(pass(new Uint8Array(8), 0x0800)).toBe(false);
  });
});

describe('upcallFilter', () => {
  it('IPv4: passes an igmpmsg (0 where the protocol is), drops IGMP; IPv6: passes an mrt6msg, drops ICMPv6', () => {
    const msg = new Uint8Array(20); msg[8] = 1;
    expect(run(upcallFilter(4), msg)).toBeGreaterThan(0);
    expect(run(upcallFilter(4), v4(2))).toBe(0);
    const m6 = new Uint8Array(40); m6[1] = 1;
    expect(run(upcallFilter(6), m6)).toBeGreaterThan(0);
    m6[0] = 143;
    expect(run(upcallFilter(6), m6)).toBe(0);
  });
});
