/**
 * Join → first packet (issue 9 benchmark): how long a subscriber waits, from the socket
 * option of its source-specific join to the first datagram of the channel, with gleand
 * (the built bundle) as the router, beside the kernel alone forwarding the same channel.
 *
 *   server ns (upstream sender) ──veth── router ns ──veth── subscriber ns
 *   mc-send.py: (S1, 232.1.1.1) and       gleand, or           mc-join.py `first`:
 *   (S1, ff3e::8000:1), ~1,000 small      smcrouted with       IP_ADD_SOURCE_MEMBERSHIP /
 *   datagrams a second each               static (S, G)        MCAST_JOIN_SOURCE_GROUP
 *
 * gleand: per repetition the subscriber joins, waits for the first datagram and closes its
 * socket (the kernel reports the leave); the next join waits until the kernel's entry is
 * gone (the traffic stopped) and the host's leave reports are over. The split of each join,
 * all on the same wall clock: the subscriber's ALLOW report on the router's port, the first
 * datagram of the channel forwarded out of that port (the entry is in the kernel: between
 * joins the port carries none), both stamped by the kernel in tshark's capture there, and
 * the first datagram at the subscriber's socket. Not `ip -ts monitor mroute` for the entry:
 * its stamp is taken when the `ip` process gets to print, and under load it came up to
 * 120 ms after the datagram the entry forwarded (the split went negative); nor an `ip
 * mroute` poll, which is only as fine as one exec (~10 ms under load).
 * Reference: smcrouted holds static entries of the same channels (gleand stopped: one
 * multicast router per namespace), so the datagrams are on the subscriber's wire before
 * the join, and join → first packet is the packet path alone (the host's socket filter
 * and the gap between datagrams), the floor under any router.
 * Printed: median / p90 / max per family, the ratio gleand / reference, the load. Env:
 * BENCH_MC_JOINS (repetitions per family, 20), BENCH_MC_INTERVAL_MS (the sender's gap, 1).
 * Needs root. Asserts nothing; it prints.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, installUncaughtTeardown, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Lab, type LabSubscriber,
} from '../lab/lab';
import {
  MC, firstPacket, kernelMroute, kernelMroutes, prepareMulticastLab, startSender, startSmcroute, type FirstPacket,
} from '../lab/multicast';
import { until } from '../lab/wait';

const N = Number(process.env['BENCH_MC_JOINS'] ?? 20);
const INTERVAL_MS = Number(process.env['BENCH_MC_INTERVAL_MS'] ?? 1);
/** gleand's timers: a leave ends after LMQI × robustness = 1 s (RFC 3376 §8.8, §8.1). */
const LMQI_DS = 5;
const ROBUSTNESS = 2;
/** The host's own leave retransmissions (RFC 3376 §8.11 Unsolicited Report Interval, 1 s on Linux) end before the next join. */
const HOST_REPORTS_MS = 1100;

type Fam = 4 | 6;
const CHANNEL: Record<Fam, { source: string; group: string }> = {
  4: { source: MC.s1v4, group: MC.g4 },
  6: { source: MC.s1v6, group: MC.g6 },
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load/, 'load');

/** Nearest-rank percentile of milliseconds. */
function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]! : NaN;
}
const row = (xs: readonly number[]) =>
  `median ${pct(xs, 50).toFixed(2)}  p90 ${pct(xs, 90).toFixed(2)}  max ${Math.max(...xs).toFixed(2)} ms`;

interface Split { joinToReport: number; reportToForwarded: number; forwardedToFirst: number }

/** Times (s) of the channel's datagrams leaving the router by the port, in the port's capture. */
async function forwarded(pcap: string, fam: Fam): Promise<number[]> {
  const ch = CHANNEL[fam];
  const filter = fam === 4 ? `ip.src == ${ch.source} and ip.dst == ${ch.group}` : `ipv6.src == ${ch.source} and ipv6.dst == ${ch.group}`;
  return (await tsharkFields(pcap, `udp.dstport == ${MC.port} and ${filter}`, ['frame.time_epoch'])).map(([t]) => Number(t));
}

