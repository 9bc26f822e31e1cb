/**
 * The status document → Prometheus text (platform/metrics-walk.ts, metrics-format.ts):
 * labels from label maps, `family` from `…4`/`…6`, base units, counters vs gauges, and
 * a module the rules never heard of (multicast, later) still exported with its labels.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config';
import { formatExposition } from '../../../platform/metrics-format';
import { Families, statusFamilies } from '../../../platform/metrics-walk';

const text = (status: Record<string, unknown>) => formatExposition(statusFamilies(status, new Families()).list());

describe('metrics from status', () => {
  it('per-port counters get port and family labels; drop maps a reason', () => {
    const t = text({ modules: { dhcp: { ports: { lan1: { relayed4: 3, relayed6: 1, dropped: { hops: 2 }, bindings: 5 } } } } });
    expect(t).toContain('# TYPE gleand_dhcp_relayed_total counter\n');
    expect(t).toContain('gleand_dhcp_relayed_total{port="lan1",family="4"} 3\n');
    expect(t).toContain('gleand_dhcp_relayed_total{port="lan1",family="6"} 1\n');
    expect(t).toContain('gleand_dhcp_dropped_total{port="lan1",reason="hops"} 2\n');
    expect(t).toContain('# TYPE gleand_dhcp_bindings gauge\ngleand_dhcp_bindings{port="lan1"} 5\n');
  });

  it('milliseconds become seconds, bytes stay bytes, and each family has HELP then TYPE', () => {
    const t = text({ uptimeMs: 1500, rssBytes: 2048, drivers: { tcp: { bytesIn: 7 } } });
    expect(t).toMatch(/^# HELP gleand_uptime_seconds .+\n# TYPE gleand_uptime_seconds gauge\ngleand_uptime_seconds 1\.5$/m);
    expect(t).toContain('gleand_rss_bytes 2048\n');
    expect(t).toContain('gleand_tcp_in_bytes_total 7\n');
  });

  it('a module not in the rules: its ports map is labelled, its numbers counted', () => {
    const t = text({ modules: { multicast: { groups: 2, ports: { lan1: { reports4: 9, dropped: { badChecksum: 1 } } } } } });
    expect(t).toContain('gleand_multicast_groups 2\n');
    expect(t).toContain('gleand_multicast_reports_total{port="lan1",family="4"} 9\n');
    expect(t).toContain('gleand_multicast_dropped_total{port="lan1",reason="badChecksum"} 1\n');
  });

  it('a server map carries the server and its family; strings and booleans are not samples', () => {
    const t = text({ modules: { bulk: { enabled: true, servers: { '2001:db8::1': { family: 6, state: 'idle', received: 4 } } } } });
    expect(t).toContain('gleand_bulk_received_total{server="2001:db8::1",family="6"} 4\n');
    expect(t).not.toMatch(/enabled|state/);
  });

  it('kernel entry counts are gauges by kind and family; reconcile results by change', () => {
    const t = text({ drivers: { kernel: {
      entries: [
        { kind: 'routes_host', family: 4, desired: 3, installed: 2 },
        { kind: 'verifies', family: 6, desired: 0, installed: 0 },
      ],
      reconciled: { added: 5, removed: 1, replaced: 0 },
      lastReconcileMsAgo: 2500, readBackMsAgo: null,
    } } });
    expect(t).toMatch(/^# HELP gleand_kernel_entries_desired .+\n# TYPE gleand_kernel_entries_desired gauge$/m);
    expect(t).toContain('gleand_kernel_entries_desired{kind="routes_host",family="4"} 3\n');
    expect(t).toContain('gleand_kernel_entries_desired{kind="verifies",family="6"} 0\n');
    expect(t).toMatch(/^# TYPE gleand_kernel_entries_installed gauge\ngleand_kernel_entries_installed\{kind="routes_host",family="4"\} 2$/m);
    expect(t).toContain('gleand_kernel_reconciled_total{change="added"} 5\n');
    expect(t).toContain('# TYPE gleand_kernel_last_reconcile_age_seconds gauge\ngleand_kernel_last_reconcile_age_seconds 2.5\n');
    expect(t).not.toContain('read_back'); // null: never read back yet, no sample
  });

  it('escapes label values and samples of one name stay together', () => {
    const t = text({ modules: { dhcp: { ports: { 'a"b\\c\nd': { gleaned: 1 }, x: { gleaned: 2 } } } } });
    expect(t).toContain('gleand_dhcp_gleaned_total{port="a\\"b\\\\c\\nd"} 1\ngleand_dhcp_gleaned_total{port="x"} 2\n');
    expect(t.match(/# TYPE gleand_dhcp_gleaned_total/g)).toHaveLength(1);
  });
});

describe('metrics_listen', () => {
  const load = (value: string) => loadConfig(`config global\n\toption metrics_listen '${value}'\n`, 'gleand.conf');
  it('takes IPv4:PORT and [IPv6]:PORT, and is unset by default', () => {
    const v4 = load('192.0.2.1:9100');
    expect(v4.ok && v4.config.global.metrics_listen).toMatchObject({ family: 4, port: 9100 });
    const v6 = load('[2001:db8::1]:9100');
    expect(v6.ok && v6.config.global.metrics_listen).toMatchObject({ family: 6, port: 9100 });
    const none = loadConfig('config global\n', 'gleand.conf');
    expect(none.ok && none.config.global.metrics_listen).toBeUndefined();
  });
  it.each(['9100', '192.0.2.1', '2001:db8::1:9100', '192.0.2.1:0', '192.0.2.1:70000', 'host:9100'])('refuses %s', (v) => {
    const r = load(v);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.problems.map((p) => p.message).join()).toMatch(/metrics_listen|ADDRESS:PORT|port/);
  });
});
