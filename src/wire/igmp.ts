/**
 * IGMP messages (RFC 3376 §4, RFC 2236 §2, RFC 1112 appendix I), from the IGMP header
 * on. The type and the length say which message it is (RFC 3376 §7.1): a query of 8
 * bytes is IGMPv1 (Max Resp Code 0) or IGMPv2, one of 12 bytes or more IGMPv3.
 *
 * Membership Query (RFC 3376 §4.1):
 *
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |  Type = 0x11  | Max Resp Code |           Checksum            |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                         Group Address                         |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     | Resv  |S| QRV |     QQIC      |     Number of Sources (N)     |  (v3 only)
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                    Source Address [1..N]                      |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Version 3 Membership Report (RFC 3376 §4.2):
 *
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |  Type = 0x22  |    Reserved   |           Checksum            |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |           Reserved            |  Number of Group Records (M)  |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                    Group Record [1..M] (mcast.ts)             |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * v1 / v2 reports and the v2 Leave are the first 8 bytes (type 0x12 / 0x16 / 0x17, the
 * second octet unused / Max Resp Time, the group). The checksum (RFC 1071 over the whole
 * message) is checked on decode and computed on encode. Reserved fields are kept so an
 * accepted message re-encodes byte for byte; messages of another type are kept raw.
 */
import { internetChecksum, rangeSum } from './checksum';
import { Reader, Writer, defineCodec, type Codec } from './cursor';
import { IPPROTO_IGMP, readIpv4Datagram, writeIpv4Header, ipv4HeaderLength, type Ipv4Header } from './ipv4';
import { readGroupRecords, writeGroupRecords, groupRecordsLength, type GroupRecord } from './mcast';

export const IGMP_QUERY = 0x11;
export const IGMP_V1_REPORT = 0x12;
export const IGMP_V2_REPORT = 0x16;
export const IGMP_V2_LEAVE = 0x17;
export const IGMP_V3_REPORT = 0x22;

export type IgmpMessage =
  /** IGMPv1 (maxRespCode 0) or IGMPv2 query, 8 bytes; group 0.0.0.0 is a General Query. */
  | { readonly kind: 'query12'; readonly maxRespCode: number; readonly group: Uint8Array }
  | {
      readonly kind: 'query3';
      /** RFC 3376 §4.1.1, 1/10 s, floating point from 128 (`code8`). */
      readonly maxRespCode: number;
      readonly group: Uint8Array;
      /** The 4 reserved bits (RFC 3376 §4.1.5: ignored on receipt). */
      readonly resv: number;
      /** Suppress Router-Side Processing (RFC 3376 §4.1.5). */
      readonly suppress: boolean;
      /** Querier's Robustness Variable, 0–7 (RFC 3376 §4.1.6). */
      readonly qrv: number;
      /** Querier's Query Interval Code (RFC 3376 §4.1.7, `code8`, seconds). */
      readonly qqic: number;
      readonly sources: readonly Uint8Array[];
      /** Bytes past the sources (RFC 3376 §4.1.10: in the checksum, otherwise ignored). */
      readonly extra: Uint8Array;
    }
  | { readonly kind: 'report1'; readonly unused: number; readonly group: Uint8Array }
  | { readonly kind: 'report2'; readonly maxRespCode: number; readonly group: Uint8Array }
  | { readonly kind: 'leave2'; readonly maxRespCode: number; readonly group: Uint8Array }
  | {
      readonly kind: 'report3';
      readonly reserved1: number;
      readonly reserved2: number;
      readonly records: readonly GroupRecord[];
      /** Bytes past the records (in the checksum, ignored). */
      readonly extra: Uint8Array;
    }
  /** Another type (e.g. DVMRP 0x13, mtrace 0x1e/0x1f): kept raw after the checksum. */
  | { readonly kind: 'other'; readonly type: number; readonly code: number; readonly body: Uint8Array };

const SHORT = 8;
const QUERY3_MIN = 12;

function readIgmp(r: Reader): IgmpMessage {
  const start = r.pos;
  const total = r.remaining;
  const type = r.u8('igmp.type');
  const code = r.u8('igmp.maxRespCode');
  r.u16('igmp.checksum');
  if (!r.failed && total >= 4 && (~rangeSum(r.bytes, start, r.end) & 0xffff) !== 0) r.fail('igmp.checksum', 'bad checksum', start + 2);
  switch (type) {
    case IGMP_QUERY: {
      const group = r.bytesN('igmp.group', 4);
      if (total === SHORT) return { kind: 'query12', maxRespCode: code, group };
      // RFC 3376 §7.1: a query of 9–11 bytes is no version and is ignored.
      if (!r.failed && total < QUERY3_MIN) r.fail('igmp.length', `a query of ${total} bytes is neither 8 nor ≥ 12`, start);
      const flags = r.u8('igmp.flags');
      const qqic = r.u8('igmp.qqic');
      const nAt = r.pos;
      const n = r.u16('igmp.numberOfSources');
      if (!r.need('igmp.numberOfSources', n * 4, nAt)) return { kind: 'query12', maxRespCode: code, group };
      const sources: Uint8Array[] = [];
      for (let i = 0; i < n; i++) sources.push(r.bytesN(`igmp.sources[${i}]`, 4));
      return {
        kind: 'query3', maxRespCode: code, group, resv: flags >> 4, suppress: (flags & 8) !== 0, qrv: flags & 7, qqic, sources,
        extra: r.rest('igmp.extra'),
      };
    }
    case IGMP_V1_REPORT:
      return { kind: 'report1', unused: code, group: r.bytesN('igmp.group', 4) };
    case IGMP_V2_REPORT:
      return { kind: 'report2', maxRespCode: code, group: r.bytesN('igmp.group', 4) };
    case IGMP_V2_LEAVE:
      return { kind: 'leave2', maxRespCode: code, group: r.bytesN('igmp.group', 4) };
    case IGMP_V3_REPORT: {
      const reserved2 = r.u16('igmp.reserved');
      const m = r.u16('igmp.numberOfRecords');
      const records = readGroupRecords(r, m, 4, 'igmp');
      return { kind: 'report3', reserved1: code, reserved2, records, extra: r.rest('igmp.extra') };
    }
    default:
      return { kind: 'other', type, code, body: r.rest('igmp.body') };
  }
}

