/**
 * Live kernel install: DHCPv6 clients (IA_NA + IA_PD) answered through the daemon's own
 * path — Runtime → Agent → DhcpModule → bindings owner → KernelDriver (coalesced live
 * batches, rtnetlink + nfnetlink) — into a fresh network namespace with source
 * verification on. Only the sockets are left out: client SOLICITs and server
 * RELAY-REPLs are dispatched as the drivers would, and replies go to a counting sink
 * (a reply leaves only once its entries are in the kernel). The snapshot journal is
 * written as the daemon writes it (to a temporary directory).
 *
 * Prints, beside `ip -batch` of the same routes and neighbours (the reference):
 *   - clients/s and entries/s for N clients, and when the last entry was in;
 *   - µs per entry for 1,000 new clients into a small table and into a large one
 *     (the cost must not grow with the table);
 *   - `status` round trips over the control socket, from another process, while the
 *     clients arrive, while a full reconcile of every entry runs, and while the clients
 *     renew until the journal is compacted (max, p99).
 * No recovery window (nothing to recover in a fresh namespace): its recount after a burst
 * of live batches would land in the measurements. Asserts nothing. Run as root: npx tsx test/bench/kernel-live.ts (GN_BENCH_CLIENTS).
 * Re-runs itself inside the namespace (a process cannot change its own).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Action } from '../../src/actions';
import { createCore } from '../../src/core';
import type { Event } from '../../src/events';
import { dhcp6Message, ipv6Udp, IPPROTO_UDP, utf8Bytes, type Dhcp6Option } from '../../src/wire';
import { formatIPv6, parseIPv6 } from '../../src/wire/address';
import type { Driver, DriverContext } from '../../platform/driver';
import { JournalDriver } from '../../platform/journal';
import { KernelDriver } from '../../platform/kernel/driver';
import { Runtime } from '../../platform/runtime';
import { pdPrefix } from './netlink-routes-shared';
import { rerunInNamespace, sh } from './netns';
import { latency, loopDelay, statusProbe } from './status-probe';

const N = Number(process.env.GN_BENCH_CLIENTS ?? 20_000);
const GROWTH = 1000;
/**
 * Clients dispatched per turn of the loop. 64 (128 events) held the loop ~16 ms of CPU
 * per turn — the bench's own block, which the `status` probe and the CPU-hold ticks
 * measured as the daemon's; 16 is a socket read's worth of a burst.
 */
const FEED_PER_TURN = Number(process.env.GN_BENCH_FEED ?? 16);



/** Client i: MAC, link-local, DUID, IA_NA address and delegated /56. */
function client(i: number) {
  const b = [(i >> 24) & 0xff, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff];
  const mac = Uint8Array.of(0x02, 0x00, ...b);
  const ll = parseIPv6(`fe80::${((i >> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}`)!;
  const na = parseIPv6(`2001:db8:1::${((i >> 16) & 0xffff).toString(16)}:${(i & 0xffff).toString(16)}`)!;
  const pd = parseIPv6(pdPrefix(i + 512))!; // from 2001:db8:2::/48 on: 2001:db8:1::/48 holds the addresses
  return { mac, ll, na, pd, duid: Uint8Array.of(0, 3, 0, 1, ...mac) };
}

const SERVER = parseIPv6('2001:db8::547')!;
const ALL_RELAYS = parseIPv6('ff02::1:2')!;

function events(i: number): [Event, Event] {
  const c = client(i);
  const clientId: Dhcp6Option = { kind: 'clientId', duid: c.duid };
  const solicit = dhcp6Message.encode({ kind: 'client', msgType: 3, transactionId: i & 0xffffff, options: [clientId] });
  const frame = ipv6Udp.encode({
    ip: { trafficClass: 0, flowLabel: 0, nextHeader: IPPROTO_UDP, hopLimit: 1, source: c.ll, destination: ALL_RELAYS },
    udp: { sourcePort: 546, destinationPort: 547, payload: solicit },
  });
  const reply = {
    kind: 'client' as const, msgType: 7, transactionId: i & 0xffffff, options: [
      clientId,
      { kind: 'iaNa' as const, iaid: 1, t1: 0, t2: 0, options: [{ kind: 'iaAddr' as const, address: c.na, preferredLifetime: 3600, validLifetime: 7200, options: [] }] },
      { kind: 'iaPd' as const, iaid: 2, t1: 0, t2: 0, options: [{ kind: 'iaPrefix' as const, preferredLifetime: 3600, validLifetime: 7200, prefixLength: 56, prefix: c.pd, options: [] }] },
    ],
  };
  const repl = dhcp6Message.encode({
    kind: 'relay', msgType: 13, hopCount: 0, linkAddress: parseIPv6('2001:db8:1::1')!, peerAddress: c.ll,
    options: [{ kind: 'interfaceId', interfaceId: utf8Bytes('lan1') }, { kind: 'relayMsg', message: reply }],
  });
  return [
    { kind: 'packet', port: 'lan1', family: 6, bytes: frame, mac: c.mac, checksum: 'check', outgoing: false },
    { kind: 'udp', family: 6, source: SERVER, sourcePort: 547, destinationPort: 547, payload: repl, passive: false },
  ];
}

