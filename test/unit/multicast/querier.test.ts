/**
 * Querier election (RFC 3376 §6.6.2, RFC 3810 §7.6.2), timers lowered by another
 * querier's specific queries (§6.6.1), QRV / QQI adopted from the querier (§4.1.6,
 * §4.1.7), and the bounds and hostile input every table and decoder must survive
 * (CONVENTIONS 10).
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, igmp, ip, query, queries, report, sent } from './kit';

const FAMILIES = [
  { family: 4 as const, G: '232.1.1.1', S1: '192.0.2.1', S2: '192.0.2.2', lower: '198.51.100.0', higher: '198.51.100.200', own: null },
  { family: 6 as const, G: 'ff3e::8000:1', S1: '2001:db8::1', S2: '2001:db8::2', lower: 'fe80::1', higher: 'fe80::ff', own: 'fe80::5' },
];
const status = (c: McCore, family: 4 | 6, port = 'lan1') =>
  ((c.agent.status(at(0))['modules'] as Record<string, { ports: Record<string, Record<string, Record<string, unknown>>> }>)['multicast']!.ports[port]![family === 4 ? 'IGMP' : 'MLD']!);

describe.each(FAMILIES)('querier election and bounds (family $family)', ({ family, G, S1, S2, lower, higher, own }) => {
  const core = (extra = '') => {
    const c = new McCore(extra);
    if (own) c.agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: ip(own) }, at(0));
    return c;
  };

  it('a query from a lower address makes us non-querier for OQPI; then we query again at once', () => {
    const c = core();
    c.runUntil(at(1));
    c.packet('lan1', family, query(family, higher), at(1000));
    expect(status(c, family)['querier']).toBe(true);
    c.packet('lan1', family, query(family, lower), at(1000));
    expect(status(c, family)).toMatchObject({ querier: false, otherQuerier: lower });
    // Non-querier: no general queries, and a BLOCK sends nothing (only the querier sends Q(G,X)).
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(2000));
    expect(queries(c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(3000)), 'lan1')).toEqual([]);
    // OQPI = RV·QI + QRI/2 = 255 s after the last query from the other querier.
    const out = c.runUntil(at(1000 + 255_000));
    expect(sent(out).filter((s) => 'q' in s && s.port === 'lan1' && s.group === null && s.dst === (family === 4 ? '224.0.0.1' : 'ff02::1'))).toHaveLength(1);
    expect(status(c, family)['querier']).toBe(true);
  });

  it('§6.6.1: the querier\'s group-and-source query with S clear lowers our source timers to LMQT; with S set it does not', () => {
    const c = core();
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.packet('lan1', family, query(family, lower, { group: G, sources: [S1], suppress: true }), at(1000));
    expect(c.state('lan1', family, G, at(1000))).toBe(`INCLUDE {${S1}:259000 ${S2}:259000}`);
    c.packet('lan1', family, query(family, lower, { group: G, sources: [S1] }), at(1000));
    expect(c.state('lan1', family, G, at(1000))).toBe(`INCLUDE {${S1}:2000 ${S2}:259000}`);
  });

  it('§4.1.6 / §4.1.7: a non-querier adopts the querier\'s QRV and QQI for its timers', () => {
    const c = core();
    c.packet('lan1', family, query(family, lower, { qrv: 3, qqi: 60 }), at(0));
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(0));
    // GMI = 3·60 s + 10 s.
    expect(c.state('lan1', family, G, at(0))).toBe(`INCLUDE {${S1}:190000}`);
  });

  it('max_groups and max_sources bound the tables; the excess is counted', () => {
    const c = core("\toption max_groups '2'\n\toption max_sources '2'\n");
    const gs = family === 4 ? ['232.0.0.1', '232.0.0.2', '232.0.0.3'] : ['ff3e::1', 'ff3e::2', 'ff3e::3'];
    c.join('lan1', family, gs.map((g) => [RT.ALLOW, g, [S1]] as [number, string, string[]]), at(0));
    c.join('lan1', family, [[RT.ALLOW, gs[0]!, [S1, S2, family === 4 ? '192.0.2.3' : '2001:db8::3']]], at(0));
    expect(c.groups(at(0)).filter((g) => g.family === family).map((g) => g.sources.length)).toEqual([2, 1]);
    expect(status(c, family)['counters']).toMatchObject({ groupLimit: 1, sourceLimit: 1 });
  });

  it('the report rate limit drops the excess and counts it', () => {
    const c = core("\toption report_rate_limit '3'\n");
    for (let i = 0; i < 5; i++) c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(0));
    expect(status(c, family)['counters']).toMatchObject({ dropped: { 'rate-limit': 2 }, received: { reports: 3 } });
  });

  it('hostile input is a counted drop: truncations, bad checksums, TTL / Hop Limit other than 1', () => {
    const c = core();
    const good = report(family, [[RT.ALLOW, G, [S1]]]);
    for (let n = 0; n < good.length; n++) expect(() => c.packet('lan1', family, good.slice(0, n), at(0))).not.toThrow();
    const flipped = good.slice();
    flipped[flipped.length - 1]! ^= 0xff;
    c.packet('lan1', family, flipped, at(0));
    const ttl = good.slice();
    if (family === 4) { ttl[8] = 2; } else { ttl[7] = 255; }
    c.packet('lan1', family, family === 4 ? igmp({ kind: 'report2', maxRespCode: 0, group: ip('239.1.1.1') }, undefined, '239.1.1.1', 2) : ttl, at(0));
    const m = (c.agent.status(at(0))['modules'] as Record<string, { counters: { dropped: Record<string, number> } }>)['multicast']!.counters.dropped;
    expect(m['malformed']).toBe(good.length + 1);
    expect(m['hop-limit']).toBe(1);
    expect(c.groups(at(0))).toEqual([]);
  });
});
