/**
 * IGMPv3 / MLDv2 reports through the core as the daemon runs it (Agent.handle of
 * `multicast` events → MulticastModule), on one core, and the router's memory with
 * 1,000 ports × 10 groups × 10 sources. Run bundled by plain node (run.ts does it, with
 * the init script's flags), so tsx's loader is not counted:
 *
 *   node gleand-mc-bench.js rate   reports/s for a realistic mix at each port count of BENCH_MC_PORTS
 *                                  (default 100,1000) side by side, beside the codec's decode of the same bytes
 *   node --expose-gc gleand-mc-bench.js rss [4|6]   RSS from /proc/self/status with 1,000 × 10 × 10 (bare: the same flags, nothing loaded)
 *
 * The mix per (port, group), as Linux hosts send it (RFC 3376 §5.1, RFC 3810 §6.1): a
 * new join (ALLOW(S1..S10) for half the groups, TO_IN(S1..S10) for the other half),
 * then refreshes answering general queries (one report per port holding the IS_IN
 * records of all its groups, RFC 3376 §5.2), then leaves (BLOCK(S1..S10) or TO_IN({}),
 * each of which makes the router send group-and-source specific queries, RFC 3376 §6.4.2).
 * Prints numbers; asserts nothing.
 */
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Agent } from '../../src/agent';
import { formatProblem, loadConfig } from '../../src/config/config';
import { createCore } from '../../src/core';
import type { Event } from '../../src/events';
import { addMs, instant, type Instant } from '../../src/time';
import { igmpHeader, igmpPacket } from '../../src/wire/igmp';
import { ALLOW_NEW_SOURCES, BLOCK_OLD_SOURCES, CHANGE_TO_INCLUDE_MODE, MODE_IS_INCLUDE, type GroupRecord } from '../../src/wire/mcast';
import { IPV6_ROUTER_ALERT_HBH, mldHeader, mldPacket } from '../../src/wire/mld';

/** `rate`: the port counts to compare (a report's cost must not grow with them); `rss`: the first one. */
const PORT_COUNTS = (process.env['BENCH_MC_PORTS'] ?? '100,1000').split(',').map(Number);
const PORTS = PORT_COUNTS[PORT_COUNTS.length - 1]!;
const GROUPS = 10;
const SOURCES = 10;
const T0 = instant(1_000_000);
const MAC = Uint8Array.of(2, 0, 0, 0, 0, 1);

function core(ports: number): Agent {
  let text = `
config global
	option max_bindings '1000'
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
config leasequery
	option bulk '0'
config multicast
	option enabled '1'
	option upstream 'wan'
	option max_groups '${GROUPS}'
	option max_sources '${SOURCES}'
	option report_rate_limit '100000'
`;
  for (let p = 0; p < ports; p++) {
    text += `config subscriber 'p${p}'\n\toption device 'v${p}'\n\toption upstream 'wan'\n\toption relay_v4 '0'\n\toption relay_v6 '0'\n`;
  }
  const r = loadConfig(text, 'bench');
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  const agent = createCore(T0).agent;
  agent.handle({ kind: 'config', config: r.config }, T0);
  return agent;
}

/** SSM groups (RFC 4607 §1: 232/8, FF3x::/96) and sources in documentation / ULA space. */
const group = (f: 4 | 6, g: number) => (f === 4 ? Uint8Array.of(232, 1, 0, g + 1) : Uint8Array.of(0xff, 0x3e, ...new Uint8Array(10), 0x80, 0, 0, g + 1));
const source = (f: 4 | 6, s: number) => (f === 4 ? Uint8Array.of(10, 0, 0, 2 + s) : Uint8Array.of(0xfd, ...new Uint8Array(14), 2 + s));
const host = (f: 4 | 6, p: number) => (f === 4 ? Uint8Array.of(10, 1, p >> 8, p & 0xff) : Uint8Array.of(0xfe, 0x80, ...new Uint8Array(10), 0, 0, p >> 8, p & 0xff));

