/**
 * Bulk route install benchmark: N IPv6 PD routes (2001:db8:XXXX:XX00::/56 via fe80::1
 * on a veth) into a fresh network namespace, with
 *   1. our batched rtnetlink client (platform/netlink),
 *   2. `ip -6 -batch` (iproute2: one request, one ACK at a time),
 *   3. the npm `netlink` package's request API, in a child process (it may abort).
 * Prints routes/s and ratios; asserts nothing. Run as root:
 *   npx tsx test/bench/netlink-routes.ts            (GN_BENCH_ROUTES=100000 by default)
 * The script re-runs itself inside the namespace with `ip netns exec`, because a Node
 * process cannot change its own network namespace.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, unlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { AF, Rtnl, type Route } from '../../platform/netlink/index';
import { formatIPv6, parseIPv6 } from '../../src/wire/address';
import { pdPrefix } from './netlink-routes-shared';
import { rerunInNamespace, sh } from './netns';

const N = Number(process.env.GN_BENCH_ROUTES ?? 100_000);
const PROTO = 188;
const ROUNDS = Number(process.env.GN_BENCH_ROUNDS ?? 2);
const REPO = path.resolve(__dirname, '../..');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');



const countRoutes = (): number => sh('ip', ['-6', 'route', 'show', 'proto', String(PROTO)]).split('\n').filter((l) => l !== '').length;
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en')} routes/s`;

async function inner(): Promise<void> {
  const opened = Rtnl.open();
  if (!opened.ok) throw new Error(`Rtnl.open: ${JSON.stringify(opened.error)}`);
  const c = opened.value;
  const links = await c.dumpLinks();
  const v0 = links.ok ? links.value.items.find((l) => l.ifname === 'v0') : undefined;
  if (v0 === undefined) throw new Error('no v0');
  const routes: Route[] = [];
  const gateway = parseIPv6('fe80::1')!;
  for (let i = 0; i < N; i++) routes.push({ dst: parseIPv6(pdPrefix(i))!, dstLen: 56, gateway, oif: v0.index, protocol: PROTO });
  const results: Record<string, number[]> = { ours: [], ipBatch: [] };
  console.log(`${N} IPv6 /56 routes via fe80::1 dev v0, kernel ${os.release()}, ${os.cpus().length} CPUs`);

  for (let round = 1; round <= ROUNDS; round++) {
    let t = performance.now();
    const added = await c.addRoutes(routes);
    const oursMs = performance.now() - t;
    t = performance.now();
    const dumped = await c.dumpRoutes({ family: AF.INET6, protocol: PROTO });
    const dumpMs = performance.now() - t;
    const seen = countRoutes();
    t = performance.now();
    const deleted = await c.deleteRoutes(routes);
    const delMs = performance.now() - t;
    results.ours!.push(oursMs);
    console.log(`round ${round} ours:     add ${oursMs.toFixed(0)} ms (${rate(N, oursMs)}), accepted ${added.done}, failed ${added.failures.size}, ip sees ${seen}`);
    console.log(`round ${round} ours:     dump ${dumpMs.toFixed(0)} ms (${dumped.ok ? dumped.value.items.length : 'error'} routes), delete ${delMs.toFixed(0)} ms (${rate(N, delMs)}, ${deleted.done} deleted)`);

    const file = path.join(os.tmpdir(), `gn-bench-${process.pid}.batch`);
    writeFileSync(file, routes.map((r) => `route add ${formatIPv6(r.dst)}/56 via fe80::1 dev v0 proto ${PROTO}\n`).join(''));
    t = performance.now();
    const ip = spawnSync('ip', ['-6', '-batch', file], { encoding: 'utf8' });
    const ipMs = performance.now() - t;
    unlinkSync(file);
    const ipSeen = countRoutes();
    results.ipBatch!.push(ipMs);
    console.log(`round ${round} ip-batch: add ${ipMs.toFixed(0)} ms (${rate(N, ipMs)}), exit ${ip.status}, ip sees ${ipSeen}`);
    t = performance.now();
    sh('ip', ['-6', 'route', 'flush', 'proto', String(PROTO)]);
    console.log(`round ${round} ip flush: ${(performance.now() - t).toFixed(0)} ms, left ${countRoutes()}`);
  }
  c.close();

  const npm = spawnSync(TSX, [path.join(__dirname, 'netlink-routes-npm.ts')], {
    encoding: 'utf8',
    env: { ...process.env, GN_BENCH_IFINDEX: String(v0.index), GN_BENCH_PROTO: String(PROTO) },
    timeout: 600_000,
  });
  let npmLine: string;
  let npmMs: number | null = null;
  const last = npm.stdout.trim().split('\n').pop() ?? '';
  if (npm.status === 0 && last.startsWith('{')) {
    const j = JSON.parse(last) as { ms: number; ok: number; failed: number; firstError?: string };
    npmMs = j.ms;
    npmLine = `add ${j.ms.toFixed(0)} ms (${rate(N, j.ms)}), ok ${j.ok}, failed ${j.failed}${j.firstError ? `, first error ${j.firstError}` : ''}, ip sees ${countRoutes()}`;
  } else {
    npmLine = `did not finish: exit ${npm.status} signal ${npm.signal}; stderr: ${npm.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  }
  console.log(`npm netlink: ${npmLine}`);
  sh('ip', ['-6', 'route', 'flush', 'proto', String(PROTO)]);

  const best = (xs: number[]): number => Math.min(...xs);
  const ours = best(results.ours!);
  const ipb = best(results.ipBatch!);
  console.log('--- best of rounds');
  console.log(`ours       ${rate(N, ours)}`);
  console.log(`ip -batch  ${rate(N, ipb)}`);
  if (npmMs !== null) console.log(`npm netlink ${rate(N, npmMs)}`);
  console.log(`ratio ours / ip -batch = ${(ipb / ours).toFixed(2)}x (target >= 1.5x)`);
  if (npmMs !== null) console.log(`ratio npm netlink / ip -batch = ${(ipb / npmMs).toFixed(2)}x`);
}

if (process.env.GN_NETNS === undefined) rerunInNamespace('gnb', __filename);
else void inner().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
