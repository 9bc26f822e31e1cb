// A restart of gleand is invisible to subscribers: `kill -9` twenty times in a row while
// leased traffic flows both ways through the port (pings from the leased addresses to
// the router, through source verification, the host routes and the permanent
// neighbours). Judged by the kernel and by ping, not by gleand: no packet lost, no entry
// of a live lease deleted (`ip monitor`), and afterwards `gleand bindings` shows every
// binding as it was (from the snapshot journal in the lab's RAM directory).
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

interface Row { binding: string; port: string; mac: string | null; clientId: string | null; circuitId: string | null; expiresInS: number | null }

describe('restart without outage', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let config: string;
  const leases: LeaseFacts[] = [];
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const rows = async (): Promise<Row[]> => JSON.parse((await lab.exec(lab.router.ns,
    [process.execPath, GLEAND_BUNDLE, 'bindings', '--json', '-c', gleand.configPath])).stdout) as Row[];

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    config = labGleandConfig(lab);
    gleand = lab.startGleand(config);
    await gleand.ready();
    const clients = [lab.startClient(0, 'dhclient4'), lab.startClient(1, 'dhclient6napd')];
    leases.push(...(await Promise.all(clients.map((c) => c.waitLease(undefined, 45_000)))));
    // The lab sends no RAs: reach the router's fd00:1::1 via its link-local on the port,
    // so v6 pings run through the host route, permanent neighbour and verify entry too.
    const sub = lab.subscribers[1]!;
    const ll = /inet6 (fe80::[0-9a-f:]+)\//.exec(await ip('-6', 'addr', 'show', 'dev', sub.routerDev, 'scope', 'link'))![1]!;
    await lab.exec(sub.ns, ['ip', '-6', 'route', 'replace', `${lab.router.gateway6}/128`, 'via', ll, 'dev', 'eth0']);
    await until('the kernel state', async () =>
      (await ip('-4', 'route', 'show', 'proto', '201')).includes(`${leases[0]!.address} dev`) &&
      (await ip('-6', 'route', 'show', 'proto', '201')).includes(leases[1]!.delegatedPrefix!));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('kill -9 twenty times: no leased packet lost, no entry of a live lease deleted, every binding back', async () => {
    const before = await rows();
    const tBefore = Date.now();
    expect(before.map((r) => r.binding).sort()).toEqual(
      [`${leases[0]!.address}/32`, `${leases[1]!.address}/128`, leases[1]!.delegatedPrefix!].sort());
    const monitor = lab.spawn(lab.router.ns, ['ip', '-o', 'monitor', 'route', 'neigh'], { name: 'ipmon' });
    const COUNT = '1500'; // 15 s at 10 ms: the restarts happen inside it
    const ping4 = lab.spawn(lab.subscribers[0]!.ns, ['ping', '-n', '-q', '-i', '0.01', '-c', COUNT, '-W', '1', lab.router.gateway4], { name: 'ping4' });
    const ping6 = lab.spawn(lab.subscribers[1]!.ns,
      ['ping', '-6', '-n', '-q', '-i', '0.01', '-c', COUNT, '-W', '1', '-I', leases[1]!.address!, lab.router.gateway6], { name: 'ping6' });
    for (let i = 0; i < 20; i++) {
      process.kill(gleand.pid, 'SIGKILL');
      await gleand.proc.exited;
      gleand = lab.startGleand(config);
      await gleand.ready();
    }
    await Promise.all([ping4.exited, ping6.exited]);
    await monitor.stop();
    for (const p of [ping4, ping6]) {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(p.log());
      expect(m, p.log()).not.toBeNull();
      expect(`${p.name}: ${m![2]} of ${m![1]} answered`).toBe(`${p.name}: ${COUNT} of ${COUNT} answered`);
    }
    const leased = [leases[0]!.address!, leases[1]!.address!, leases[1]!.delegatedPrefix!.replace('/56', '')];
    const deleted = monitor.log().split('\n').filter((l) => l.startsWith('Deleted') && leased.some((a) => l.includes(a)));
    expect(deleted).toEqual([]);
    // Every binding back with its MAC/DUID, port and circuit, and its expiry (minus the time that passed).
    const after = await rows();
    const elapsedS = (Date.now() - tBefore) / 1000;
    expect(after.map((r) => r.binding).sort()).toEqual(before.map((r) => r.binding).sort());
    for (const b of before) {
      const a = after.find((r) => r.binding === b.binding)!;
      expect({ ...a, expiresInS: null }).toEqual({ ...b, expiresInS: null });
      expect(Math.abs(a.expiresInS! - (b.expiresInS! - elapsedS))).toBeLessThanOrEqual(5);
    }
    expect((await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout).toContain(leases[0]!.address!);
  });
});
