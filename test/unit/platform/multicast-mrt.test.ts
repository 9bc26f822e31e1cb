/**
 * The multicast routing socket's structures (platform/multicast-mrt.ts) against the
 * layouts of linux/mroute.h and linux/mroute6.h (sizes and offsets checked with gcc's
 * offsetof on this machine), and the upcalls as the kernel lays them out.
 */
import { describe, expect, it } from 'vitest';
import { decodeIgmpmsg, decodeMrt6msg, mf6cctl, mfcctl, mif6ctl, vifctl } from '../../../platform/multicast-mrt';
import { HOST_ORDER, littleEndian } from '../../../platform/byte-order';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';

const u16 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint16(at, littleEndian(HOST_ORDER));
const i32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getInt32(at, littleEndian(HOST_ORDER));

describe('socket option structures', () => {
  it('vifctl: 16 bytes, VIFF_USE_IFINDEX, threshold 1, ifindex in the union', () => {
    const b = vifctl(3, 42);
    expect(b.length).toBe(16);
    expect([u16(b, 0), b[2], b[3], i32(b, 8)]).toEqual([3, 8, 1, 42]);
  });
  it('mif6ctl: 12 bytes, pifi at 4', () => {
    const b = mif6ctl(2, 9);
    expect(b.length).toBe(12);
    expect([u16(b, 0), b[3], u16(b, 4)]).toEqual([2, 1, 9]);
  });
  it('mfcctl: 60 bytes, (S, G), parent at 8, ttl 1 for each output VIF and 255 for the rest', () => {
    const b = mfcctl(parseIPv4('10.0.0.2')!, parseIPv4('232.1.1.1')!, 0, [1, 31]);
    expect(b.length).toBe(60);
    expect([...b.subarray(0, 8)]).toEqual([10, 0, 0, 2, 232, 1, 1, 1]);
    expect(u16(b, 8)).toBe(0);
    const ttls = [...b.subarray(10, 42)];
    expect(ttls.filter((t) => t === 1)).toHaveLength(2);
    expect([ttls[0], ttls[1], ttls[31]]).toEqual([255, 1, 1]);
  });
  it('mf6cctl: 92 bytes, two sockaddr_in6, parent at 56, the if_set bits at 60', () => {
    const b = mf6cctl(parseIPv6('fd00::2')!, parseIPv6('ff3e::8000:1')!, 4, [0, 5, 31]);
    expect(b.length).toBe(92);
    expect(u16(b, 0)).toBe(10);
    expect([...b.subarray(8, 24)]).toEqual([...parseIPv6('fd00::2')!]);
    expect([...b.subarray(36, 52)]).toEqual([...parseIPv6('ff3e::8000:1')!]);
    expect(u16(b, 56)).toBe(4);
    expect(new DataView(b.buffer).getUint32(60, littleEndian(HOST_ORDER))).toBe((1 | (1 << 5) | (1 << 31)) >>> 0);
  });
});

describe('upcalls', () => {
  it('igmpmsg: NOCACHE with its VIF, source and group; an IGMP packet (protocol 2) is not one', () => {
    const m = new Uint8Array(20);
    m[8] = 1; m[10] = 2;
    m.set([10, 0, 0, 2, 232, 1, 1, 1], 12);
    expect(decodeIgmpmsg(m)).toEqual({ family: 4, reason: 'nocache', vif: 2, source: parseIPv4('10.0.0.2'), group: parseIPv4('232.1.1.1') });
    m[8] = 2;
    expect(decodeIgmpmsg(m)?.reason).toBe('wrongvif');
    m[9] = 2;
    expect(decodeIgmpmsg(m)).toBeNull();
    m[9] = 0; m[8] = 3; // WHOLEPKT: a PIM register, not gleand's
    expect(decodeIgmpmsg(m)).toBeNull();
    expect(decodeIgmpmsg(m.subarray(0, 19))).toBeNull();
  });
  it('mrt6msg: NOCACHE with its MIF; an ICMPv6 message (non-zero type) is not one', () => {
    const m = new Uint8Array(40);
    m[1] = 1;
    new DataView(m.buffer).setUint16(2, 3, littleEndian(HOST_ORDER));
    m.set(parseIPv6('fd00::2')!, 8);
    m.set(parseIPv6('ff3e::8000:1')!, 24);
    expect(decodeMrt6msg(m)).toEqual({ family: 6, reason: 'nocache', vif: 3, source: parseIPv6('fd00::2'), group: parseIPv6('ff3e::8000:1') });
    m[0] = 135;
    expect(decodeMrt6msg(m)).toBeNull();
  });
});
