/**
 * IGMP and MLD seen as one Group Management Protocol (RFC 4604 §1 "GMP"): the router
 * and the proxy work on `GmpMessage`s and call the family only to read and build
 * packets. Versions are levels: 3 is IGMPv3 / MLDv2, 2 is IGMPv2 / MLDv1 (both have a
 * Leave / Done, RFC 3810 §8), 1 is IGMPv1.
 */
import { formatIPv4, formatIPv6 } from '../wire/address';
import { igmpHeader, igmpPacket, type IgmpMessage } from '../wire/igmp';
import { code16, code8, type GroupRecord } from '../wire/mcast';
import { IPV6_ROUTER_ALERT_HBH, hasMldRouterAlert, mldHeader, mldPacket, type MldMessage } from '../wire/mld';

export type Level = 1 | 2 | 3;

export type GmpMessage =
  | ({ readonly kind: 'query' } & QuerySpec)
  | { readonly kind: 'report'; readonly records: readonly GroupRecord[] }
  | { readonly kind: 'old-report'; readonly level: 1 | 2; readonly group: Uint8Array }
  | { readonly kind: 'leave'; readonly group: Uint8Array };

/** Why a received packet was not used: per-reason counters (CONVENTIONS 10). */
export type GmpDrop =
  | 'malformed'        // a decoder refused the bytes
  | 'hop-limit'        // TTL / Hop Limit is not 1 (RFC 3376 §4, RFC 3810 §5)
  | 'no-router-alert'  // IGMPv3 / MLD without Router Alert (RFC 3376 §4, RFC 3810 §5)
  | 'bad-source'       // MLD from a non-link-local source (RFC 3810 §5.1.14, §5.2.13)
  | 'not-multicast'    // a group field that is not a multicast address
  | 'other-type';      // a type the router does not read (e.g. mtrace)

export type Parsed =
  | { readonly ok: true; readonly source: Uint8Array; readonly message: GmpMessage }
  | { readonly ok: false; readonly reason: GmpDrop; readonly field?: string };

const bad = (reason: GmpDrop, field?: string): Parsed => ({ ok: false, reason, ...(field ? { field } : {}) });

/** A query's fields, as received (`GmpMessage` kind `query`) and as the router sends one. */
export interface QuerySpec {
  readonly level: Level;
  /** null: a General Query. */
  readonly group: Uint8Array | null;
  readonly maxRespMs: number;
  readonly suppress: boolean;
  /** 0 when absent (older versions) or when the querier said 0. */
  readonly qrv: number;
  readonly qqiSec: number;
  readonly sources: readonly Uint8Array[];
}

export interface Family {
  readonly family: 4 | 6;
  readonly name: 'IGMP' | 'MLD';
  readonly addrLen: 4 | 16;
  readonly unspecified: Uint8Array;
  readonly allNodes: Uint8Array;
  /** Where IGMPv3 / MLDv2 reports go (RFC 3376 §4.2.14: 224.0.0.22, RFC 3810 §5.2.14: ff02::16). */
  readonly allV3Routers: Uint8Array;
  isMulticast(a: Uint8Array): boolean;
  /** Groups never managed (RFC 3376 §6: 224.0.0.0/24 is never reported; ff0x::1 / ff02::2 link scope, RFC 3810 §6). */
  isLinkLocalGroup(a: Uint8Array): boolean;
  format(a: Uint8Array): string;
  /** The version name of a level, for status and logs. */
  versionName(level: Level): string;
  parse(bytes: Uint8Array): Parsed;
  buildQuery(source: Uint8Array, q: QuerySpec): Uint8Array;
  buildReport(source: Uint8Array, records: readonly GroupRecord[]): Uint8Array;
}

