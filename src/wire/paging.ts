import { defineCodec, type Reader, type Writer } from './cursor';

/**
 * gleand's paging protocol (src/paging/PROTOCOL.md): the messages of the H-PA, H-TA and
 * H-DMA interfaces of RFC 3154 §5.2, over UDP on one configurable port. RFC 3154 states
 * requirements only; no paging protocol was ever standardised, so the layout is ours.
 *
 * Every message: a fixed header, the sender's or subject's id, a body by type, and an
 * HMAC-SHA-256 trailer over everything before it (RFC 3154 §4.19–§4.22; computed and
 * checked by src/paging/auth.ts — the codec only carries the 32 octets).
 *
 * ```
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Version (1)  |     Type      |   Id Length   |  Reserved (0) |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Agent Epoch                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * +                        Counter (64 bits)                      +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Id (1..64 printable ASCII octets: host id, or area id)  ... |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Body (by Type, below)  ...                                   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  HMAC-SHA-256 (32 octets) over every octet above              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * ```
 *
 * Bodies (one row per type; counts are bounded so a claimed count never allocates):
 * ```
 * 1 AREA_ADVERT    | Advert Interval (u16, s) |
 * 2 REGISTER       | Mode (u8) | Wake (u8) | Lifetime (u16, s) | Area Len (u8) | Area ... |
 *                  | Addr Count (u8, ≤8) | { Family (u8: 4|6) | Address (4|16) } ... |
 *                  | Corr Count (u8, ≤8) | { Family (u8) | Prefix Len (u8) | Prefix (4|16) } ... |
 * 3 REGISTER_ACK   | Status (u8) | Reserved (u8, 0) | Lifetime (u16, s) | Acked Counter (u64) |
 *                  | Area Len (u8) | Area ... |
 * 4 DEREGISTER     | Reason (u8: 1 active, 2 inactive) |
 * 5 PAGE           | Attempt (u8) | Reserved (u8, 0) |
 * 6 PAGE_RESPONSE  | Paged Counter (u64) |
 * ```
 * An unknown type decodes to `unknown` with its body kept raw (CONVENTIONS 2); the agent
 * counts it and drops it.
 */
export const PAGING_VERSION = 1;
export const PAGING_MAC_LENGTH = 32;
export const PAGING_HEADER_LENGTH = 16;
export const PAGING_ID_MAX = 64;
/** Bounds on the REGISTER lists (RFC 3154 §3.2: every table bounded). */
export const PAGING_MAX_ADDRESSES = 8;
export const PAGING_MAX_CORRESPONDENTS = 8;

export const PAGING_TYPE = {
  AREA_ADVERT: 1, REGISTER: 2, REGISTER_ACK: 3, DEREGISTER: 4, PAGE: 5, PAGE_RESPONSE: 6,
} as const;

/** Dormant modes (RFC 3154 §4.6): what can still wake the sleeping host. */
export const PAGING_MODE = { L3: 1, WOL: 2, BOTH: 3 } as const;
/** Wake filter bits (RFC 3154 §4.3): which wide-cast traffic may page the host. */
export const PAGING_WAKE = { BROADCAST: 1, MULTICAST: 2 } as const;
export const PAGING_ACK_STATUS = {
  OK: 0, UNKNOWN_AREA: 1, NOT_BOUND: 2, BAD_MODE: 3, FULL: 4,
} as const;
export const PAGING_DEREGISTER = { ACTIVE: 1, INACTIVE: 2 } as const;

export interface PagingPrefix {
  readonly address: Uint8Array;
  readonly length: number;
}

export type PagingBody =
  | { readonly type: 'advert'; readonly intervalS: number }
  | {
      readonly type: 'register';
      readonly mode: number;
      readonly wake: number;
      readonly lifetimeS: number;
      readonly area: string;
      /** The host's own addresses (4 or 16 octets each). */
      readonly addresses: readonly Uint8Array[];
      /** Correspondents allowed to wake it (RFC 3154 §4.27); empty: any. */
      readonly correspondents: readonly PagingPrefix[];
    }
  | { readonly type: 'register-ack'; readonly status: number; readonly lifetimeS: number; readonly acked: bigint; readonly area: string }
  | { readonly type: 'deregister'; readonly reason: number }
  | { readonly type: 'page'; readonly attempt: number }
  | { readonly type: 'page-response'; readonly paged: bigint }
  | { readonly type: 'unknown'; readonly code: number; readonly body: Uint8Array };

