/**
 * Interface addresses: struct ifaddrmsg (linux/if_addr.h) + IFA_* attributes.
 *
 *   +-----------+-----------+-----------+-----------+
 *   | family u8 | prefixlen | flags u8  | scope u8  |
 *   +-----------+-----------+-----------+-----------+
 *   |                 index (u32)                   |
 *   +-----------------------------------------------+
 * IFA_FLAGS (u32) supersedes the 8-bit flags field.
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { IFA } from './constants';
import type { NlMessage } from './message';
import {
  bytes, cstring, decodeBody, encodeBody, ipAddr, u32, u8,
  type AttrRow, type Attributed, type Decoded, type EncodeError, type FieldRow, type MessageSpec,
} from './wire';

export interface AddrMessage extends Attributed {
  family: number;
  prefixLen: number;
  flags: number;
  scope: number;
  index: number;
  address?: Uint8Array;
  local?: Uint8Array;
  label?: string;
  broadcast?: Uint8Array;
  anycast?: Uint8Array;
  cacheinfo?: Uint8Array;
  multicast?: Uint8Array;
  flagsExt?: number;
  rtPriority?: number;
  proto?: number;
}

const fields = [
  { key: 'family', offset: 0, kind: 'u8' },
  { key: 'prefixLen', offset: 1, kind: 'u8' },
  { key: 'flags', offset: 2, kind: 'u8' },
  { key: 'scope', offset: 3, kind: 'u8' },
  { key: 'index', offset: 4, kind: 'u32' },
] as const satisfies readonly FieldRow<AddrMessage>[];

const attrs = [
  { type: IFA.ADDRESS, key: 'address', codec: ipAddr },
  { type: IFA.LOCAL, key: 'local', codec: ipAddr },
  { type: IFA.LABEL, key: 'label', codec: cstring },
  { type: IFA.BROADCAST, key: 'broadcast', codec: ipAddr },
  { type: IFA.ANYCAST, key: 'anycast', codec: ipAddr },
  { type: IFA.CACHEINFO, key: 'cacheinfo', codec: bytes },
  { type: IFA.MULTICAST, key: 'multicast', codec: ipAddr },
  { type: IFA.FLAGS, key: 'flagsExt', codec: u32 },
  { type: IFA.RT_PRIORITY, key: 'rtPriority', codec: u32 },
  { type: IFA.PROTO, key: 'proto', codec: u8 },
] as const satisfies readonly AttrRow<AddrMessage>[];

export const ifaddrmsg: MessageSpec<AddrMessage> = {
  name: 'ifaddrmsg',
  headerLength: 8,
  fields,
  attrs,
  blank: () => ({ family: 0, prefixLen: 0, flags: 0, scope: 0, index: 0, unknownAttrs: [] }),
};

export function encodeAddr(m: AddrMessage, order: ByteOrder = HOST_ORDER): Uint8Array | EncodeError {
  return encodeBody(ifaddrmsg, m, order);
}

export function decodeAddr(msg: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<AddrMessage> {
  return decodeBody(ifaddrmsg, msg.payload, undefined, order);
}