const ip4 = (...b: number[]) => new Uint8Array(b);
const ip6 = (first: number, last: number) => {
  const a = new Uint8Array(16);
  a[0] = first >> 8; a[1] = first & 0xff; a[14] = last >> 8; a[15] = last & 0xff;
  return a;
};
const isZero = (a: Uint8Array) => a.every((x) => x === 0);
const hasIpv4RouterAlert = (options: Uint8Array): boolean => {
  for (let i = 0; i + 1 < options.length;) {
    const t = options[i]!;
    if (t === 0) return false;
    if (t === 1) { i++; continue; }
    if (t === 0x94) return true;
    i += Math.max(2, options[i + 1]!);
  }
  return false;
};

export const IGMP: Family = {
  family: 4, name: 'IGMP', addrLen: 4,
  unspecified: ip4(0, 0, 0, 0), allNodes: ip4(224, 0, 0, 1), allV3Routers: ip4(224, 0, 0, 22),
  isMulticast: (a) => a.length === 4 && a[0]! >> 4 === 0xe,
  isLinkLocalGroup: (a) => a[0] === 224 && a[1] === 0 && a[2] === 0,
  format: (a) => formatIPv4(a),
  versionName: (l) => `IGMPv${l}`,
  parse(bytes) {
    const r = igmpPacket.decode(bytes);
    if (!r.ok) return bad('malformed', r.error.field);
    const { header, message: m } = r.value;
    // RFC 3376 §4: sent with TTL 1; a datagram that crossed a router is not from this link.
    if (header.ttl !== 1) return bad('hop-limit');
    const v3 = m.kind === 'query3' || m.kind === 'report3';
    // RFC 3376 §9.1 / §4: IGMPv3 messages without Router Alert are ignored (older hosts may omit it).
    if (v3 && !hasIpv4RouterAlert(header.options)) return bad('no-router-alert');
    const message = fromIgmp(m);
    if (!message) return bad('other-type');
    if ('group' in message && message.group !== null && !this.isMulticast(message.group)) return bad('not-multicast');
    return { ok: true, source: header.source, message };
  },
  buildQuery(source, q) {
    const dest = q.group ?? this.allNodes;
    const group = q.group ?? this.unspecified;
    const tenths = Math.floor(q.maxRespMs / 100);
    const message: IgmpMessage = q.level === 3
      ? { kind: 'query3', maxRespCode: code8.encode(tenths), group, resv: 0, suppress: q.suppress, qrv: q.qrv > 7 ? 0 : q.qrv,
          qqic: code8.encode(q.qqiSec), sources: q.sources, extra: new Uint8Array(0) }
      // RFC 2236 §2.2: Max Resp Time in 1/10 s, at most 255; 0 for IGMPv1 (RFC 3376 §7.1).
      : { kind: 'query12', maxRespCode: q.level === 1 ? 0 : Math.min(255, Math.max(1, tenths)), group };
    return igmpPacket.encode({ header: igmpHeader(source, dest), message }).slice();
  },
  buildReport(source, records) {
    return igmpPacket.encode({
      header: igmpHeader(source, this.allV3Routers),
      message: { kind: 'report3', reserved1: 0, reserved2: 0, records, extra: new Uint8Array(0) },
    }).slice();
  },
};

function fromIgmp(m: IgmpMessage): GmpMessage | null {
  switch (m.kind) {
    case 'query12':
      return {
        kind: 'query', level: m.maxRespCode === 0 ? 1 : 2, group: isZero(m.group) ? null : m.group,
        maxRespMs: m.maxRespCode === 0 ? 10_000 : m.maxRespCode * 100, suppress: false, qrv: 0, qqiSec: 0, sources: [],
      };
    case 'query3':
      return {
        kind: 'query', level: 3, group: isZero(m.group) ? null : m.group, maxRespMs: code8.decode(m.maxRespCode) * 100,
        suppress: m.suppress, qrv: m.qrv, qqiSec: code8.decode(m.qqic), sources: m.sources,
      };
    case 'report1': return { kind: 'old-report', level: 1, group: m.group };
    case 'report2': return { kind: 'old-report', level: 2, group: m.group };
    case 'leave2': return { kind: 'leave', group: m.group };
    case 'report3': return { kind: 'report', records: m.records };
    case 'other': return null;
  }
}

