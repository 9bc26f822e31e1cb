/**
 * The index of ports per group (src/multicast/members.ts, member-index.ts): a port's
 * change touches only its own contribution, so the upstream union and the forwarding
 * entries must still be exactly what a recomputation over every port gives (RFC 4605
 * §4.1 by the merge of RFC 3376 §3.2; RFC 3376 §6.3 for what each port forwards).
 * Judged from outside the index: the per-port tables (`groups` query), the kernel deltas
 * applied to a table of their own, and the upstream's answer to a general query.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { formatProblem, loadConfig } from '../../../src/config/config';
import { createCore } from '../../../src/core';
import type { MrouteEntry } from '../../../src/kernel/mroute';
import { addMs, type Instant } from '../../../src/time';
import { formatAddress } from '../../../src/wire/address';
import { RouterPort } from '../../../src/multicast/router';
import { prng } from '../prng';
import { McCore, RT, T0, at, ip, leave, multicastConfig, oldReport, query, report, upReports } from './kit';

const fmt = (m: MrouteEntry) => `${formatAddress(m.family, m.source)},${formatAddress(m.family, m.group)} ${m.iif}>${m.oifs.join('+')}`;
const mr = (as: readonly Action[], op: 'add' | 'remove' | 'replace'): string[] =>
  as.flatMap((a) => (a.kind === 'kernel' ? a.delta.mroutes[op].map(fmt) : []));

describe.each([
  { family: 4 as const, G: '232.1.1.1', S: '192.0.2.10' },
  { family: 6 as const, G: 'ff3e::8000:1', S: '2001:db8::10' },
])('index of ports per group (family $family)', ({ family, G, S }) => {
  it('a port leaving a group another port still holds keeps the upstream membership and the entry; the last one removes both', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.ALLOW, G, [S]]], at(0));
    c.join('lan2', family, [[RT.ALLOW, G, [S]]], at(0));
    c.runUntil(at(5000));
    expect(c.mroutes()).toEqual([`${S},${G} eth0>eth1+eth2`]);
    // lan1 leaves: BLOCK, then its source times out at LMQT (RFC 3376 §6.4.2, §6.6.3.2).
    let out = c.join('lan1', family, [[RT.BLOCK, G, [S]]], at(10_000));
    out.push(...c.runUntil(at(20_000)));
    expect(mr(out, 'replace')).toEqual([`${S},${G} eth0>eth2`]);
    expect(mr(out, 'remove')).toEqual([]);
    expect(upReports(out)).toEqual([]);
    expect(c.mroutes()).toEqual([`${S},${G} eth0>eth2`]);
    // lan2, the last one, leaves: the entry goes and the source leaves the upstream membership.
    out = c.join('lan2', family, [[RT.BLOCK, G, [S]]], at(30_000));
    out.push(...c.runUntil(at(40_000)));
    expect(mr(out, 'remove')).toEqual([`${S},${G} eth0>eth2`]);
    expect(upReports(out)).toEqual([`BLOCK(${G}: ${S})`, `BLOCK(${G}: ${S})`]);
    expect(c.mroutes()).toEqual([]);
  });

  it('a reload: a port on another device moves its oif, a port removed takes its oif and its share of the upstream union', () => {
    const c = new McCore();
    const S2 = family === 4 ? '192.0.2.11' : '2001:db8::11';
    c.join('lan1', family, [[RT.ALLOW, G, [S]]], at(0));
    c.join('lan2', family, [[RT.ALLOW, G, [S, S2]]], at(0));
    c.runUntil(at(5000));
    expect(c.mroutes().sort()).toEqual([`${S},${G} eth0>eth1+eth2`, `${S2},${G} eth0>eth2`]);
    const cfg = multicastConfig();
    const moved = { ...cfg, subscribers: cfg.subscribers.map((x) => (x.name === 'lan1' ? { ...x, device: 'eth9' } : x)) };
    let out = c.agent.handle({ kind: 'config', config: moved }, at(6000));
    expect(mr(out, 'replace')).toEqual([`${S},${G} eth0>eth2+eth9`]);
    const removed = { ...moved, subscribers: moved.subscribers.filter((x) => x.name !== 'lan2') };
    out = c.agent.handle({ kind: 'config', config: removed }, at(7000));
    out.push(...c.runUntil(at(10_000)));
    expect(mr(out, 'replace')).toEqual([`${S},${G} eth0>eth9`]);
    expect(mr(out, 'remove')).toEqual([`${S2},${G} eth0>eth2`]);
    expect(upReports(out)).toEqual([`BLOCK(${G}: ${S2})`, `BLOCK(${G}: ${S2})`]);
    expect(c.mroutes()).toEqual([`${S},${G} eth0>eth9`]);
  });

  it('an excluded source leaves the upstream EXCLUDE list when one of the ports stops excluding it, with no count reaching 0', () => {
    const A = family === 4 ? '239.1.1.1' : 'ff0e::1:1';
    const c = new McCore("\toption asm_policy 'allow'\n");
    // INCLUDE {} + IS_EX {S}: EXCLUDE ({}, {S}) on both ports (RFC 3376 §6.4.1): S is in every Y, so excluded upstream.
    expect(upReports(c.join('lan1', family, [[RT.IS_EX, A, [S]]], at(0)))).toEqual([`TO_EX(${A}: ${S})`]);
    expect(upReports(c.join('lan2', family, [[RT.IS_EX, A, [S]]], at(0)))).toEqual([]);
    c.runUntil(at(5000));
    // lan2: EXCLUDE + IS_EX {}: Delete (Y-A), so S is in lan1's Y only: the union no longer excludes it (RFC 3376 §3.2).
    expect(upReports(c.join('lan2', family, [[RT.IS_EX, A, []]], at(6000)))).toEqual([`ALLOW(${A}: ${S})`]);
  });
});

describe('a report costs its own port, not the ports that hold its group', () => {
  it('with 1,000 ports holding the group, a join, a leave and the next deadline read no other port\'s state', () => {
    const { agent, multicast: mc } = bigCore();
    const G = '232.1.1.1';
    const src = ['192.0.2.1', '192.0.2.2'];
    const t = addMs(T0, 1);
    for (let p = 0; p < PORTS; p++) agent.handle({ kind: 'multicast', family: 4, port: `p${p}`, upstream: false, mac: new Uint8Array(6), bytes: report(4, [[RT.ALLOW, G, src]], `10.9.${p >> 8}.${p & 0xff}`) }, t);
    for (let d = agent.nextDeadline(); d !== null && d <= t; d = agent.nextDeadline()) agent.poll(d);
    expect(new Set([...mc.desiredMroutes()].map((m) => m.oifs.length))).toEqual(new Set([PORTS]));
    // Count every look at the other ports' routers: their group tables and their deadlines.
    let looks = 0;
    const ports = (mc as unknown as { ports: Map<string, { routers: Record<4 | 6, RouterPort> }> }).ports;
    for (const [name, p] of ports) {
      if (name === 'p8') continue;
      for (const r of [p.routers[4], p.routers[6]]) {
        const m = r.groups;
        for (const f of ['get', 'has', 'keys', 'values', 'entries', 'forEach'] as const) {
          const orig = (m[f] as (...a: unknown[]) => unknown).bind(m);
          Object.defineProperty(m, f, { value: (...a: unknown[]) => { looks++; return orig(...a); } });
        }
        Object.defineProperty(m, Symbol.iterator, { value: () => { looks++; return Map.prototype[Symbol.iterator].call(m); } });
        Object.defineProperty(r, 'nextDeadline', { value: () => { looks++; return RouterPort.prototype.nextDeadline.call(r); } });
        Object.defineProperty(r, 'expire', { value: (now: Instant) => { looks++; return RouterPort.prototype.expire.call(r, now); } });
      }
    }
    const at2 = addMs(t, 1000);
    const send = (type: number, ss: string[], now: Instant) =>
      agent.handle({ kind: 'multicast', family: 4, port: 'p8', upstream: false, mac: new Uint8Array(6), bytes: report(4, [[type, G, ss]], '10.9.0.8') }, now);
    let out = send(RT.ALLOW, ['192.0.2.3'], at2);
    expect(mr(out, 'add')).toEqual([`192.0.2.3,${G} eth0>${deviceOf(8)}`]);
    agent.nextDeadline();
    out = send(RT.BLOCK, src, at2);
    // p8 is querier: its sources go at LMQT (its group-and-source queries first): the entries lose only p7's device.
    for (let d = agent.nextDeadline(); d !== null && d <= addMs(at2, 5000); d = agent.nextDeadline()) out.push(...agent.poll(d));
    expect(mr(out, 'replace').length).toBe(2);
    expect([...mc.desiredMroutes()].filter((m) => m.oifs.length === PORTS - 1).length).toBe(2);
    expect(looks).toBe(0);
  });
});

// ---- property: 1,000 ports, random reports and time, against a recomputation ---------

const PORTS = 1000;
/** Device names that do not sort like the port numbers: the oif list is sorted by device name. */
const deviceOf = (p: number) => `v${(p * 7919) % PORTS}`;
const GROUPS = {
  4: { ssm: ['232.1.1.1', '232.1.1.2', '232.1.1.3'], asm: ['239.1.1.1', '239.1.1.2'], sources: ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'] },
  6: { ssm: ['ff3e::8000:1', 'ff3e::8000:2'], asm: ['ff0e::1:1', 'ff0e::1:2'], sources: ['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '2001:db8::5'] },
} as const;

function bigCore() {
  let text = `
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
config leasequery
	option bulk '0'
config multicast
	option enabled '1'
	option upstream 'wan'
	option asm_policy 'allow'
	option max_sources '4'
	option report_rate_limit '100000'
`;
  for (let p = 0; p < PORTS; p++) {
    text += `config subscriber 'p${p}'\n\toption device '${deviceOf(p)}'\n\toption upstream 'wan'\n\toption relay_v4 '0'\n\toption relay_v6 '0'\n`;
    // Half the ports have an address (querier: they send group-and-source queries), half defer.
    if (p % 2 === 0) text += `\toption giaddr '10.${p >> 8}.${p & 0xff}.1'\n`;
  }
  const r = loadConfig(text, 'index-property');
  if (!r.ok) throw new Error(r.problems.map(formatProblem).join('\n'));
  const core = createCore(T0, { random32: () => 0 });
  core.agent.handle({ kind: 'config', config: r.config }, T0);
  return core;
}

interface Row { port: string; family: number; group: string; filterMode: string; sources: { source: string; timerMs: number | null; forwarding: boolean }[] }

/** Every port's forwarding entries and the upstream union, recomputed from the per-port tables alone. */
function recompute(rows: Row[], learnt: Map<string, Set<string>>, ssm: (g: string) => boolean) {
  const byGroup = new Map<string, Row[]>();
  for (const r of rows) {
    const k = `${r.family} ${r.group}`;
    byGroup.set(k, [...(byGroup.get(k) ?? []), r]);
  }
  const entries: string[] = [];
  const upstream: string[] = [];
  for (const [k, rs] of byGroup) {
    const [, group] = k.split(' ') as [string, string];
    const family = rs[0]!.family;
    // RFC 3376 §6.3: candidates are the sources with a timer on some port, and the learnt ones.
    const candidates = new Set<string>();
    for (const r of rs) for (const s of r.sources) if (s.timerMs !== null) candidates.add(s.source);
    for (const s of learnt.get(k) ?? []) candidates.add(s);
    for (const s of candidates) {
      const oifs = new Set<string>();
      for (const r of rs) {
        const st = r.sources.find((x) => x.source === s);
        const fwd = r.filterMode === 'include' ? st?.forwarding === true : st === undefined || st.forwarding;
        if (fwd) oifs.add(deviceOf(Number(r.port.slice(1))));
      }
      if (oifs.size > 0) entries.push(`${s},${group} eth0>${[...oifs].sort().join('+')}`);
    }
    // RFC 3376 §3.2 merge: EXCLUDE if any port excludes (the intersection of the Y lists minus what anyone wants).
    const wanted = new Set<string>();
    for (const r of rs) for (const s of r.sources) if (s.timerMs !== null && s.timerMs > 0) wanted.add(s.source);
    const excl = rs.filter((r) => r.filterMode === 'exclude');
    if (excl.length === 0) {
      if (wanted.size > 0) upstream.push(`IS_IN(${group}: ${[...wanted].sort().join(',')})`);
      continue;
    }
    const stopped = (r: Row, s: string) => r.sources.some((x) => x.source === s && (x.timerMs === null || x.timerMs === 0));
    const y = excl[0]!.sources.map((x) => x.source).filter((s) => excl.every((r) => stopped(r, s)) && !wanted.has(s));
    // RFC 4604 §2.2.2: never EXCLUDE upstream for an SSM group.
    if (!ssm(group)) upstream.push(`IS_EX(${group}: ${y.sort().join(',')})`);
  }
  return { entries: entries.sort(), upstream: upstream.sort() };
}

const sortRecord = (r: string) => r.replace(/: (.*)\)$/, (_, ss: string) => `: ${ss.split(',').filter(Boolean).sort().join(',')})`);

describe('index of ports per group: 1,000 ports, random joins and leaves, against a brute-force recomputation', () => {
  it('upstream membership and forwarding entries (the live deltas and desired()) agree every 5 steps and at the end', () => {
    const rnd = prng(0x9e3779b9);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const { agent, multicast: mc } = bigCore();
    const kernel = new Map<string, string>();
    const learnt = new Map<string, Set<string>>();
    /** The test's own record of learnt sources follows the module's rule: kept while some port excludes the group. */
    const forget = () => {
      if (learnt.size === 0) return;
      const rows = (agent.query('groups', now) as { groups: Row[] }).groups;
      for (const k of [...learnt.keys()]) {
        const [f, g] = k.split(' ');
        if (!rows.some((r) => `${r.family}` === f && r.group === g && r.filterMode === 'exclude')) learnt.delete(k);
      }
    };
    const apply = (as: readonly Action[]) => {
      forget();
      for (const a of as) {
        if (a.kind !== 'kernel') continue;
        const d = a.delta.mroutes;
        for (const e of d.remove) { const k = fmt(e).split(' ')[0]!; expect(kernel.has(k)).toBe(true); kernel.delete(k); }
        for (const e of d.add) { const k = fmt(e).split(' ')[0]!; expect(kernel.has(k)).toBe(false); kernel.set(k, fmt(e)); }
        for (const e of d.replace) { const k = fmt(e).split(' ')[0]!; expect(kernel.has(k)).toBe(true); kernel.set(k, fmt(e)); }
      }
    };
    let now: Instant = T0;
    /** The daemon's timer: every deadline up to `t` is polled before the next event. */
    const advance = (t: Instant) => {
      for (let d = agent.nextDeadline(); d !== null && d <= t; d = agent.nextDeadline()) { now = d; apply(agent.poll(d)); }
      now = t;
    };
    advance(addMs(T0, 1));
    const ssm = (g: string) => g.startsWith('232.') || g.startsWith('ff3');
    let checks = 0;
    let sawExclude = false;
    let sawShared = false;
    const check = () => {
      const rows = (agent.query('groups', now) as { groups: Row[] }).groups;
      const want = recompute(rows, learnt, ssm);
      sawExclude ||= rows.some((r) => r.filterMode === 'exclude');
      sawShared ||= want.entries.some((e) => e.includes('+'));
      expect([...kernel.values()].sort()).toEqual(want.entries);
      expect([...mc.desiredMroutes()].map(fmt).sort()).toEqual(want.entries);
      // The upstream's view: a general query from the upstream router, answered at once (random 0).
      const answers: string[] = [];
      for (const f of [4, 6] as const) {
        apply(agent.handle({ kind: 'multicast', family: f, port: 'wan', upstream: true, mac: new Uint8Array(6), bytes: query(f, f === 4 ? '192.0.2.254' : 'fe80::fe') }, now));
      }
      for (let d = agent.nextDeadline(); d !== null && d <= now; d = agent.nextDeadline()) {
        const out = agent.poll(d);
        apply(out);
        answers.push(...upReports(out).filter((r) => r.startsWith('IS_')));
      }
      expect(answers.map(sortRecord).sort()).toEqual(want.upstream);
      checks++;
    };
    for (let step = 0; step < 2000; step++) {
      const family = rnd() < 0.5 ? 4 : 6;
      const set = GROUPS[family];
      // Half the reports from 20 busy ports, so the same ports meet in the same groups (both
      // excluding, overlapping Y lists), half from any of the 1,000.
      const p = rnd() < 0.5 ? Math.floor(rnd() * 20) * 50 : Math.floor(rnd() * PORTS);
      const port = `p${p}`;
      const isAsm = rnd() < 0.4;
      const G = pick(isAsm ? set.asm : set.ssm);
      const sources = set.sources.slice(0, isAsm ? 3 : 5).filter(() => rnd() < 0.4);
      const r = rnd();
      const send = (bytes: Uint8Array) => apply(agent.handle({ kind: 'multicast', family, port, upstream: false, mac: new Uint8Array(6), bytes }, now));
      if (r < 0.72) {
        // Any record type: the §6.4 tables, and RFC 4604 §3.1's EXCLUDE rules for SSM groups.
        const type = pick([RT.ALLOW, RT.ALLOW, RT.IS_IN, RT.TO_IN, RT.BLOCK, RT.BLOCK, RT.TO_EX, RT.IS_EX]);
        send(report(family, [[type, G, sources]], family === 4 ? `10.9.${p >> 8}.${p & 0xff}` : `fe80::9:${p.toString(16)}`));
      } else if (r < 0.77) {
        send(rnd() < 0.5 ? oldReport(family, 2, pick(set.asm)) : leave(family, pick(set.asm)));
      } else if (r < 0.85) {
        // The kernel saw traffic of an any-source group (NOCACHE): learnt while some port excludes it.
        const g = pick(set.asm);
        const s = pick(set.sources);
        const k = `${family} ${g}`;
        const rows = (agent.query('groups', now) as { groups: Row[] }).groups;
        const excluding = rows.some((x) => x.family === family && x.group === g && x.filterMode === 'exclude');
        const have = learnt.get(k) ?? new Set<string>();
        // The module's bound (max_sources 4; max_groups 64 is out of reach here).
        if (excluding && (have.has(s) || have.size < 4)) { have.add(s); learnt.set(k, have); }
        apply(agent.handle({ kind: 'mroute-miss', family, reason: 'nocache', upstream: true, port: 'wan', source: ip(s), group: ip(g) }, now));
      } else {
        // Time passes: the timers of every port run (GMI 260 s, LMQT 2 s, query retransmissions).
        advance(addMs(now, Math.floor(rnd() * 40_000)));
        continue;
      }
      if (step % 5 === 0) check();
      advance(addMs(now, Math.floor(rnd() * 50)));
    }
    advance(addMs(now, 300_000));
    check();
    expect(kernel.size).toBe(0);
    expect(checks).toBeGreaterThan(100);
    expect(sawExclude).toBe(true);
    expect(sawShared).toBe(true);
  }, 120_000);
});
