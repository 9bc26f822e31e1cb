/**
 * Older-version querier present (RFC 3376 §7.3.1, RFC 3810 §8.3.1): an IGMPv1/v2 /
 * MLDv1 query on the port puts the port's groups outside the SSM range into that
 * version's compatibility mode for the Older Version Querier Present Timeout (RV·QI +
 * QRI = 260 s); SSM groups never follow it (RFC 4604 §3.6: logged, counted).
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, leave, logs, query, queries } from './kit';

const ALLOW_ASM = '\toption asm_policy \'allow\'\n';
const FAMILIES = [
  { family: 4 as const, G: '239.1.1.1', SSM: '232.1.1.1', S1: '192.0.2.1', higher: '198.51.100.200', v1: true },
  { family: 6 as const, G: 'ff0e::1:1', SSM: 'ff3e::8000:1', S1: '2001:db8::1', higher: 'fe80::ff', v1: false },
];
const port = (c: McCore, family: 4 | 6, t: number) =>
  ((c.agent.status(at(t))['modules'] as Record<string, { ports: Record<string, Record<string, Record<string, unknown>>> }>)['multicast']!.ports['lan1']![family === 4 ? 'IGMP' : 'MLD']!);

describe.each(FAMILIES)('older-version querier present (family $family)', ({ family, G, SSM, S1, higher, v1 }) => {
  it('§7.3.1: the port follows the older querier for any-source groups only, until the timeout', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_EX, G, []], [RT.IS_IN, SSM, [S1]]], at(0));
    c.runUntil(at(1));
    // An older querier with a higher address: we stay querier, in its version.
    const out = c.packet('lan1', family, query(family, higher, { level: 2 }), at(1000));
    expect(logs(out).some((m) => m.includes('RFC 4604 §3.6'))).toBe(true);
    expect(port(c, family, 1000)).toMatchObject({ querier: true, compatibility: family === 4 ? 'IGMPv2' : 'MLDv1', counters: { olderQuerierMode: 1 } });
    expect(c.groups(at(1000)).map((g) => [g.group, g.compatibility])).toEqual([[G, family === 4 ? 'IGMPv2' : 'MLDv1'], [SSM, family === 4 ? 'IGMPv3' : 'MLDv2']]);
    // Any-source group: BLOCK ignored (§7.3.2 rules), the Leave / Done's group query in the older version.
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(2000)), 'lan1')).toEqual([]);
    expect(queries(c.packet('lan1', family, leave(family, G), at(2000)), 'lan1')).toEqual([`Q(${G}) v2`]);
    // SSM group: IGMPv3 / MLDv2 as before.
    expect(queries(c.join('lan1', family, [[RT.BLOCK, SSM, [S1]]], at(2000)), 'lan1')).toEqual([`Q(${SSM}; ${S1})`]);
    // Older Version Querier Present Timeout: 260 s after the last older query, back to v3.
    c.runUntil(at(261_000));
    expect(port(c, family, 261_000)).toMatchObject({ compatibility: family === 4 ? 'IGMPv3' : 'MLDv2' });
    c.join('lan1', family, [[RT.IS_EX, G, []]], at(261_000));
    expect(queries(c.packet('lan1', family, leave(family, G), at(261_000)), 'lan1')).toEqual([`Q(${G})`]);
  });

  // MLD has no version-1-style querier below MLDv1: this script exists for IGMP only.
  if (v1) it('§7.3.1: an IGMPv1 querier: IGMPv1 mode, Leave messages ignored', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_EX, G, []]], at(0));
    c.packet('lan1', family, query(family, higher, { level: 1 }), at(1000));
    expect(port(c, family, 1000)).toMatchObject({ compatibility: 'IGMPv1' });
    expect(queries(c.packet('lan1', family, leave(family, G), at(2000)), 'lan1')).toEqual([]);
    expect(port(c, family, 2000)).toMatchObject({ counters: { compatIgnored: 1 } });
  });
});
