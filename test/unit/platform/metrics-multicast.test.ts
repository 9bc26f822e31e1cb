/**
 * The multicast router's counters reach `gleand metrics` through the generic status walk
 * (platform/metrics-walk.ts), with the port as a label, without being listed by hand.
 */
import { expect, it } from 'vitest';
import { createCore } from '../../../src/core';
import { formatExposition } from '../../../platform/metrics-format';
import { statusFamilies } from '../../../platform/metrics-walk';
import { at, multicastConfig, report, RT, T0 } from '../multicast/kit';

const MAC = new Uint8Array([2, 0, 0, 0, 0, 1]);

it('reports, groups and SSM-rule drops appear per port', () => {
  const { agent } = createCore(T0);
  agent.handle({ kind: 'config', config: multicastConfig() }, T0);
  const join = report(4, [[RT.ALLOW, '232.1.1.1', ['192.0.2.10']]]);
  // RFC 4604 §3: an EXCLUDE-mode record for an SSM group is ignored and counted.
  const exclude = report(4, [[RT.TO_EX, '232.1.1.2', []]]);
  agent.handle({ kind: 'multicast', family: 4, port: 'lan1', upstream: false, mac: MAC, bytes: join }, at(10));
  agent.handle({ kind: 'multicast', family: 4, port: 'lan1', upstream: false, mac: MAC, bytes: exclude }, at(20));
  const text = formatExposition(statusFamilies(agent.status(at(30))).list());
  expect(text).toContain('gleand_multicast_igmp_groups{port="lan1"} 1');
  expect(text).toContain('gleand_multicast_igmp_counters_received_reports_total{port="lan1"} 2');
  expect(text).toMatch(/^gleand_multicast_igmp_counters_\S*ssm\S*\{port="lan1"[^}]*\} 1$/im);
});
