// gleand's kernel entries changed behind its back are repaired from the netlink monitor
// (not the periodic reconcile: it is set to an hour here), and a reload that changes the
// route table, route protocol and nft table moves the entries instead of stranding them.
// Checked with ip(8) and nft(8). Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

describe('kernel state repaired from the netlink monitor, moved on reload', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  const leases: LeaseFacts[] = [];
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nft = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['nft', ...argv])).stdout;
  const config = (global: Record<string, string>) => labGleandConfig(lab, { global: { reconcile_interval: '3600', ...global } });

  /** Do something to the kernel, then wait for `back`; returns how long the repair took. */
  async function repaired(what: string, act: () => Promise<unknown>, back: () => Promise<boolean>): Promise<number> {
    expect(await back(), `${what}: present before`).toBe(true);
    const t0 = Date.now();
    await act();
    await until(`${what} to be repaired`, back, 10_000, 20);
    const ms = Date.now() - t0;
    console.log(`repair after ${what}: ${ms} ms`);
    return ms;
  }

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(config({}));
    await gleand.ready();
    const clients = [lab.startClient(0, 'dhclient4'), lab.startClient(1, 'dhclient6napd')];
    leases.push(...(await Promise.all(clients.map((c) => c.waitLease(undefined, 45_000)))));
    const a = leases[0]!.address!;
    await until('the kernel state', async () => (await ip('-4', 'route', 'show', 'proto', '201')).includes(`${a} dev`));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('a deleted host route comes back', async () => {
    const a = leases[0]!.address!;
    const dev = lab.subscribers[0]!.routerDev;
    await repaired('ip route del', () => ip('route', 'del', `${a}/32`, 'dev', dev),
      async () => (await ip('-4', 'route', 'show', 'proto', '201')).includes(`${a} dev ${dev}`));
    expect((await ip('-4', 'route', 'show', 'proto', '201')).trim().split('\n')).toHaveLength(1);
  });

  it('a route taken over by another protocol is taken back', async () => {
    const a = leases[0]!.address!;
    const dev = lab.subscribers[0]!.routerDev;
    await repaired('ip route replace … proto static', () => ip('route', 'replace', `${a}/32`, 'dev', dev, 'proto', 'static'),
      async () => (await ip('-4', 'route', 'show', `${a}/32`)).includes('proto 201'));
  });

  it('a deleted PD route and a deleted permanent neighbour come back', async () => {
    const pd = leases[1]!.delegatedPrefix!;
    const dev1 = lab.subscribers[1]!.routerDev;
    await repaired('ip -6 route del (PD)', () => ip('-6', 'route', 'del', pd, 'dev', dev1),
      async () => (await ip('-6', 'route', 'show', 'proto', '201')).includes(`${pd} via fe80::`));
    const a = leases[0]!.address!;
    const dev0 = lab.subscribers[0]!.routerDev;
    await repaired('ip neigh del', () => ip('neigh', 'del', a, 'dev', dev0),
      async () => (await ip('-4', 'neigh', 'show', 'nud', 'permanent')).includes(`${a} dev ${dev0} lladdr ${lab.subscribers[0]!.mac}`));
  });

  it('flushed source-verification sets are refilled, a deleted table is re-created', async () => {
    const a = leases[0]!.address!;
    const has = async () => (await nft('list', 'set', 'inet', 'gleand', 'allow4').catch(() => '')).includes(a);
    await repaired('nft flush set allow4', () => nft('flush', 'set', 'inet', 'gleand', 'allow4'), has);
    await repaired('nft delete table', () => nft('delete', 'table', 'inet', 'gleand'), has);
    expect(await nft('list', 'chain', 'inet', 'gleand', 'prerouting')).toContain('jump verify');
    // the delegated prefix's length set and its rule came back with the table
    const [pdAddress, pdLength] = leases[1]!.delegatedPrefix!.split('/');
    await until('the PD in its length set', async () =>
      (await nft('list', 'set', 'inet', 'gleand', `allow6_${pdLength}`).catch(() => '')).includes(` . ${pdAddress}`));
    expect(await nft('list', 'chain', 'inet', 'gleand', 'verify_prefix')).toContain(`@allow6_${pdLength} accept`);
  });

  it('a reload with another route table, protocol and nft table moves every entry', async () => {
    const a = leases[0]!.address!;
    const pd = leases[1]!.delegatedPrefix!;
    fs.writeFileSync(gleand.configPath, config({ route_table: '100', route_protocol: '202', nft_table: 'gleand_b' }));
    process.kill(gleand.pid, 'SIGHUP');
    await until('the routes in table 100', async () => {
      const t = await ip('-6', 'route', 'show', 'table', '100', 'proto', '202');
      return t.includes(pd) && (await ip('-4', 'route', 'show', 'table', '100', 'proto', '202')).includes(a);
    });
    await until('the verify elements in the new table', async () =>
      (await nft('list', 'set', 'inet', 'gleand_b', 'allow4').catch(() => '')).includes(a));
    // Nothing stranded under the old tags.
    expect(await ip('-4', 'route', 'show', 'table', 'all', 'proto', '201')).toBe('');
    expect(await ip('-6', 'route', 'show', 'table', 'all', 'proto', '201')).toBe('');
    expect(await ip('neigh', 'show', 'proto', '201')).toBe('');
    expect(await ip('neigh', 'show', 'proto', '202')).toContain(`${a} dev`);
    expect(await nft('list', 'tables')).not.toMatch(/table inet gleand$/m);
    expect(gleand.proc.log()).toMatch(/notice config: reloaded .*kernel=reinstalled/);
  });

  it('a reload that removes a port releases it: bindings, routes, neighbours, verify entries and the port itself', async () => {
    const a = leases[0]!.address!;
    const dev0 = lab.subscribers[0]!.routerDev;
    const dev1 = lab.subscribers[1]!.routerDev;
    const text = labGleandConfig(lab, {
      subscribers: [lab.subscribers[1]!],
      global: { reconcile_interval: '3600', route_table: '100', route_protocol: '202', nft_table: 'gleand_b' },
    });
    fs.writeFileSync(gleand.configPath, text);
    process.kill(gleand.pid, 'SIGHUP');
    await until('the reload', async () => /kernel=reinstalled.*\n(.|\n)*kernel=reinstalled/.test(gleand.proc.log()));
    expect(await ip('-4', 'route', 'show', 'table', 'all', 'proto', '202')).not.toContain(`${a} dev ${dev0}`);
    expect(await ip('neigh', 'show', 'dev', dev0, 'proto', '202')).toBe('');
    expect(await nft('list', 'set', 'inet', 'gleand_b', 'allow4')).not.toContain(a);
    // The other port keeps its PD route.
    expect(await ip('-6', 'route', 'show', 'table', '100', 'proto', '202')).toContain(leases[1]!.delegatedPrefix!);
    // The device is no longer a subscriber port: out of the verified ports, no packet socket.
    const ports = await nft('list', 'set', 'inet', 'gleand_b', 'ports');
    expect(ports).toContain(dev1);
    expect(ports).not.toContain(dev0);
    const cli = (...argv: string[]) => lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, ...argv, '-c', gleand.configPath]);
    const rows = JSON.parse((await cli('bindings', '--json')).stdout) as { address: string; port: string }[];
    expect(rows.map((r) => r.port)).not.toContain(lab.subscribers[0]!.name);
    expect(rows.length).toBeGreaterThan(0);
    const status = JSON.parse((await cli('status', '--json')).stdout) as { drivers: { packet: { ports: { device: string }[] } } };
    expect(status.drivers.packet.ports.map((p) => p.device)).toEqual([dev1]);
    expect(gleand.proc.log()).toMatch(/ended: port removed by the reload.*bindings=1/);
  });
});
