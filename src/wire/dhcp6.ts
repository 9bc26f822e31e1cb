/**
 * DHCPv6 messages (RFC 8415 §8, §9).
 *
 * Client/server message (§8):
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    msg-type   |               transaction-id                  |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    .                            options                            .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Relay agent/server message, RELAY-FORW 12 / RELAY-REPL 13 (§9):
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |    msg-type   |   hop-count   |                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 *    |                         link-address (16)                     |
 *    |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                               |                               |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 *    |                         peer-address (16)                     |
 *    |                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |                               |                               .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               .
 *    .            options (variable number and length)   ....        .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Message types whose format this module does not know decode to `unknown` with the
 * body kept raw, so a relay forwards them unchanged. RELAY_MSG (option 9) keeps its
 * bytes as received and is decoded recursively, in its own error scope (a relay
 * delivers what it cannot read, RFC 8415 §19.2), with the relay depth bounded by
 * HOP_COUNT_LIMIT (RFC 8415 §7.6).
 */
import { Reader, Writer, defineCodec, type Codec, type DecodeError } from './cursor';
import {
  dhcp6OptionsLength, findDhcp6Option, newDhcp6Context, readDhcp6Options, writeDhcp6Options, type Dhcp6DecodeContext,
  type Dhcp6Option,
} from './dhcp6-options';

/** RFC 8415 §7.3, RFC 5007 §4.2 (14, 15), RFC 5460 §5.1 (16 DONE, 17 DATA). */
export const DHCP6_MESSAGE_TYPES = {
  1: 'SOLICIT',
  2: 'ADVERTISE',
  3: 'REQUEST',
  4: 'CONFIRM',
  5: 'RENEW',
  6: 'REBIND',
  7: 'REPLY',
  8: 'RELEASE',
  9: 'DECLINE',
  10: 'RECONFIGURE',
  11: 'INFORMATION-REQUEST',
  12: 'RELAY-FORW',
  13: 'RELAY-REPL',
  14: 'LEASEQUERY',
  15: 'LEASEQUERY-REPLY',
  16: 'LEASEQUERY-DONE',
  17: 'LEASEQUERY-DATA',
} as const;
export type Dhcp6MessageTypeName = (typeof DHCP6_MESSAGE_TYPES)[keyof typeof DHCP6_MESSAGE_TYPES];
export const DHCP6_RELAY_FORW = 12;
export const DHCP6_RELAY_REPL = 13;

export const dhcp6MessageTypeName = (t: number): Dhcp6MessageTypeName | 'unknown' =>
  (DHCP6_MESSAGE_TYPES as Record<number, Dhcp6MessageTypeName>)[t] ?? 'unknown';

export type Dhcp6Message =
  | {
      readonly kind: 'client';
      readonly msgType: number;
      /** 24 bits. */
      readonly transactionId: number;
      readonly options: readonly Dhcp6Option[];
    }
  | {
      readonly kind: 'relay';
      readonly msgType: typeof DHCP6_RELAY_FORW | typeof DHCP6_RELAY_REPL;
      readonly hopCount: number;
      readonly linkAddress: Uint8Array;
      readonly peerAddress: Uint8Array;
      readonly options: readonly Dhcp6Option[];
    }
  | { readonly kind: 'unknown'; readonly msgType: number; readonly body: Uint8Array };

export type Dhcp6ClientMessage = Extract<Dhcp6Message, { kind: 'client' }>;
export type Dhcp6RelayMessage = Extract<Dhcp6Message, { kind: 'relay' }>;

const isClientServerType = (t: number): boolean => (t >= 1 && t <= 11) || (t >= 14 && t <= 17);

/** Read a message filling the reader's window. */
export function readDhcp6Message(r: Reader, field = 'dhcp6', ctx: Dhcp6DecodeContext = newDhcp6Context()): Dhcp6Message {
  const msgType = r.u8(`${field}.msgType`);
  if (msgType === DHCP6_RELAY_FORW || msgType === DHCP6_RELAY_REPL) {
    const hopCount = r.u8(`${field}.hopCount`);
    const linkAddress = r.bytesN(`${field}.linkAddress`, 16);
    const peerAddress = r.bytesN(`${field}.peerAddress`, 16);
    const options = readDhcp6Options(r, `${field}.options`, ctx);
    return { kind: 'relay', msgType, hopCount, linkAddress, peerAddress, options };
  }
  if (isClientServerType(msgType)) {
    const transactionId = r.u24(`${field}.transactionId`);
    const options = readDhcp6Options(r, `${field}.options`, ctx);
    return { kind: 'client', msgType, transactionId, options };
  }
  return { kind: 'unknown', msgType, body: r.rest(`${field}.body`) };
}

export function writeDhcp6Message(w: Writer, m: Dhcp6Message): void {
  w.u8(m.msgType);
  switch (m.kind) {
    case 'relay':
      if (m.linkAddress.length !== 16 || m.peerAddress.length !== 16) throw new RangeError('dhcp6: relay addresses must be 16 bytes');
      w.u8(m.hopCount).bytes(m.linkAddress).bytes(m.peerAddress);
      writeDhcp6Options(w, m.options);
      break;
    case 'client':
      w.u24(m.transactionId);
      writeDhcp6Options(w, m.options);
      break;
    case 'unknown':
      w.bytes(m.body);
      break;
  }
}

export function dhcp6MessageLength(m: Dhcp6Message): number {
  switch (m.kind) {
    case 'relay': return 34 + dhcp6OptionsLength(m.options);
    case 'client': return 4 + dhcp6OptionsLength(m.options);
    case 'unknown': return 1 + m.body.length;
  }
}

export const dhcp6Message: Codec<Dhcp6Message> = defineCodec('dhcp6', {
  read: (r) => readDhcp6Message(r),
  write: writeDhcp6Message,
  length: dhcp6MessageLength,
});

/**
 * Follow RELAY_MSG options down to the innermost (client/server) message, returning
 * the relay envelopes outermost first. Depth is already bounded by decode. `inner` is
 * undefined when an envelope has no RELAY_MSG, or when the message in it did not
 * decode: then `error` says why (the envelopes around it are still returned).
 */
export function unwrapRelays(m: Dhcp6Message): {
  relays: Dhcp6RelayMessage[]; inner: Dhcp6Message | undefined; error: DecodeError | null;
} {
  const relays: Dhcp6RelayMessage[] = [];
  let cur: Dhcp6Message | undefined = m;
  while (cur && cur.kind === 'relay') {
    relays.push(cur);
    const rm: Extract<Dhcp6Option, { kind: 'relayMsg' }> | undefined = findDhcp6Option(cur.options, 'relayMsg');
    if (rm && rm.message === null) return { relays, inner: undefined, error: rm.error };
    cur = rm?.message;
  }
  return { relays, inner: cur, error: null };
}