function igmpLength(m: IgmpMessage): number {
  switch (m.kind) {
    case 'query3': return QUERY3_MIN + 4 * m.sources.length + m.extra.length;
    case 'report3': return SHORT + groupRecordsLength(m.records, 4) + m.extra.length;
    case 'other': return 4 + m.body.length;
    default: return SHORT;
  }
}

function writeIgmp(w: Writer, m: IgmpMessage): void {
  const start = w.pos;
  switch (m.kind) {
    case 'query12': w.u8(IGMP_QUERY).u8(m.maxRespCode).u16(0).bytes(m.group); break;
    case 'query3':
      w.u8(IGMP_QUERY).u8(m.maxRespCode).u16(0).bytes(m.group);
      w.u8(((m.resv & 0xf) << 4) | (m.suppress ? 8 : 0) | (m.qrv & 7)).u8(m.qqic).u16(m.sources.length);
      for (const s of m.sources) w.bytes(s);
      w.bytes(m.extra);
      break;
    case 'report1': w.u8(IGMP_V1_REPORT).u8(m.unused).u16(0).bytes(m.group); break;
    case 'report2': w.u8(IGMP_V2_REPORT).u8(m.maxRespCode).u16(0).bytes(m.group); break;
    case 'leave2': w.u8(IGMP_V2_LEAVE).u8(m.maxRespCode).u16(0).bytes(m.group); break;
    case 'report3':
      w.u8(IGMP_V3_REPORT).u8(m.reserved1).u16(0).u16(m.reserved2).u16(m.records.length);
      writeGroupRecords(w, m.records);
      w.bytes(m.extra);
      break;
    case 'other': w.u8(m.type).u8(m.code).u16(0).bytes(m.body); break;
  }
  const sum = internetChecksum(w.buf.subarray(start, w.pos));
  w.buf[start + 2] = sum >> 8;
  w.buf[start + 3] = sum & 0xff;
}

/** An IGMP message alone (the IPv4 payload). */
export const igmpMessage: Codec<IgmpMessage> = defineCodec('igmp', { read: readIgmp, write: writeIgmp, length: igmpLength });

export interface IgmpPacket {
  readonly header: Ipv4Header;
  readonly message: IgmpMessage;
}

/** RFC 2113 Router Alert option (type 148, length 4, value 0): every IGMP message carries it (RFC 3376 §4). */
export const IPV4_ROUTER_ALERT = new Uint8Array([0x94, 0x04, 0x00, 0x00]);

/**
 * A whole IPv4 datagram carrying IGMP (what the `multicast` event brings and the
 * `multicast-send` action sends). A datagram of another protocol is an error.
 */
export const igmpPacket: Codec<IgmpPacket> = defineCodec('igmp-packet', {
  read: (r) => {
    const d = readIpv4Datagram(r);
    if (!r.failed && d.header.protocol !== IPPROTO_IGMP) r.fail('ipv4.protocol', `protocol ${d.header.protocol}, expected IGMP`, 9);
    const inner = new Reader(d.payload, 0, d.payload.length, undefined, true);
    const message = readIgmp(inner);
    inner.expectEnd('igmp');
    if (inner.error && !r.failed) {
      const at = r.pos - d.payload.length;
      r.fail(inner.error.field, inner.error.reason, at + inner.error.offset);
    }
    return { header: d.header, message };
  },
  write: (w, p) => {
    writeIpv4Header(w, p.header, igmpLength(p.message));
    writeIgmp(w, p.message);
  },
  length: (p) => ipv4HeaderLength(p.header) + igmpLength(p.message),
});

/**
 * The header the router sends IGMP with (RFC 3376 §4): TTL 1, IP Precedence of
 * Internetwork Control (RFC 3376 §4: ToS 0xc0), Router Alert.
 */
export function igmpHeader(source: Uint8Array, destination: Uint8Array): Ipv4Header {
  return {
    tos: 0xc0, identification: 0, flags: 0b010, fragmentOffset: 0, ttl: 1, protocol: IPPROTO_IGMP,
    source, destination, options: IPV4_ROUTER_ALERT,
  };
}
