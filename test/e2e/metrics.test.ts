// gleand's counters for a fleet's monitoring: `gleand metrics` and the `metrics_listen`
// HTTP endpoint, checked with Prometheus' own `promtool check metrics` while bindings
// (a real dhclient's lease) and drops (frames scapy sends with giaddr set) are present,
// scraped from another namespace by a Python client, bound only where configured (ss),
// and bounded (connections, request size, time). The kernel entry gauges are judged by
// ip(8) and nft(8): what they list of gleand's must be what the gauges say.
// Needs root, network namespaces and promtool (Debian's prometheus): fails loudly, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const PY = '/usr/bin/python3'; // Debian's python3 has scapy; the pyenv one on PATH does not
const PROBE = path.join(__dirname, 'helpers', 'metrics-http.py');
const PORT = 9100;

/** `promtool check metrics` reads the exposition on stdin; exit 0 and no lint output means valid. */
function promtool(text: string): { code: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { code: r.status, out: `${r.stdout}${r.stderr}`.trim() };
}

const sortKeys = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));

/** The value of one sample, by name and exact labels; null when absent. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | null {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = m[2] ? m[2].split(/,(?=[a-zA-Z_]+=")/) : [];
    if (have.length === want.length && want.every((w) => have.includes(w))) return Number(m[3]);
  }
  return null;
}

interface NftSet { set?: { name: string; elem?: unknown[] } }

/**
 * gleand's kernel entries as ip(8) and nft(8) list them in the router namespace, keyed
 * as the `gleand_kernel_entries_*` gauges are (kind/family): routes tagged with gleand's
 * protocol (a host route prints without its /32 or /128), permanent neighbours carrying
 * its protocol, and the elements of its nft allow sets.
 */
async function kernelCounts(lab: Lab): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  const bump = (k: string) => (out[k] = (out[k] ?? 0) + 1);
  for (const family of [4, 6] as const) {
    const routes = JSON.parse((await lab.exec(lab.router.ns, ['ip', '-j', `-${family}`, 'route', 'show', 'proto', '201'])).stdout || '[]') as { dst: string }[];
    for (const r of routes) bump(`routes_${r.dst.includes('/') ? 'pd' : 'host'}/${family}`);
    const neigh = JSON.parse((await lab.exec(lab.router.ns, ['ip', '-j', '-d', `-${family}`, 'neigh', 'show', 'nud', 'permanent'])).stdout || '[]') as { protocol?: string | number }[];
    for (const n of neigh) if (String(n.protocol) === '201') bump(`neighbours/${family}`);
  }
  const table = JSON.parse((await lab.exec(lab.router.ns, ['nft', '-j', 'list', 'table', 'inet', 'gleand'])).stdout) as { nftables: NftSet[] };
  for (const item of table.nftables) {
    const m = item.set ? /^allow([46])/.exec(item.set.name) : null;
    if (m) for (let i = 0; i < (item.set!.elem ?? []).length; i++) bump(`verifies/${m[1]}`);
  }
  return out;
}

/** The gauge `name` by kind/family, every sample of it. */
function byKind(text: string, name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(new RegExp(`^${name}\\{kind="([a-z_]+)",family="([46])"\\} (\\d+)$`, 'gm'))) {
    if (Number(m[3]) > 0) out[`${m[1]}/${m[2]}`] = Number(m[3]);
  }
  return sortKeys(out);
}

