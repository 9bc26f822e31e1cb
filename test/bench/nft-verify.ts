/**
 * Source-verification inserts: does the cost per entry grow with the table? (issue 7,
 * item 2: "measure at 1k and at 200k entries").
 *
 * In a fresh network namespace, through NftVerify (nfnetlink, one transaction per batch),
 * 1,000 verify entries of DHCPv6 clients — per client its IA_NA address (/128, allow6),
 * its link-local (/128, allow6) and its delegated /56 (allow6_56) — are added into an
 * empty table and into one already holding 200,000 entries (GN_BENCH_VERIFY_FILL).
 * Each point is the median (min, max) of 7 runs (after a warm-up) of 1,000 distinct new entries; the delete of 1,000
 * is timed too.
 *
 * References, in the same namespace and run:
 *   - `nft -f` of the same elements into the same layout in another table (at 0 and at
 *     the same fill): what nft(8) itself takes, process start and parsing included;
 *   - the previous layout (`flags interval` on the concatenation: a pipapo set, one
 *     element per range) through `nft -f`, at 0 and at GN_BENCH_PIPAPO_FILL entries
 *     (default 20,000: filling a pipapo set is quadratic, 200k would take minutes).
 * Asserts nothing. Run as root: npx tsx test/bench/nft-verify.ts
 * Re-runs itself inside the namespace (a process cannot change its own).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { VerifyEntry } from '../../src/kernel/entries';
import { formatIPv6, formatMac, parseIPv6 } from '../../src/wire/address';
import { NftVerify, type ApplyResult } from '../../platform/nft';
import { pdPrefix } from './netlink-routes-shared';
import { rerunInNamespace, sh } from './netns';

const FILL = Number(process.env.GN_BENCH_VERIFY_FILL ?? 200_000);
const PIPAPO_FILL = Number(process.env.GN_BENCH_PIPAPO_FILL ?? 20_000);
const BATCH = 1000;
const RUNS = 7;
const DEV = 'v0';



/** Entry k: client k / 3; its address, link-local or delegated /56 by k % 3. */
function entry(k: number): VerifyEntry {
  const i = Math.floor(k / 3);
  const b = [(i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
  const mac = Uint8Array.of(0x02, 0x00, ...b);
  const hi = ((i >> 16) & 0xffff).toString(16);
  const lo = (i & 0xffff).toString(16);
  switch (k % 3) {
    case 0: return { family: 6, device: DEV, mac, prefix: parseIPv6(`2001:db8:1::${hi}:${lo}`)!, prefixLength: 128 };
    case 1: return { family: 6, device: DEV, mac, prefix: parseIPv6(`fe80::${hi}:${lo}`)!, prefixLength: 128 };
    default: return { family: 6, device: DEV, mac, prefix: parseIPv6(pdPrefix(i + 512))!, prefixLength: 56 };
  }
}
const range = (from: number, n: number): VerifyEntry[] => Array.from({ length: n }, (_, j) => entry(from + j));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) => `${fmt(median(xs))} ms (min ${fmt(Math.min(...xs))}, max ${fmt(Math.max(...xs))})`;
const us = (ms: number, n: number) => (ms * 1000) / n;
const fmt = (x: number) => x.toLocaleString('en', { maximumFractionDigits: 1 });

// ---------------------------------------------------------------------------------
// nft -f references

type Layout = 'hash' | 'pipapo';

function rulesetFor(table: string, layout: Layout): string {
  const t = `inet ${table}`;
  if (layout === 'pipapo') {
    return `add table ${t}\nadd set ${t} allow6 { typeof meta iif . ether saddr . ip6 saddr; flags interval; }\n`;
  }
  const type = 'type iface_index . ether_addr . ipv6_addr;';
  return `add table ${t}\nadd set ${t} allow6 { ${type} }\nadd set ${t} allow6_56 { ${type} }\n`;
}

/** `add element` lines for entries [from, from + n) in the layout's sets, 5,000 per statement. */
function elementScript(table: string, layout: Layout, from: number, n: number): string {
  const bySet = new Map<string, string[]>();
  for (let k = from; k < from + n; k++) {
    const e = entry(k);
    const host = e.prefixLength === 128;
    const set = layout === 'pipapo' || host ? 'allow6' : 'allow6_56';
    const addr = `${formatIPv6(e.prefix)}${layout === 'pipapo' && !host ? '/56' : ''}`;
    const list = bySet.get(set) ?? [];
    list.push(`"${DEV}" . ${formatMac(e.mac)} . ${addr}`);
    bySet.set(set, list);
  }
  const out: string[] = [];
  for (const [set, elems] of bySet) {
    for (let i = 0; i < elems.length; i += 5000) out.push(`add element inet ${table} ${set} { ${elems.slice(i, i + 5000).join(', ')} }`);
  }
  return `${out.join('\n')}\n`;
}

function nftFile(dir: string, script: string): number {
  const file = path.join(dir, 'nft.script');
  fs.writeFileSync(file, script);
  const t0 = performance.now();
  sh('nft', ['-f', file]);
  return performance.now() - t0;
}

/** ms for 1,000 new elements at 0 and after filling to `fill` (median of RUNS each). */
function nftReference(dir: string, table: string, layout: Layout, fill: number) {
  nftFile(dir, rulesetFor(table, layout));
  const small: number[] = [];
  let next = 0;
  for (let r = 0; r < RUNS; r++, next += BATCH) small.push(nftFile(dir, elementScript(table, layout, next, BATCH)));
  const f0 = performance.now();
  while (next < fill) {
    const n = Math.min(10_000, fill - next);
    nftFile(dir, elementScript(table, layout, next, n));
    next += n;
  }
  const fillMs = performance.now() - f0;
  const large: number[] = [];
  for (let r = 0; r < RUNS; r++, next += BATCH) large.push(nftFile(dir, elementScript(table, layout, next, BATCH)));
  nftFile(dir, `delete table inet ${table}\n`);
  return { small: median(small), large: median(large), fillMs };
}

// ---------------------------------------------------------------------------------

async function timed(f: () => Promise<ApplyResult>): Promise<number> {
  const t0 = performance.now();
  const r = await f();
  const ms = performance.now() - t0;
  if (r.failures.size > 0) throw new Error(`failures: ${JSON.stringify([...r.failures].slice(0, 3))}`);
  return ms;
}

async function inner(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-nv-'));
  const ifindex = Number(fs.readFileSync(`/sys/class/net/${DEV}/ifindex`, 'utf8'));
  const ifindexOf = (d: string) => (d === DEV ? ifindex : undefined);
  console.log(`kernel ${os.release()}, ${sh('nft', ['--version']).trim()}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  const opened = await NftVerify.open({ table: 'gleand' });
  if (!opened.ok) throw new Error(JSON.stringify(opened.error));
  const v = opened.value;
  const ensured = await v.ensureRuleset([ifindex], [ifindex]);
  if (!ensured.ok) throw new Error(JSON.stringify(ensured.error));

  // The first prefix of a length creates its set and rule (nft -f): once per length.
  const tCreate = await timed(() => v.add([entry(2)], ifindexOf));
  let next = 3;

  // Warm-up (JIT, socket buffers): 1,000 entries added and removed again 5 times, not counted.
  for (let w = 0; w < 5; w++) {
    await timed(() => v.add(range(next, BATCH), ifindexOf));
    await timed(() => v.remove(range(next, BATCH), ifindexOf));
    next += BATCH;
  }

  const add = async () => {
    const ms = await timed(() => v.add(range(next, BATCH), ifindexOf));
    next += BATCH;
    return ms;
  };
  const small: number[] = [];
  for (let r = 0; r < RUNS; r++) small.push(await add());
  const f0 = performance.now();
  const fillFrom = next;
  while (next < FILL) {
    const n = Math.min(10_000, FILL - next);
    await timed(() => v.add(range(next, n), ifindexOf));
    next += n;
  }
  const fillMs = performance.now() - f0;
  const present = 1 + RUNS * BATCH + (FILL - fillFrom); // entries in the sets before the large runs
  const large: number[] = [];
  for (let r = 0; r < RUNS; r++) large.push(await add());
  const removeLarge = await timed(() => v.remove(range(next - BATCH, BATCH), ifindexOf));
  const d0 = performance.now();
  const dumped = await v.dump((i) => (i === ifindex ? DEV : undefined));
  const dumpMs = performance.now() - d0;
  if (!dumped.ok) throw new Error(JSON.stringify(dumped.error));
  v.close();
  await runNftDelete(dir);

  const hash = nftReference(dir, 'ref', 'hash', FILL);
  const pipapo = nftReference(dir, 'old', 'pipapo', PIPAPO_FILL);
  fs.rmSync(dir, { recursive: true, force: true });

  const k = (n: number) => `${Math.round(n / 1000)}k`;
  console.log(`verify entries of DHCPv6 clients (address /128 + link-local /128 + delegated /56), ${BATCH} per batch (one transaction), ${RUNS} runs:`);
  console.log(`  gleand NftVerify (hash sets): into an empty table ${spread(small)}, into ${k(present)} ${spread(large)}; ` +
    `per entry ${fmt(us(median(small), BATCH))} vs ${fmt(us(median(large), BATCH))} µs, ratio ${(median(large) / median(small)).toFixed(2)}`);
  console.log(`    fill to ${k(present)}: ${fmt(fillMs / 1000)} s (${fmt(Math.round((FILL - fillFrom) / (fillMs / 1000)))} entries/s); ` +
    `delete ${BATCH} at ${k(present + RUNS * BATCH)}: ${fmt(removeLarge)} ms; dump of ${dumped.value.entries.length.toLocaleString('en')}: ${fmt(dumpMs)} ms; ` +
    `first prefix of a new length (set + rule by nft -f): ${fmt(tCreate)} ms`);
  console.log(`  reference nft -f, same layout: into empty ${fmt(hash.small)} ms, into ${k(FILL)} ${fmt(hash.large)} ms ` +
    `(ratio ${(hash.large / hash.small).toFixed(2)}; gleand / nft -f at ${k(FILL)}: ${(median(large) / hash.large).toFixed(2)}×)`);
  console.log(`  previous layout (pipapo interval set) by nft -f: into empty ${fmt(pipapo.small)} ms (${fmt(us(pipapo.small, BATCH))} µs/entry), ` +
    `into ${k(PIPAPO_FILL)} ${fmt(pipapo.large)} ms (${fmt(us(pipapo.large, BATCH))} µs/entry), ratio ${(pipapo.large / pipapo.small).toFixed(2)}; ` +
    `fill to ${k(PIPAPO_FILL)} took ${fmt(pipapo.fillMs / 1000)} s`);
}

async function runNftDelete(dir: string): Promise<void> {
  nftFile(dir, 'delete table inet gleand\n');
}

if (process.env.GN_NETNS) inner().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
else rerunInNamespace('gnv', __filename, DEV);