function record(f: 4 | 6, type: number, g: number, sources: number[]): GroupRecord {
  return { type, group: group(f, g), sources: sources.map((s) => source(f, s)), auxData: new Uint8Array(0) };
}

/** A report as the host's kernel builds it: to 224.0.0.22 / ff02::16, TTL / Hop Limit 1, Router Alert. */
function report(f: 4 | 6, p: number, records: GroupRecord[]): Uint8Array {
  if (f === 4) {
    return igmpPacket.encode({ header: igmpHeader(host(4, p), Uint8Array.of(224, 0, 0, 22)),
      message: { kind: 'report3', reserved1: 0, reserved2: 0, records, extra: new Uint8Array(0) } }).slice();
  }
  const all = Uint8Array.of(0xff, 0x02, ...new Uint8Array(13), 0x16);
  return mldPacket.encode({ header: mldHeader(host(6, p), all), hopByHop: IPV6_ROUTER_ALERT_HBH,
    message: { kind: 'report2', code: 0, reserved: 0, records, extra: new Uint8Array(0) } }).slice();
}

const ALL = Array.from({ length: SOURCES }, (_, s) => s);
const ev = (f: 4 | 6, p: number, bytes: Uint8Array): Event => ({ kind: 'multicast', family: f, port: `p${p}`, upstream: false, mac: MAC, bytes });

/** Joins: one record per report, ALLOW for even groups, TO_IN for odd ones. */
function joins(f: 4 | 6, ports: number, sources = ALL): Event[] {
  const out: Event[] = [];
  for (let g = 0; g < GROUPS; g++) {
    for (let p = 0; p < ports; p++) out.push(ev(f, p, report(f, p, [record(f, g % 2 ? CHANGE_TO_INCLUDE_MODE : ALLOW_NEW_SOURCES, g, sources)])));
  }
  return out;
}
/** Refreshes: one report per port with the IS_IN record of each of its groups. */
function refreshes(f: 4 | 6, ports: number): Event[] {
  return Array.from({ length: ports }, (_, p) => ev(f, p, report(f, p, Array.from({ length: GROUPS }, (_, g) => record(f, MODE_IS_INCLUDE, g, ALL)))));
}
/** Leaves: BLOCK(all) for even groups, TO_IN({}) for odd ones. */
function leaves(f: 4 | 6, ports: number): Event[] {
  const out: Event[] = [];
  for (let g = 0; g < GROUPS; g++) {
    for (let p = 0; p < ports; p++) out.push(ev(f, p, report(f, p, [g % 2 ? record(f, CHANGE_TO_INCLUDE_MODE, g, []) : record(f, BLOCK_OLD_SOURCES, g, ALL)])));
  }
  return out;
}

/** Feeds events, 1 ms of the core's clock per 100 reports (the deadlines fire as the daemon would poll them). */
function feed(agent: Agent, events: Event[], start: Instant): { ms: number; actions: number; end: Instant } {
  let now = start;
  let actions = 0;
  const t0 = performance.now();
  for (let i = 0; i < events.length; i++) {
    if (i % 100 === 0) {
      now = addMs(now, 1);
      for (let d = agent.nextDeadline(); d !== null && d <= now; d = agent.nextDeadline()) actions += agent.poll(d).length;
    }
    actions += agent.handle(events[i]!, now).length;
  }
  return { ms: performance.now() - t0, actions, end: now };
}

function decodeRate(f: 4 | 6, events: Event[]): number {
  const codec = f === 4 ? igmpPacket : mldPacket;
  const t0 = performance.now();
  let ok = 0;
  for (const e of events) if (e.kind === 'multicast' && codec.decode(e.bytes).ok) ok++;
  const ms = performance.now() - t0;
  if (ok !== events.length) throw new Error('bench: a report did not decode');
  return (events.length / ms) * 1000;
}

const fmtRate = (x: number) => Math.round(x).toLocaleString('en').padStart(9);

