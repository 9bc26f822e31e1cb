// DHCPv4 Leasequery (RFC 4388) against real ISC dhcpd (`allow leasequery;`,
// `stash-agent-options true;` in the lab's dhcpd4.conf). A client leases through
// gleand; gleand restarts knowing nothing (no snapshot, no recovery window), so its
// kernel entries are swept; then `gleand query` asks dhcpd by IP, MAC and client id and
// the binding comes back — judged with ip and nft, and the queries on the wire with
// tshark, not with gleand. Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

type Result = Record<string, unknown> & { servers: Record<string, unknown>[]; binding: Record<string, unknown> | null };

describe('leasequery against ISC dhcpd (RFC 4388)', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let lease: LeaseFacts;
  let upstream: Capture;
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nftSet = async () => (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout;
  const cli = async (...argv: string[]) =>
    lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, ...argv, '-c', gleand.configPath], { check: false });
  const query = async (...argv: string[]): Promise<Result> => {
    const r = await cli('query', ...argv, '--json', ...(argv.includes('--wait') ? [] : ['--wait', '8']));
    try {
      return JSON.parse(r.stdout) as Result;
    } catch {
      throw new Error(`gleand query ${argv.join(' ')}: ${r.code} ${r.stdout} ${r.stderr}\n${gleand.proc.log().slice(-3000)}`);
    }
  };
  const kernelHas = async (addr: string) => {
    const sub = lab.subscribers[0]!;
    const route = (await ip('-4', 'route', 'show', 'proto', '201')).includes(`${addr} dev ${sub.routerDev}`);
    const neigh = new RegExp(`${addr.replace(/\./g, '\\.')} lladdr ${sub.mac} .*PERMANENT`).test(await ip('-4', 'neigh', 'show', 'dev', sub.routerDev));
    const verify = (await nftSet()).includes(addr);
    return { route, neigh, verify };
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
    // udhcpc sends option 61 = 01 + its MAC (RFC 2132 §9.14), so dhcpd records a client id.
    lease = await lab.startClient(0, 'udhcpc').waitLease(4, 45_000);
    await until('the gleaned kernel state', async () => Object.values(await kernelHas(lease.address!)).every(Boolean));
    // Restart knowing nothing: no snapshot to read, no recovery window to keep entries.
    await gleand.stop('SIGTERM');
    gleand = lab.startGleand(labGleandConfig(lab, { global: { snapshot: '', recovery_window: '0' } }));
    await gleand.ready();
    await until('the sweep of entries no binding backs', async () => {
      const k = await kernelHas(lease.address!);
      return !k.route && !k.neigh && !k.verify;
    });
    expect(JSON.parse((await cli('bindings', '--json')).stdout)).toEqual([]);
    upstream = await lab.capture(lab.router.ns, lab.router.upstreamDev, 'udp port 67', 'lq-upstream');
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('by IP: LEASEACTIVE with the client\'s MAC and circuit; route, permanent neighbour and verify entry are back', async () => {
    const sub = lab.subscribers[0]!;
    const r = await query('ip', lease.address!);
    expect(r).toMatchObject({ verdict: 'active', winner: lab.server.ipv4, refused: null,
      binding: { binding: `${lease.address}/32`, port: sub.name, change: 'added' } });
    expect(r.servers).toHaveLength(1);
    expect(r.servers[0]).toMatchObject({ server: lab.server.ipv4, outcome: 'answered', type: 'DHCPLEASEACTIVE', code: 13,
      ciaddr: lease.address, mac: sub.mac, circuitId: sub.name });
    expect(Number(r.servers[0]!['leaseTimeS'])).toBeGreaterThan(500);
    expect(Number(r.servers[0]!['leaseTimeS'])).toBeLessThanOrEqual(600);
    expect(r.servers[0]!['cltS']).toEqual(expect.any(Number));
    // The answer reports the binding once its kernel entries are in: no waiting here.
    expect(await kernelHas(lease.address!)).toEqual({ route: true, neigh: true, verify: true });
    const rows = JSON.parse((await cli('bindings', '--json')).stdout) as Record<string, unknown>[];
    expect(rows).toMatchObject([{ binding: `${lease.address}/32`, port: sub.name, mac: sub.mac, source: 'leasequery' }]);
  });

  it('by MAC and by client id: the same lease', async () => {
    const sub = lab.subscribers[0]!;
    const byMac = await query('mac', sub.mac);
    expect(byMac).toMatchObject({ verdict: 'active', binding: { binding: `${lease.address}/32`, port: sub.name } });
    expect(byMac.servers[0]).toMatchObject({ type: 'DHCPLEASEACTIVE', ciaddr: lease.address, mac: sub.mac, circuitId: sub.name });
    const clientId = `01${sub.mac.replace(/:/g, '')}`;
    const byCid = await query('client-id', clientId);
    expect(byCid).toMatchObject({ verdict: 'active', binding: { binding: `${lease.address}/32`, port: sub.name } });
    expect(byCid.servers[0]).toMatchObject({ type: 'DHCPLEASEACTIVE', ciaddr: lease.address, mac: sub.mac, clientId });
    // the human rendering
    const text = await cli('query', 'ip', lease.address!);
    if (process.env['LQ_PRINT']) console.log(text.stdout);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`binding\\s+${lease.address!.replace(/\./g, '\\.')}/32 on ${sub.name} \\(refreshed\\)`));
  });

  it('an address nobody leased: UNASSIGNED or UNKNOWN, nothing installed, and the next ask is answered from the negative cache', async () => {
    const free = lab.addressing.range4[1];
    expect(free).not.toBe(lease.address);
    const r = await query('ip', free);
    expect(['unassigned', 'unknown']).toContain(r['verdict']);
    expect(['DHCPLEASEUNASSIGNED', 'DHCPLEASEUNKNOWN']).toContain(r.servers[0]!['type']);
    expect(await kernelHas(free)).toEqual({ route: false, neigh: false, verify: false });
    const again = await query('ip', free);
    expect(again).toMatchObject({ verdict: 'cached' });
    // outside every subnet4: refused before anything is sent (ciaddr restriction)
    const outside = await cli('query', 'ip', '192.0.2.9', '--json');
    expect(outside.code).toBe(1);
    expect(JSON.parse(outside.stdout)).toMatchObject({ verdict: 'refused', reason: 'outside-subnets' });
  });

  it('status shows the server: supports leasequery, its timer, answers by type, the negative cache', async () => {
    const s = JSON.parse((await cli('status', '--json')).stdout) as { modules: { leasequery: Record<string, unknown> } };
    expect(s.modules.leasequery).toMatchObject({ enabled: true, inFlight: 0, negativeCache: 1, installed: 4, cached: 1,
      refusedQueries: { 'outside-subnets': 1 },
      servers: { [lab.server.ipv4]: { supports: 'yes', outstanding: 0, queued: 0, sent: 5, answers: { active: 4 } } } });
    const text = (await cli('status')).stdout;
    expect(text).toMatch(/LQ SERVER\s+SUPPORTS/);
    expect(text).toContain(lab.server.ipv4);
  });

  it('tshark on the upstream sees each DHCPLEASEQUERY with giaddr, the query field and PRL 51, 82, 91, 61 — and the answers', async () => {
    const pcap = await upstream.stop();
    // giaddr, ciaddr, hlen, chaddr (by MAC; by client id tshark reads the MAC out of option 61), options present, PRL
    const q = await tsharkFields(pcap, 'dhcp.option.dhcp == 10', ['dhcp.ip.relay', 'dhcp.ip.client', 'dhcp.hw.len',
      'dhcp.hw.mac_addr', 'dhcp.option.type', 'dhcp.option.request_list_item']);
    const sub = lab.subscribers[0]!;
    const free = lab.addressing.range4[1];
    const options = (list: string) => list.split(',').filter((c) => c !== '0' && c !== '255').join(','); // minus End/Pad
    expect(q.map(([g, c, l, m, o, prl]) => [g, c, l, m, options(o!), prl])).toEqual([
      [lab.router.gateway4, lease.address, '0', '', '53,55', '51,82,91,61'],
      [lab.router.gateway4, '0.0.0.0', '6', sub.mac, '53,55', '51,82,91,61,92'],
      [lab.router.gateway4, '0.0.0.0', '0', sub.mac, '53,55,61', '51,82,91,61,92'],
      [lab.router.gateway4, lease.address, '0', '', '53,55', '51,82,91,61'], // the human-readable one
      [lab.router.gateway4, free, '0', '', '53,55', '51,82,91,61'],
    ]);
    const answers = await tsharkFields(pcap, 'dhcp.option.dhcp >= 11 && dhcp.option.dhcp <= 13',
      ['dhcp.option.dhcp', 'dhcp.ip.client', 'dhcp.ip.relay']);
    expect(answers.map(([t, c, g]) => [t, c, g])).toEqual([
      ...Array.from({ length: 4 }, () => ['13', lease.address, lab.router.gateway4]),
      [answers[4]![0], answers[4]![1], lab.router.gateway4],
    ]);
    expect(['11', '12']).toContain(answers[4]![0]);
  });

  it('a dead server gets one query at a time, 10 s then 20 s apart (RFC 4388 §6.3), counted on the wire by tshark', async () => {
    // A server address that exists nowhere: a static neighbour entry lets the queries reach
    // the wire (and the capture) without anyone answering.
    const dead = '10.0.0.77';
    await lab.exec(lab.router.ns, ['ip', 'neigh', 'replace', dead, 'lladdr', '02:de:ad:00:00:01', 'dev', lab.router.upstreamDev, 'nud', 'permanent']);
    await gleand.stop('SIGTERM');
    gleand = lab.startGleand(labGleandConfig(lab, { global: { snapshot: '', recovery_window: '0' },
      extra: `config leasequery\n\toption timeout '2'\n` })
      .replace(`list dhcpv4_server '${lab.server.ipv4}'`, `list dhcpv4_server '${dead}'`));
    await gleand.ready();
    const cap = await lab.capture(lab.router.ns, lab.router.upstreamDev, `udp port 67 and host ${dead}`, 'lq-dead');
    const t0 = Date.now();
    // two questions: the second (asked once the first is on its way) waits in the queue behind the poll
    const first = query('ip', lease.address!, '--wait', '35');
    await new Promise((r) => setTimeout(r, 1000));
    const [a, b] = await Promise.all([first, query('mac', lab.subscribers[0]!.mac, '--wait', '35')]);
    const elapsedS = (Date.now() - t0) / 1000;
    expect(elapsedS).toBeGreaterThan(34); // the control socket kept both requests open for the whole wait
    for (const r of [a, b]) expect(r).toMatchObject({ verdict: 'no-answer', servers: [{ server: dead, outcome: 'pending' }] });
    const times = (await tsharkFields(await cap.stop(), 'dhcp.option.dhcp == 10', ['frame.time_relative', 'dhcp.ip.client']));
    expect(times.map(([, c]) => c)).toEqual([lease.address, lease.address, lease.address]); // only the poll, never the queued one
    const at = times.map(([t]) => Number(t));
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(9.5);
    expect(at[1]! - at[0]!).toBeLessThan(11);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(19.5);
    expect(at[2]! - at[1]!).toBeLessThan(21);
    const s = JSON.parse((await cli('status', '--json')).stdout) as { modules: { leasequery: { servers: Record<string, unknown> } } };
    expect(s.modules.leasequery.servers[dead]).toMatchObject({ supports: 'unknown', outstanding: 0, queued: 0, sent: 3, retransmitted: 2 });
  }, 90_000);
});
