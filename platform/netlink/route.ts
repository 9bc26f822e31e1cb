/**
 * Routes: struct rtmsg (linux/rtnetlink.h) + RTA_* attributes.
 *
 *   +-----------+-----------+-----------+-----------+
 *   | family u8 | dst_len u8| src_len u8| tos u8    |
 *   +-----------+-----------+-----------+-----------+
 *   | table u8  | protocol  | scope u8  | type u8   |
 *   +-----------+-----------+-----------+-----------+
 *   |                 flags (u32)                   |
 *   +-----------------------------------------------+
 * Table ids above 255 only fit in RTA_TABLE; the kernel always reports RTA_TABLE.
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { AF, NLM_F, RT_SCOPE, RT_TABLE, RTA, RTN, RTPROT } from './constants';
import type { NlMessage } from './message';
import {
  bytes, decodeBody, encodeBody, ipAddr, u32, u8, s32,
  type AttrRow, type Attributed, type Decoded, type EncodeError, type FieldRow, type MessageSpec,
} from './wire';

export interface RouteMessage extends Attributed {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** rtm_table (8 bits); prefer `tableId` */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst?: Uint8Array;
  src?: Uint8Array;
  iif?: number;
  oif?: number;
  gateway?: Uint8Array;
  priority?: number;
  prefsrc?: Uint8Array;
  metrics?: Uint8Array;
  multipath?: Uint8Array;
  cacheinfo?: Uint8Array;
  /** RTA_TABLE (32 bits) */
  tableId?: number;
  mark?: number;
  pref?: number;
  expires?: number;
}

const fields = [
  { key: 'family', offset: 0, kind: 'u8' },
  { key: 'dstLen', offset: 1, kind: 'u8' },
  { key: 'srcLen', offset: 2, kind: 'u8' },
  { key: 'tos', offset: 3, kind: 'u8' },
  { key: 'table', offset: 4, kind: 'u8' },
  { key: 'protocol', offset: 5, kind: 'u8' },
  { key: 'scope', offset: 6, kind: 'u8' },
  { key: 'type', offset: 7, kind: 'u8' },
  { key: 'flags', offset: 8, kind: 'u32' },
] as const satisfies readonly FieldRow<RouteMessage>[];

const attrs = [
  { type: RTA.DST, key: 'dst', codec: ipAddr },
  { type: RTA.SRC, key: 'src', codec: ipAddr },
  { type: RTA.IIF, key: 'iif', codec: u32 },
  { type: RTA.OIF, key: 'oif', codec: u32 },
  { type: RTA.GATEWAY, key: 'gateway', codec: ipAddr },
  { type: RTA.PRIORITY, key: 'priority', codec: u32 },
  { type: RTA.PREFSRC, key: 'prefsrc', codec: ipAddr },
  { type: RTA.METRICS, key: 'metrics', codec: bytes },
  { type: RTA.MULTIPATH, key: 'multipath', codec: bytes },
  { type: RTA.CACHEINFO, key: 'cacheinfo', codec: bytes },
  { type: RTA.TABLE, key: 'tableId', codec: u32 },
  { type: RTA.MARK, key: 'mark', codec: u32 },
  { type: RTA.PREF, key: 'pref', codec: u8 },
  { type: RTA.EXPIRES, key: 'expires', codec: s32 },
] as const satisfies readonly AttrRow<RouteMessage>[];

export const rtmsg: MessageSpec<RouteMessage> = {
  name: 'rtmsg',
  headerLength: 12,
  fields,
  attrs,
  blank: () => ({ family: 0, dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: 0, scope: 0, type: 0, flags: 0, unknownAttrs: [] }),
};

