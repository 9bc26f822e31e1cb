/**
 * Bulk-restore benchmark (issue 8): a rebooted router — no snapshot, no kernel state —
 * restores 100k delegated prefixes by bulk leasequery (RFC 5460) from the lab responder.
 *
 *   server ns ─────────(veth)───────── router ns ──(veth)── subscriber ns
 *   test/lab/bulk-responder.ts          build/out/gleand.js (init script's node flags)
 *   (N synthetic /56 PD leases, one      | the count-only reader
 *    per CLIENT_DATA, our Relay-ID,      | ip -6 -batch
 *    the port's Interface-ID)
 *
 * Per repetition, in the same run against the same responder:
 *   gleand      time from spawning the daemon to N routes of its protocol in the kernel
 *               (the namespace's IPv6 route count read from /proc/<pid>/net/rt6_stats
 *               every 5 ms — one small read, so the poller costs nothing next to the
 *               restore; checked after with `ip -6 route show proto 201`), its CPU time,
 *               then VmRSS / VmHWM from /proc/<pid>/status and its status (bytes read,
 *               bindings restored).
 *   count-only  `bulk-count-reader.ts` (plain node): the same query from the same
 *               address, frames counted until DONE; time from spawn to exit.
 *   ip -batch   `ip -6 -batch` of the same N routes (via the same link-locals, proto
 *               201) into the same namespace after gleand's are flushed.
 * Printed: medians, the ratio gleand / count-only (target ≤ 1.1×), bytes per binding on
 * the wire, RSS. Env: BENCH_BULK_BINDINGS (100000), BENCH_BULK_REPS (3),
 * BENCH_BULK_BUNDLE (another build's gleand.js), BENCH_BULK_NODE_FLAGS (instead of the init script's), BENCH_BULK_PROFILE (a directory:
 * gleand runs with --cpu-prof there). Needs root. Asserts nothing; it prints.
 */
import { execFileSync, spawn } from 'node:child_process';
import { buildSync } from 'esbuild';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createLab, GLEAND_BUNDLE, installUncaughtTeardown, labGleandConfig, REPO_ROOT, requireRootAndNetns, type Lab,
} from '../lab/lab';
import { linkLocalFromDuid } from '../lab/bulk-leases';
import { initScriptNodeFlags } from './relay';

const N = Number(process.env['BENCH_BULK_BINDINGS'] ?? 100_000);
const REPS = Number(process.env['BENCH_BULK_REPS'] ?? 3);
const BUNDLE = process.env['BENCH_BULK_BUNDLE'] ?? GLEAND_BUNDLE;
const PROFILE = process.env['BENCH_BULK_PROFILE'];
/** The daemon's node flags: the init script's unless BENCH_BULK_NODE_FLAGS says otherwise ('' for none). */
const NODE_FLAGS = process.env['BENCH_BULK_NODE_FLAGS'] !== undefined
  ? process.env['BENCH_BULK_NODE_FLAGS'].split(/\s+/).filter(Boolean) : initScriptNodeFlags();
const PROTO = 201;
/** The delegation pool: /56s from a /38 (2^18 of them), listed as the port's subnet6. */
const POOL = '2001:db8:400::/38';
const RELAY_ID = '00:04:be:5c:00:00:00:00:00:00:00:00:00:00:00:00:00:01';
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Client i: a DUID-LL on MAC 02:00:<i>, its EUI-64 link-local, its /56. */
function client(i: number) {
  const mac = [0x02, 0x00, (i >>> 24) & 0xff, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff];
  const duid = Uint8Array.of(0, 3, 0, 1, ...mac);
  const hi = 0x400 + (i >>> 8);
  return { duid, linkLocal: linkLocalFromDuid(duid)!, prefix: `2001:db8:${hi.toString(16)}:${((i & 0xff) << 8).toString(16)}::` };
}

const hex = (b: Uint8Array | Buffer) => Buffer.from(b).toString('hex');