/** Times (s) of the subscriber's reports that ALLOW the channel's source (RFC 3376 §4.2.12, RFC 3810 §5.2.12 record type 5). */
async function allowReports(pcap: string, fam: Fam): Promise<number[]> {
  const rows = fam === 4
    ? await tsharkFields(pcap, `igmp.type == 0x22 and igmp.record_type == 5 and igmp.maddr == ${MC.g4}`, ['frame.time_epoch'])
    : await tsharkFields(pcap, `icmpv6.type == 143 and icmpv6.mldr.mar.record_type == 5 and icmpv6.mldr.mar.multicast_address == ${MC.g6}`,
      ['frame.time_epoch']);
  return rows.map(([t]) => Number(t));
}

/** The first of `times` at or after `from`, or NaN. */
const firstAfter = (times: readonly number[], from: number) => times.find((t) => t >= from) ?? NaN;

async function withGleand(lab: Lab, sub: LabSubscriber): Promise<{ first: Record<Fam, number[]>; split: Record<Fam, Split[]> }> {
  const capture = await lab.capture(lab.router.ns, sub.routerDev, `igmp or (ip6 and not udp) or udp dst port ${MC.port}`, 'mc-join-port');
  const gleand = lab.startGleand(labGleandConfig(lab, {
    logLevel: 'info',
    extra: `config multicast 'mc'
        option enabled '1'
        option upstream 'wan'
        option last_member_query_interval '${LMQI_DS}'
        option robustness '${ROBUSTNESS}'
`,
  }));
  await gleand.ready();
  const joins: Record<Fam, FirstPacket[]> = { 4: [], 6: [] };
  for (const fam of [4, 6] as const) {
    const ch = CHANNEL[fam];
    for (let i = 0; i < N; i++) {
      const r = await firstPacket(lab, sub, fam, ch.group, ch.source);
      if (r.first === null) throw new Error(`gleand: no datagram of (${ch.source}, ${ch.group}) within 10 s of the join`);
      joins[fam].push(r);
      await until('the leave to end the forwarding', async () => (await kernelMroute(lab, ch.source, ch.group)) === undefined, 10_000, 20);
      await sleep(HOST_REPORTS_MS);
    }
  }
  await gleand.stop();
  await until('the kernel to flush gleand\'s entries', async () => (await kernelMroutes(lab, 4)).length + (await kernelMroutes(lab, 6)).length === 0, 10_000);
  const pcap = await capture.stop();
  const split: Record<Fam, Split[]> = { 4: [], 6: [] };
  for (const fam of [4, 6] as const) {
    const reports = await allowReports(pcap, fam);
    const out = await forwarded(pcap, fam);
    for (const j of joins[fam]) {
      const report = firstAfter(reports, j.join);
      const fwd = firstAfter(out, report);
      const x = { joinToReport: (report - j.join) * 1000, reportToForwarded: (fwd - report) * 1000, forwardedToFirst: (j.first! - fwd) * 1000 };
      split[fam].push(x);
      process.stderr.write(`  IPv${fam} join ${split[fam].length}: ${((j.first! - j.join) * 1000).toFixed(2)} ms = ` +
        `${x.joinToReport.toFixed(2)} + ${x.reportToForwarded.toFixed(2)} + ${x.forwardedToFirst.toFixed(2)}\n`);
    }
  }
  return { first: { 4: joins[4].map((j) => (j.first! - j.join) * 1000), 6: joins[6].map((j) => (j.first! - j.join) * 1000) }, split };
}