/** One family's mix on `ports` ports: reports/s overall and per phase, and decode alone of the same bytes. */
function rateAt(f: 4 | 6, ports: number): { full: number; reference: number; detail: string } {
  const phases = [['joins ALLOW/TO_IN(10 S)', joins(f, ports)], ['refresh IS_IN ×10 groups', refreshes(f, ports)], ['leaves BLOCK/TO_IN{}', leaves(f, ports)]] as const;
  const all = phases.flatMap(([, e]) => e);
  // Warm both paths on a throwaway core and the same bytes, as the daemon warms on its first reports.
  decodeRate(f, all);
  const warm = Math.min(ports, 50);
  feed(core(warm), [...joins(f, warm), ...refreshes(f, warm), ...leaves(f, warm)], T0);
  const reference = decodeRate(f, all);
  const agent = core(ports);
  let now = T0;
  let ms = 0;
  let actions = 0;
  const parts: string[] = [];
  for (const [label, events] of phases) {
    const r = feed(agent, events, now);
    now = r.end;
    ms += r.ms;
    actions += r.actions;
    parts.push(`${label} ${fmtRate((events.length / r.ms) * 1000).trim()}/s`);
  }
  return { full: (all.length / ms) * 1000, reference, detail: `${all.length} reports, ${actions} actions; ${parts.join(', ')}` };
}

function rate(): void {
  for (const f of [4, 6] as const) {
    const name = f === 4 ? 'IGMPv3' : 'MLDv2';
    const runs = PORT_COUNTS.map((n) => ({ n, ...rateAt(f, n) }));
    // Side by side: flat when the cost of a report does not depend on the ports holding its group.
    console.log(`${name.padEnd(7)} ${runs.map((r) => `${r.n.toLocaleString('en')} ports ${fmtRate(r.full).trim()} reports/s`).join('  |  ')}` +
      (runs.length > 1 ? `  (last/first ${(runs[runs.length - 1]!.full / runs[0]!.full).toFixed(2)})` : ''));
    for (const r of runs) {
      console.log(`        ${r.n.toLocaleString('en')} ports: ${r.detail}; reference: decode alone ${fmtRate(r.reference).trim()} reports/s — the router costs ${(r.reference / r.full).toFixed(1)}× decoding`);
    }
  }
}

/** VmRSS from /proc/self/status, bytes. */
function vmRss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

function rss(f: 4 | 6): void {
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);
  const mib = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
  gc();
  const empty = vmRss();
  const agent = core(PORTS);
  gc();
  const configured = vmRss();
  const heap0 = process.memoryUsage().heapUsed;
  // Groups with one source each, then the other nine sources: per group and per source.
  let r = feed(agent, joins(f, PORTS, [0]), T0);
  gc();
  const heap1 = process.memoryUsage().heapUsed;
  r = feed(agent, joins(f, PORTS, ALL.slice(1)), r.end);
  gc();
  const heap2 = process.memoryUsage().heapUsed;
  const full = vmRss();
  const rows = (agent.query('groups', r.end) as { groups: { sources: unknown[] }[] }).groups;
  const nSources = rows.reduce((n, g) => n + g.sources.length, 0);
  const perSource = (heap2 - heap1) / (PORTS * GROUPS * (SOURCES - 1));
  const perGroup = (heap1 - heap0) / (PORTS * GROUPS) - perSource;
  console.log(`${f === 4 ? 'IGMPv3' : 'MLDv2 '} ${rows.length} groups, ${nSources} sources on ${PORTS} ports: VmRSS ${mib(full)} ` +
    `(core with the 1,000-port config and no groups ${mib(configured)}, +${mib(full - configured)} for the groups); ` +
    `heap ≈ ${Math.round(perGroup)} B per group + ${Math.round(perSource)} B per source; reference: this node before loading the core ${mib(empty)}`);
}

if (process.argv[2] === 'rss') rss(process.argv[3] === '6' ? 6 : 4);
else rate();
