/**
 * Neighbours: struct ndmsg (linux/neighbour.h) + NDA_* attributes.
 *
 *   +-----------+-----------+-----------------------+
 *   | family u8 | pad1 u8   | pad2 (u16)            |
 *   +-----------+-----------+-----------------------+
 *   |                ifindex (s32)                  |
 *   +-----------------------+-----------+-----------+
 *   | state (u16, NUD_*)    | flags u8  | type u8   |
 *   +-----------------------+-----------+-----------+
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NDA, NUD } from './constants';
import type { NlMessage } from './message';
import { routeFamily } from './route';
import {
  bytes, decodeBody, encodeBody, ipAddr, lladdr, u16, u32, u8,
  type AttrRow, type Attributed, type Decoded, type EncodeError, type FieldRow, type MessageSpec,
} from './wire';

export interface NeighMessage extends Attributed {
  family: number;
  ifindex: number;
  state: number;
  flags: number;
  type: number;
  dst?: Uint8Array;
  lladdr?: Uint8Array;
  cacheinfo?: Uint8Array;
  probes?: number;
  vlan?: number;
  master?: number;
  /** NDA_IFINDEX: the dump filter (ndm_ifindex must stay 0 in a strict dump request) */
  filterIfindex?: number;
  protocol?: number;
  flagsExt?: number;
}

const fields = [
  { key: 'family', offset: 0, kind: 'u8' },
  { key: 'ifindex', offset: 4, kind: 's32' },
  { key: 'state', offset: 8, kind: 'u16' },
  { key: 'flags', offset: 10, kind: 'u8' },
  { key: 'type', offset: 11, kind: 'u8' },
] as const satisfies readonly FieldRow<NeighMessage>[];

const attrs = [
  { type: NDA.DST, key: 'dst', codec: ipAddr },
  { type: NDA.LLADDR, key: 'lladdr', codec: lladdr },
  { type: NDA.CACHEINFO, key: 'cacheinfo', codec: bytes },
  { type: NDA.PROBES, key: 'probes', codec: u32 },
  { type: NDA.VLAN, key: 'vlan', codec: u16 },
  { type: NDA.MASTER, key: 'master', codec: u32 },
  { type: NDA.IFINDEX, key: 'filterIfindex', codec: u32 },
  { type: NDA.PROTOCOL, key: 'protocol', codec: u8 },
  { type: NDA.FLAGS_EXT, key: 'flagsExt', codec: u32 },
] as const satisfies readonly AttrRow<NeighMessage>[];

export const ndmsg: MessageSpec<NeighMessage> = {
  name: 'ndmsg',
  headerLength: 12,
  fields,
  attrs,
  blank: () => ({ family: 0, ifindex: 0, state: 0, flags: 0, type: 0, unknownAttrs: [] }),
};

export interface Neighbour {
  /** 4 or 16 bytes; the family follows from the length. */
  dst: Uint8Array;
  ifindex: number;
  /** Required for add; ignored for delete. */
  lladdr?: Uint8Array;
  /** Default NUD_PERMANENT. */
  state?: number;
  /** NDA_PROTOCOL: who installed it (kernel ≥ 5.2 keeps it). */
  protocol?: number;
}

export function toNeighMessage(n: Neighbour): NeighMessage {
  const m = ndmsg.blank();
  m.family = routeFamily(n.dst);
  m.ifindex = n.ifindex;
  m.state = n.state ?? NUD.PERMANENT;
  m.dst = n.dst;
  if (n.lladdr !== undefined) m.lladdr = n.lladdr;
  if (n.protocol !== undefined) m.protocol = n.protocol;
  return m;
}

export function encodeNeigh(m: NeighMessage, order: ByteOrder = HOST_ORDER): Uint8Array | EncodeError {
  return encodeBody(ndmsg, m, order);
}

export function decodeNeigh(msg: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<NeighMessage> {
  return decodeBody(ndmsg, msg.payload, undefined, order);
}
