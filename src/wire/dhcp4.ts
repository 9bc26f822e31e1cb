/**
 * DHCPv4 message (RFC 2131 §2, BOOTP fixed header + RFC 2132 options).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +---------------+---------------+---------------+---------------+
 *    |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
 *    +---------------+---------------+---------------+---------------+
 *    |                            xid (4)                            |
 *    +-------------------------------+-------------------------------+
 *    |           secs (2)            |           flags (2)           |
 *    +-------------------------------+-------------------------------+
 *    |                          ciaddr  (4)                          |
 *    |                          yiaddr  (4)                          |
 *    |                          siaddr  (4)                          |
 *    |                          giaddr  (4)                          |
 *    +---------------------------------------------------------------+
 *    |                          chaddr  (16)                         |
 *    |                          sname   (64)                         |
 *    |                          file    (128)                        |
 *    +---------------------------------------------------------------+
 *    |              magic cookie 99.130.83.99 (RFC 2131 §3)          |
 *    +---------------------------------------------------------------+
 *    |                          options (variable) ... End (255)     |
 *    |                          trailer (padding after End)          |
 *    +---------------------------------------------------------------+
 *
 * The options field is kept as a list of raw options in wire order (Pad as code 0 with
 * no data, End implicit) so that a relay re-emits what it does not understand byte for
 * byte; typed values come from `dhcp4-options.ts` through `getDhcp4Option`, which
 * concatenates repeated codes (RFC 3396 §7) across the options field and, when option
 * 52 says so (RFC 2132 §9.3), the `file` and then `sname` fields. `sname` and `file`
 * are always kept as their raw bytes.
 */
import { Reader, Writer, defineCodec, errResult, okResult, type Codec, type DecodeResult } from './cursor';
import {
  DHCP4_OPTION, decodeOwnedDhcp4OptionBody, encodeDhcp4OptionBody, isDhcp4OptionCode,
  type Dhcp4OptionCode, type Dhcp4OptionValues,
} from './dhcp4-options';
import type { RelayAgentInformation } from './dhcp4-relay-agent';
import { poolAlloc, poolCopy } from './pool';

export const DHCP4_MAGIC_COOKIE = 0x63825363;
export const DHCP4_FIXED_LENGTH = 236;
/** Bound on non-Pad options per area, against hostile option floods (CONVENTIONS 10). */
export const DHCP4_MAX_OPTIONS = 1024;
export const BOOTREQUEST = 1;
export const BOOTREPLY = 2;
/** RFC 2131 §2 flags: the client asks for broadcast replies. */
export const DHCP4_FLAG_BROADCAST = 0x8000;

const SNAME_OFFSET = 44;
const FILE_OFFSET = 108;

/** One option occurrence as it appeared on the wire. Pad is `{ code: 0, data: empty }`. */
export interface Dhcp4RawOption {
  readonly code: number;
  readonly data: Uint8Array;
}

export interface Dhcp4Message {
  readonly op: number;
  readonly htype: number;
  readonly hlen: number;
  readonly hops: number;
  readonly xid: number;
  readonly secs: number;
  readonly flags: number;
  readonly ciaddr: Uint8Array;
  readonly yiaddr: Uint8Array;
  readonly siaddr: Uint8Array;
  readonly giaddr: Uint8Array;
  /** All 16 octets; the hardware address is the first `hlen`. */
  readonly chaddr: Uint8Array;
  readonly sname: Uint8Array;
  readonly file: Uint8Array;
  /** The options field in wire order, End excluded. */
  readonly options: readonly Dhcp4RawOption[];
  /** Octets after End (normally zero padding up to the BOOTP minimum of 300 bytes). */
  readonly trailer: Uint8Array;
}

const EMPTY = new Uint8Array(0);