/** What a caller says about a route; `toRouteMessage` fills in what the kernel needs. */
export interface Route {
  /** Destination prefix address, 4 or 16 bytes; the family follows from its length. */
  dst: Uint8Array;
  dstLen: number;
  /** Same length as dst. */
  gateway?: Uint8Array;
  oif?: number;
  /** Default main (254). */
  table?: number;
  /** Default RTPROT_STATIC; gleand passes its own number (CONVENTIONS 11). */
  protocol?: number;
  /** Default universe, or link for an IPv4 route without gateway (as ip-route does). */
  scope?: number;
  /** Default unicast. */
  type?: number;
  priority?: number;
  prefsrc?: Uint8Array;
}

/** AF_INET6 for 16 address bytes, AF_INET otherwise (checkRoute rejects other lengths). */
export function routeFamily(addr: Uint8Array): number {
  return addr.length === 16 ? AF.INET6 : AF.INET;
}

export function toRouteMessage(r: Route): RouteMessage {
  const family = routeFamily(r.dst);
  const table = r.table ?? RT_TABLE.MAIN;
  const m = rtmsg.blank();
  m.family = family;
  m.dstLen = r.dstLen;
  m.table = table < 256 ? table : RT_TABLE.UNSPEC;
  m.tableId = table;
  m.protocol = r.protocol ?? RTPROT.STATIC;
  m.scope = r.scope ?? (family === AF.INET && r.gateway === undefined ? RT_SCOPE.LINK : RT_SCOPE.UNIVERSE);
  m.type = r.type ?? RTN.UNICAST;
  m.dst = r.dst;
  if (r.gateway !== undefined) m.gateway = r.gateway;
  if (r.oif !== undefined) m.oif = r.oif;
  if (r.priority !== undefined) m.priority = r.priority;
  if (r.prefsrc !== undefined) m.prefsrc = r.prefsrc;
  return m;
}

/** For RTM_DELROUTE: scope NOWHERE matches any scope (as ip-route del does). */
export function toRouteDeleteMessage(r: Route): RouteMessage {
  const m = toRouteMessage(r);
  m.scope = r.scope ?? RT_SCOPE.NOWHERE;
  m.type = r.type ?? RTN.UNSPEC;
  if (r.protocol === undefined) m.protocol = RTPROT.UNSPEC;
  return m;
}

/** Checks that encodeBody cannot make: an address length that is a family, prefix length
 *  fits the family, gateway in the same family. */
export function checkRoute(r: Route): EncodeError | null {
  const bad = (field: string, reason: string): EncodeError => ({ where: 'route', field, reason });
  if (r.dst.length !== 4 && r.dst.length !== 16) return bad('dst', `${r.dst.length} bytes is not an address`);
  const v6 = r.dst.length === 16;
  if (!Number.isInteger(r.dstLen) || r.dstLen < 0 || r.dstLen > (v6 ? 128 : 32)) return bad('dstLen', `${r.dstLen}`);
  if (r.gateway !== undefined && r.gateway.length !== r.dst.length) {
    return bad('gateway', `${r.gateway.length} bytes is not in the family of the ${r.dst.length}-byte dst`);
  }
  if (r.table !== undefined && (!Number.isInteger(r.table) || r.table < 1 || r.table > 0xffffffff)) return bad('table', `${r.table}`);
  if (r.protocol !== undefined && (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255)) return bad('protocol', `${r.protocol}`);
  return null;
}

export function encodeRoute(m: RouteMessage, order: ByteOrder = HOST_ORDER): Uint8Array | EncodeError {
  return encodeBody(rtmsg, m, order);
}

/** Decode an RTM_NEWROUTE/RTM_DELROUTE message body. */
export function decodeRoute(msg: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<RouteMessage> {
  return decodeBody(rtmsg, msg.payload, undefined, order);
}

/** The route's table whichever place the kernel put it. */
export function routeTable(m: RouteMessage): number {
  return m.tableId ?? m.table;
}

export const ROUTE_REQUEST_FLAGS = {
  add: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL,
  replace: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE,
  del: NLM_F.REQUEST,
} as const;

