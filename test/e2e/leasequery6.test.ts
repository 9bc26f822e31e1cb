// DHCPv6 Leasequery (RFC 5007) against real ISC dhcpd -6 (`allow leasequery;` in the
// lab's dhcpd6.conf). A dhclient gets an address and a delegated prefix through gleand;
// gleand restarts knowing nothing (no snapshot, no recovery window), so its kernel
// entries are swept; then `gleand query ip` asks dhcpd by address and the binding comes
// back — judged with `ip -6 route` / `ip -6 neigh` / `nft`, and the LEASEQUERY /
// LEASEQUERY-REPLY on the wire counted with tshark, not with gleand.
//
// What ISC dhcpd 4.4.3 can and cannot say (PROTOCOLS.md, server/dhcpleasequery.c): it
// answers by address for IA_NA addresses only, with CLIENTID, IAADDR and an absolute
// CLT_TIME, and **no relay data** — so neither the port (Interface-ID) nor the MAC
// (option 79) nor the link-local comes back. The port is then known only when the
// query was made for exactly one port (`-p`), the binding has no MAC, and the kernel
// gets its host route but no permanent neighbour and no verify entry (derive.ts: neither
// can be stated without a MAC). A delegated prefix gets NotConfigured, a query by
// client id UnknownQueryType. Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

type Result = Record<string, unknown> & { servers: Record<string, unknown>[]; binding: Record<string, unknown> | null };

