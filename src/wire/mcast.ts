/**
 * What IGMPv3 (RFC 3376 §4) and MLDv2 (RFC 3810 §5) share: the floating-point time
 * codes, the group record types and the group record layout of a report.
 *
 * Group record (IGMPv3 RFC 3376 §4.2.4, MLDv2 RFC 3810 §5.2.4; the address is 4 or 16
 * bytes):
 *
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |  Record Type  |  Aux Data Len |     Number of Sources (N)     |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                Multicast Address (group)                      |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                Source Address [1..N]                          |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *     |                Auxiliary Data (Aux Data Len 32-bit words)     |
 *     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
import type { Reader, Writer } from './cursor';

/** Record types (RFC 3376 §4.2.12, RFC 3810 §5.2.12). */
export const MODE_IS_INCLUDE = 1;
export const MODE_IS_EXCLUDE = 2;
export const CHANGE_TO_INCLUDE_MODE = 3;
export const CHANGE_TO_EXCLUDE_MODE = 4;
export const ALLOW_NEW_SOURCES = 5;
export const BLOCK_OLD_SOURCES = 6;

export interface GroupRecord {
  /** 1–6 above; other values are kept (RFC 3376 §4.2.12: records of unknown type are ignored). */
  readonly type: number;
  readonly group: Uint8Array;
  readonly sources: readonly Uint8Array[];
  /** Auxiliary data, a multiple of 4 bytes (RFC 3376 §4.2.10: ignored on receipt, kept to re-encode). */
  readonly auxData: Uint8Array;
}

const RECORD_FIXED = 4;

export const groupRecordsLength = (records: readonly GroupRecord[], addrLen: number): number =>
  records.reduce((n, g) => n + RECORD_FIXED + addrLen * (1 + g.sources.length) + g.auxData.length, 0);

/**
 * `count` records of `addrLen`-byte addresses. Every claimed count is checked against
 * the bytes left before an array is made for it (CONVENTIONS 3): a report claiming
 * 65535 records of 65535 sources in 40 bytes allocates nothing.
 */
export function readGroupRecords(r: Reader, count: number, addrLen: number, field: string): GroupRecord[] {
  if (!r.need(`${field}.numberOfRecords`, count * (RECORD_FIXED + addrLen), r.pos - 2)) return [];
  const out: GroupRecord[] = [];
  for (let i = 0; i < count && !r.failed; i++) {
    const f = `${field}.records[${i}]`;
    const type = r.u8(`${f}.type`);
    const auxWords = r.u8(`${f}.auxDataLen`);
    const nAt = r.pos;
    const n = r.u16(`${f}.numberOfSources`);
    const group = r.bytesN(`${f}.group`, addrLen);
    if (!r.need(`${f}.numberOfSources`, n * addrLen + auxWords * 4, nAt)) break;
    const sources: Uint8Array[] = [];
    for (let k = 0; k < n; k++) sources.push(r.bytesN(`${f}.sources[${k}]`, addrLen));
    const auxData = r.bytesN(`${f}.auxData`, auxWords * 4);
    out.push({ type, group, sources, auxData });
  }
  return out;
}

export function writeGroupRecords(w: Writer, records: readonly GroupRecord[]): void {
  for (const g of records) {
    if (g.auxData.length % 4 !== 0 || g.auxData.length > 255 * 4) throw new RangeError('group record: aux data must be ≤ 255 32-bit words');
    w.u8(g.type).u8(g.auxData.length / 4).u16(g.sources.length).bytes(g.group);
    for (const s of g.sources) w.bytes(s);
    w.bytes(g.auxData);
  }
}

/**
 * The floating-point time codes (RFC 3376 §4.1.1 Max Resp Code and §4.1.7 QQIC, RFC
 * 3810 §5.1.3 Maximum Response Code and §5.1.9 QQIC): below 2^(bits−1) the code is the
 * value; from there on it is 1|exp(3)|mant(bits−4) meaning (mant | 1 << (bits−4)) <<
 * (exp + 3). The 8-bit form has a 4-bit mantissa; the 16-bit MLD form a 12-bit one.
 */
export interface FloatCode {
  readonly bits: 8 | 16;
  /** The value a code stands for (units of the field: 1/10 s, ms or s). */
  decode(code: number): number;
  /** The code of the largest representable value ≤ `value` (clamped to the largest code). */
  encode(value: number): number;
  /** The largest value a code can carry. */
  readonly max: number;
}

function floatCode(bits: 8 | 16): FloatCode {
  const mantBits = bits - 4;
  const threshold = 1 << (bits - 1);
  const implicit = 1 << mantBits;
  const mantMask = implicit - 1;
  const decode = (code: number): number =>
    code < threshold ? code : ((code & mantMask) | implicit) * 2 ** (((code >> mantBits) & 7) + 3);
  const max = decode((1 << bits) - 1);
  const encode = (value: number): number => {
    const v = Math.max(0, Math.floor(value));
    if (v < threshold) return v;
    if (v >= max) return (1 << bits) - 1;
    // The exponent puts the leading one of v at bit mantBits after shifting by exp + 3.
    let exp = 0;
    while (v >= implicit * 2 ** (exp + 4)) exp++;
    const mant = Math.floor(v / 2 ** (exp + 3)) & mantMask;
    return threshold | (exp << mantBits) | mant;
  };
  return { bits, decode, encode, max };
}

/** IGMPv3 Max Resp Code (1/10 s) and QQIC (s) of both protocols. */
export const code8 = floatCode(8);
/** MLDv2 Maximum Response Code (ms). */
export const code16 = floatCode(16);
