/**
 * DHCPv6 options (RFC 8415 §21) through one descriptor table (CONVENTIONS 4).
 *
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |          option-code          |           option-len          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                          option-data                          |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Each row: code, kind, minimum length, read (from a window of exactly option-len
 * bytes), write, body length. Nested option lists (IA_NA, IAADDR, IA_PD, IAPREFIX,
 * LQ_QUERY, CLIENT_DATA) and nested messages (RELAY_MSG, LQ_RELAY_DATA) share one
 * decode context that bounds nesting depth, relay depth and the total number of
 * options (CONVENTIONS 10). Unknown codes are kept raw and re-emitted unchanged.
 * option-len is always computed from the value (CONVENTIONS 5).
 */
import { Reader, Writer, type DecodeError } from './cursor';
import { readUtf8Lenient, utf8Bytes } from './fields';
import { dhcp6MessageLength, readDhcp6Message, writeDhcp6Message, type Dhcp6Message } from './dhcp6';

export const DHCP6_OPTION = {
  CLIENTID: 1, SERVERID: 2, IA_NA: 3, IAADDR: 5, ORO: 6, ELAPSED_TIME: 8, RELAY_MSG: 9,
  STATUS_CODE: 13, RAPID_COMMIT: 14, INTERFACE_ID: 18, IA_PD: 25, IAPREFIX: 26,
  REMOTE_ID: 37, SUBSCRIBER_ID: 38, LQ_QUERY: 44, CLIENT_DATA: 45, CLT_TIME: 46,
  LQ_RELAY_DATA: 47, LQ_CLIENT_LINK: 48, RELAY_ID: 53, CLIENT_LINKLAYER_ADDR: 79,
} as const;

/** Status codes (RFC 8415 §21.13, RFC 5007 §5, RFC 5460 §5.2). */
export const DHCP6_STATUS = {
  Success: 0, UnspecFail: 1, NoAddrsAvail: 2, NoBinding: 3, NotOnLink: 4, UseMulticast: 5, NoPrefixAvail: 6,
  UnknownQueryType: 7, MalformedQuery: 8, NotConfigured: 9, NotAllowed: 10, QueryTerminated: 11,
} as const;

/** LQ_QUERY query-type (RFC 5007 §4.1.2.1, RFC 5460 §5.3). */
export const DHCP6_QUERY_TYPE = { BY_ADDRESS: 1, BY_CLIENTID: 2, BY_RELAY_ID: 3, BY_LINK_ADDRESS: 4, BY_REMOTE_ID: 5 } as const;

/** Lifetime value meaning "infinity" (RFC 8415 §7.7). */
export const DHCP6_INFINITY = 0xffffffff;

