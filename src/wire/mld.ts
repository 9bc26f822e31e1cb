/**
 * MLD messages (RFC 3810 §5, RFC 2710 §3) in a whole IPv6 packet: the fixed header, the
 * Hop-by-Hop Options header that carries Router Alert (RFC 3810 §5, RFC 2711), then
 * ICMPv6 (RFC 4443 §2.1). The ICMPv6 checksum covers the pseudo-header (RFC 8200 §8.1),
 * so the message is read and written with the packet's addresses.
 *
 * Multicast Listener Query (RFC 3810 §5.1; MLDv1 is the first 24 bytes, RFC 2710 §3):
 *
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |  Type = 130   |      Code     |           Checksum            |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |    Maximum Response Code      |           Reserved            |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                  Multicast Address (16 bytes)                 |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     | Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |  (v2 only)
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                  Source Address [1..N] (16 bytes each)        |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Version 2 Multicast Listener Report (RFC 3810 §5.2): type 143, reserved octet,
 * checksum, reserved 16 bits, Nr of Mcast Address Records, then the records (mcast.ts).
 * MLDv1 Report 131 and Done 132 have the query's first 24-byte layout (RFC 2710 §3).
 * A query of 25–27 bytes is no version and is an error (RFC 3810 §8.1).
 */
import { pseudoHeaderSum, rangeSum } from './checksum';
import { Reader, Writer, defineCodec, type Codec } from './cursor';
import { IPV6_HEADER_LENGTH, readIpv6Header, writeIpv6Header, type Ipv6Header } from './ipv6';
import { readGroupRecords, writeGroupRecords, groupRecordsLength, type GroupRecord } from './mcast';

export const MLD_QUERY = 130;
export const MLD_V1_REPORT = 131;
export const MLD_V1_DONE = 132;
export const MLD_V2_REPORT = 143;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_HOPOPTS = 0;

export type MldMessage =
  /** MLDv1 query (RFC 2710 §3.4): Maximum Response Delay in ms; address :: is a General Query. */
  | { readonly kind: 'query1'; readonly code: number; readonly maxRespDelay: number; readonly reserved: number; readonly address: Uint8Array }
  | {
      readonly kind: 'query2';
      readonly code: number;
      /** RFC 3810 §5.1.3, ms, floating point from 32768 (`code16`). */
      readonly maxRespCode: number;
      readonly reserved: number;
      readonly address: Uint8Array;
      readonly resv: number;
      /** Suppress Router-Side Processing (RFC 3810 §5.1.7). */
      readonly suppress: boolean;
      /** Querier's Robustness Variable (RFC 3810 §5.1.8). */
      readonly qrv: number;
      /** Querier's Query Interval Code (RFC 3810 §5.1.9, `code8`, seconds). */
      readonly qqic: number;
      readonly sources: readonly Uint8Array[];
      readonly extra: Uint8Array;
    }
  | { readonly kind: 'report1' | 'done1'; readonly code: number; readonly maxRespDelay: number; readonly reserved: number; readonly address: Uint8Array }
  | {
      readonly kind: 'report2';
      readonly code: number;
      readonly reserved: number;
      readonly records: readonly GroupRecord[];
      readonly extra: Uint8Array;
    }
  /** Another ICMPv6 type behind a Hop-by-Hop header: kept raw. */
  | { readonly kind: 'other'; readonly type: number; readonly code: number; readonly body: Uint8Array };

const V1_LENGTH = 24;
const QUERY2_MIN = 28;

function readMld(r: Reader): MldMessage {
  const start = r.pos;
  const total = r.remaining;
  const type = r.u8('mld.type');
  const code = r.u8('mld.code');
  r.u16('mld.checksum');
  if (type === MLD_QUERY || type === MLD_V1_REPORT || type === MLD_V1_DONE) {
    const maxResp = r.u16('mld.maxRespCode');
    const reserved = r.u16('mld.reserved');
    const address = r.bytesN('mld.address', 16);
    if (type === MLD_V1_REPORT) return { kind: 'report1', code, maxRespDelay: maxResp, reserved, address };
    if (type === MLD_V1_DONE) return { kind: 'done1', code, maxRespDelay: maxResp, reserved, address };
    if (total === V1_LENGTH) return { kind: 'query1', code, maxRespDelay: maxResp, reserved, address };
    if (!r.failed && total < QUERY2_MIN) r.fail('mld.length', `a query of ${total} bytes is neither 24 nor ≥ 28`, start);
    const flags = r.u8('mld.flags');
    const qqic = r.u8('mld.qqic');
    const nAt = r.pos;
    const n = r.u16('mld.numberOfSources');
    if (!r.need('mld.numberOfSources', n * 16, nAt)) return { kind: 'query1', code, maxRespDelay: maxResp, reserved, address };
    const sources: Uint8Array[] = [];
    for (let i = 0; i < n; i++) sources.push(r.bytesN(`mld.sources[${i}]`, 16));
    return {
      kind: 'query2', code, maxRespCode: maxResp, reserved, address, resv: flags >> 4, suppress: (flags & 8) !== 0, qrv: flags & 7,
      qqic, sources, extra: r.rest('mld.extra'),
    };
  }
  if (type === MLD_V2_REPORT) {
    const reserved = r.u16('mld.reserved');
    const m = r.u16('mld.numberOfRecords');
    const records = readGroupRecords(r, m, 16, 'mld');
    return { kind: 'report2', code, reserved, records, extra: r.rest('mld.extra') };
  }
  return { kind: 'other', type, code, body: r.rest('mld.body') };
}