/** The responder's lease list (`bulk-leases.ts` JSON form): one delegated prefix per client. */
function writeLeases(file: string, port: string, linkAddress: string): void {
  const now = Math.floor(Date.now() / 1000);
  const relayId = RELAY_ID.replace(/:/g, '');
  const iid = hex(Buffer.from(port));
  const out = fs.openSync(file, 'w');
  fs.writeSync(out, '[');
  for (let i = 0; i < N; i++) {
    const c = client(i);
    fs.writeSync(out, `${i ? ',' : ''}${JSON.stringify({
      duid: hex(c.duid), kind: 'prefix', address: c.prefix, prefixLength: 56, cltt: now - 600, ends: now + 86_400,
      preferredLife: 43_200, interfaceId: iid, relayId, remoteId: null, linkAddress, peerAddress: c.linkLocal,
    })}\n`);
  }
  fs.writeSync(out, ']');
  fs.closeSync(out);
}

/** IPv6 route entries of the namespace `pid` lives in (fib_rt_entries, hex, 4th field). */
function routeEntries(pid: number): number {
  return parseInt(fs.readFileSync(`/proc/${pid}/net/rt6_stats`, 'utf8').split(' ')[3]!, 16);
}
/** User and system CPU of a process, ms (fields 14 and 15 of /proc/<pid>/stat). */
function cpuMs(pid: number): { user: number; sys: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: (Number(f[11]) / CLK_TCK) * 1000, sys: (Number(f[12]) / CLK_TCK) * 1000 };
}
const procStatus = (pid: number, key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);

/** A process run in a namespace, timed from spawn to exit (node start-up included, as for gleand). */
function timed(ns: string, argv: string[]): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const p = spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => { stdout += d; });
    p.once('exit', (code) => resolve({ ms: performance.now() - t0, stdout, code }));
  });
}

async function routesOfProto(lab: Lab): Promise<number> {
  const out = (await lab.exec(lab.router.ns, ['ip', '-6', 'route', 'show', 'proto', String(PROTO)])).stdout;
  return out.split('\n').filter((l) => l.trim() !== '').length;
}

/** What a reboot leaves: none of gleand's routes, neighbours, nft table, snapshot. */
async function reboot(lab: Lab): Promise<void> {
  await lab.exec(lab.router.ns, ['ip', '-6', 'route', 'flush', 'proto', String(PROTO)]);
  await lab.exec(lab.router.ns, ['ip', '-6', 'neigh', 'flush', 'dev', lab.subscribers[0]!.routerDev, 'nud', 'all'], { check: false });
  await lab.exec(lab.router.ns, ['nft', 'delete', 'table', 'inet', 'gleand'], { check: false });
  fs.rmSync(path.join(lab.dir, 'snapshot'), { recursive: true, force: true });
}

interface GleandRun { tcp: Record<string, number>; kernel: Record<string, unknown>; ms: number; cpuMs: number; sysMs: number; rssKiB: number; hwmKiB: number; routes: number; bytesIn: number; restored: number; recoveryMs: number }