/** Read an option area up to End; Pad entries are kept so that re-encoding is exact. */
function readOptionArea(r: Reader, field: string, requireEnd: boolean): Dhcp4RawOption[] {
  const out: Dhcp4RawOption[] = [];
  let count = 0;
  for (;;) {
    if (r.remaining === 0) {
      if (requireEnd) r.fail(`${field}.end`, 'missing End option');
      return out;
    }
    const at = r.pos;
    // Field names are built only for the error they would name (a string per option
    // and datagram otherwise): the reads below cannot fail where the name is `field`.
    const code = r.u8(field);
    if (code === DHCP4_OPTION.END) return out;
    if (code === DHCP4_OPTION.PAD) {
      out.push({ code, data: EMPTY });
      continue;
    }
    if (++count > DHCP4_MAX_OPTIONS) {
      r.fail(field, `more than ${DHCP4_MAX_OPTIONS} options`, at);
      return out;
    }
    const len = r.remaining >= 1 ? r.u8(field) : r.u8(`${field}[${code}].length`);
    const data = r.remaining >= len ? r.bytesN(field, len, at + 1) : r.bytesN(`${field}[${code}]`, len, at + 1);
    if (r.failed) return out;
    out.push({ code, data });
  }
}

function readDhcp4(r: Reader): Dhcp4Message {
  const op = r.u8('dhcp4.op');
  const htype = r.u8('dhcp4.htype');
  const hlen = r.u8('dhcp4.hlen');
  const hops = r.u8('dhcp4.hops');
  const xid = r.u32('dhcp4.xid');
  const secs = r.u16('dhcp4.secs');
  const flags = r.u16('dhcp4.flags');
  const ciaddr = r.bytesN('dhcp4.ciaddr', 4);
  const yiaddr = r.bytesN('dhcp4.yiaddr', 4);
  const siaddr = r.bytesN('dhcp4.siaddr', 4);
  const giaddr = r.bytesN('dhcp4.giaddr', 4);
  const chaddr = r.bytesN('dhcp4.chaddr', 16);
  const sname = r.bytesN('dhcp4.sname', 64);
  const file = r.bytesN('dhcp4.file', 128);
  const cookieAt = r.pos;
  const cookie = r.u32('dhcp4.magicCookie');
  if (!r.failed && cookie !== DHCP4_MAGIC_COOKIE) r.fail('dhcp4.magicCookie', `0x${cookie.toString(16)} is not the DHCP magic cookie`, cookieAt);
  const options = readOptionArea(r, 'dhcp4.options', true);
  const trailer = r.rest('dhcp4.trailer');
  const msg: Dhcp4Message = { op, htype, hlen, hops, xid, secs, flags, ciaddr, yiaddr, siaddr, giaddr, chaddr, sname, file, options, trailer };
  if (!r.failed && overloads(msg)) {
    // Parse the overloaded areas now so that a malformed one fails the whole message.
    const all = dhcp4AllOptions(msg);
    if (!all.ok) r.fail(all.error.field, all.error.reason, all.error.offset);
  }
  return msg;
}

function optionAreaLength(options: readonly Dhcp4RawOption[]): number {
  let n = 0;
  for (const o of options) n += o.code === DHCP4_OPTION.PAD ? 1 : 2 + o.data.length;
  return n;
}

function writeFixed(w: Writer, bytes: Uint8Array, n: number, field: string): void {
  if (bytes.length !== n) throw new RangeError(`dhcp4: ${field} must be ${n} bytes`);
  w.bytes(bytes);
}

function writeDhcp4(w: Writer, m: Dhcp4Message): void {
  w.u8(m.op).u8(m.htype).u8(m.hlen).u8(m.hops).u32(m.xid).u16(m.secs).u16(m.flags);
  writeFixed(w, m.ciaddr, 4, 'ciaddr');
  writeFixed(w, m.yiaddr, 4, 'yiaddr');
  writeFixed(w, m.siaddr, 4, 'siaddr');
  writeFixed(w, m.giaddr, 4, 'giaddr');
  writeFixed(w, m.chaddr, 16, 'chaddr');
  writeFixed(w, m.sname, 64, 'sname');
  writeFixed(w, m.file, 128, 'file');
  w.u32(DHCP4_MAGIC_COOKIE);
  for (const o of m.options) {
    w.u8(o.code);
    if (o.code === DHCP4_OPTION.PAD) continue;
    if (o.data.length > 255) throw new RangeError(`dhcp4: option ${o.code} occurrence longer than 255 bytes (split it, RFC 3396)`);
    w.u8(o.data.length).bytes(o.data);
  }
  w.u8(DHCP4_OPTION.END).bytes(m.trailer);
}

export const dhcp4EncodingLength = (m: Dhcp4Message): number =>
  DHCP4_FIXED_LENGTH + 4 + optionAreaLength(m.options) + 1 + m.trailer.length;

