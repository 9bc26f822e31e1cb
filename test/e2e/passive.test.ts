// Passive mode: ISC dhcrelay relays in the router namespace; gleand, with relaying off,
// gleans the same bindings from the traffic dhcrelay receives (raw sockets) and installs
// the same kernel state. Checked with ip(8). Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

describe('passive mode beside ISC dhcrelay', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  const leases: LeaseFacts[] = [];
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 3 });
    await lab.startDhcrelay();
    gleand = lab.startGleand(labGleandConfig(lab, { subscriber: () => ({ mode: 'passive' }) }));
    await gleand.ready();
    const clients = [lab.startClient(0, 'dhclient4'), lab.startClient(1, 'udhcpc'), lab.startClient(2, 'dhclient6napd')];
    leases.push(...(await Promise.all(clients.map((c) => c.waitLease(undefined, 45_000)))));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('gleans the IPv4 bindings dhcrelay relayed and installs their routes and neighbours', async () => {
    for (const i of [0, 1]) {
      const sub = lab.subscribers[i]!;
      await until(`the route of ${leases[i]!.address}`, async () =>
        (await ip('-4', 'route', 'show', 'proto', '201')).includes(`${leases[i]!.address} dev ${sub.routerDev} scope link`));
      expect(await ip('-4', 'neigh', 'show', 'nud', 'permanent')).toContain(`${leases[i]!.address} dev ${sub.routerDev} lladdr ${sub.mac} PERMANENT`);
    }
  });

  it('gleans the IA_NA address and the delegated prefix (next hop: the client link-local)', async () => {
    const sub = lab.subscribers[2]!;
    await until('the PD route', async () => (await ip('-6', 'route', 'show', 'proto', '201')).includes(`${leases[2]!.delegatedPrefix} via fe80::`));
    const routes = await ip('-6', 'route', 'show', 'proto', '201');
    expect(routes).toMatch(new RegExp(`^${leases[2]!.address} dev ${sub.routerDev} `, 'm'));
    expect(routes).toContain(`dev ${sub.routerDev}`);
  });

  it('sent nothing itself: the relaying was dhcrelay\'s (no relay counters, no server-side socket)', async () => {
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath]);
    const s = JSON.parse(r.stdout);
    for (const p of ['sub0', 'sub1', 'sub2']) {
      expect(s.modules.dhcp.ports[p].relayed4).toBe(0);
      expect(s.modules.dhcp.ports[p].relayed6).toBe(0);
    }
    expect(s.drivers.udp).toMatchObject({ v4: false, v6: false, sent: 0 });
    expect(s.drivers.passive.observed4).toBeGreaterThanOrEqual(2);
    expect(s.modules.dhcp.bindings).toBe(4);
  });
});