describe('DHCPv6 leasequery against ISC dhcpd -6 (RFC 5007)', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let lease: LeaseFacts;
  let duid: string;
  let upstream: Capture;
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nft = async () => (await lab.exec(lab.router.ns, ['nft', 'list', 'table', 'inet', 'gleand'], { check: false })).stdout;
  const cli = async (...argv: string[]) =>
    lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, ...argv, '-c', gleand.configPath], { check: false });
  const query = async (...argv: string[]): Promise<Result> => {
    const r = await cli('query', ...argv, '--json', '--wait', '8');
    try {
      return JSON.parse(r.stdout) as Result;
    } catch {
      throw new Error(`gleand query ${argv.join(' ')}: ${r.code} ${r.stdout} ${r.stderr}\n${gleand.proc.log().slice(-3000)}`);
    }
  };
  const kernelHas = async (addr: string, prefix: string) => {
    const sub = lab.subscribers[0]!;
    const routes = await ip('-6', 'route', 'show', 'proto', '201');
    return {
      route: routes.includes(`${addr} dev ${sub.routerDev}`),
      pdRoute: routes.includes(`${prefix} via`),
      neigh: new RegExp(`^${addr} .*PERMANENT`, 'm').test(await ip('-6', 'neigh', 'show', 'dev', sub.routerDev)),
      verify: (await nft()).includes(addr),
    };
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
    lease = await lab.startClient(0, 'dhclient6napd').waitLease(6, 60_000);
    expect(lease.address && lease.delegatedPrefix).toBeTruthy();
    await until('the gleaned kernel state', async () => Object.values(await kernelHas(lease.address!, lease.delegatedPrefix!)).every(Boolean));
    const rows = JSON.parse((await cli('bindings', '--json')).stdout) as { binding: string; clientId: string | null }[];
    // `bindings` prints ids colon-separated; `query` takes and prints plain hex.
    duid = rows.find((r) => r.binding === `${lease.address}/128`)!.clientId!.replace(/:/g, '');
    expect(duid).toMatch(/^[0-9a-f]{6,}$/);
    // Restart knowing nothing: no snapshot to read, no recovery window to keep entries.
    await gleand.stop('SIGTERM');
    gleand = lab.startGleand(labGleandConfig(lab, { global: { snapshot: '', recovery_window: '0' } }));
    await gleand.ready();
    await until('the sweep of entries no binding backs', async () => {
      const k = await kernelHas(lease.address!, lease.delegatedPrefix!);
      return !k.route && !k.pdRoute && !k.neigh && !k.verify;
    });
    expect(JSON.parse((await cli('bindings', '--json')).stdout)).toEqual([]);
    upstream = await lab.capture(lab.router.ns, lab.router.upstreamDev, 'udp port 547 or udp port 546', 'lq6-upstream');
  }, 150_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('by address, two ports sharing the subnet: dhcpd answers without relay data, so the port is unknown — refused, nothing installed', async () => {
    const r = await query('ip', lease.address!);
    expect(r).toMatchObject({ verdict: 'active', family: 6, winner: lab.server.ipv6, binding: null, refused: 'no-port' });
    expect(r.servers[0]).toMatchObject({ server: lab.server.ipv6, outcome: 'answered', type: 'active', clientId: duid,
      interfaceId: null, mac: null, cltS: null, leases: [{ lease: `${lease.address}/128` }] });
    expect(Number(r.servers[0]!['cltAbsolute'])).toBeGreaterThan(1_600_000_000); // ISC's absolute CLT_TIME
    expect(await kernelHas(lease.address!, lease.delegatedPrefix!)).toEqual({ route: false, pdRoute: false, neigh: false, verify: false });
  });

  it('by address for one port (-p): the binding comes back with the client\'s DUID; its host route is in the kernel', async () => {
    const sub = lab.subscribers[0]!;
    const r = await query('ip', lease.address!, '-p', sub.name);
    expect(r).toMatchObject({ verdict: 'active', refused: null, binding: { binding: `${lease.address}/128`, port: sub.name, change: 'added' } });
    expect(await kernelHas(lease.address!, lease.delegatedPrefix!)).toEqual({ route: true, pdRoute: false, neigh: false, verify: false });
    const rows = JSON.parse((await cli('bindings', '--json')).stdout) as Record<string, unknown>[];
    expect(rows).toMatchObject([{ binding: `${lease.address}/128`, port: sub.name, source: 'leasequery' }]);
    expect(String(rows[0]!['clientId']).replace(/:/g, '')).toBe(duid);
    const text = await cli('query', 'ip', lease.address!, '-p', sub.name);
    if (process.env['LQ_PRINT']) console.log(text.stdout);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/INTERFACE-ID/);
  });

  it('the delegated prefix: NotConfigured, negatively cached; by client id: UnknownQueryType, reported, not cached', async () => {
    const prefix = lease.delegatedPrefix!.split('/')[0]!;
    const pd = await query('ip', prefix, '-p', lab.subscribers[0]!.name);
    expect(pd).toMatchObject({ verdict: 'unknown', type: 'NotConfigured', servers: [{ type: 'NotConfigured', status: 'NotConfigured' }] });
    expect(await query('ip', prefix, '-p', lab.subscribers[0]!.name)).toMatchObject({ verdict: 'cached', type: 'NotConfigured' });
    const byDuid = await query('client-id', duid, '-6');
    expect(byDuid).toMatchObject({ verdict: 'error', servers: [{ type: 'UnknownQueryType', status: 'UnknownQueryType' }] });
  });

  it('status shows the v6 server: supports leasequery, its timer, answers by type', async () => {
    const s = JSON.parse((await cli('status', '--json')).stdout) as { modules: { leasequery: Record<string, unknown> } };
    expect(s.modules.leasequery).toMatchObject({ enabled6: true, inFlight: 0, negativeCache: 1, refused: { 'no-port': 1 },
      servers: { [lab.server.ipv6]: { family: 6, supports: 'yes', outstanding: 0, queued: 0, sent: 5,
        answers: { active: 3, NotConfigured: 1, UnknownQueryType: 1 } } } });
    expect((await cli('status')).stdout).toMatch(/v6 on/);
  });

  it('tshark counts the LEASEQUERYs (546 → 547, query type and address) and dhcpd\'s LEASEQUERY-REPLYs to port 546', async () => {
    const pcap = await upstream.stop();
    const q = await tsharkFields(pcap, 'dhcpv6.msgtype == 14', ['udp.srcport', 'udp.dstport', 'dhcpv6.lq_query', 'dhcpv6.iaaddr.ip']);
    const prefix = lease.delegatedPrefix!.split('/')[0]!;
    expect(q.map(([s, d, t, a]) => [s, d, t, a])).toEqual([
      ['546', '547', '1', lease.address], ['546', '547', '1', lease.address], ['546', '547', '1', lease.address],
      ['546', '547', '1', prefix], ['546', '547', '2', ''],
    ]);
    const replies = await tsharkFields(pcap, 'dhcpv6.msgtype == 15', ['udp.dstport']);
    expect(replies.map(([d]) => d)).toEqual(['546', '546', '546', '546', '546']);
  });
});