export interface PagingMessage {
  /** The Paging Agent's boot epoch (RFC 3154 §4.10: a host notices a restart). */
  readonly epoch: number;
  /** Replay counter of the sender (RFC 3154 §4.20). */
  readonly counter: bigint;
  /** Host id (REGISTER…PAGE_RESPONSE) or area id (AREA_ADVERT). */
  readonly id: string;
  readonly body: PagingBody;
  /** The HMAC-SHA-256 trailer as received, or as `sign` filled it in. */
  readonly mac: Uint8Array;
}

const CODE: Record<Exclude<PagingBody['type'], 'unknown'>, number> = {
  advert: 1, register: 2, 'register-ack': 3, deregister: 4, page: 5, 'page-response': 6,
};
const typeCode = (b: PagingBody): number => (b.type === 'unknown' ? b.code : CODE[b.type]);

const ascii = new TextDecoder('latin1');
const isToken = (b: Uint8Array): boolean => b.every((c) => c >= 0x21 && c <= 0x7e);
const tokenBytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** An id or area name: 1..64 printable ASCII octets, no spaces (names appear in logs). */
function readToken(r: Reader, field: string, n: number, lengthAt: number): string {
  if (n < 1 || n > PAGING_ID_MAX) {
    r.fail(field, `length ${n} outside 1..${PAGING_ID_MAX}`, lengthAt);
    return '';
  }
  const at = r.pos;
  const b = r.bytesN(field, n, lengthAt);
  if (!r.failed && !isToken(b)) r.fail(field, 'not printable ASCII', at);
  return ascii.decode(b);
}

function readU64(r: Reader, field: string): bigint {
  const hi = r.u32(field);
  const lo = r.u32(field);
  return (BigInt(hi) << 32n) | BigInt(lo);
}
function writeU64(w: Writer, v: bigint): void {
  w.u32(Number((v >> 32n) & 0xffffffffn));
  w.u32(Number(v & 0xffffffffn));
}

function readFamilyAddress(r: Reader, field: string): Uint8Array {
  const at = r.pos;
  const family = r.u8(`${field}.family`);
  if (!r.failed && family !== 4 && family !== 6) {
    r.fail(`${field}.family`, `family ${family} is not 4 or 6`, at);
    return new Uint8Array(0);
  }
  return r.bytesN(`${field}.address`, family === 4 ? 4 : 16);
}

function readCount(r: Reader, field: string, max: number): number {
  const at = r.pos;
  const n = r.u8(field);
  if (n > max) {
    r.fail(field, `${n} exceeds ${max}`, at);
    return 0;
  }
  return n;
}

function readRegister(r: Reader): PagingBody {
  const mode = r.u8('register.mode');
  const wake = r.u8('register.wake');
  const lifetimeS = r.u16('register.lifetime');
  const areaAt = r.pos;
  const area = readToken(r, 'register.area', r.u8('register.areaLength'), areaAt);
  const addresses: Uint8Array[] = [];
  const nAddr = readCount(r, 'register.addressCount', PAGING_MAX_ADDRESSES);
  for (let i = 0; i < nAddr && !r.failed; i++) addresses.push(readFamilyAddress(r, `register.addresses[${i}]`));
  const correspondents: PagingPrefix[] = [];
  const nCorr = readCount(r, 'register.correspondentCount', PAGING_MAX_CORRESPONDENTS);
  for (let i = 0; i < nCorr && !r.failed; i++) {
    const f = `register.correspondents[${i}]`;
    const familyAt = r.pos;
    const family = r.u8(`${f}.family`);
    const lenAt = r.pos;
    const length = r.u8(`${f}.length`);
    if (r.failed) break;
    if (family !== 4 && family !== 6) {
      r.fail(`${f}.family`, `family ${family} is not 4 or 6`, familyAt);
      break;
    }
    if (length > (family === 4 ? 32 : 128)) {
      r.fail(`${f}.length`, `prefix length ${length} too long`, lenAt);
      break;
    }
    correspondents.push({ address: r.bytesN(`${f}.prefix`, family === 4 ? 4 : 16), length });
  }
  return { type: 'register', mode, wake, lifetimeS, area, addresses, correspondents };
}

