/**
 * Scripts against time for the multicast router (CONVENTIONS 9): the core as the daemon
 * composes it, with IGMP / MLD packets built as the Linux kernel builds them (the codec
 * is checked byte for byte against its captures, test/unit/wire/mcast-golden.test.ts)
 * and every `multicast-send` decoded back for the assertions.
 */
import { expect } from 'vitest';
import type { Action } from '../../../src/actions';
import { loadConfig, formatProblem } from '../../../src/config/config';
import { createCore } from '../../../src/core';
import type { Event } from '../../../src/events';
import type { MulticastModule } from '../../../src/multicast/module';
import type { Agent } from '../../../src/agent';
import { addMs, instant, type Instant } from '../../../src/time';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../../../src/wire/address';
import { igmpHeader, igmpPacket, type IgmpMessage } from '../../../src/wire/igmp';
import { code16, code8, type GroupRecord } from '../../../src/wire/mcast';
import { IPV6_ROUTER_ALERT_HBH, mldHeader, mldPacket, type MldMessage } from '../../../src/wire/mld';

export const T0 = instant(5_000_000);
export const at = (ms: number): Instant => addMs(T0, ms);
export const ip = (t: string): Uint8Array => (t.includes(':') ? parseIPv6(t)! : parseIPv4(t)!);
const fmt = (b: Uint8Array) => (b.length === 4 ? formatIPv4(b) : formatIPv6(b));
const MAC = new Uint8Array([2, 0, 0, 0, 0, 1]);

export const RT = { IS_IN: 1, IS_EX: 2, TO_IN: 3, TO_EX: 4, ALLOW: 5, BLOCK: 6 } as const;

