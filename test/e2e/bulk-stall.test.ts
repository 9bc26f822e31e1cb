// Two bulk leasequery servers after a reboot, one of which stalls mid-stream (RFC 5460
// §7.3, seed 001 §4.6 BULK_LQ_DATA_TIMEOUT; issue 8 tests). Real ISC dhcpd -6 hands two
// clients an address and a delegated prefix each through gleand; two lab responders serve
// dhcpd's own lease file over TCP 547, one on fd00::2 and one on a second address of the
// server's interface, fd00::3, which sends the REPLY and one LEASEQUERY-DATA and then
// nothing (no DONE), keeping the connection open. After a "reboot" (gleand killed, its
// routes, neighbours, nft table and snapshot gone) gleand asks both, with a short
// bulk_data_timeout:
//   - every binding the good server streams is back in the kernel (ip, nft);
//   - the stalled connection is abandoned at the data timeout: the responder sees gleand
//     close it, and gleand's status says so (dataTimeouts, lastError, backoff);
//   - what gleand does next: it retries the stalled server with backoff (the responder
//     accepts and is asked again), while the good server's run is done.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, REPO_ROOT, requireRootAndNetns,
  type GleandHandle, type Lab, type LabProcess, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const STALLED = 'fd00::3';
const DATA_TIMEOUT_S = 2;