/** Where replies and relayed requests would go: counted, with the instant of the last reply. */
class Sink implements Driver {
  readonly name = 'sink';
  readonly actionKinds = ['link-send', 'udp-send'] as const;
  replies = 0;
  lastReplyAt = 0;
  async start(_c: unknown, _ctx: DriverContext) {}
  async reconfigure() {}
  execute(a: Action): void {
    if (a.kind !== 'link-send') return;
    this.replies++;
    this.lastReplyAt = performance.now();
  }
  async stop() {}
}

const countLines = (args: string[]) => sh(args[0]!, args.slice(1)).split('\n').filter((l) => l.trim() !== '').length;
function kernelCounts() {
  const routes = countLines(['ip', '-6', 'route', 'show', 'proto', '201']);
  const neighs = countLines(['ip', '-6', 'neigh', 'show', 'proto', '201']);
  // every IPv6 allow set: allow6 (addresses, link-locals) and allow6_<n> (delegated prefixes)
  const table = sh('nft', ['-j', 'list', 'table', 'inet', 'gleand']);
  const sets = (JSON.parse(table) as { nftables: { set?: { name: string; elem?: unknown[] } }[] }).nftables;
  const elems = sets.reduce((n, x) => n + (x.set && /^allow6(_\d+)?$/.test(x.set.name) ? x.set.elem?.length ?? 0 : 0), 0);
  return { routes, neighs, verifies: elems, total: routes + neighs + elems };
}

/** CPU seconds this process used since `from` (user + system; V8's helper threads included). */
const cpuSeconds = (from: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1e6;
};

async function feed(rt: Runtime, from: number, to: number): Promise<void> {
  for (let i = from; i < to; i++) {
    const [p, u] = events(i);
    rt.dispatch(p);
    rt.dispatch(u);
    if ((i + 1) % FEED_PER_TURN === 0) await new Promise((r) => setImmediate(r)); // let replies and the kernel queue run
  }
}

async function settle(sink: Sink, expected: number): Promise<void> {
  while (sink.replies < expected) await new Promise((r) => setTimeout(r, 5));
}

