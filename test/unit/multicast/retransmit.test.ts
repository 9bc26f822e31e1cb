/**
 * Specific-query retransmissions as scripts against time (RFC 3376 §6.6.3.1 /
 * §6.6.3.2, RFC 3810 §7.6.3): every source and the group-specific query keep their own
 * [Last Member Query Count] and their own LMQI cadence, so a later "Send Q(G,X)" sends
 * only its own sources and never resends the pending ones early. LMQI 1 s, LMQC 2.
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, queries } from './kit';

const ALLOW_ASM = '\toption asm_policy \'allow\'\n';
const FAMILIES = [
  { family: 4 as const, G: '239.1.1.1', S1: '192.0.2.1', S2: '192.0.2.2' },
  { family: 6 as const, G: 'ff0e::1:1', S1: '2001:db8::1', S2: '2001:db8::2' },
];

describe.each(FAMILIES)('specific-query retransmissions (family $family)', ({ family, G, S1, S2 }) => {
  it('§6.6.3.2: a source joining the query list later gets its own count; the pending one keeps its schedule', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.runUntil(at(1));
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(1000)), 'lan1')).toEqual([`Q(${G}; ${S1})`]);
    // S2 is asked about alone: S1's next query is still due at 2 s, not now.
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S2]]], at(1500)), 'lan1')).toEqual([`Q(${G}; ${S2})`]);
    expect(c.timeline(at(5000))).toEqual([`2000: Q(${G}; ${S1})`, `2500: Q(${G}; ${S2})`]);
    // Nobody answered: each source's timer ran out at its own LMQT.
    expect(c.state('lan1', family, G, at(5000))).toBe('none');
  });

  it('§6.6.3.1: the group-specific query has its own count, apart from the sources\' ones', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_EX, G, []], [RT.ALLOW, G, [S1]]], at(0));
    c.runUntil(at(1));
    // TO_IN (S2) in EXCLUDE (X = {S1}): Send Q(G,X-A), Send Q(G).
    expect(queries(c.join('lan1', family, [[RT.TO_IN, G, [S2]]], at(1000)), 'lan1')).toEqual([`Q(${G})`, `Q(${G}; ${S1})`]);
    // BLOCK (S2): Send Q(G,A-Y) = Q(G; S2), alone; the group query and S1 stay on their schedule.
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S2]]], at(1500)), 'lan1')).toEqual([`Q(${G}; ${S2})`]);
    expect(c.timeline(at(5000))).toEqual([`2000: Q(${G})`, `2000: Q(${G}; ${S1})`, `2500: Q(${G}; ${S2})`]);
  });

  it('§6.6.3.2: two messages when some sources need the S flag and others not', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.runUntil(at(1));
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S1, S2]]], at(1000)), 'lan1')).toEqual([`Q(${G}; ${S1},${S2})`]);
    // A host still wants S1: its timer is back to GMI, above LMQT.
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(1200));
    expect(c.timeline(at(5000))).toEqual([`2000: Q(${G}; ${S1}) S`, `2000: Q(${G}; ${S2})`]);
    expect(c.state('lan1', family, G, at(5000))).toBe(`INCLUDE {${S1}:256200}`);
  });
});