export const dhcp4Message: Codec<Dhcp4Message> = defineCodec('dhcp4', {
  read: readDhcp4,
  write: writeDhcp4,
  length: dhcp4EncodingLength,
});

// ---- option access -----------------------------------------------------------------

/** The client hardware address: the first `hlen` octets of chaddr (at most 16). */
export const clientHardwareAddress = (m: Dhcp4Message): Uint8Array => m.chaddr.slice(0, Math.min(m.hlen, 16));

/** Whether the options field has option 52 (Option Overload, RFC 2132 §9.3). */
function overloads(m: Dhcp4Message): boolean {
  for (const o of m.options) if (o.code === DHCP4_OPTION.OVERLOAD) return true;
  return false;
}

/**
 * Every option of the message in RFC 3396 §7 order: the options field, then `file`,
 * then `sname` when option 52 overloads them. Pads are dropped.
 */
export function dhcp4AllOptions(m: Dhcp4Message): DecodeResult<Dhcp4RawOption[]> {
  const main = m.options.filter((o) => o.code !== DHCP4_OPTION.PAD);
  const ov = main.filter((o) => o.code === DHCP4_OPTION.OVERLOAD);
  if (ov.length === 0) return okResult(main);
  const overload = ov[0]!.data;
  if (ov.length > 1 || overload.length !== 1 || overload[0]! < 1 || overload[0]! > 3) {
    return errResult({ field: 'dhcp4.options[52]', offset: DHCP4_FIXED_LENGTH + 4, reason: 'invalid option overload' });
  }
  const out = [...main];
  const areas: [number, Uint8Array, number, string][] = [
    [1, m.file, FILE_OFFSET, 'dhcp4.file'],
    [2, m.sname, SNAME_OFFSET, 'dhcp4.sname'],
  ];
  for (const [bit, bytes, base, field] of areas) {
    if ((overload[0]! & bit) === 0) continue;
    const r = new Reader(bytes);
    const opts = readOptionArea(r, field, true);
    if (r.error) return errResult({ ...r.error, offset: r.error.offset + base });
    out.push(...opts.filter((o) => o.code !== DHCP4_OPTION.PAD));
  }
  return okResult(out);
}

/** The raw body of option `code`, repeated occurrences concatenated (RFC 3396 §7). */
export function getDhcp4OptionBytes(m: Dhcp4Message, code: number): Uint8Array | undefined {
  if (!overloads(m)) {
    // The common case, looked up several times per relayed message: one pass over the
    // options field, no intermediate arrays.
    let first: Uint8Array | undefined;
    let length = 0;
    let parts = 0;
    for (const o of m.options) {
      if (o.code !== code) continue;
      if (parts++ === 0) first = o.data;
      length += o.data.length;
    }
    if (first === undefined) return undefined;
    if (parts === 1) return poolCopy(first);
    const out = poolAlloc(length);
    let at = 0;
    for (const o of m.options) {
      if (o.code !== code) continue;
      out.set(o.data, at);
      at += o.data.length;
    }
    return out;
  }
  const all = dhcp4AllOptions(m);
  const parts = (all.ok ? all.value : m.options).filter((o) => o.code === code);
  if (parts.length === 0) return undefined;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.data.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p.data, at);
    at += p.data.length;
  }
  return out;
}

/** Typed value of an option through the descriptor table; `undefined` when absent. */
export function getDhcp4Option<C extends Dhcp4OptionCode>(m: Dhcp4Message, code: C): DecodeResult<Dhcp4OptionValues[C]> | undefined {
  const body = getDhcp4OptionBytes(m, code);
  // The body is a fresh copy made for this lookup: its values can be windows on it.
  return body === undefined ? undefined : decodeOwnedDhcp4OptionBody(code, body);
}

/**
 * Decode every known option of the message through the table (unknown ones stay raw):
 * parse the whole message before acting on it (CONVENTIONS 4).
 */
export function validateDhcp4Options(m: Dhcp4Message): DecodeResult<Dhcp4Message> {
  const all = dhcp4AllOptions(m);
  if (!all.ok) return all;
  for (const code of new Set(all.value.map((o) => o.code))) {
    if (!isDhcp4OptionCode(code)) continue;
    const v = getDhcp4Option(m, code);
    if (v && !v.ok) return v;
  }
  return okResult(m);
}

