/**
 * `npm run bench`: every benchmark, each printing its numbers beside a reference run
 * made in the same process or namespace (ratios, never pass/fail). Needs root for the
 * netlink and relay benchmarks (they make their own network namespaces) and cc for the
 * relay benchmark's generator and sink.
 */
import { buildSync } from 'esbuild';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const TSX = path.join(__dirname, '..', '..', 'node_modules', '.bin', 'tsx');
const run = (title: string, args: string[]) => {
  console.log(`\n== ${title} ==`);
  const r = spawnSync(TSX, args, { stdio: 'inherit', cwd: path.join(__dirname, '..', '..') });
  if (r.status !== 0) process.exitCode = 1;
};

run('netlink: 100k PD routes, gleand batched client vs ip -6 -batch vs npm netlink', [path.join(__dirname, 'netlink-routes.ts')]);
run('source verification: 1,000 verify entries into an empty table and into 200k, gleand (hash sets) vs nft -f vs the previous pipapo layout', [path.join(__dirname, 'nft-verify.ts')]);
run('decode + relay + glean, one core', [path.join(__dirname, 'glean.ts'), 'rate']);
run('kernel: live install of DHCPv6 clients through the daemon path vs ip -batch; status latency', [path.join(__dirname, 'kernel-live.ts')]);
run('bulk leasequery: restore of 100k delegated prefixes after a reboot, gleand (built bundle) vs a count-only reader of the same stream vs ip -6 -batch', [path.join(__dirname, 'bulk-restore.ts')]);
run('relay: gleand vs ISC dhcrelay, client ns → router ns → server ns (C generator and answering sink)', [path.join(__dirname, 'relay.ts')]);

run('memory: the live daemon (built bundle, init-script flags) with 100k v4 + 100k v6/PD bindings restored from its snapshot, from /proc beside a bare node', [path.join(__dirname, 'memory-live.ts')]);
run('multicast: join → first packet at the subscriber, gleand (built bundle) vs smcroute static entries (packet path only), with the split report → entry → packet', [path.join(__dirname, 'multicast-join.ts')]);
run('paging (RFC 3154): bytes per tracked host at 100k through REGISTER and 1M through the table vs a Map of the ids; REGISTERs and PAGEs/s vs HMAC-SHA-256 alone; held → delivered (core time)', ['--expose-gc', path.join(__dirname, 'paging.ts')]);

// The binding table alone (in-process, no sockets, no kernel) is measured on a bundle run by plain node (tsx's own loader would be counted
// otherwise), with default flags and with the flags the init script uses.
const bundle = path.join(os.tmpdir(), `gleand-bench-${process.pid}.js`);
buildSync({ entryPoints: [path.join(__dirname, 'glean.ts')], bundle: true, platform: 'node', outfile: bundle, logLevel: 'error' });
const bare = spawnSync(process.execPath, ['--expose-gc', '-e', 'gc(); console.log(process.memoryUsage.rss())'], { encoding: 'utf8' });
console.log(`\n== memory ==\nbare Node RSS: ${(Number(bare.stdout) / 1048576).toFixed(1)} MiB (reference)`);
for (const flags of [[], ['--optimize-for-size', '--max-semi-space-size=1']]) {
  console.log(`node ${flags.join(' ') || '(default flags)'}:`);
  spawnSync(process.execPath, ['--expose-gc', ...flags, bundle, 'rss'], { stdio: 'inherit' });
}
fs.rmSync(bundle, { force: true });

// The multicast router (issue 9): IGMPv3 / MLDv2 reports/s beside decode alone, and RSS with 1,000 ports × 10 groups × 10 sources,
// bundled and run by plain node with the init script's flags (test/bench/multicast.ts).
const mcBundle = path.join(os.tmpdir(), `gleand-mc-bench-${process.pid}.js`);
buildSync({ entryPoints: [path.join(__dirname, 'multicast.ts')], bundle: true, platform: 'node', outfile: mcBundle, logLevel: 'error' });
console.log('\n== multicast: reports/s through the core at 100 and 1,000 ports vs decode alone; RSS with 1,000 ports × 10 groups × 10 sources ==');
// The rate at 100 and 1,000 ports side by side: a report's cost must not grow with the ports
// that hold its group (the per-group index, README multicast benchmark).
for (const [args, ports] of [[['rate'], '100,1000'], [['rss', '4'], '1000'], [['rss', '6'], '1000']] as const) {
  spawnSync(process.execPath, ['--expose-gc', '--optimize-for-size', '--max-semi-space-size=1', mcBundle, ...args], {
    stdio: 'inherit', env: { ...process.env, BENCH_MC_PORTS: ports },
  });
}
fs.rmSync(mcBundle, { force: true });
