// The lab itself: namespaces, real ISC dhcpd -4/-6, ISC dhcrelay in the router namespace and
// four different real clients. Needs root (fails loudly without it, never skips).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import {
  createLab,
  ensureLabPackages,
  REPO_ROOT,
  requireRootAndNetns,
  tsharkFields,
  type Capture,
  type Lab,
  type LabClient,
  type LeaseFacts,
} from '../lab/lab';

function inSubnet4(addr: string, base: string, len: number): boolean {
  const n = (a: string): number => a.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
  return (n(addr) & mask) >>> 0 === (n(base) & mask) >>> 0;
}

describe('lab: namespaces with real DHCP peers', () => {
  let lab: Lab;
  let upstream: Capture;
  let clients: LabClient[] = [];
  const leases: LeaseFacts[] = [];

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    lab = await createLab({ subscribers: 4 });
    upstream = await lab.capture(lab.router.ns, lab.router.upstreamDev, 'udp port 67 or udp port 547', 'upstream');
    await lab.startDhcrelay();
    clients = [
      lab.startClient(0, 'dhclient4'),
      lab.startClient(1, 'udhcpc'),
      lab.startClient(2, 'dhcpcd4'),
      lab.startClient(3, 'dhclient6pd'),
    ];
    leases.push(...(await Promise.all(clients.map((c) => c.waitLease(undefined, 45_000)))));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('names everything with the per-run prefix', () => {
    expect(lab.prefix).toMatch(/^gl[0-9a-f]{4}$/);
    for (const ns of lab.namespaces) expect(ns.startsWith(`${lab.prefix}-`)).toBe(true);
    for (const s of lab.subscribers) expect(s.routerDev.length).toBeLessThanOrEqual(15);
    expect(lab.dir).toBe(`/tmp/${lab.prefix}`);
    expect(fs.existsSync(`${REPO_ROOT}/test/lab/lab.ts`)).toBe(true);
    expect(JSON.parse(JSON.stringify(lab.info())).router.gateway4).toBe('10.1.0.1');
  });

  it('gives each IPv4 client an address from the pool, visible on eth0', async () => {
    for (const i of [0, 1, 2]) {
      const sub = lab.subscribers[i]!;
      const lease = leases[i]!;
      expect(lease.family).toBe(4);
      expect(inSubnet4(lease.address!, '10.1.0.0', 24)).toBe(true);
      expect(lease.router).toBe('10.1.0.1');
      const out = (await lab.exec(sub.ns, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
      expect(out).toContain(` ${lease.address}/24`);
    }
    const addrs = new Set(leases.slice(0, 3).map((l) => l.address));
    expect(addrs.size).toBe(3);
  });

  it('delegates a /56 from 2001:db8:100::/40 to dhclient -6 -P', async () => {
    const pd = leases[3]!;
    expect(pd.family).toBe(6);
    expect(pd.delegatedPrefix).toMatch(/^2001:db8:1[0-9a-f]{2}:[0-9a-f]{0,2}00::\/56$/);
    // and the v6 link still works: eth0 has only its link-local address (no IA_NA asked)
    const out = (await lab.exec(lab.subscribers[3]!.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0'])).stdout;
    expect(out).toMatch(/fe80::/);
  });

  it('saw relayed DHCPv4 (giaddr, circuit-id) and DHCPv6 relay messages on the upstream', async () => {
    const pcap = await upstream.stop();
    expect(fs.existsSync(pcap)).toBe(true);
    const acks = await tsharkFields(pcap, 'dhcp.option.dhcp == 5', ['dhcp.ip.relay', 'dhcp.ip.your']);
    const yours = new Set(acks.map((r) => r[1]));
    for (const l of leases.slice(0, 3)) expect(yours.has(l.address)).toBe(true);
    for (const r of acks) expect(r[0]).toBe('10.1.0.1');
    const reqs = await tsharkFields(pcap, 'dhcp.option.dhcp == 3', ['dhcp.option.agent_information_option.agent_circuit_id']);
    // dhcrelay -4 -a: circuit-id = the port's name, no remote-id
    const circuits = new Set(reqs.map((r) => Buffer.from(r[0] ?? '', 'hex').toString()));
    expect(circuits).toEqual(new Set(lab.subscribers.slice(0, 3).map((s) => s.routerDev)));
    const v6 = await tsharkFields(pcap, 'dhcpv6', ['dhcpv6.msgtype', 'dhcpv6.linkaddr', 'dhcpv6.iaprefix.pref_addr']);
    const types = v6.map((r) => r[0]!.split(',')[0]);
    expect(types).toContain('12'); // RELAY-FORW
    expect(types).toContain('13'); // RELAY-REPL
    for (const r of v6) expect(r[1]).toBe('fd00:1::1');
    const prefixes = v6.flatMap((r) => (r[2] ? r[2].split(',') : []));
    expect(prefixes).toContain(leases[3]!.delegatedPrefix!.split('/')[0]);
  });

  it('writes the gleand config from the lab object', async () => {
    const { labGleandConfig } = await import('../lab/lab');
    const text = labGleandConfig(lab);
    expect(text).toContain(`option device '${lab.router.upstreamDev}'`);
    expect(text).toContain(`config subscriber 'sub3'`);
    expect(text).toContain(`option control_socket '/tmp/${lab.prefix}/gleand.sock'`);
    expect(text.match(/config subscriber/g)?.length).toBe(4);
  });
});