export type Dhcp6Option =
  /** RFC 8415 §21.2 / §21.3: the DUID kept as bytes (see `duid.ts` for its structure). */
  | { readonly kind: 'clientId'; readonly duid: Uint8Array }
  | { readonly kind: 'serverId'; readonly duid: Uint8Array }
  /** RFC 8415 §21.4 / §21.21: IAID, T1, T2 (seconds), IA options. */
  | { readonly kind: 'iaNa'; readonly iaid: number; readonly t1: number; readonly t2: number; readonly options: readonly Dhcp6Option[] }
  | { readonly kind: 'iaPd'; readonly iaid: number; readonly t1: number; readonly t2: number; readonly options: readonly Dhcp6Option[] }
  /** RFC 8415 §21.6: lifetimes in seconds, 0xffffffff = infinity. */
  | {
      readonly kind: 'iaAddr'; readonly address: Uint8Array; readonly preferredLifetime: number;
      readonly validLifetime: number; readonly options: readonly Dhcp6Option[];
    }
  /** RFC 8415 §21.22. */
  | {
      readonly kind: 'iaPrefix'; readonly preferredLifetime: number; readonly validLifetime: number;
      readonly prefixLength: number; readonly prefix: Uint8Array; readonly options: readonly Dhcp6Option[];
    }
  /** RFC 8415 §21.7. */
  | { readonly kind: 'oro'; readonly codes: readonly number[] }
  /** RFC 8415 §21.9: hundredths of a second. */
  | { readonly kind: 'elapsedTime'; readonly elapsedTime: number }
  /**
   * RFC 8415 §21.10: the relayed message. A relay passes it on unchanged (§19.2) and
   * reads it only to glean, so decoding keeps the option body as received in `bytes`
   * and decodes the message in an error scope of its own: when it does not decode,
   * `message` is null and `error` says why, and the envelope around it still decodes.
   * The decode bounds (relay depth, nesting, option count) stay fatal for the whole
   * message. Encoding writes `bytes` when present, otherwise encodes `message`: to
   * change a decoded inner message, build a new option without `bytes`.
   */
  | { readonly kind: 'relayMsg'; readonly message: Dhcp6Message; readonly bytes?: Uint8Array }
  | { readonly kind: 'relayMsg'; readonly message: null; readonly bytes: Uint8Array; readonly error: DecodeError }
  /**
   * RFC 8415 §21.13. status-message is UTF-8 for display; a message whose text is not
   * valid UTF-8 is still a valid reply: `message` then shows U+FFFD for the bad
   * sequences and `messageBytes` keeps the octets as received (re-emitted unchanged).
   */
  | { readonly kind: 'statusCode'; readonly statusCode: number; readonly message: string; readonly messageBytes?: Uint8Array }
  /** RFC 8415 §21.14. */
  | { readonly kind: 'rapidCommit' }
  /** RFC 8415 §21.18: opaque to everyone but the relay that put it there. */
  | { readonly kind: 'interfaceId'; readonly interfaceId: Uint8Array }
  /** RFC 4649 §3. */
  | { readonly kind: 'remoteId'; readonly enterpriseNumber: number; readonly remoteId: Uint8Array }
  /** RFC 4580 §2. */
  | { readonly kind: 'subscriberId'; readonly subscriberId: Uint8Array }
  /** RFC 5007 §4.1.2.1. */
  | { readonly kind: 'lqQuery'; readonly queryType: number; readonly linkAddress: Uint8Array; readonly options: readonly Dhcp6Option[] }
  /** RFC 5007 §4.1.2.2. */
  | { readonly kind: 'clientData'; readonly options: readonly Dhcp6Option[] }
  /** RFC 5007 §4.1.2.3: seconds since the client's last transaction. */
  | { readonly kind: 'cltTime'; readonly cltTime: number }
  /** RFC 5007 §4.1.2.4: the relay message the server stored for the client. */
  | { readonly kind: 'lqRelayData'; readonly peerAddress: Uint8Array; readonly relayMessage: Dhcp6Message }
  /** RFC 5007 §4.1.2.5. */
  | { readonly kind: 'lqClientLink'; readonly linkAddresses: readonly Uint8Array[] }
  /** RFC 5460 §5.4.1: the relay's DUID. */
  | { readonly kind: 'relayId'; readonly duid: Uint8Array }
  /** RFC 6939 §4: link-layer type (IANA hardware type) + address. */
  | { readonly kind: 'clientLinklayerAddr'; readonly linkLayerType: number; readonly linkLayerAddress: Uint8Array }
  | { readonly kind: 'unknown'; readonly code: number; readonly data: Uint8Array };

export type Dhcp6OptionKind = Dhcp6Option['kind'];
type Known = Exclude<Dhcp6OptionKind, 'unknown'>;
type Of<K extends Dhcp6OptionKind> = Extract<Dhcp6Option, { kind: K }>;

/** Decode bounds shared by one whole message (CONVENTIONS 10). */
export const DHCP6_LIMITS = {
  /** Total options in one message, nested ones included. */
  maxOptions: 1024,
  /** Option-in-option / message-in-option nesting. */
  maxNesting: 32,
  /** Relay envelopes (RFC 8415 §7.6 HOP_COUNT_LIMIT). */
  maxRelayDepth: 8,
} as const;

