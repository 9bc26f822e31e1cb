/**
 * The `multicast-send` contract's platform half (platform/multicast-frame.ts): the MAC
 * from the group, and an all-zero source filled in with the checksums that cover it
 * recomputed — checked against packets built by hand from RFC 3376 §4.1 / RFC 3810 §5.1
 * and verified with the RFC 1071 checksum over the finished bytes.
 */
import { describe, expect, it } from 'vitest';
import { hasZeroSource, multicastMac, withSource } from '../../../platform/multicast-frame';
import { internetChecksum, pseudoHeader } from '../../../src/wire/checksum';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';

const v4 = (t: string) => parseIPv4(t)!;
const v6 = (t: string) => parseIPv6(t)!;

/** An IGMPv3 general query to 224.0.0.1 with Router Alert, TTL 1, source `src` (RFC 3376 §4.1). */
function igmpQuery(src: Uint8Array, dst = v4('224.0.0.1')): Uint8Array {
  const igmp = Uint8Array.of(0x11, 100, 0, 0, 0, 0, 0, 0, 2, 125, 0, 0);
  const ck = internetChecksum(igmp);
  igmp[2] = ck >>> 8; igmp[3] = ck & 0xff;
  const ip = new Uint8Array(24 + igmp.length);
  ip.set([0x46, 0xc0, 0, ip.length, 0, 0, 0x40, 0, 1, 2, 0, 0]);
  ip.set(src, 12); ip.set(dst, 16);
  ip.set([0x94, 4, 0, 0], 20); // Router Alert (RFC 2113)
  const h = internetChecksum(ip.subarray(0, 24));
  ip[10] = h >>> 8; ip[11] = h & 0xff;
  ip.set(igmp, 24);
  return ip;
}

/** An MLDv2 general query to ff02::1 behind a Hop-by-Hop Router Alert (RFC 3810 §5.1). */
function mldQuery(src: Uint8Array, dst = v6('ff02::1')): Uint8Array {
  const icmp = new Uint8Array(28);
  icmp.set([130, 0, 0, 0, 0x27, 0x10]);
  icmp[24] = 2; icmp[25] = 125;
  const ck = internetChecksum(pseudoHeader(src, dst, 58, icmp.length), icmp);
  icmp[2] = ck >>> 8; icmp[3] = ck & 0xff;
  const p = new Uint8Array(40 + 8 + icmp.length);
  p.set([0x60, 0, 0, 0, 0, 8 + icmp.length, 0, 1]);
  p.set(src, 8); p.set(dst, 24);
  p.set([58, 0, 5, 2, 0, 0, 1, 0], 40); // next ICMPv6, Router Alert MLD (RFC 2711), PadN
  p.set(icmp, 48);
  return p;
}

describe('multicastMac (RFC 1112 §6.4, RFC 2464 §7)', () => {
  it('maps the low 23 bits of an IPv4 group and the low 32 bits of an IPv6 group', () => {
    expect([...multicastMac(4, igmpQuery(v4('10.1.0.1'), v4('232.129.2.3')))!]).toEqual([1, 0, 0x5e, 0x01, 2, 3]);
    expect([...multicastMac(6, mldQuery(v6('fe80::1'), v6('ff3e::8000:1')))!]).toEqual([0x33, 0x33, 0x80, 0, 0, 1]);
  });
  it('refuses a destination that is not a group, and a short packet', () => {
    expect(multicastMac(4, igmpQuery(v4('10.1.0.1'), v4('10.1.0.2')))).toBeNull();
    expect(multicastMac(6, mldQuery(v6('fe80::1'), v6('fe80::2')))).toBeNull();
    expect(multicastMac(4, new Uint8Array(10))).toBeNull();
  });
});

describe('withSource: the zero-source rule', () => {
  it('IPv4: fills the source and recomputes the header checksum; the IGMP bytes are unchanged', () => {
    const q = igmpQuery(v4('0.0.0.0'));
    expect(hasZeroSource(4, q)).toBe(true);
    const out = withSource(4, q, v4('192.0.2.1'))!;
    expect([...out.subarray(12, 16)]).toEqual([192, 0, 2, 1]);
    expect(internetChecksum(out.subarray(0, 24))).toBe(0);
    expect(out).toEqual(igmpQuery(v4('192.0.2.1')));
    expect(hasZeroSource(4, q)).toBe(true); // the action's bytes are not modified
  });
  it('IPv6: fills the link-local and recomputes the MLD checksum over the pseudo-header behind Hop-by-Hop', () => {
    const q = mldQuery(v6('::'));
    expect(hasZeroSource(6, q)).toBe(true);
    const out = withSource(6, q, v6('fe80::1'))!;
    expect(out).toEqual(mldQuery(v6('fe80::1')));
    expect(internetChecksum(pseudoHeader(v6('fe80::1'), v6('ff02::1'), 58, 28), out.subarray(48))).toBe(0);
  });
  it('a packet whose lengths run past its end is refused, not read out of bounds', () => {
    const q = mldQuery(v6('::'));
    q[5] = 200;
    expect(withSource(6, q, v6('fe80::1'))).toBeNull();
    const r = igmpQuery(v4('0.0.0.0')).subarray(0, 22);
    expect(withSource(4, r, v4('192.0.2.1'))).toBeNull();
  });
  it('a packet with a source is not touched', () => {
    expect(hasZeroSource(4, igmpQuery(v4('10.1.0.1')))).toBe(false);
    expect(hasZeroSource(6, mldQuery(v6('fe80::1')))).toBe(false);
  });
});
