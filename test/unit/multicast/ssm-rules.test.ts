/**
 * The SSM rules of RFC 4604 §3 for both families, the SSM range (RFC 4607 §1, RFC
 * 4604 §2: configurable, defaulting to 232/8 and FF3x::/96 for every scope), `asm_policy`,
 * and older-version host compatibility (RFC 3376 §7.3.2, RFC 3810 §8.3.2) that only
 * groups outside the range ever enter.
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, leave, logs, oldReport, queries } from './kit';

const ALLOW_ASM = '\toption asm_policy \'allow\'\n';
const FAMILIES = [
  { family: 4 as const, G: '232.1.1.1', A: '239.1.1.1', S1: '192.0.2.1', S2: '192.0.2.2', name: 'IGMP', old: 'IGMPv2', oldest: 'IGMPv1' },
  { family: 6 as const, G: 'ff3e::8000:1', A: 'ff0e::1:1', S1: '2001:db8::1', S2: '2001:db8::2', name: 'MLD', old: 'MLDv1', oldest: null },
];
const counters = (c: McCore, family: 4 | 6, port = 'lan1') =>
  ((c.agent.status(at(0))['modules'] as Record<string, { ports: Record<string, Record<string, Record<string, unknown>>> }>)['multicast']!.ports[port]![family === 4 ? 'IGMP' : 'MLD']!['counters']) as Record<string, unknown>;

describe.each(FAMILIES)('RFC 4604 §3 SSM rules (family $family)', ({ family, G, A, S1, S2, old }) => {
  it('§3.1: MODE_IS_EXCLUDE and CHANGE_TO_EXCLUDE_MODE for an SSM group are ignored, the report\'s other records processed', () => {
    const c = new McCore();
    const out = c.join('lan1', family, [[RT.IS_EX, G, []], [RT.ALLOW, G, [S1]], [RT.TO_EX, G, [S2]]], at(0));
    expect(c.state('lan1', family, G, at(0))).toBe(`INCLUDE {${S1}:260000}`);
    expect(counters(c, family)['ssmExcludeIgnored']).toBe(2);
    expect(logs(out).filter((l) => l.includes('RFC 4604 §3.1'))).toHaveLength(2);
    // The log lines share one key per port, so the platform rate-limits them.
    const keys = new Set(out.filter((a) => a.kind === 'log' && a.message.includes('§3.1')).map((a) => (a as { key?: string }).key));
    expect(keys.size).toBe(1);
  });

  it('§3.1: CHANGE_TO_INCLUDE_MODE is processed normally (Send Q(G,A-B))', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    const out = c.join('lan1', family, [[RT.TO_IN, G, [S2]]], at(1000));
    expect(queries(out, 'lan1').filter((q) => !q.startsWith('GQ'))).toEqual([`Q(${G}; ${S1})`]);
    expect(c.state('lan1', family, G, at(1000))).toBe(`INCLUDE {${S1}:2000 ${S2}:260000}`);
  });

  it(`§3.5: ${old} reports for an SSM group make no state and no compatibility mode; §3.7: Leave / Done ignored`, () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(0));
    const out = [...c.packet('lan1', family, oldReport(family, 2, G), at(1000)), ...c.packet('lan1', family, leave(family, G), at(1000))];
    const row = c.groups(at(1000)).find((g) => g.group === G)!;
    expect(row).toMatchObject({ compatibility: family === 4 ? 'IGMPv3' : 'MLDv2', ssm: true, filterMode: 'include' });
    expect(c.mroutes()).toEqual([`${S1},${G} eth0>eth1`]);
    expect(queries(out)).toEqual([]);
    expect(counters(c, family)).toMatchObject({ ssmOldReportIgnored: 1, ssmLeaveIgnored: 1 });
    expect(logs(out)).toHaveLength(2);
    if (family === 4) {
      c.packet('lan1', 4, oldReport(4, 1, G), at(1000));
      expect(counters(c, 4)['ssmOldReportIgnored']).toBe(2);
    }
    // A later BLOCK is still honoured (no IGMPv2 compatibility mode, which would ignore it).
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(2000)))).toEqual([`Q(${G}; ${S1})`]);
  });

  it('§3.6: losing the querier election to an older-version router is logged as an error', () => {
    const c = new McCore();
    const lower = family === 4 ? '198.51.100.0' : 'fe80::1';
    c.agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: family === 6 ? ipOf('fe80::5') : null }, at(0));
    const out = c.packet('lan1', family, queryOf(family, lower, 2), at(1000));
    expect(out.filter((a) => a.kind === 'log' && a.level === 'error').map((a) => (a as { message: string }).message))
      .toEqual([
        `older-version querier present: any-source groups in ${family === 4 ? 'IGMPv2' : 'MLDv1'} compatibility mode (RFC 3376 §7.3.1); SSM groups cannot be served in it and stay ${family === 4 ? 'IGMPv3' : 'MLDv2'} (RFC 4604 §3.6)`,
        'lost the querier election to an older-version router',
      ]);
    expect(counters(c, family)).toMatchObject({ querierLost: 1, olderQuerier: 1, olderQuerierMode: 1 });
  });

  it('the SSM range is configurable; FF3x::/96 stays SSM for every scope', () => {
    const c = new McCore(family === 4 ? "\tlist ssm_range4 '239.1.0.0/16'\n" : "\tlist ssm_range6 'ff0e::1:0/112'\n");
    c.join('lan1', family, [[RT.ALLOW, A, [S1]], [RT.ALLOW, G, [S1]]], at(0));
    // A is now SSM; for IPv4 232/8 is no longer (the list replaces the default) and is dropped by asm_policy drop.
    expect(c.groups(at(0)).filter((g) => g.family === family).map((g) => `${g.group} ${g.ssm}`).sort())
      .toEqual(family === 4 ? [`${A} true`] : [`${A} true`, `${G} true`].sort());
    if (family === 6) {
      const d = new McCore();
      d.join('lan1', 6, [[RT.ALLOW, 'ff35::1', [S1]], [RT.ALLOW, 'ff38::abcd', [S1]], [RT.ALLOW, 'ff3e::1:0:0:1', [S1]]], at(0));
      expect(d.groups(at(0)).map((g) => g.group).sort()).toEqual(['ff35::1', 'ff38::abcd']);
      expect(counters(d, 6)['asmDropped']).toBe(1);
    }
  });

  it('asm_policy drop (the default) ignores every any-source report and counts it', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_EX, A, []]], at(0));
    c.packet('lan1', family, oldReport(family, 2, A), at(0));
    expect(c.groups(at(0))).toEqual([]);
    expect(counters(c, family)['asmDropped']).toBe(2);
  });

  it(`older-version hosts (${old}) put an any-source group in compatibility mode: BLOCK and TO_EX sources ignored, group queries in the old format`, () => {
    const c = new McCore(ALLOW_ASM);
    c.packet('lan1', family, oldReport(family, 2, A), at(0));
    const g = c.groups(at(0)).find((r) => r.group === A)!;
    expect(g).toMatchObject({ compatibility: old, filterMode: 'exclude', ssm: false });
    c.join('lan1', family, [[RT.BLOCK, A, [S1]], [RT.TO_EX, A, [S2]]], at(1000));
    expect(c.state('lan1', family, A, at(1000))).toBe('EXCLUDE {} {} GT=260000');
    expect(counters(c, family)['compatIgnored']).toBe(2);
    const out = c.packet('lan1', family, leave(family, A), at(2000));
    expect(queries(out, 'lan1').filter((q) => !q.startsWith('GQ'))).toEqual([`Q(${A}) v2`]);
    // RFC 3376 §8.13: the Older Host Present timer runs out after 260 s; v3 again.
    c.join('lan1', family, [[RT.IS_EX, A, []]], at(3000));
    c.runUntil(at(260_000));
    expect(c.groups(at(260_000)).find((r) => r.group === A)).toMatchObject({ compatibility: family === 4 ? 'IGMPv3' : 'MLDv2' });
  });

  if (family === 4) {
    it('IGMPv1 hosts present: an IGMPv2 Leave is ignored', () => {
      const c = new McCore(ALLOW_ASM);
      c.packet('lan1', 4, oldReport(4, 1, A), at(0));
      expect(queries(c.packet('lan1', 4, leave(4, A), at(1000)))).toEqual([]);
      expect(c.groups(at(1000)).find((r) => r.group === A)).toMatchObject({ compatibility: 'IGMPv1' });
    });
  }
});

import { query } from './kit';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';
const ipOf = (t: string) => (t.includes(':') ? parseIPv6(t)! : parseIPv4(t)!);
const queryOf = (family: 4 | 6, from: string, level: 1 | 2 | 3) => query(family, from, { level });

describe('a reload that moves the SSM range', () => {
  it('forgets groups that changed sides, and any-source groups asm_policy drop now refuses', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', 4, [[RT.TO_EX, '239.1.1.1', []], [RT.ALLOW, '232.1.1.1', ['192.0.2.1']], [RT.ALLOW, '232.2.2.2', ['192.0.2.1']]], at(0));
    expect(c.groups(at(0)).map((g) => g.group).sort()).toEqual(['232.1.1.1', '232.2.2.2', '239.1.1.1']);
    c.agent.handle({ kind: 'config', config: multicastConfig("\tlist ssm_range4 '232.1.0.0/16'\n") }, at(1000));
    expect(c.groups(at(1000)).map((g) => `${g.group} ${g.ssm}`)).toEqual(['232.1.1.1 true']);
  });
});
import { multicastConfig } from './kit';