export interface Dhcp6DecodeContext {
  options: number;
  nesting: number;
  relayDepth: number;
  /**
   * The first bound exceeded. A RELAY_MSG body decodes in its own error scope, so a
   * bound hit inside it is carried out through here and fails the whole message.
   */
  limit: DecodeError | null;
}
export const newDhcp6Context = (): Dhcp6DecodeContext => ({ options: 0, nesting: 0, relayDepth: 0, limit: null });

/** A decode bound exceeded (CONVENTIONS 10): fatal for the whole message. */
function overLimit(r: Reader, ctx: Dhcp6DecodeContext, field: string, reason: string, offset = r.pos): void {
  ctx.limit ??= { field, offset, reason };
  r.fail(field, reason, offset);
}

export interface Dhcp6OptionDescriptor<K extends Known = Known> {
  readonly code: number;
  readonly kind: K;
  readonly minLength: number;
  readonly maxLength?: number;
  read(r: Reader, field: string, ctx: Dhcp6DecodeContext): Of<K>;
  write(w: Writer, o: Of<K>): void;
  length(o: Of<K>): number;
}

const fixed = (w: Writer, b: Uint8Array, n: number, what: string): void => {
  if (b.length !== n) throw new RangeError(`dhcp6: ${what} must be ${n} bytes`);
  w.bytes(b);
};

const nested = (r: Reader, f: string, ctx: Dhcp6DecodeContext): Dhcp6Option[] => readDhcp6Options(r, `${f}.options`, ctx);

const duidRow = <K extends 'clientId' | 'serverId' | 'relayId'>(code: number, kind: K): Dhcp6OptionDescriptor<K> => ({
  code, kind, minLength: 2, // RFC 8415 §11.1: at least the DUID-Type
  read: (r, f) => ({ kind, duid: r.rest(`${f}.duid`) }) as Of<K>,
  write: (w, o) => void w.bytes((o as Of<'clientId'>).duid),
  length: (o) => (o as Of<'clientId'>).duid.length,
});

const iaRow = <K extends 'iaNa' | 'iaPd'>(code: number, kind: K): Dhcp6OptionDescriptor<K> => ({
  code, kind, minLength: 12,
  read: (r, f, ctx) => ({ kind, iaid: r.u32(`${f}.iaid`), t1: r.u32(`${f}.t1`), t2: r.u32(`${f}.t2`), options: nested(r, f, ctx) }) as Of<K>,
  write: (w, o) => {
    const ia = o as Of<'iaNa'>;
    w.u32(ia.iaid).u32(ia.t1).u32(ia.t2);
    writeDhcp6Options(w, ia.options);
  },
  length: (o) => 12 + dhcp6OptionsLength((o as Of<'iaNa'>).options),
});

const opaqueRow = <K extends 'interfaceId' | 'subscriberId'>(code: number, kind: K, prop: string): Dhcp6OptionDescriptor<K> => ({
  code, kind, minLength: 1,
  read: (r, f) => ({ kind, [prop]: r.rest(`${f}.${prop}`) }) as unknown as Of<K>,
  write: (w, o) => void w.bytes((o as unknown as Record<string, Uint8Array>)[prop]!),
  length: (o) => (o as unknown as Record<string, Uint8Array>)[prop]!.length,
});

function readNestedMessage(r: Reader, f: string, ctx: Dhcp6DecodeContext): Dhcp6Message {
  if (ctx.relayDepth >= DHCP6_LIMITS.maxRelayDepth) {
    overLimit(r, ctx, f, `relay messages nested deeper than ${DHCP6_LIMITS.maxRelayDepth} (HOP_COUNT_LIMIT)`);
  }
  ctx.relayDepth++;
  const m = readDhcp6Message(r, f, ctx);
  ctx.relayDepth--;
  return m;
}

