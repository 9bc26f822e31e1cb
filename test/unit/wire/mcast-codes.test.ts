/**
 * The floating-point time codes (RFC 3376 §4.1.1 / §4.1.7, RFC 3810 §5.1.3 / §5.1.9) over
 * every code and every value, and the IGMP / MLD codecs over hand-built values the
 * captures do not hold (group-and-source queries, aux data, unknown types, hostile counts).
 */
import { describe, expect, it } from 'vitest';
import { runCodecKit, hex } from './kit';
import { code8, code16 } from '../../../src/wire/mcast';
import { igmpHeader, igmpMessage, igmpPacket } from '../../../src/wire/igmp';
import { IPV6_ROUTER_ALERT_HBH, mldHeader, mldPacket } from '../../../src/wire/mld';

describe('8-bit Max Resp Code / QQIC (RFC 3376 §4.1.1, §4.1.7)', () => {
  it('decodes every code as the RFC formula says', () => {
    const wrong: number[] = [];
    for (let c = 0; c < 256; c++) {
      // RFC 3376 §4.1.1: exp in bits 6–4, mant in bits 3–0, value (mant | 0x10) << (exp + 3).
      const want = c < 128 ? c : ((c & 0x0f) | 0x10) << (((c >> 4) & 7) + 3);
      if (code8.decode(c) !== want) wrong.push(c);
    }
    expect(wrong).toEqual([]);
    expect(code8.decode(0x80)).toBe(128);
    expect(code8.decode(0xff)).toBe(31744);
  });
  it('encodes every code back to itself, and every value to the largest code not above it', () => {
    const wrong: string[] = [];
    for (let c = 0; c < 256; c++) if (code8.encode(code8.decode(c)) !== c) wrong.push(`code ${c}`);
    let best = 0;
    for (let v = 0; v <= 40000; v++) {
      while (best < 255 && code8.decode(best + 1) <= v) best++;
      if (code8.encode(v) !== best) wrong.push(`value ${v}`);
    }
    expect(wrong).toEqual([]);
  });
});

describe('16-bit Maximum Response Code (RFC 3810 §5.1.3)', () => {
  it('decodes every code as the RFC formula says', () => {
    const wrong: number[] = [];
    for (let c = 0; c < 65536; c++) {
      const want = c < 32768 ? c : ((c & 0x0fff) | 0x1000) * 2 ** (((c >> 12) & 7) + 3);
      if (code16.decode(c) !== want) wrong.push(c);
    }
    expect(wrong).toEqual([]);
    expect(code16.max).toBe(8387584);
  });
  it('encodes every code back to itself, and values to the largest code not above them', () => {
    const wrong: string[] = [];
    for (let c = 0; c < 65536; c++) if (code16.encode(code16.decode(c)) !== c) wrong.push(`code ${c}`);
    for (let c = 32768; c < 65535; c++) {
      const lo = code16.decode(c);
      const hi = code16.decode(c + 1);
      if (code16.encode(hi - 1) !== c) wrong.push(`below ${c + 1}`);
      if (code16.encode(lo + 1) !== (lo + 1 < hi ? c : c + 1)) wrong.push(`above ${c}`);
    }
    expect(wrong).toEqual([]);
    expect(code16.encode(1e9)).toBe(65535);
  });
});

const a4 = (s: string) => new Uint8Array(s.split('.').map(Number));
const a6 = (last: number, first = 0xff3e) => {
  const b = new Uint8Array(16);
  b[0] = first >> 8; b[1] = first & 0xff; b[15] = last;
  return b;
};

runCodecKit('IGMP messages, hand-built', {
  codec: igmpMessage,
  values: [
    { kind: 'query3', maxRespCode: 0x9c, group: a4('232.1.1.1'), resv: 0, suppress: true, qrv: 2, qqic: 125,
      sources: [a4('192.0.2.1'), a4('192.0.2.2')], extra: new Uint8Array(0) },
    { kind: 'query3', maxRespCode: 10, group: a4('232.1.1.1'), resv: 5, suppress: false, qrv: 7, qqic: 0xff, sources: [], extra: hex('0102') },
    { kind: 'report3', reserved1: 0, reserved2: 0, extra: new Uint8Array(0), records: [
      { type: 1, group: a4('232.1.1.1'), sources: [a4('192.0.2.1')], auxData: hex('deadbeef') },
      { type: 9, group: a4('239.1.1.1'), sources: [], auxData: new Uint8Array(0) },
    ] },
    { kind: 'report2', maxRespCode: 0, group: a4('239.1.1.1') },
    { kind: 'other', type: 0x13, code: 1, body: hex('00010203') },
  ],
});

runCodecKit('MLD packets, hand-built', {
  codec: mldPacket,
  values: [
    { header: mldHeader(new Uint8Array(16), a6(0x16, 0xff02)), hopByHop: IPV6_ROUTER_ALERT_HBH, message: {
      kind: 'query2', code: 0, maxRespCode: 0x8123, reserved: 0, address: a6(1), resv: 0, suppress: true, qrv: 2, qqic: 125,
      sources: [a6(9, 0x2001)], extra: new Uint8Array(0) } },
    { header: mldHeader(a6(1, 0xfe80), a6(0x16, 0xff02)), hopByHop: IPV6_ROUTER_ALERT_HBH, message: {
      kind: 'report2', code: 0, reserved: 0, extra: new Uint8Array(0),
      records: [{ type: 5, group: a6(1), sources: [a6(9, 0x2001), a6(10, 0x2001)], auxData: new Uint8Array(0) }] } },
  ],
});

describe('claimed counts are checked before anything is allocated (CONVENTIONS 3)', () => {
  it('a v3 report claiming 65535 records in 8 bytes is refused at numberOfRecords', () => {
    const m = igmpMessage.encode({ kind: 'report3', reserved1: 0, reserved2: 0, records: [], extra: new Uint8Array(0) });
    const b = m.slice();
    b[6] = 0xff; b[7] = 0xff;
    // fix the checksum so the count is what fails
    b[2] = 0; b[3] = 0;
    let s = 0;
    for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | b[i + 1]!;
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    const ck = ~s & 0xffff;
    b[2] = ck >> 8; b[3] = ck & 0xff;
    const r = igmpMessage.decode(b);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.field).toBe('igmp.numberOfRecords');
  });
  it('a packet IGMP header built for a query is a valid IPv4 datagram with Router Alert', () => {
    const p = igmpPacket.encode({ header: igmpHeader(a4('10.0.0.1'), a4('224.0.0.1')), message: { kind: 'query12', maxRespCode: 0, group: a4('0.0.0.0') } });
    expect(p[0]).toBe(0x46);
    expect(Array.from(p.subarray(20, 24))).toEqual([0x94, 4, 0, 0]);
    expect(igmpPacket.decode(p).ok).toBe(true);
  });
});