/** Split a body into ≤255-byte occurrences (RFC 3396 §6); an empty body is one empty option. */
export function splitDhcp4Option(code: number, data: Uint8Array): Dhcp4RawOption[] {
  if (data.length === 0) return [{ code, data }];
  const out: Dhcp4RawOption[] = [];
  for (let i = 0; i < data.length; i += 255) out.push({ code, data: data.slice(i, i + 255) });
  return out;
}

/** Remove every occurrence of `code` from the options field. */
export const removeDhcp4Option = (m: Dhcp4Message, code: number): Dhcp4Message => ({
  ...m,
  options: m.options.filter((o) => o.code !== code),
});

/**
 * Replace option `code` in the options field: the new occurrences take the place of the
 * first old one, or go last (before End) when there was none. Other options keep their
 * bytes and order.
 */
export function setDhcp4OptionBytes(m: Dhcp4Message, code: number, data: Uint8Array): Dhcp4Message {
  const parts = splitDhcp4Option(code, data);
  const first = m.options.findIndex((o) => o.code === code);
  const rest = m.options.filter((o) => o.code !== code);
  if (first < 0) return { ...m, options: [...rest, ...parts] };
  const before = m.options.slice(0, first).filter((o) => o.code !== code);
  return { ...m, options: [...before, ...parts, ...rest.slice(before.length)] };
}

export const setDhcp4Option = <C extends Dhcp4OptionCode>(m: Dhcp4Message, code: C, value: Dhcp4OptionValues[C]): Dhcp4Message =>
  setDhcp4OptionBytes(m, code, encodeDhcp4OptionBody(code, value));

// ---- relay agent information (option 82) -------------------------------------------

export const getRelayAgentInformation = (m: Dhcp4Message): DecodeResult<RelayAgentInformation> | undefined =>
  getDhcp4Option(m, DHCP4_OPTION.RELAY_AGENT_INFO);

export interface Option82Edit {
  /**
   * Keep the datagram size: inserting takes the octets from an all-zero trailer, and
   * stripping gives them back to it (what ISC dhcrelay does, so a 300-byte BOOTP
   * minimum stays 300 bytes). Default false.
   */
  readonly keepSize?: boolean;
}

const allZero = (b: Uint8Array): boolean => {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
};

/**
 * Add option 82 as the last option before End (RFC 3046 §2.1), without touching other
 * options. A body over 255 octets is split per RFC 3396.
 */
export function insertRelayAgentInformation(m: Dhcp4Message, info: RelayAgentInformation, edit: Option82Edit = {}): Dhcp4Message {
  return insertRelayAgentInformationBody(m, encodeDhcp4OptionBody(DHCP4_OPTION.RELAY_AGENT_INFO, info), edit);
}

/** `insertRelayAgentInformation` with option 82's body already encoded. */
function insertRelayAgentInformationBody(m: Dhcp4Message, body: Uint8Array, edit: Option82Edit): Dhcp4Message {
  const parts = splitDhcp4Option(DHCP4_OPTION.RELAY_AGENT_INFO, body);
  const added = optionAreaLength(parts);
  let trailer = m.trailer;
  if (edit.keepSize && allZero(trailer)) trailer = trailer.slice(0, Math.max(0, trailer.length - added));
  return { ...m, options: [...m.options, ...parts], trailer };
}

/** Remove every option 82 occurrence from the options field (a relay's reply path, RFC 3046 §2.1). */
export function stripRelayAgentInformation(m: Dhcp4Message, edit: Option82Edit = {}): Dhcp4Message {
  const removed = optionAreaLength(m.options.filter((o) => o.code === DHCP4_OPTION.RELAY_AGENT_INFO));
  const out = removeDhcp4Option(m, DHCP4_OPTION.RELAY_AGENT_INFO);
  if (!edit.keepSize || removed === 0 || !allZero(m.trailer)) return out;
  const trailer = new Uint8Array(m.trailer.length + removed);
  return { ...out, trailer };
}

// ---- byte-level edits of a received message ------------------------------------------

/*
 * A relay forwards the bytes it was given: RFC 3046 §2.0 has the agent append option 82
 * before End and leave the rest of the message as it arrived. The functions below
 * copy the bytes a message was decoded from and change only the option area, instead
 * of re-encoding every field of the decoded value. Each writes exactly what `encode`
 * of the message-level edit above writes (test/unit/wire/dhcp4-options.test.ts checks
 * it); `bytes` must be what `m` was decoded from, else they encode the edited value.
 */