async function runGleand(lab: Lab, configPath: string, sock: string, rep: number): Promise<GleandRun> {
  await reboot(lab);
  const baseEntries = parseInt((await lab.exec(lab.router.ns, ['cat', '/proc/net/rt6_stats'])).stdout.split(' ')[3]!, 16);
  const prof = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=gleand-bulk-${rep}.cpuprofile`] : [];
  const t0 = performance.now();
  const proc = lab.spawn(lab.router.ns, [process.execPath, ...NODE_FLAGS, ...prof, BUNDLE, 'run', '-c', configPath], { name: 'gleand' });
  const deadline = t0 + 600_000;
  while (routeEntries(proc.pid) < baseEntries + N) {
    if (performance.now() > deadline) throw new Error(`gleand: ${routeEntries(proc.pid) - baseEntries} of ${N} routes after 600 s; log ${proc.logPath}`);
    await sleep(5);
  }
  const ms = performance.now() - t0;
  const cpu = cpuMs(proc.pid);
  const rssKiB = procStatus(proc.pid, 'VmRSS');
  const hwmKiB = procStatus(proc.pid, 'VmHWM');
  const routes = await routesOfProto(lab);
  // gleand's own account, for the bytes it read and what it says it restored.
  let status: { modules: { bulk: { recovery: { state: string; restored: number; durationMs: number } } }; drivers: { tcp: { bytesIn: number }; kernel: Record<string, unknown> } } | null = null;
  for (let i = 0; i < 200; i++) {
    const r = await lab.exec(lab.router.ns, [process.execPath, BUNDLE, 'status', '--json', '-s', sock], { check: false });
    if (r.code === 0) {
      status = JSON.parse(r.stdout);
      if (status!.modules.bulk.recovery.state === 'finished') break;
    }
    await sleep(50);
  }
  // A profile of a 100k restore takes seconds to write at exit on a loaded machine.
  await proc.stop('SIGTERM', PROFILE ? 120_000 : 5000);
  return {
    tcp: (status?.drivers.tcp ?? {}) as Record<string, number>, kernel: status?.drivers.kernel ?? {}, ms, cpuMs: cpu.user + cpu.sys, sysMs: cpu.sys, rssKiB, hwmKiB, routes, bytesIn: status?.drivers.tcp.bytesIn ?? NaN,
    restored: status?.modules.bulk.recovery.restored ?? NaN, recoveryMs: status?.modules.bulk.recovery.durationMs ?? NaN,
  };
}

async function main(): Promise<void> {
  requireRootAndNetns();
  installUncaughtTeardown();
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE}: npm run build first`);
  const uptime0 = execFileSync('uptime', { encoding: 'utf8' }).trim();
  const lab = await createLab({ subscribers: 1, startServers: false });
  try {
    const port = lab.subscribers[0]!;
    const leases = path.join(lab.dir, 'bulk-leases.json');
    writeLeases(leases, port.name, lab.router.gateway6);
    const responder = lab.spawn(lab.server.ns, [
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), path.join(REPO_ROOT, 'test', 'lab', 'bulk-responder.ts'),
      '--leases', leases, '--allow', lab.router.ipv6, '--link-address', lab.router.gateway6, '--idle-s', '600',
    ], { name: 'bulk-responder' });
    await lab.waitForLog(responder, 'listening on 547', 20_000);

    const reader = path.join(lab.dir, 'bulk-count-reader.js');
    buildSync({ entryPoints: [path.join(__dirname, 'bulk-count-reader.ts')], bundle: true, platform: 'node', outfile: reader, logLevel: 'error' });
    const readerArgv = [process.execPath, reader, '--server', lab.server.ipv6, '--relay-id', RELAY_ID, '--source', lab.router.ipv6];

    const sock = path.join(lab.dir, 'gleand.sock');
    const configPath = path.join(lab.dir, 'gleand.conf');
    fs.writeFileSync(configPath, labGleandConfig(lab, {
      logLevel: 'info', controlSocket: sock,
      global: { relay_id: RELAY_ID, route_protocol: String(PROTO) },
      subscriber: () => ({ max_bindings: String(N), subnet6: [POOL] }),
      // The benchmark measures the DHCPv6 stream; DHCPv4 bulk (TCP 67) has no responder here.
      extra: `config leasequery\n        option v4 '0'\n`,
    }));

    const batch = path.join(lab.dir, 'routes.batch');
    fs.writeFileSync(batch, Array.from({ length: N }, (_, i) => {
      const c = client(i);
      return `route replace ${c.prefix}/56 via ${c.linkLocal} dev ${port.routerDev} proto ${PROTO}`;
    }).join('\n') + '\n');

    // Warm the responder (its lease list parsed once, its JIT) so no contender pays for it.
    await timed(lab.router.ns, readerArgv);

    const g: GleandRun[] = [];
    const c: { ms: number; bytes: number; bindings: number }[] = [];
    const b: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const r = await timed(lab.router.ns, readerArgv);
      const counted = JSON.parse(r.stdout.trim().split('\n').pop()!) as { how: string; bytes: number; bindings: number };
      if (counted.how !== 'done' || counted.bindings !== N) throw new Error(`count-only reader: ${r.stdout}`);
      c.push({ ms: r.ms, bytes: counted.bytes, bindings: counted.bindings });

      const run = await runGleand(lab, configPath, sock, rep);
      if (run.routes !== N) throw new Error(`gleand: ip route shows ${run.routes} routes of proto ${PROTO}, not ${N}`);
      g.push(run);

      await reboot(lab);
      const ipb = await timed(lab.router.ns, ['ip', '-6', '-batch', batch]);
      const ipRoutes = await routesOfProto(lab);
      if (ipb.code !== 0 || ipRoutes !== N) throw new Error(`ip -batch: exit ${ipb.code}, ${ipRoutes} routes`);
      b.push(ipb.ms);
      process.stderr.write(`  rep ${rep + 1}: count-only ${r.ms.toFixed(0)} ms, gleand ${run.ms.toFixed(0)} ms ` +
        `(cpu ${run.cpuMs.toFixed(0)} ms of which sys ${run.sysMs.toFixed(0)}, RSS ${(run.rssKiB / 1024).toFixed(1)} MiB, restored ${run.restored}), ip -batch ${ipb.ms.toFixed(0)} ms\n` +
        `    gleand tcp ${JSON.stringify(run.tcp)}; kernel deltas ${run.kernel['deltas']} in ${run.kernel['liveBatches']} live batches, ` +
        `${run.kernel['reconciles']} reconciles (${run.kernel['repairs']} repairs after ${run.kernel['monitorOverruns']} monitor overruns; ` +
        `${run.kernel['liveDuringReconcile']} live batches inside one, ${run.kernel['digestsEqual']} kinds in step by digest)\n`);
    }
    await reboot(lab);
    const uptime1 = execFileSync('uptime', { encoding: 'utf8' }).trim();

    const gm = median(g.map((x) => x.ms)), cm = median(c.map((x) => x.ms)), bm = median(b);
    const bytes = median(c.map((x) => x.bytes));
    console.log(`bulk restore of ${N.toLocaleString('en')} delegated /56 prefixes, ${REPS} repetitions, medians; ` +
      `gleand ${BUNDLE} (node ${NODE_FLAGS.join(' ') || 'default flags'}), verify_source on; ${os.cpus().length} cores, shared`);
    console.log(`  load before: ${uptime0}`);
    console.log(`  load after:  ${uptime1}`);
    console.log(`  gleand, start to ${N.toLocaleString('en')} routes in the kernel: ${(gm / 1000).toFixed(2)} s ` +
      `(${Math.round(N / (gm / 1000)).toLocaleString('en')} routes/s; CPU ${(median(g.map((x) => x.cpuMs)) / 1000).toFixed(2)} s, of which system ${(median(g.map((x) => x.sysMs)) / 1000).toFixed(2)} s; ` +
      `its own recovery timer ${(median(g.map((x) => x.recoveryMs)) / 1000).toFixed(2)} s)`);
    console.log(`  count-only reader of the same stream:   ${(cm / 1000).toFixed(2)} s`);
    console.log(`  ip -6 -batch of the same routes:        ${(bm / 1000).toFixed(2)} s`);
    console.log(`  gleand / count-only: ${(gm / cm).toFixed(2)}× (target ≤ 1.1×); gleand / ip -batch: ${(gm / bm).toFixed(2)}×`);
    console.log(`  on the wire: ${bytes.toLocaleString('en')} bytes for ${N.toLocaleString('en')} bindings = ${(bytes / N).toFixed(1)} bytes per binding ` +
      `(gleand read ${median(g.map((x) => x.bytesIn)).toLocaleString('en')} bytes)`);
    console.log(`  gleand RSS after the restore: ${(median(g.map((x) => x.rssKiB)) / 1024).toFixed(1)} MiB (peak ${(median(g.map((x) => x.hwmKiB)) / 1024).toFixed(1)} MiB)`);
  } finally {
    await lab.teardown();
  }
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