async function withSmcroute(lab: Lab, sub: LabSubscriber): Promise<{ first: Record<Fam, number[]>; rate: Record<Fam, number> }> {
  const smc = await startSmcroute(lab, ([4, 6] as const).map((f) => ({ ...CHANNEL[f], to: sub.routerDev })));
  for (const fam of [4, 6] as const) {
    await until(`smcroute's (${CHANNEL[fam].source}, ${CHANNEL[fam].group})`, async () =>
      (await kernelMroute(lab, CHANNEL[fam].source, CHANNEL[fam].group))?.oifs.includes(sub.routerDev) === true, 10_000);
  }
  // The sender's real rate, from the kernel's counters of the static entries.
  const packets = async () => Promise.all(([4, 6] as const).map(async (f) => (await kernelMroute(lab, CHANNEL[f].source, CHANNEL[f].group))!.packets));
  const t0 = Date.now();
  const p0 = await packets();
  await sleep(2000);
  const p1 = await packets();
  const s = (Date.now() - t0) / 1000;
  const rate = { 4: (p1[0]! - p0[0]!) / s, 6: (p1[1]! - p0[1]!) / s };
  const first: Record<Fam, number[]> = { 4: [], 6: [] };
  for (const fam of [4, 6] as const) {
    for (let i = 0; i < N; i++) {
      const r = await firstPacket(lab, sub, fam, CHANNEL[fam].group, CHANNEL[fam].source);
      if (r.first === null) throw new Error(`smcroute: no datagram of ${CHANNEL[fam].group} within 10 s of the join`);
      first[fam].push((r.first - r.join) * 1000);
    }
  }
  await smc.stop('SIGTERM');
  return { first, rate };
}

async function main(): Promise<void> {
  requireRootAndNetns();
  installUncaughtTeardown();
  ensureLabPackages();
  if (!fs.existsSync(GLEAND_BUNDLE)) throw new Error(`${GLEAND_BUNDLE}: npm run build first`);
  const load0 = load();
  const lab = await createLab({ subscribers: 1, startServers: false });
  try {
    await prepareMulticastLab(lab);
    const sub = lab.subscribers[0]!;
    await startSender(lab, [[MC.s1v4, MC.g4], [MC.s1v6, MC.g6]], INTERVAL_MS);
    const g = await withGleand(lab, sub);
    const ref = await withSmcroute(lab, sub);
    const load1 = load();
    console.log(`join → first packet at the subscriber, ${N} joins per family, the kernel's own source-specific joins, gleand the built bundle (node default flags); ` +
      `${os.cpus().length} cores, shared (${load0} before, ${load1} after)`);
    console.log(`  stamps: the join and the first datagram by the subscriber (time.time()), the report and the forwarded datagram by the kernel (tshark on the router's port)`);
    console.log(`  sender: ${ref.rate[4].toFixed(0)} (IPv4) / ${ref.rate[6].toFixed(0)} (IPv6) datagrams/s of one channel each (kernel counters), payloads of at most 17 bytes`);
    for (const fam of [4, 6] as const) {
      const ch = CHANNEL[fam];
      console.log(`  IPv${fam} (${ch.source}, ${ch.group}):`);
      console.log(`    gleand, join → first packet:                     ${row(g.first[fam])}`);
      // Linux sends a state-change report 2 jiffies after the socket option at the earliest
      // (igmp_ifc_start_timer / mld_ifc_start_work: 8 ms at HZ=250): the host's, under any router.
      console.log(`      join → ALLOW report on the port (tshark):      ${row(g.split[fam].map((x) => x.joinToReport))}  (the host's kernel)`);
      console.log(`      report → first datagram out of the port:       ${row(g.split[fam].map((x) => x.reportToForwarded))}  (gleand: entry in the kernel)`);
      console.log(`      that datagram → the subscriber's socket:       ${row(g.split[fam].map((x) => x.forwardedToFirst))}`);
      console.log(`    reference: smcroute static entry (packet path): ${row(ref.first[fam])}`);
      const afterReport = g.split[fam].map((x) => x.reportToForwarded + x.forwardedToFirst);
      console.log(`    gleand / reference: ${(pct(g.first[fam], 50) / pct(ref.first[fam], 50)).toFixed(1)}× (medians), ` +
        `${(pct(g.first[fam], 90) / pct(ref.first[fam], 90)).toFixed(1)}× (p90); from the report on (the router's share, ` +
        `report → subscriber's socket): ${(pct(afterReport, 50) / pct(ref.first[fam], 50)).toFixed(1)}× (medians, ${pct(afterReport, 50).toFixed(2)} ms)`);
    }
  } finally {
    await lab.teardown();
  }
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