function readBody(r: Reader, code: number): PagingBody {
  switch (code) {
    case PAGING_TYPE.AREA_ADVERT: return { type: 'advert', intervalS: r.u16('advert.interval') };
    case PAGING_TYPE.REGISTER: return readRegister(r);
    case PAGING_TYPE.REGISTER_ACK: {
      const status = r.u8('ack.status');
      const resAt = r.pos;
      if (r.u8('ack.reserved') !== 0) r.fail('ack.reserved', 'must be zero', resAt);
      const lifetimeS = r.u16('ack.lifetime');
      const acked = readU64(r, 'ack.acked');
      const areaAt = r.pos;
      const area = readToken(r, 'ack.area', r.u8('ack.areaLength'), areaAt);
      return { type: 'register-ack', status, lifetimeS, acked, area };
    }
    case PAGING_TYPE.DEREGISTER: return { type: 'deregister', reason: r.u8('deregister.reason') };
    case PAGING_TYPE.PAGE: {
      const attempt = r.u8('page.attempt');
      const resAt = r.pos;
      if (r.u8('page.reserved') !== 0) r.fail('page.reserved', 'must be zero', resAt);
      return { type: 'page', attempt };
    }
    case PAGING_TYPE.PAGE_RESPONSE: return { type: 'page-response', paged: readU64(r, 'pageResponse.paged') };
    default: return { type: 'unknown', code, body: r.rest('unknown.body') };
  }
}

function read(r: Reader): PagingMessage {
  const start = r.pos;
  const version = r.u8('paging.version');
  if (!r.failed && version !== PAGING_VERSION) r.fail('paging.version', `version ${version} is not ${PAGING_VERSION}`, start);
  const code = r.u8('paging.type');
  const idLength = r.u8('paging.idLength');
  if (r.u8('paging.reserved') !== 0) r.fail('paging.reserved', 'must be zero', start + 3);
  const epoch = r.u32('paging.epoch');
  const counter = readU64(r, 'paging.counter');
  const id = readToken(r, 'paging.id', idLength, start + 2);
  // The trailer is the last 32 octets: the body is what lies between (checked before slicing).
  const bodyLength = r.remaining - PAGING_MAC_LENGTH;
  if (!r.failed && bodyLength < 0) r.fail('paging.mac', `needs ${PAGING_MAC_LENGTH} bytes, ${r.remaining} left`);
  const window = r.sub('paging.body', Math.max(0, bodyLength));
  const body = readBody(window, code);
  // A body shorter than its window is trailing garbage inside the signed part.
  window.expectEnd('paging.body');
  const mac = r.bytesN('paging.mac', PAGING_MAC_LENGTH);
  return { epoch, counter, id, body, mac };
}

function bodyLength(b: PagingBody): number {
  switch (b.type) {
    case 'advert': return 2;
    case 'register':
      return 4 + 1 + b.area.length + 1 + b.addresses.reduce((n, a) => n + 1 + a.length, 0)
        + 1 + b.correspondents.reduce((n, c) => n + 2 + c.address.length, 0);
    case 'register-ack': return 12 + 1 + b.area.length;
    case 'deregister': return 1;
    case 'page': return 2;
    case 'page-response': return 8;
    case 'unknown': return b.body.length;
  }
}

function writeBody(w: Writer, b: PagingBody): void {
  switch (b.type) {
    case 'advert': w.u16(b.intervalS); return;
    case 'register':
      w.u8(b.mode).u8(b.wake).u16(b.lifetimeS).u8(b.area.length).bytes(tokenBytes(b.area)).u8(b.addresses.length);
      for (const a of b.addresses) w.u8(a.length === 4 ? 4 : 6).bytes(a);
      w.u8(b.correspondents.length);
      for (const c of b.correspondents) w.u8(c.address.length === 4 ? 4 : 6).u8(c.length).bytes(c.address);
      return;
    case 'register-ack':
      w.u8(b.status).u8(0).u16(b.lifetimeS);
      writeU64(w, b.acked);
      w.u8(b.area.length).bytes(tokenBytes(b.area));
      return;
    case 'deregister': w.u8(b.reason); return;
    case 'page': w.u8(b.attempt).u8(0); return;
    case 'page-response': writeU64(w, b.paged); return;
    case 'unknown': w.bytes(b.body); return;
  }
}

const length = (m: PagingMessage): number => PAGING_HEADER_LENGTH + m.id.length + bodyLength(m.body) + PAGING_MAC_LENGTH;

/**
 * The paging message codec. Decoding a body whose fields end before the trailer fails
 * (`paging.body`: trailing bytes inside the signed part are never ignored).
 */
export const pagingMessage = defineCodec<PagingMessage>('paging', {
  read,
  write: (w, m) => {
    w.u8(PAGING_VERSION).u8(typeCode(m.body)).u8(m.id.length).u8(0).u32(m.epoch);
    writeU64(w, m.counter);
    w.bytes(tokenBytes(m.id));
    writeBody(w, m.body);
    w.bytes(m.mac.length === PAGING_MAC_LENGTH ? m.mac : new Uint8Array(PAGING_MAC_LENGTH));
  },
  length,
});