async function inner(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-kl-'));
  const sock = path.join(dir, 'ctl.sock');
  const conf = path.join(dir, 'gleand.conf');
  fs.writeFileSync(conf, `
config global
	option control_socket '${sock}'
	option state_dir '${dir}'
	option snapshot '${dir}/snapshot'
	option log_level 'warn'
	option reconcile_interval '86400'
	option recovery_window '0'
	option max_bindings '1000000'
config upstream 'wan'
	option device 'v1'
	list dhcpv6_server '${formatIPv6(SERVER)}'
config subscriber 'lan1'
	option device 'v0'
	option upstream 'wan'
	option relay_v4 '0'
	option link_address '2001:db8:1::1'
	option max_bindings '100000'
	option rate_limit '100000'
	option verify_source '${process.env.GN_BENCH_VERIFY ?? '1'}'
`);
  const sink = new Sink();
  const kernel = new KernelDriver();
  const rt = new Runtime({ configPath: conf, core: (now) => createCore(now).agent, drivers: () => [kernel, new JournalDriver(), sink] });
  if (!(await rt.start())) throw new Error('runtime did not start');
  rt.dispatch({ kind: 'link', port: 'lan1', up: true, mac: Uint8Array.of(2, 0xaa, 0, 0, 0, 1), linkLocal: parseIPv6('fe80::1')! });
  console.log(`kernel ${os.release()}, ${os.cpus().length} CPUs, load ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);

  // 1. Growth: 1,000 clients into an empty table, then into one of N clients.
  const perEntry = async (from: number) => {
    const before = kernelCounts().total;
    const t0 = performance.now();
    await feed(rt, from, from + GROWTH);
    await settle(sink, from + GROWTH);
    const ms = performance.now() - t0;
    const added = kernelCounts().total - before;
    return { us: (ms * 1000) / added, added };
  };
  await feed(rt, 0, GROWTH); // warm-up: the JIT, the sets' first allocations
  await settle(sink, GROWTH);
  const small = await perEntry(GROWTH);
  const base = 2 * GROWTH;

  // 2. N clients as fast as the loop takes them, with status probed from another process.
  const probe = statusProbe(sock);
  const held = loopDelay();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await feed(rt, base, base + N);
  await settle(sink, base + N);
  const tAll = performance.now() - t0;
  const cpuAll = cpuSeconds(c0);
  const duringFlood = await probe.stop();
  const heldFlood = held.stop();
  const counts = kernelCounts();
  const s = rt.status() as { drivers: { kernel: { deltas: number; liveBatches: number; failed: number }; journal: { compactions: number } }; rssBytes: number };
  const large = await perEntry(base + N);

  // 3. A full reconcile of everything (a reload reconciles), status probed meanwhile.
  const probe2 = statusProbe(sock);
  const held2 = loopDelay();
  const r0 = performance.now();
  const rc0 = process.cpuUsage();
  await rt.reload();
  const tReconcile = performance.now() - r0;
  const cpuReconcile = cpuSeconds(rc0);
  const duringReconcile = await probe2.stop();
  const heldReconcile = held2.stop();

  // 4. The same clients renew, round after round, until the journal is compacted (a
  // renewal appends a line per binding: the file passes twice the table + 10,000).
  const journal = () => (rt.status() as { drivers: { journal: { compactions: number } } }).drivers.journal.compactions;
  const compactions0 = journal();
  const probe3 = statusProbe(sock);
  const held3 = loopDelay();
  const w0 = performance.now();
  let rounds = 0;
  while (journal() === compactions0 && rounds < 6) {
    const replies = sink.replies;
    await feed(rt, base, base + N);
    await settle(sink, replies + N);
    rounds++;
  }
  const tRenew = performance.now() - w0;
  const duringRenew = await probe3.stop();
  const heldRenew = held3.stop();
  const renewCompactions = journal() - compactions0;
  await rt.stop('bench');

  // Reference: ip -batch of the same routes and neighbours (what ip(8) needs for them).
  const total = base + N + GROWTH;
  const lines6: string[] = [];
  for (let i = 0; i < total; i++) {
    const c = client(i);
    lines6.push(`route replace ${formatIPv6(c.na)}/128 dev v0 proto 188`);
    lines6.push(`route replace ${formatIPv6(c.pd)}/56 via ${formatIPv6(c.ll)} dev v0 proto 188`);
    lines6.push(`neigh replace ${formatIPv6(c.na)} lladdr ${[...c.mac].map((x) => x.toString(16).padStart(2, '0')).join(':')} dev v0 nud permanent`);
    lines6.push(`neigh replace ${formatIPv6(c.ll)} lladdr ${[...c.mac].map((x) => x.toString(16).padStart(2, '0')).join(':')} dev v0 nud permanent`);
  }
  const batchFile = path.join(dir, 'ip.batch');
  fs.writeFileSync(batchFile, `${lines6.join('\n')}\n`);
  const b0 = performance.now();
  sh('ip', ['-6', '-batch', batchFile]);
  const tIp = performance.now() - b0;
  fs.rmSync(dir, { recursive: true, force: true });

  const rnEntries = counts.routes + counts.neighs;
  console.log(`${N} DHCPv6 clients (IA_NA + IA_PD), verify_source ${process.env.GN_BENCH_VERIFY === '0' ? 'off' : 'on'}, after ${base} clients:`);
  console.log(`  gleand: ${Math.round((N / tAll) * 1000).toLocaleString('en')} clients/s; all ${counts.total.toLocaleString('en')} entries in ` +
    `(${counts.routes} routes, ${counts.neighs} neighbours, ${counts.verifies} verify elements) when the last reply left: ` +
    `${(tAll / 1000).toFixed(2)} s (replies wait for their entries); CPU ${cpuAll.toFixed(2)} s`);
  console.log(`  ${s.drivers.kernel.deltas.toLocaleString('en')} deltas in ${s.drivers.kernel.liveBatches.toLocaleString('en')} batches, ` +
    `${s.drivers.kernel.failed} refused; RSS ${(s.rssBytes / 1048576).toFixed(1)} MiB; ${s.drivers.journal.compactions} journal compactions; ${FEED_PER_TURN} clients fed per turn`);
  console.log(`  reference ip -6 -batch of the same ${(lines6.length).toLocaleString('en')} routes + neighbours (no verify): ` +
    `${(tIp / 1000).toFixed(2)} s for ${total} clients; gleand routes+neighbours/s vs ip: ` +
    `${((rnEntries / tAll) / (lines6.length / tIp)).toFixed(2)}×`);
  console.log(`  cost per entry, ${GROWTH} new clients: into a table of ${GROWTH} clients ${small.us.toFixed(1)} µs, ` +
    `into ${(counts.total).toLocaleString('en')} entries ${large.us.toFixed(1)} µs (ratio ${(large.us / small.us).toFixed(2)})`);
  console.log(`  status while clients arrive: ${latency(duringFlood)}; ${heldFlood}`);
  console.log(`  status during a full reconcile of ${(counts.total + large.added).toLocaleString('en')} entries (${(tReconcile / 1000).toFixed(2)} s, CPU ${cpuReconcile.toFixed(2)} s): ${latency(duringReconcile)}; ${heldReconcile}`);
  console.log(`  status while the ${N} clients renew ${rounds} times (${(tRenew / 1000).toFixed(2)} s, ${renewCompactions} journal compaction(s) of the table): ${latency(duringRenew)}; ${heldRenew}`);
  console.log(`  load at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}

if (process.env.GN_NETNS) inner().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
else rerunInNamespace('gkl', __filename);