/** One row per option code. */
export const DHCP6_OPTIONS: readonly Dhcp6OptionDescriptor[] = [
  duidRow(1, 'clientId'),
  duidRow(2, 'serverId'),
  iaRow(3, 'iaNa'),
  {
    code: 5, kind: 'iaAddr', minLength: 24,
    read: (r, f, ctx) => ({
      kind: 'iaAddr', address: r.bytesN(`${f}.address`, 16), preferredLifetime: r.u32(`${f}.preferredLifetime`),
      validLifetime: r.u32(`${f}.validLifetime`), options: nested(r, f, ctx),
    }),
    write: (w, o) => {
      fixed(w, o.address, 16, 'IAADDR address');
      w.u32(o.preferredLifetime).u32(o.validLifetime);
      writeDhcp6Options(w, o.options);
    },
    length: (o) => 24 + dhcp6OptionsLength(o.options),
  } satisfies Dhcp6OptionDescriptor<'iaAddr'>,
  {
    code: 6, kind: 'oro', minLength: 0,
    read: (r, f) => {
      if (r.remaining % 2 !== 0) r.fail(f, 'odd length');
      const codes: number[] = [];
      while (r.remaining >= 2) codes.push(r.u16(`${f}.code`));
      return { kind: 'oro', codes };
    },
    write: (w, o) => o.codes.forEach((c) => w.u16(c)),
    length: (o) => 2 * o.codes.length,
  } satisfies Dhcp6OptionDescriptor<'oro'>,
  {
    code: 8, kind: 'elapsedTime', minLength: 2, maxLength: 2,
    read: (r, f) => ({ kind: 'elapsedTime', elapsedTime: r.u16(f) }),
    write: (w, o) => void w.u16(o.elapsedTime),
    length: () => 2,
  } satisfies Dhcp6OptionDescriptor<'elapsedTime'>,
  {
    code: 9, kind: 'relayMsg', minLength: 1,
    read: (r, f, ctx) => {
      // Own error slot over the same window: offsets stay absolute, errors stay inside.
      const scope = new Reader(r.bytes, r.pos, r.end, undefined, r.views);
      const message = readNestedMessage(scope, `${f}.message`, ctx);
      scope.expectEnd(`${f}.message`);
      const bytes = r.rest(f);
      if (ctx.limit) r.fail(ctx.limit.field, ctx.limit.reason, ctx.limit.offset);
      return scope.error ? { kind: 'relayMsg', message: null, bytes, error: scope.error } : { kind: 'relayMsg', message, bytes };
    },
    write: (w, o) => {
      if (o.bytes) w.bytes(o.bytes);
      else if (o.message) writeDhcp6Message(w, o.message);
    },
    length: (o) => (o.bytes ? o.bytes.length : o.message ? dhcp6MessageLength(o.message) : 0),
  } satisfies Dhcp6OptionDescriptor<'relayMsg'>,
  {
    code: 13, kind: 'statusCode', minLength: 2,
    read: (r, f) => {
      const statusCode = r.u16(`${f}.statusCode`);
      const { text, bytes } = readUtf8Lenient(r, `${f}.message`);
      return bytes ? { kind: 'statusCode', statusCode, message: text, messageBytes: bytes } : { kind: 'statusCode', statusCode, message: text };
    },
    write: (w, o) => void w.u16(o.statusCode).bytes(o.messageBytes ?? utf8Bytes(o.message)),
    length: (o) => 2 + (o.messageBytes ?? utf8Bytes(o.message)).length,
  } satisfies Dhcp6OptionDescriptor<'statusCode'>,
  {
    code: 14, kind: 'rapidCommit', minLength: 0, maxLength: 0,
    read: () => ({ kind: 'rapidCommit' }),
    write: () => undefined,
    length: () => 0,
  } satisfies Dhcp6OptionDescriptor<'rapidCommit'>,
  opaqueRow(18, 'interfaceId', 'interfaceId'),
  iaRow(25, 'iaPd'),
  {
    code: 26, kind: 'iaPrefix', minLength: 25,
    read: (r, f, ctx) => {
      const preferredLifetime = r.u32(`${f}.preferredLifetime`);
      const validLifetime = r.u32(`${f}.validLifetime`);
      const at = r.pos;
      const prefixLength = r.u8(`${f}.prefixLength`);
      if (prefixLength > 128) r.fail(`${f}.prefixLength`, `${prefixLength} > 128`, at);
      const prefix = r.bytesN(`${f}.prefix`, 16);
      return { kind: 'iaPrefix', preferredLifetime, validLifetime, prefixLength, prefix, options: nested(r, f, ctx) };
    },
    write: (w, o) => {
      w.u32(o.preferredLifetime).u32(o.validLifetime).u8(o.prefixLength);
      fixed(w, o.prefix, 16, 'IAPREFIX prefix');
      writeDhcp6Options(w, o.options);
    },
    length: (o) => 25 + dhcp6OptionsLength(o.options),
  } satisfies Dhcp6OptionDescriptor<'iaPrefix'>,
  {
    code: 37, kind: 'remoteId', minLength: 5,
    read: (r, f) => ({ kind: 'remoteId', enterpriseNumber: r.u32(`${f}.enterpriseNumber`), remoteId: r.rest(`${f}.remoteId`) }),
    write: (w, o) => void w.u32(o.enterpriseNumber).bytes(o.remoteId),
    length: (o) => 4 + o.remoteId.length,
  } satisfies Dhcp6OptionDescriptor<'remoteId'>,
  opaqueRow(38, 'subscriberId', 'subscriberId'),
  {
    code: 44, kind: 'lqQuery', minLength: 17,
    read: (r, f, ctx) => ({
      kind: 'lqQuery', queryType: r.u8(`${f}.queryType`), linkAddress: r.bytesN(`${f}.linkAddress`, 16), options: nested(r, f, ctx),
    }),
    write: (w, o) => {
      w.u8(o.queryType);
      fixed(w, o.linkAddress, 16, 'LQ_QUERY link-address');
      writeDhcp6Options(w, o.options);
    },
    length: (o) => 17 + dhcp6OptionsLength(o.options),
  } satisfies Dhcp6OptionDescriptor<'lqQuery'>,
  {
    code: 45, kind: 'clientData', minLength: 0,
    read: (r, f, ctx) => ({ kind: 'clientData', options: nested(r, f, ctx) }),
    write: (w, o) => writeDhcp6Options(w, o.options),
    length: (o) => dhcp6OptionsLength(o.options),
  } satisfies Dhcp6OptionDescriptor<'clientData'>,
  {
    code: 46, kind: 'cltTime', minLength: 4, maxLength: 4,
    read: (r, f) => ({ kind: 'cltTime', cltTime: r.u32(f) }),
    write: (w, o) => void w.u32(o.cltTime),
    length: () => 4,
  } satisfies Dhcp6OptionDescriptor<'cltTime'>,
  {
    code: 47, kind: 'lqRelayData', minLength: 17,
    read: (r, f, ctx) => ({
      kind: 'lqRelayData', peerAddress: r.bytesN(`${f}.peerAddress`, 16), relayMessage: readNestedMessage(r, `${f}.relayMessage`, ctx),
    }),
    write: (w, o) => {
      fixed(w, o.peerAddress, 16, 'LQ_RELAY_DATA peer-address');
      writeDhcp6Message(w, o.relayMessage);
    },
    length: (o) => 16 + dhcp6MessageLength(o.relayMessage),
  } satisfies Dhcp6OptionDescriptor<'lqRelayData'>,
  {
    code: 48, kind: 'lqClientLink', minLength: 16,
    read: (r, f) => {
      if (r.remaining % 16 !== 0) r.fail(f, 'length is not a multiple of 16');
      const linkAddresses: Uint8Array[] = [];
      while (r.remaining >= 16) linkAddresses.push(r.bytesN(`${f}.linkAddress`, 16));
      return { kind: 'lqClientLink', linkAddresses };
    },
    write: (w, o) => o.linkAddresses.forEach((a) => fixed(w, a, 16, 'LQ_CLIENT_LINK address')),
    length: (o) => 16 * o.linkAddresses.length,
  } satisfies Dhcp6OptionDescriptor<'lqClientLink'>,
  duidRow(53, 'relayId'),
  {
    code: 79, kind: 'clientLinklayerAddr', minLength: 2,
    read: (r, f) => ({ kind: 'clientLinklayerAddr', linkLayerType: r.u16(`${f}.linkLayerType`), linkLayerAddress: r.rest(`${f}.linkLayerAddress`) }),
    write: (w, o) => void w.u16(o.linkLayerType).bytes(o.linkLayerAddress),
    length: (o) => 2 + o.linkLayerAddress.length,
  } satisfies Dhcp6OptionDescriptor<'clientLinklayerAddr'>,
] as readonly Dhcp6OptionDescriptor[];