export function multicastConfig(extra = '', subscriberExtra = '') {
  const text = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'

config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option link_address '2001:db8:1::1'
${subscriberExtra}
config subscriber 'lan2'
	option device 'eth2'
	option upstream 'wan'
	option giaddr '203.0.113.1'
	option relay_v4 '0'
	option relay_v6 '0'

config subscriber 'lan3'
	option device 'eth3'
	option upstream 'wan'
	option relay_v4 '0'
	option relay_v6 '0'

config leasequery
	option bulk '0'

config multicast
	option enabled '1'
	option upstream 'wan'
${extra}`;
  const r = loadConfig(text, 'test');
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  return r.config;
}

/** A host's report as the kernel sends it (TTL / Hop Limit 1, Router Alert, 224.0.0.22 / ff02::16). */
export function report(family: 4 | 6, records: [number, string, string[]][], from?: string): Uint8Array {
  const recs: GroupRecord[] = records.map(([type, g, ss]) => ({ type, group: ip(g), sources: ss.map(ip), auxData: new Uint8Array(0) }));
  if (family === 4) {
    return igmpPacket.encode({ header: igmpHeader(ip(from ?? '198.51.100.20'), ip('224.0.0.22')), message: { kind: 'report3', reserved1: 0, reserved2: 0, records: recs, extra: new Uint8Array(0) } }).slice();
  }
  return mldPacket.encode({ header: mldHeader(ip(from ?? 'fe80::20'), ip('ff02::16')), hopByHop: IPV6_ROUTER_ALERT_HBH, message: { kind: 'report2', code: 0, reserved: 0, records: recs, extra: new Uint8Array(0) } }).slice();
}

export function igmp(m: IgmpMessage, from = '198.51.100.20', to = '224.0.0.22', ttl = 1): Uint8Array {
  return igmpPacket.encode({ header: { ...igmpHeader(ip(from), ip(to)), ttl }, message: m }).slice();
}
export function mld(m: MldMessage, from = 'fe80::20', to = 'ff02::16'): Uint8Array {
  return mldPacket.encode({ header: mldHeader(ip(from), ip(to)), hopByHop: IPV6_ROUTER_ALERT_HBH, message: m }).slice();
}

/** An IGMPv2 / MLDv1 style older report, a Leave / Done, or a query from another router. */
export const oldReport = (family: 4 | 6, level: 1 | 2, group: string): Uint8Array =>
  family === 4
    ? igmp(level === 1 ? { kind: 'report1', unused: 0, group: ip(group) } : { kind: 'report2', maxRespCode: 0, group: ip(group) }, undefined, group)
    : mld({ kind: 'report1', code: 0, maxRespDelay: 0, reserved: 0, address: ip(group) }, undefined, group);
export const leave = (family: 4 | 6, group: string): Uint8Array =>
  family === 4
    ? igmp({ kind: 'leave2', maxRespCode: 0, group: ip(group) }, undefined, '224.0.0.2')
    : mld({ kind: 'done1', code: 0, maxRespDelay: 0, reserved: 0, address: ip(group) }, undefined, 'ff02::2');

export function query(family: 4 | 6, from: string, o: { level?: 1 | 2 | 3; group?: string; sources?: string[]; suppress?: boolean; qrv?: number; qqi?: number } = {}): Uint8Array {
  const level = o.level ?? 3;
  const group = ip(o.group ?? (family === 4 ? '0.0.0.0' : '::'));
  const sources = (o.sources ?? []).map(ip);
  if (family === 4) {
    if (level < 3) return igmp({ kind: 'query12', maxRespCode: level === 1 ? 0 : 100, group }, from, '224.0.0.1');
    return igmp({ kind: 'query3', maxRespCode: 100, group, resv: 0, suppress: o.suppress ?? false, qrv: o.qrv ?? 2, qqic: o.qqi ?? 125, sources, extra: new Uint8Array(0) }, from, '224.0.0.1');
  }
  if (level < 3) return mld({ kind: 'query1', code: 0, maxRespDelay: 10000, reserved: 0, address: group }, from, 'ff02::1');
  return mld({ kind: 'query2', code: 0, maxRespCode: 10000, reserved: 0, address: group, resv: 0, suppress: o.suppress ?? false, qrv: o.qrv ?? 2, qqic: o.qqi ?? 125, sources, extra: new Uint8Array(0) }, from, 'ff02::1');
}

/** What went out, decoded: queries and reports in a comparable shape. */
export type Sent =
  | { port: string; up: boolean; q: string; group: string | null; sources: string[]; s: boolean; maxRespMs: number; dst: string; src: string; qrv?: number; qqi?: number }
  | { port: string; up: boolean; r: string[]; dst: string };

export function sent(actions: readonly Action[]): Sent[] {
  const out: Sent[] = [];
  for (const a of actions) {
    if (a.kind !== 'multicast-send') continue;
    if (a.family === 4) {
      const d = igmpPacket.decode(a.bytes);
      if (!d.ok) throw new Error(JSON.stringify(d.error));
      expect(d.value.header.ttl).toBe(1);
      const m = d.value.message;
      const dst = fmt(d.value.header.destination);
      const src = fmt(d.value.header.source);
      if (m.kind === 'query3') {
        const g = fmt(m.group);
        out.push({ port: a.port, up: a.upstream, q: 'v3', group: g === '0.0.0.0' ? null : g, sources: m.sources.map((s) => fmt(s)), s: m.suppress, maxRespMs: code8.decode(m.maxRespCode) * 100, dst, src, qrv: m.qrv, qqi: code8.decode(m.qqic) });
      } else if (m.kind === 'query12') {
        const g = fmt(m.group);
        out.push({ port: a.port, up: a.upstream, q: m.maxRespCode === 0 ? 'v1' : 'v2', group: g === '0.0.0.0' ? null : g, sources: [], s: false, maxRespMs: m.maxRespCode * 100, dst, src });
      } else if (m.kind === 'report3') {
        out.push({ port: a.port, up: a.upstream, r: m.records.map(recordText), dst });
      } else throw new Error(`unexpected ${m.kind}`);
    } else {
      const d = mldPacket.decode(a.bytes);
      if (!d.ok) throw new Error(JSON.stringify(d.error));
      expect(d.value.header.hopLimit).toBe(1);
      const m = d.value.message;
      const dst = fmt(d.value.header.destination);
      const src = fmt(d.value.header.source);
      if (m.kind === 'query2') {
        const g = fmt(m.address);
        out.push({ port: a.port, up: a.upstream, q: 'v3', group: g === '::' ? null : g, sources: m.sources.map((s) => fmt(s)), s: m.suppress, maxRespMs: code16.decode(m.maxRespCode), dst, src, qrv: m.qrv, qqi: code8.decode(m.qqic) });
      } else if (m.kind === 'query1') {
        const g = fmt(m.address);
        out.push({ port: a.port, up: a.upstream, q: 'v2', group: g === '::' ? null : g, sources: [], s: false, maxRespMs: m.maxRespDelay, dst, src });
      } else if (m.kind === 'report2') {
        out.push({ port: a.port, up: a.upstream, r: m.records.map(recordText), dst });
      } else throw new Error(`unexpected ${m.kind}`);
    }
  }
  return out;
}

const NAMES = ['?', 'IS_IN', 'IS_EX', 'TO_IN', 'TO_EX', 'ALLOW', 'BLOCK'];
const recordText = (r: GroupRecord) => `${NAMES[r.type] ?? r.type}(${fmt(r.group)}: ${r.sources.map((s) => fmt(s)).join(',')})`;

/** Only the queries (a compact text each: "Q(G) S" / "Q(G; S1,S2) S" / "GQ"). */
export const queries = (actions: readonly Action[], port?: string): string[] =>
  sent(actions).filter((s): s is Extract<Sent, { q: string }> => 'q' in s && !s.up && (port === undefined || s.port === port))
    .map((s) => (s.group === null ? `GQ ${s.q}` : `Q(${s.group}${s.sources.length ? `; ${s.sources.join(',')}` : ''})${s.s ? ' S' : ''}${s.q === 'v3' ? '' : ` ${s.q}`}`));
export const upReports = (actions: readonly Action[]): string[] =>
  sent(actions).flatMap((s) => ('r' in s && s.up ? s.r : []));
export const logs = (actions: readonly Action[]): string[] =>
  actions.filter((a): a is Extract<Action, { kind: 'log' }> => a.kind === 'log').map((a) => a.message);

/** The core with the multicast section on, started at T0 (its startup queries taken). */
export class McCore {
  readonly agent: Agent;
  readonly mc: MulticastModule;
  /**
   * `linkLocals`: lan1's and lan2's link-local addresses as the platform reports them at
   * start (MLD queries leave from them, RFC 3810 §5.1.14); false: none known yet. lan3 has
   * neither a giaddr nor a link-local: the port without an address of its own.
   */
  constructor(extra = '', subscriberExtra = '', random = () => 0, linkLocals: boolean = true) {
    const c = createCore(T0, { random32: random });
    this.agent = c.agent;
    this.mc = c.multicast;
    this.startup = this.agent.handle({ kind: 'config', config: multicastConfig(extra, subscriberExtra) }, T0);
    if (linkLocals) {
      for (const [port, a] of [['lan1', 'fe80::5'], ['lan2', 'fe80::6']] as const) {
        this.startup.push(...this.agent.handle({ kind: 'link', port, up: true, mac: null, linkLocal: ip(a) }, T0));
      }
      this.startup.push(...this.agent.poll(T0));
    }
  }
  readonly startup: Action[];
  packet(port: string, family: 4 | 6, bytes: Uint8Array, now: Instant, upstream = false): Action[] {
    const e: Event = { kind: 'multicast', family, port, upstream, mac: MAC, bytes };
    return this.agent.handle(e, now);
  }
  join(port: string, family: 4 | 6, records: [number, string, string[]][], now: Instant): Action[] {
    return this.packet(port, family, report(family, records), now);
  }
  poll(now: Instant): Action[] {
    return this.agent.poll(now);
  }
  /** Poll at every deadline up to `until`, collecting what went out. */
  /** Poll at every deadline up to `until`: the queries sent on `port`, each as "ms: query" from T0. */
  timeline(until: Instant, port = 'lan1'): string[] {
    const out: string[] = [];
    for (let d = this.agent.nextDeadline(); d !== null && d <= until; d = this.agent.nextDeadline()) {
      for (const q of queries(this.agent.poll(d), port)) out.push(`${d - T0}: ${q}`);
    }
    return out;
  }
  runUntil(until: Instant): Action[] {
    const out: Action[] = [];
    for (let d = this.agent.nextDeadline(); d !== null && d <= until; d = this.agent.nextDeadline()) out.push(...this.agent.poll(d));
    return out;
  }
  groups(now: Instant): { port: string; family: number; group: string; filterMode: string; ssm: boolean; compatibility: string; groupTimerMs: number | null; sources: { source: string; timerMs: number | null; forwarding: boolean }[] }[] {
    return (this.agent.query('groups', now) as { groups: never[] }).groups;
  }
  /** One group's state in a compact form: "INCLUDE {S:ms}" / "EXCLUDE {X:ms} {Y}" with the group timer. */
  state(port: string, family: 4 | 6, group: string, now: Instant): string {
    const g = this.groups(now).find((r) => r.port === port && r.family === family && r.group === group);
    if (!g) return 'none';
    const src = [...g.sources].sort((a, b) => (a.source < b.source ? -1 : 1));
    const x = src.filter((s) => s.timerMs !== null).map((s) => `${s.source}:${s.timerMs}`).join(' ');
    const y = src.filter((s) => s.timerMs === null).map((s) => s.source).join(' ');
    return g.filterMode === 'include' ? `INCLUDE {${x}}` : `EXCLUDE {${x}} {${y}} GT=${g.groupTimerMs}`;
  }
  mroutes(): string[] {
    return [...this.mc.desiredMroutes()].map((m) => `${fmt(m.source)},${fmt(m.group)} ${m.iif}>${m.oifs.join('+')}`);
  }
}