const decodedFrom = (bytes: Uint8Array, m: Dhcp4Message): boolean => bytes.length === dhcp4EncodingLength(m);

/** `encode(insertRelayAgentInformation(m, info, edit))`, from the bytes `m` was decoded from. */
export function insertRelayAgentInformationBytes(
  bytes: Uint8Array, m: Dhcp4Message, info: RelayAgentInformation, edit: Option82Edit = {},
): Uint8Array {
  return insertRelayAgentInformationBodyBytes(bytes, m, encodeDhcp4OptionBody(DHCP4_OPTION.RELAY_AGENT_INFO, info), edit);
}

/**
 * The same with option 82's body already encoded: a relay adds the same body to every
 * message of a port, so it encodes it once (relay/dhcp4.ts), not per message.
 */
export function insertRelayAgentInformationBodyBytes(
  bytes: Uint8Array, m: Dhcp4Message, body: Uint8Array, edit: Option82Edit = {},
): Uint8Array {
  // Where End is in the bytes `m` was decoded from: fixed header, cookie, options field.
  const end = DHCP4_FIXED_LENGTH + 4 + optionAreaLength(m.options);
  // Not the bytes `m` was decoded from (decodedFrom): encode the edited value instead.
  if (bytes.length !== end + 1 + m.trailer.length) return dhcp4Message.encode(insertRelayAgentInformationBody(m, body, edit));
  // RFC 3396 §6: a body over 255 octets is split into consecutive occurrences.
  const occurrences = Math.max(1, Math.ceil(body.length / 255));
  const added = body.length + 2 * occurrences;
  let trailer = m.trailer.length;
  if (edit.keepSize && allZero(m.trailer)) trailer = Math.max(0, trailer - added);
  const out = poolAlloc(end + added + 1 + trailer);
  out.set(end === bytes.length ? bytes : bytes.subarray(0, end));
  let at = end;
  if (occurrences === 1) {
    out[at++] = DHCP4_OPTION.RELAY_AGENT_INFO;
    out[at++] = body.length;
    out.set(body, at);
    at += body.length;
  } else {
    for (let i = 0; i < occurrences; i++) {
      const part = body.subarray(i * 255, Math.min(body.length, (i + 1) * 255));
      out[at++] = DHCP4_OPTION.RELAY_AGENT_INFO;
      out[at++] = part.length;
      out.set(part, at);
      at += part.length;
    }
  }
  out[at++] = DHCP4_OPTION.END;
  if (trailer > 0) out.set(bytes.subarray(end + 1, end + 1 + trailer), at);
  return out;
}

/** Octets of `encode(stripRelayAgentInformation(m, edit))`. */
export function strippedLength(m: Dhcp4Message, edit: Option82Edit = {}): number {
  let removed = 0;
  for (const o of m.options) if (o.code === DHCP4_OPTION.RELAY_AGENT_INFO) removed += 2 + o.data.length;
  const total = dhcp4EncodingLength(m);
  return edit.keepSize && removed > 0 && allZero(m.trailer) ? total : total - removed;
}

/**
 * Write `encode(stripRelayAgentInformation(m, edit))` into `out` at `at` (room for
 * `strippedLength(m, edit)` octets), from the bytes `m` was decoded from.
 */
export function stripRelayAgentInformationInto(bytes: Uint8Array, m: Dhcp4Message, edit: Option82Edit, out: Uint8Array, at: number): void {
  if (!decodedFrom(bytes, m)) {
    dhcp4Message.encode(stripRelayAgentInformation(m, edit), out, at);
    return;
  }
  // The octets between option 82 occurrences go over in runs (one copy each, not one
  // per option), then End and the trailer as received; with keepSize the removed
  // octets become zero padding.
  let from = DHCP4_FIXED_LENGTH + 4;
  let runStart = 0;
  let to = at;
  for (const o of m.options) {
    const n = o.code === DHCP4_OPTION.PAD ? 1 : 2 + o.data.length;
    if (o.code === DHCP4_OPTION.RELAY_AGENT_INFO) {
      out.set(bytes.subarray(runStart, from), to);
      to += from - runStart;
      runStart = from + n;
    }
    from += n;
  }
  out.set(runStart === 0 ? bytes : bytes.subarray(runStart), to);
  to += bytes.length - runStart;
  out.fill(0, to, at + strippedLength(m, edit));
}