describe('bulk leasequery: a server that stalls mid-stream is abandoned at the data timeout; the other completes', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let good: LabProcess;
  let stalled: LabProcess;
  const leases: { address: string; prefix: string; sub: number }[] = [];
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nft = async () => (await lab.exec(lab.router.ns, ['nft', 'list', 'table', 'inet', 'gleand'], { check: false })).stdout;
  const status = async () =>
    JSON.parse((await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout);
  const lines = (p: LabProcess, re: RegExp) => p.log().split('\n').filter((l) => re.test(l));

  /** Every binding's kernel entries, read with ip and nft. */
  async function kernel() {
    const routes = await ip('-6', 'route', 'show', 'proto', '201');
    const sets = await nft();
    return leases.map((l) => {
      const sub = lab.subscribers[l.sub]!;
      return {
        hostRoute: routes.includes(`${l.address} dev ${sub.routerDev}`),
        pdRoute: new RegExp(`^${l.prefix} via fe80::\\S+ dev ${sub.routerDev}`, 'm').test(routes),
        verify: sets.includes(`. ${sub.mac} . ${l.address}`),
      };
    });
  }
  const responder = (listen: string, extra: string[], name: string) => lab.spawn(lab.server.ns, [
    path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), path.join(REPO_ROOT, 'test', 'lab', 'bulk-responder.ts'),
    '--leases', lab.server.dhcpd6LeasesPath, '--allow', lab.router.ipv6, '--link-address', lab.router.gateway6, '--listen', listen, ...extra,
  ], { name });

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
    for (const i of [0, 1]) {
      const client = lab.startClient(i, 'dhclient6napd');
      const lease: LeaseFacts = await client.waitLease(6, 60_000);
      const pdFile = path.join(lab.dir, `${lab.subscribers[i]!.name}-dhclient6napd.lease6pd`);
      const prefix = await until(`client ${i}'s delegated prefix`, async () => {
        try { return /new_ip6_prefix=(\S+)/.exec(fs.readFileSync(pdFile, 'utf8'))?.[1] ?? null; } catch { return null; }
      }, 45_000);
      leases.push({ address: lease.address!, prefix, sub: i });
    }
    // dhcpd recorded all four leases with gleand's relay options (the responders' source).
    await until('dhcpd6 lease file with relay data for four leases', async () =>
      (fs.readFileSync(lab.server.dhcpd6LeasesPath, 'utf8').match(/set lab-iid = /g) ?? []).length >= 4, 20_000);
    await until('the gleaned kernel state', async () => (await kernel()).every((k) => k.hostRoute && k.pdRoute && k.verify), 20_000);
    // A second server address on the server's interface, for the second dhcpv6_server.
    await lab.exec(lab.server.ns, ['ip', '-6', 'addr', 'add', `${STALLED}/64`, 'dev', lab.server.dev, 'nodad']);
    good = responder(lab.server.ipv6, [], 'bulk-good');
    stalled = responder(STALLED, ['--stall-after', '1'], 'bulk-stalled');
    await lab.waitForLog(good, 'listening on 547', 20_000);
    await lab.waitForLog(stalled, 'listening on 547', 20_000);
  }, 240_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('after a reboot: the good server restores every binding, the stalled one is abandoned at the data timeout and retried with backoff', async () => {
    await gleand.stop('SIGKILL');
    await lab.exec(lab.router.ns, ['ip', '-6', 'route', 'flush', 'proto', '201']);
    for (const s of lab.subscribers) await lab.exec(lab.router.ns, ['ip', '-6', 'neigh', 'flush', 'dev', s.routerDev, 'nud', 'all']);
    await lab.exec(lab.router.ns, ['nft', 'delete', 'table', 'inet', 'gleand']);
    fs.rmSync(path.join(lab.dir, 'snapshot'), { recursive: true, force: true });
    expect((await kernel()).some((k) => k.hostRoute || k.pdRoute || k.verify)).toBe(false);

    gleand = lab.startGleand(labGleandConfig(lab, {
      upstream: { dhcpv6_server: [STALLED] },
      extra: `config leasequery\n        option bulk_data_timeout '${DATA_TIMEOUT_S}'\n        option bulk_max_retry '4'\n`,
    }));
    await gleand.ready();

    // Every binding of the good server's stream is in the kernel (it completed: DONE).
    await until('the kernel state from the good server', async () => (await kernel()).every((k) => k.hostRoute && k.pdRoute && k.verify), 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\n${good.log()}\n${stalled.log()}\n${gleand.proc.log().slice(-3000)}`); });
    expect(lines(good, /query xid=\d+ type=3 bindings=4/)).toHaveLength(1);
    expect(lines(good, /answered xid=\d+ bindings=4/)).toHaveLength(1);

    // The stalled server: REPLY + 1 DATA, then silence; gleand closes it at the data timeout.
    await until('the stalled connection closed by gleand', async () => lines(stalled, /closed /).length >= 1, 30_000);
    expect(lines(stalled, /stalled xid=\d+ after data=1 of 3/).length).toBeGreaterThanOrEqual(1);
    expect(lines(stalled, /idle-close/)).toEqual([]); // not the responder's own idle close: gleand's
    const s1 = (await status()).modules.bulk;
    expect(s1.servers[lab.server.ipv6]).toMatchObject({ state: 'done', completed: 1, dataTimeouts: 0, closedMidStream: 0 });
    expect(s1.servers[STALLED]).toMatchObject({ lastError: 'stream blocked (BULK_LQ_DATA_TIMEOUT)' });
    expect(s1.servers[STALLED].dataTimeouts).toBeGreaterThanOrEqual(1);
    expect(s1.servers[STALLED].completed).toBe(0);
    // The run is not finished while a server has not completed; what arrived is installed.
    expect(s1.recovery).toMatchObject({ state: 'running', source: 'bulk-leasequery', trigger: 'start' });
    if (process.env['BULK_PRINT']) console.log(JSON.stringify(s1, null, 1), stalled.log());

    // Next: retry with backoff — the stalled server is connected and asked again, and
    // abandoned again at the data timeout; the good server is not asked again.
    await until('a second stalled query, abandoned again', async () =>
      lines(stalled, /query xid=/).length >= 2 && lines(stalled, /closed /).length >= 2, 30_000);
    const s2 = (await status()).modules.bulk.servers;
    expect(s2[STALLED].connects).toBeGreaterThanOrEqual(2);
    expect(s2[STALLED].retries).toBeGreaterThanOrEqual(2);
    expect(s2[STALLED].dataTimeouts).toBeGreaterThanOrEqual(2);
    expect(['backoff', 'connecting', 'waiting-reply', 'streaming']).toContain(s2[STALLED].state);
    expect(lines(good, /query xid=/)).toHaveLength(1);
    // The kernel state stays whole meanwhile.
    expect((await kernel()).every((k) => k.hostRoute && k.pdRoute && k.verify)).toBe(true);
  }, 120_000);
});