const byCode = new Map<number, Dhcp6OptionDescriptor>(DHCP6_OPTIONS.map((d) => [d.code, d]));
const byKind = new Map<string, Dhcp6OptionDescriptor>(DHCP6_OPTIONS.map((d) => [d.kind, d]));

export const dhcp6OptionCode = (o: Dhcp6Option): number => (o.kind === 'unknown' ? o.code : byKind.get(o.kind)!.code);

const bodyLength = (o: Dhcp6Option): number => (o.kind === 'unknown' ? o.data.length : byKind.get(o.kind)!.length(o as never));

export const dhcp6OptionLength = (o: Dhcp6Option): number => 4 + bodyLength(o);
export const dhcp6OptionsLength = (os: readonly Dhcp6Option[]): number => os.reduce((n, o) => n + dhcp6OptionLength(o), 0);

/** Read options until the window ends. Lengths are checked before slicing. */
export function readDhcp6Options(r: Reader, field: string, ctx: Dhcp6DecodeContext): Dhcp6Option[] {
  const out: Dhcp6Option[] = [];
  if (++ctx.nesting > DHCP6_LIMITS.maxNesting) {
    overLimit(r, ctx, field, `options nested deeper than ${DHCP6_LIMITS.maxNesting}`);
    ctx.nesting--;
    return out;
  }
  while (r.remaining > 0) {
    const at = r.pos;
    if (++ctx.options > DHCP6_LIMITS.maxOptions) {
      overLimit(r, ctx, field, `more than ${DHCP6_LIMITS.maxOptions} options in one message`, at);
      break;
    }
    // Field names are built only for the error they would name (strings per option and
    // datagram otherwise): where `field` is passed the read cannot fail.
    const code = r.remaining >= 2 ? r.u16(field) : r.u16(`${field}.code`);
    const len = r.remaining >= 2 ? r.u16(field) : r.u16(`${field}[${code}].length`);
    const body = r.remaining >= len ? r.sub(field, len, at + 2) : r.sub(`${field}[${code}]`, len, at + 2);
    if (r.failed) break;
    const d = byCode.get(code);
    if (!d) {
      out.push({ kind: 'unknown', code, data: body.rest(field) });
      continue;
    }
    const f = `${field}.${d.kind}`;
    if (len < d.minLength) {
      r.fail(f, `length ${len} < minimum ${d.minLength}`, at + 2);
      break;
    }
    if (d.maxLength !== undefined && len > d.maxLength) {
      r.fail(f, `length ${len} > maximum ${d.maxLength}`, at + 2);
      break;
    }
    const o = d.read(body, f, ctx);
    body.expectEnd(f);
    if (r.failed) break;
    out.push(o);
  }
  ctx.nesting--;
  return out;
}

export function writeDhcp6Options(w: Writer, os: readonly Dhcp6Option[]): void {
  for (const o of os) {
    const len = bodyLength(o);
    if (len > 0xffff) throw new RangeError(`dhcp6: option ${o.kind} longer than 65535 bytes`);
    w.u16(dhcp6OptionCode(o)).u16(len);
    if (o.kind === 'unknown') w.bytes(o.data);
    else byKind.get(o.kind)!.write(w, o as never);
  }
}

/** First option of a kind in a list, typed. */
export const findDhcp6Option = <K extends Dhcp6OptionKind>(os: readonly Dhcp6Option[], kind: K): Of<K> | undefined =>
  os.find((o) => o.kind === kind) as Of<K> | undefined;

/** All options of a kind in a list, typed. */
export const filterDhcp6Options = <K extends Dhcp6OptionKind>(os: readonly Dhcp6Option[], kind: K): Of<K>[] =>
  os.filter((o) => o.kind === kind) as Of<K>[];
