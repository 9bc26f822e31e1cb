/**
 * The upstream proxy host (RFC 4605 §4, RFC 4604 §2): the union of the subscriber
 * ports' subscriptions as IGMPv3 / MLDv2 state-change reports (RFC 3376 §5.1), answers
 * to general, group and group-and-source queries (RFC 3376 §5.2) never suppressed by
 * other hosts' reports, never EXCLUDE for an SSM group, and older queries logged.
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, query, report, sent, upReports } from './kit';

const ALLOW_ASM = '\toption asm_policy \'allow\'\n';
const FAMILIES = [
  { family: 4 as const, G: '232.1.1.1', A: '239.1.1.1', S1: '192.0.2.1', S2: '192.0.2.2', router: '192.0.2.254', dst: '224.0.0.22' },
  { family: 6 as const, G: 'ff3e::8000:1', A: 'ff0e::1:1', S1: '2001:db8::1', S2: '2001:db8::2', router: 'fe80::fe', dst: 'ff02::16' },
];
const upQuery = (c: McCore, family: 4 | 6, q: Uint8Array, t: number) => c.packet('wan', family, q, at(t), true);

describe.each(FAMILIES)('upstream proxy (family $family)', ({ family, G, A, S1, S2, router, dst }) => {
  it('state changes go up as ALLOW / BLOCK, RV times, to the all-v3-routers address from the unspecified source', () => {
    const c = new McCore();
    const out = c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(0));
    const s = sent(out).filter((x) => x.up);
    expect(s).toMatchObject([{ port: 'wan', dst, r: [`ALLOW(${G}: ${S1})`] }]);
    expect(upReports(c.runUntil(at(1000)))).toEqual([`ALLOW(${G}: ${S1})`]);
    expect(upReports(c.runUntil(at(5000)))).toEqual([]);
  });

  it('a change goes up alone: other groups\' retransmissions keep their own schedule (RFC 3376 §5.1)', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(0));
    const other = family === 4 ? '232.9.9.9' : 'ff3e::9';
    expect(upReports(c.join('lan1', family, [[RT.ALLOW, other, [S2]]], at(0)))).toEqual([`ALLOW(${other}: ${S2})`]);
    expect(upReports(c.runUntil(at(1000)))).toEqual([`ALLOW(${G}: ${S1})`, `ALLOW(${other}: ${S2})`]);
  });

  it('the union of the ports: a source leaves the upstream only when no port wants it', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(0));
    c.join('lan2', family, [[RT.ALLOW, G, [S1, S2]]], at(0));
    c.runUntil(at(10));
    c.join('lan2', family, [[RT.BLOCK, G, [S1, S2]]], at(1000));
    expect(upReports(c.runUntil(at(3000)))).toEqual([`BLOCK(${G}: ${S2})`, `BLOCK(${G}: ${S2})`]);
  });

  it('§5.2: a general query is answered with current-state records, a group-and-source query with IS_IN(A*Q)', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.ALLOW, G, [S1, S2]]], at(0));
    c.runUntil(at(10));
    upQuery(c, family, query(family, router), 100);
    expect(upReports(c.runUntil(at(200)))).toEqual([`IS_IN(${G}: ${S1},${S2})`]);
    upQuery(c, family, query(family, router, { group: G, sources: [S2, family === 4 ? '192.0.2.9' : '2001:db8::9'] }), 300);
    expect(upReports(c.runUntil(at(400)))).toEqual([`IS_IN(${G}: ${S2})`]);
  });

  it('another host\'s report on the upstream never suppresses ours (RFC 4604 §2.2.1)', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(0));
    c.runUntil(at(10));
    upQuery(c, family, query(family, router), 100);
    c.packet('wan', family, report(family, [[RT.IS_IN, G, [S1]]], family === 4 ? '192.0.2.77' : 'fe80::77'), at(100), true);
    expect(upReports(c.runUntil(at(200)))).toEqual([`IS_IN(${G}: ${S1})`]);
  });

  it('never EXCLUDE for an SSM group; an any-source group under asm_policy allow goes up as TO_EX / IS_EX', () => {
    const c = new McCore(ALLOW_ASM);
    const out = c.join('lan1', family, [[RT.TO_EX, G, []], [RT.TO_EX, A, [S1]]], at(0));
    expect(upReports([...out, ...c.runUntil(at(10))])).toEqual([`TO_EX(${A}: ${S1})`, `TO_EX(${A}: ${S1})`]);
    upQuery(c, family, query(family, router), 100);
    expect(upReports(c.runUntil(at(200)))).toEqual([`IS_EX(${A}: ${S1})`]);
  });

  it('IGMPv1/v2 / MLDv1 queries on the upstream are counted; one for an SSM group is logged as an error (RFC 4604 §2.2.3, §2.2.5)', () => {
    const c = new McCore();
    const out = upQuery(c, family, query(family, router, { level: 2, group: G }), 0);
    expect(out.filter((a) => a.kind === 'log').map((a) => (a as { level: string }).level)).toEqual(['error']);
    const proxy = ((c.agent.status(at(0))['modules'] as Record<string, { proxy: Record<string, Record<string, number>> }>)['multicast']!.proxy)[family === 4 ? 'IGMP' : 'MLD']!;
    expect(proxy).toMatchObject({ olderQueries: 1, olderQueriesSsm: 1 });
  });
});