describe('gleand metrics (Prometheus text format)', () => {
  let lab: Lab;
  let g: GleandHandle;
  let lease: LeaseFacts;
  const SENT = 3;

  const metrics = async () => {
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'metrics', '-c', g.configPath]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout;
  };
  const probe = async (...args: string[]) => {
    const r = await lab.exec(lab.server.ns, [PY, PROBE, lab.router.ipv4, String(PORT), ...args], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as Record<string, any>;
  };
  /** TCP listeners in the router namespace owned by gleand, as `ss` sees them. */
  const listeners = async () => {
    const r = await lab.exec(lab.router.ns, ['ss', '-ltnpH']);
    return r.stdout.split('\n').filter((l) => l.includes(`pid=${g.pid},`)).map((l) => l.trim().split(/\s+/)[3]);
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error('METRICS E2E FAILED: needs promtool (apt-get install prometheus; npm run lab:install)');
    }
    lab = await createLab({ subscribers: 3 });
    g = lab.startGleand(labGleandConfig(lab));
    await g.ready();
    lease = await lab.startClient(0, 'dhclient4').waitLease(4, 45_000);
    // an address and a delegated prefix (IA_NA + IA_PD): host route, PD route, neighbours, verify entries of v6
    await lab.startClient(2, 'dhclient6napd').waitLease(undefined, 45_000);
    // DHCPDISCOVERs that already carry a giaddr, from below an untrusted port: dropped (RFC 3046 §2.1)
    const sub = lab.subscribers[1]!;
    await lab.exec(sub.ns, [PY, '-c',
      `from scapy.all import Ether, IP, UDP, BOOTP, DHCP, sendp\n` +
      `sendp([Ether(src='${sub.mac}', dst='ff:ff:ff:ff:ff:ff')/IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67)/` +
      `BOOTP(chaddr=bytes.fromhex('${sub.mac.replace(/:/g, '')}'), giaddr='192.0.2.1', xid=i)/DHCP(options=[('message-type', 'discover'), 'end'])` +
      ` for i in range(${SENT})], iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('gleand metrics passes promtool check metrics with bindings and drops present', async () => {
    const text = await until('the drops in the metrics', async () => {
      const t = await metrics();
      return sample(t, 'gleand_dhcp_dropped_total', { port: 'sub1', reason: 'untrusted-giaddr' }) === SENT ? t : null;
    });
    expect(promtool(text)).toEqual({ code: 0, out: '' });
    // the binding dhclient holds, as the kernel has it (a gleand route to the leased address)
    const routes = (await lab.exec(lab.router.ns, ['ip', '-4', 'route', 'show', 'proto', '201'])).stdout;
    expect(routes).toContain(lease.address!);
    expect(sample(text, 'gleand_bindings', { port: 'sub0', family: '4', kind: 'address', source: 'glean' })).toBe(1);
    expect(sample(text, 'gleand_dhcp_relayed_total', { port: 'sub0', family: '4' })).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'gleand_dhcp_gleaned_total', { port: 'sub0' })).toBeGreaterThanOrEqual(1);
    // conventions: HELP and TYPE for every family, counters end in _total, base units
    expect(text).toMatch(/^# HELP gleand_dhcp_dropped_total .+\n# TYPE gleand_dhcp_dropped_total counter$/m);
    expect(text).toMatch(/^# TYPE gleand_uptime_seconds gauge$/m);
    expect(text).toMatch(/^# TYPE gleand_rss_bytes gauge$/m);
    for (const m of text.matchAll(/^# TYPE (\S+) counter$/gm)) expect(m[1]).toMatch(/_total$/);
    expect(sample(text, 'gleand_socket_kernel_drops_total', { socket: `packet sub0 (${lab.subscribers[0]!.routerDev})` })).toBe(0);
    // the server never saw the dropped DISCOVERs: dhcpd logs none from that MAC
    expect(lab.dhcpd4!.log()).not.toContain(`DHCPDISCOVER from ${lab.subscribers[1]!.mac}`);
  });

  it('the kernel entry gauges are what ip route, ip neigh and nft list show', async () => {
    const found = await until('the gauges to match the kernel', async () => {
      const text = await metrics();
      const kernel = await kernelCounts(lab);
      const installed = byKind(text, 'gleand_kernel_entries_installed');
      return JSON.stringify(installed) === JSON.stringify(sortKeys(kernel)) ? { text, kernel } : null;
    });
    // the leases are there in every kind: v4 host route, v6 host and PD routes, neighbours, verify elements
    for (const k of ['routes_host/4', 'routes_host/6', 'routes_pd/6', 'neighbours/4', 'neighbours/6', 'verifies/4', 'verifies/6']) {
      expect(found.kernel[k], k).toBeGreaterThanOrEqual(1);
    }
    // what the core wants is what is in: nothing refused, nothing pending
    expect(byKind(found.text, 'gleand_kernel_entries_desired')).toEqual(byKind(found.text, 'gleand_kernel_entries_installed'));
    // zeros are samples too (a gauge that disappears at zero cannot be graphed)
    expect(sample(found.text, 'gleand_kernel_entries_installed', { kind: 'mroutes', family: '4' })).toBe(0);
    expect(found.text).toMatch(/^# TYPE gleand_kernel_entries_installed gauge$/m);
    expect(found.text).toMatch(/^# TYPE gleand_kernel_last_reconcile_age_seconds gauge$/m);
    expect(sample(found.text, 'gleand_kernel_reconciled_total', { change: 'added' })).not.toBeNull();
    expect(promtool(found.text)).toEqual({ code: 0, out: '' });
  });

  it('after a restart (kill -9) over kept entries, the installed gauges come back to what the kernel holds', async () => {
    process.kill(g.pid, 'SIGKILL');
    await g.proc.exited;
    g = lab.startGleand(labGleandConfig(lab));
    await g.ready();
    await until('the gauges to match the kernel after the restart', async () => {
      const text = await metrics();
      const installed = byKind(text, 'gleand_kernel_entries_installed');
      return JSON.stringify(installed) === JSON.stringify(sortKeys(await kernelCounts(lab))) &&
        JSON.stringify(byKind(text, 'gleand_kernel_entries_desired')) === JSON.stringify(installed) ? true : null;
    });
  });

  it('serves GET /metrics only once metrics_listen is set, only on that address', async () => {
    expect(await listeners()).toEqual([]);
    fs.writeFileSync(g.configPath, labGleandConfig(lab, { global: { metrics_listen: `${lab.router.ipv4}:${PORT}` } }));
    process.kill(g.pid, 'SIGHUP');
    await until('the listener', async () => ((await listeners()).length > 0 ? true : null));
    expect(await listeners()).toEqual([`${lab.router.ipv4}:${PORT}`]);
    const r = await probe('scrape');
    expect(r['status']).toBe(200);
    expect(r['type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(promtool(r['body'])).toEqual({ code: 0, out: '' });
    expect(sample(r['body'], 'gleand_bindings', { port: 'sub0', family: '4', kind: 'address', source: 'glean' })).toBe(1);
    expect(sample(r['body'], 'gleand_metrics_scrapes_total')).toBe(1);
  });

  it('bounds the listener: connections, request size, time', async () => {
    const crowd = await probe('crowd', '4');
    expect(crowd['crowded']['error'], 'a fifth connection is closed unanswered').toBeDefined();
    expect((await probe('big', String(16 * 1024)))['statusLine']).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect((await probe('slow'))['statusLine']).toBe('HTTP/1.1 408 Request Timeout');
    const after = (await probe('scrape'))['body'] as string;
    expect(sample(after, 'gleand_metrics_refused_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'gleand_metrics_too_large_total')).toBeGreaterThanOrEqual(1);
    expect(sample(after, 'gleand_metrics_timeouts_total')).toBeGreaterThanOrEqual(1);
  });

  it('closes the listener when metrics_listen is removed', async () => {
    fs.writeFileSync(g.configPath, labGleandConfig(lab));
    process.kill(g.pid, 'SIGHUP');
    await until('no listener', async () => ((await listeners()).length === 0 ? true : null));
    expect((await probe('scrape'))['error']).toBeDefined();
  });
});
