/**
 * The module as the platform sees it: registered in the core, the `groups` control
 * query (JSON-safe rows), `status` counters, forwarding entries for both families, and
 * what it does when the section is off.
 */
import { describe, expect, it } from 'vitest';
import { isControlQuery } from '../../../src/module';
import { createCore } from '../../../src/core';
import { McCore, RT, T0, at, multicastConfig, query, report, upReports } from './kit';

describe('multicast module', () => {
  it('answers `groups` over the control socket with JSON-safe rows', () => {
    expect(isControlQuery('groups')).toBe(true);
    const c = new McCore("\toption asm_policy 'allow'\n");
    c.join('lan1', 4, [[RT.ALLOW, '232.1.1.1', ['192.0.2.1']]], at(0));
    c.packet('lan2', 6, report(6, [[RT.TO_EX, 'ff0e::1:1', ['2001:db8::9']]]), at(0));
    const rows = c.groups(at(1000));
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
    expect(rows).toEqual([
      { port: 'lan1', family: 4, group: '232.1.1.1', filterMode: 'include', ssm: true, compatibility: 'IGMPv3', groupTimerMs: null,
        sources: [{ source: '192.0.2.1', timerMs: 259_000, forwarding: true }] },
      { port: 'lan2', family: 6, group: 'ff0e::1:1', filterMode: 'exclude', ssm: false, compatibility: 'MLDv2', groupTimerMs: 259_000,
        sources: [{ source: '2001:db8::9', timerMs: null, forwarding: false }] },
    ]);
    const st = c.agent.status(at(1000))['modules'] as Record<string, Record<string, unknown>>;
    expect(st['multicast']).toMatchObject({ enabled: true, upstream: 'wan', ports: { lan1: { IGMP: { querier: true, groups: 1 } } } });
  });

  it('forwarding entries for both families from the upstream device', () => {
    const c = new McCore();
    c.join('lan1', 4, [[RT.ALLOW, '232.1.1.1', ['192.0.2.1']]], at(0));
    c.join('lan2', 6, [[RT.ALLOW, 'ff3e::8000:1', ['2001:db8::1']]], at(0));
    expect(c.mroutes()).toEqual(['192.0.2.1,232.1.1.1 eth0>eth1', '2001:db8::1,ff3e::8000:1 eth0>eth2']);
  });

  it('answers a group-specific query on the upstream with the group\'s current state', () => {
    const c = new McCore();
    c.join('lan1', 4, [[RT.ALLOW, '232.1.1.1', ['192.0.2.1']], [RT.ALLOW, '232.1.1.2', ['192.0.2.1']]], at(0));
    c.runUntil(at(10));
    c.packet('wan', 4, query(4, '192.0.2.254', { group: '232.1.1.2' }), at(100), true);
    expect(upReports(c.runUntil(at(200)))).toEqual(['IS_IN(232.1.1.2: 192.0.2.1)']);
  });

  it('off (the default): nothing is sent, packets are counted, no state', () => {
    const core = createCore(T0);
    const off = multicastConfig().multicast.enabled;
    expect(off).toBe(true);
    const cfg = multicastConfig();
    expect(core.agent.handle({ kind: 'config', config: { ...cfg, multicast: { ...cfg.multicast, enabled: false } } }, T0)).toEqual([]);
    core.agent.handle({ kind: 'multicast', family: 4, port: 'lan1', upstream: false, mac: new Uint8Array(6), bytes: report(4, [[RT.ALLOW, '232.1.1.1', ['192.0.2.1']]]) }, T0);
    expect(core.agent.nextDeadline()).toBeNull();
    expect([...core.multicast.desiredMroutes()]).toEqual([]);
    expect(core.multicast.status(T0)).toMatchObject({ enabled: false, counters: { disabled: 1 } });
  });
});
