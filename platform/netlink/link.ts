/**
 * Links: struct ifinfomsg (linux/rtnetlink.h) + IFLA_* attributes.
 *
 *   +-----------+-----------+-----------------------+
 *   | family u8 | pad u8    | type (u16, ARPHRD_*)  |
 *   +-----------+-----------+-----------------------+
 *   |                 index (s32)                   |
 *   |                 flags (u32, IFF_*)            |
 *   |                 change (u32)                  |
 *   +-----------------------------------------------+
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { IFLA } from './constants';
import type { NlMessage } from './message';
import {
  bytes, cstring, decodeBody, encodeBody, lladdr, s32, u32, u8,
  type AttrRow, type Attributed, type Decoded, type EncodeError, type FieldRow, type MessageSpec,
} from './wire';

export interface LinkMessage extends Attributed {
  family: number;
  type: number;
  index: number;
  flags: number;
  change: number;
  address?: Uint8Array;
  broadcast?: Uint8Array;
  ifname?: string;
  mtu?: number;
  link?: number;
  qdisc?: string;
  master?: number;
  txqlen?: number;
  operstate?: number;
  linkmode?: number;
  linkinfo?: Uint8Array;
  group?: number;
  carrier?: number;
}

const fields = [
  { key: 'family', offset: 0, kind: 'u8' },
  { key: 'type', offset: 2, kind: 'u16' },
  { key: 'index', offset: 4, kind: 's32' },
  { key: 'flags', offset: 8, kind: 'u32' },
  { key: 'change', offset: 12, kind: 'u32' },
] as const satisfies readonly FieldRow<LinkMessage>[];

const attrs = [
  { type: IFLA.ADDRESS, key: 'address', codec: lladdr },
  { type: IFLA.BROADCAST, key: 'broadcast', codec: lladdr },
  { type: IFLA.IFNAME, key: 'ifname', codec: cstring },
  { type: IFLA.MTU, key: 'mtu', codec: u32 },
  { type: IFLA.LINK, key: 'link', codec: s32 },
  { type: IFLA.QDISC, key: 'qdisc', codec: cstring },
  { type: IFLA.MASTER, key: 'master', codec: u32 },
  { type: IFLA.TXQLEN, key: 'txqlen', codec: u32 },
  { type: IFLA.OPERSTATE, key: 'operstate', codec: u8 },
  { type: IFLA.LINKMODE, key: 'linkmode', codec: u8 },
  { type: IFLA.LINKINFO, key: 'linkinfo', codec: bytes },
  { type: IFLA.GROUP, key: 'group', codec: u32 },
  { type: IFLA.CARRIER, key: 'carrier', codec: u8 },
] as const satisfies readonly AttrRow<LinkMessage>[];

export const ifinfomsg: MessageSpec<LinkMessage> = {
  name: 'ifinfomsg',
  headerLength: 16,
  fields,
  attrs,
  blank: () => ({ family: 0, type: 0, index: 0, flags: 0, change: 0, unknownAttrs: [] }),
};

export function encodeLink(m: LinkMessage, order: ByteOrder = HOST_ORDER): Uint8Array | EncodeError {
  return encodeBody(ifinfomsg, m, order);
}

export function decodeLink(msg: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<LinkMessage> {
  return decodeBody(ifinfomsg, msg.payload, undefined, order);
}
