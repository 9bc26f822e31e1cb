/**
 * Querier election without an address of our own (RFC 3376 §6.6.2, RFC 3810 §7.6.2):
 * a port with no `giaddr` (IGMP) or no link-local address yet (MLD) cannot take part in
 * the election; it defers — non-querier, listening, its tables kept from reports and the
 * querier's queries — until it has an address, and counts it.
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, ip, query, queries } from './kit';

const port = (c: McCore, family: 4 | 6, name: string, t: number) =>
  ((c.agent.status(at(t))['modules'] as Record<string, { ports: Record<string, Record<string, Record<string, unknown>>> }>)['multicast']!.ports[name]![family === 4 ? 'IGMP' : 'MLD']!);

describe('querier election without our own address', () => {
  it('IGMP without giaddr: no queries, and another router\'s query never loses to us', () => {
    const c = new McCore('', '', () => 0, false);
    // lan3 has no giaddr; lan1 has 198.51.100.1 and queries.
    expect(queries(c.startup, 'lan3').filter((q) => q.startsWith('GQ'))).toEqual([]);
    expect(port(c, 4, 'lan3', 0)).toMatchObject({ querier: false, counters: { querierDeferred: 1 } });
    expect(queries(c.startup, 'lan1').filter((q) => q.startsWith('GQ'))).toEqual(['GQ v3']);
    c.packet('lan3', 4, query(4, '198.51.100.200'), at(1000));
    expect(port(c, 4, 'lan3', 1000)).toMatchObject({ querier: false, otherQuerier: '198.51.100.200' });
    // It keeps listening: a report builds state, a BLOCK sends nothing (only the querier sends).
    c.join('lan3', 4, [[RT.IS_IN, '232.1.1.1', ['192.0.2.1']]], at(2000));
    expect(queries(c.join('lan3', 4, [[RT.BLOCK, '232.1.1.1', ['192.0.2.1']]], at(2000)), 'lan3')).toEqual([]);
    // The other querier goes away: still no address, still not querier, no query.
    expect(queries(c.runUntil(at(300_000)), 'lan3')).toEqual([]);
    expect(port(c, 4, 'lan3', 300_000)).toMatchObject({ querier: false });
  });

  it('MLD before the link-local is known: defers; with it, queries at once from it', () => {
    const c = new McCore('', '', () => 0, false);
    expect(queries(c.startup, 'lan1').filter((q) => q === 'GQ v3').length).toBe(1); // IGMP only
    expect(port(c, 6, 'lan1', 0)).toMatchObject({ querier: false, counters: { querierDeferred: 1 } });
    c.agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: ip('fe80::5') }, at(1000));
    const out = c.agent.poll(at(1000));
    expect(queries(out, 'lan1')).toEqual(['GQ v3']);
    expect(port(c, 6, 'lan1', 1000)).toMatchObject({ querier: true });
  });

  it('MLD: a querier heard while deferring keeps the role when our address comes if it is lower', () => {
    const c = new McCore('', '', () => 0, false);
    c.packet('lan1', 6, query(6, 'fe80::1'), at(500));
    c.agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: ip('fe80::5') }, at(1000));
    expect(queries(c.agent.poll(at(1000)), 'lan1')).toEqual([]);
    expect(port(c, 6, 'lan1', 1000)).toMatchObject({ querier: false, otherQuerier: 'fe80::1' });
  });
});

describe('the link-local told before the configuration', () => {
  it('a link event that comes before the port is configured is kept: MLD is querier from the start', async () => {
    const { createCore } = await import('../../../src/core');
    const { multicastConfig, T0 } = await import('./kit');
    const c = createCore(T0, { random32: () => 0 });
    c.agent.handle({ kind: 'link', port: 'lan1', up: true, mac: null, linkLocal: ip('fe80::5') }, T0);
    const out = c.agent.handle({ kind: 'config', config: multicastConfig() }, T0);
    expect(queries(out, 'lan1')).toContain('GQ v3');
    expect(queries(out, 'lan1').filter((q) => q === 'GQ v3')).toHaveLength(2); // IGMP and MLD
  });
});
