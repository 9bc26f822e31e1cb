// source4 / source6: relayed DHCP leaves from the configured address, not the kernel's
// choice, and the replies still come back (DHCPv4 to giaddr, DHCPv6 to source6).
// Judged by tshark on the server's side of the link. Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

// Second addresses of the router's upstream device: the kernel would pick the first
// ones (10.0.0.1, fd00::1), so seeing these on the wire proves the option is used.
const SOURCE4 = '10.0.0.5';
const SOURCE6 = 'fd00::5';

describe('source4 / source6: relayed messages leave from the configured address', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let server: Capture;
  const leases: LeaseFacts[] = [];

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    const R = lab.router;
    await lab.exec(null, ['ip', '-n', R.ns, 'addr', 'add', `${SOURCE4}/24`, 'dev', R.upstreamDev]);
    await lab.exec(null, ['ip', '-n', R.ns, 'addr', 'add', `${SOURCE6}/64`, 'dev', R.upstreamDev, 'nodad']);
    server = await lab.capture(lab.server.ns, lab.server.dev, 'udp port 67 or udp port 547', 'source-srv');
    // Start without the sources and add them by SIGHUP: the wildcard sockets are then
    // reopened shareable (SO_REUSEADDR) under a running daemon, the harder path.
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
    fs.writeFileSync(gleand.configPath, labGleandConfig(lab, { upstream: { source4: SOURCE4, source6: SOURCE6 } }));
    process.kill(gleand.pid, 'SIGHUP');
    await until('the reload', async () => /notice config: reloaded/.test(gleand.proc.log()));
    leases.push(...(await Promise.all([
      lab.startClient(0, 'dhclient4').waitLease(4, 45_000),
      lab.startClient(1, 'dhclient6').waitLease(6, 45_000),
    ])));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('both clients got leases: the replies reached gleand (v4 to giaddr, v6 to source6)', () => {
    expect(leases[0]!.address).toMatch(/^10\.1\.0\.\d+$/);
    expect(leases[1]!.address).toMatch(/^fd00:1::/);
    expect(gleand.proc.running()).toBe(true);
    expect(gleand.proc.log()).not.toMatch(/cannot bind source/);
  });

  it('every relayed DHCPv4 message has source4 as IP source; every RELAY-FORW has source6 (tshark at the server)', async () => {
    const pcap = await server.stop();
    const v4 = await tsharkFields(pcap, 'dhcp.option.dhcp == 1 || dhcp.option.dhcp == 3', ['ip.src', 'udp.srcport', 'dhcp.ip.relay']);
    expect(v4.length).toBeGreaterThanOrEqual(2); // DISCOVER + REQUEST
    for (const r of v4) expect(r).toEqual([SOURCE4, '67', lab.router.gateway4]); // giaddr unchanged (RFC 2131 §4.1)
    const v6 = await tsharkFields(pcap, 'dhcpv6.msgtype == 12', ['ipv6.src', 'udp.srcport']);
    expect(v6.length).toBeGreaterThanOrEqual(2); // SOLICIT + REQUEST
    for (const r of v6) expect(r).toEqual([SOURCE6, '547']);
    // and the server answered the v6 relay at that address (RFC 8415 §19.2)
    const repl = await tsharkFields(pcap, 'dhcpv6.msgtype == 13', ['ipv6.dst']);
    expect(repl.length).toBeGreaterThanOrEqual(2);
    for (const r of repl) expect(r).toEqual([SOURCE6]);
  });

  it('reports its bound source sockets in status', async () => {
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath]);
    const s = JSON.parse(r.stdout);
    expect(s.drivers.udp.sources).toEqual([SOURCE4, SOURCE6]);
    expect(s.drivers.udp.sourceBindErrors).toBe(0);
  });

  it('a source address the host lacks is logged clearly (EADDRNOTAVAIL) and relaying goes on', async () => {
    fs.writeFileSync(gleand.configPath, labGleandConfig(lab, { upstream: { source4: '192.0.2.99' } }));
    process.kill(gleand.pid, 'SIGHUP');
    await until('the bind error in the log', async () => /cannot bind source4 192\.0\.2\.99/.test(gleand.proc.log()));
    expect(gleand.proc.log()).toMatch(/error udp: cannot bind source4 192\.0\.2\.99 port 67 \(EADDRNOTAVAIL\)/);
    expect(gleand.proc.running()).toBe(true);
  });
});