const isLinkLocalUnicast6 = (a: Uint8Array) => a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;

export const MLD: Family = {
  family: 6, name: 'MLD', addrLen: 16,
  unspecified: new Uint8Array(16), allNodes: ip6(0xff02, 1), allV3Routers: ip6(0xff02, 0x16),
  isMulticast: (a) => a.length === 16 && a[0] === 0xff,
  // RFC 3810 §6: ff02::1 (all nodes) is never reported; ff0x::/16 reserved and interface-local (ff01::/16) scopes are not routed.
  isLinkLocalGroup: (a) => a[0] === 0xff && ((a[1]! & 0x0f) <= 2),
  format: (a) => formatIPv6(a),
  versionName: (l) => (l === 3 ? 'MLDv2' : 'MLDv1'),
  parse(bytes) {
    const r = mldPacket.decode(bytes);
    if (!r.ok) return bad('malformed', r.error.field);
    const { header, hopByHop, message: m } = r.value;
    if (header.hopLimit !== 1) return bad('hop-limit');
    if (!hasMldRouterAlert(hopByHop)) return bad('no-router-alert');
    // RFC 3810 §5.1.14: queries from link-local sources only; §5.2.13: reports from link-local or ::.
    const reportFromUnspecified = (m.kind === 'report2' || m.kind === 'report1') && isZero(header.source);
    if (!isLinkLocalUnicast6(header.source) && !reportFromUnspecified) return bad('bad-source');
    const message = fromMld(m);
    if (!message) return bad('other-type');
    if ('group' in message && message.group !== null && !this.isMulticast(message.group)) return bad('not-multicast');
    return { ok: true, source: header.source, message };
  },
  buildQuery(source, q) {
    const dest = q.group ?? this.allNodes;
    const address = q.group ?? this.unspecified;
    const message: MldMessage = q.level === 3
      ? { kind: 'query2', code: 0, maxRespCode: code16.encode(q.maxRespMs), reserved: 0, address, resv: 0, suppress: q.suppress,
          qrv: q.qrv > 7 ? 0 : q.qrv, qqic: code8.encode(q.qqiSec), sources: q.sources, extra: new Uint8Array(0) }
      : { kind: 'query1', code: 0, maxRespDelay: Math.min(0xffff, q.maxRespMs), reserved: 0, address };
    return mldPacket.encode({ header: mldHeader(source, dest), hopByHop: IPV6_ROUTER_ALERT_HBH, message }).slice();
  },
  buildReport(source, records) {
    return mldPacket.encode({
      header: mldHeader(source, this.allV3Routers), hopByHop: IPV6_ROUTER_ALERT_HBH,
      message: { kind: 'report2', code: 0, reserved: 0, records, extra: new Uint8Array(0) },
    }).slice();
  },
};

function fromMld(m: MldMessage): GmpMessage | null {
  switch (m.kind) {
    case 'query1':
      return { kind: 'query', level: 2, group: isZero(m.address) ? null : m.address, maxRespMs: m.maxRespDelay, suppress: false, qrv: 0, qqiSec: 0, sources: [] };
    case 'query2':
      return {
        kind: 'query', level: 3, group: isZero(m.address) ? null : m.address, maxRespMs: code16.decode(m.maxRespCode),
        suppress: m.suppress, qrv: m.qrv, qqiSec: code8.decode(m.qqic), sources: m.sources,
      };
    case 'report1': return { kind: 'old-report', level: 2, group: m.address };
    case 'done1': return { kind: 'leave', group: m.address };
    case 'report2': return { kind: 'report', records: m.records };
    case 'other': return null;
  }
}

export const familyOf = (f: 4 | 6): Family => (f === 4 ? IGMP : MLD);