export function mldLength(m: MldMessage): number {
  switch (m.kind) {
    case 'query2': return QUERY2_MIN + 16 * m.sources.length + m.extra.length;
    case 'report2': return 8 + groupRecordsLength(m.records, 16) + m.extra.length;
    case 'other': return 4 + m.body.length;
    default: return V1_LENGTH;
  }
}

/** Write the message with its checksum over the pseudo-header of `source` → `destination`. */
function writeMld(w: Writer, m: MldMessage, source: Uint8Array, destination: Uint8Array): void {
  const start = w.pos;
  const type = { query1: MLD_QUERY, query2: MLD_QUERY, report1: MLD_V1_REPORT, done1: MLD_V1_DONE, report2: MLD_V2_REPORT, other: 0 }[m.kind];
  w.u8(m.kind === 'other' ? m.type : type).u8(m.code).u16(0);
  switch (m.kind) {
    case 'query1': case 'report1': case 'done1':
      w.u16(m.maxRespDelay).u16(m.reserved).bytes(m.address);
      break;
    case 'query2':
      w.u16(m.maxRespCode).u16(m.reserved).bytes(m.address);
      w.u8(((m.resv & 0xf) << 4) | (m.suppress ? 8 : 0) | (m.qrv & 7)).u8(m.qqic).u16(m.sources.length);
      for (const s of m.sources) w.bytes(s);
      w.bytes(m.extra);
      break;
    case 'report2':
      w.u16(m.reserved).u16(m.records.length);
      writeGroupRecords(w, m.records);
      w.bytes(m.extra);
      break;
    case 'other': w.bytes(m.body); break;
  }
  const sum = ~rangeSum(w.buf, start, w.pos, pseudoHeaderSum(source, destination, IPPROTO_ICMPV6, w.pos - start)) & 0xffff;
  w.buf[start + 2] = sum >> 8;
  w.buf[start + 3] = sum & 0xff;
}

export interface MldPacket {
  /** `nextHeader` is 0: the Hop-by-Hop header follows. */
  readonly header: Ipv6Header;
  /** The Hop-by-Hop options (after its Next Header and Hdr Ext Len octets), 6 + 8k bytes. */
  readonly hopByHop: Uint8Array;
  readonly message: MldMessage;
}

/** Router Alert (RFC 2711, value 0 = MLD) then a PadN of 2: the usual 6 option bytes. */
export const IPV6_ROUTER_ALERT_HBH = new Uint8Array([0x05, 0x02, 0x00, 0x00, 0x01, 0x00]);

/** True when the Hop-by-Hop options hold Router Alert with value 0 (MLD, RFC 2711 §2.1). */
export function hasMldRouterAlert(options: Uint8Array): boolean {
  let i = 0;
  while (i < options.length) {
    const t = options[i]!;
    if (t === 0) { i++; continue; } // Pad1
    if (i + 1 >= options.length) return false;
    const len = options[i + 1]!;
    if (t === 0x05 && len === 2 && i + 3 < options.length) return options[i + 2] === 0 && options[i + 3] === 0;
    i += 2 + len;
  }
  return false;
}

export const mldPacket: Codec<MldPacket> = defineCodec('mld-packet', {
  read: (r) => {
    const { header, payloadLength } = readIpv6Header(r);
    if (!r.failed && header.nextHeader !== IPPROTO_HOPOPTS) {
      r.fail('ipv6.nextHeader', `next header ${header.nextHeader}: MLD needs a Hop-by-Hop header (RFC 3810 §5)`, 6);
    }
    const p = r.sub('ipv6.payload', payloadLength, 4);
    const hbhNext = p.u8('hopByHop.nextHeader');
    const hbhLen = p.u8('hopByHop.hdrExtLen');
    const hopByHop = p.bytesN('hopByHop.options', hbhLen * 8 + 6);
    if (!p.failed && hbhNext !== IPPROTO_ICMPV6) p.fail('hopByHop.nextHeader', `next header ${hbhNext}, expected ICMPv6`, IPV6_HEADER_LENGTH);
    const icmpStart = p.pos;
    if (!p.failed && (~rangeSum(p.bytes, icmpStart, p.end, pseudoHeaderSum(header.source, header.destination, IPPROTO_ICMPV6, p.end - icmpStart)) & 0xffff) !== 0) {
      p.fail('mld.checksum', 'bad checksum', icmpStart + 2);
    }
    const message = readMld(p);
    p.expectEnd('mld');
    return { header, hopByHop, message };
  },
  write: (w, p) => {
    if ((p.hopByHop.length + 2) % 8 !== 0) throw new RangeError('mld: Hop-by-Hop options must fill a multiple of 8 bytes');
    writeIpv6Header(w, p.header, 2 + p.hopByHop.length + mldLength(p.message));
    w.u8(IPPROTO_ICMPV6).u8((p.hopByHop.length + 2) / 8 - 1).bytes(p.hopByHop);
    writeMld(w, p.message, p.header.source, p.header.destination);
  },
  length: (p) => IPV6_HEADER_LENGTH + 2 + p.hopByHop.length + mldLength(p.message),
});

/** The header the router sends MLD with (RFC 3810 §5): Hop Limit 1, Hop-by-Hop next. */
export function mldHeader(source: Uint8Array, destination: Uint8Array): Ipv6Header {
  return { trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_HOPOPTS, hopLimit: 1, source, destination };
}
