// The IGMPv3/MLDv2 SSM router end to end (issue 9): an upstream sender sends (S1, G) and
// (S2, G) for a G in 232/8 and a G in ff3e::/96; subscribers join with their own kernel
// (IP_ADD_SOURCE_MEMBERSHIP, MCAST_JOIN_SOURCE_GROUP). Judged by the router's kernel
// (`ip mroute`: what gleand installed through the multicast routing socket, with the
// kernel's packet counters) and by tshark on every subscriber's wire — never by gleand.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LabSubscriber,
} from '../lab/lab';
import {
  MC, captureData, channelCounts, flood, join, kernelMroute, kernelMroutes, prepareMulticastLab, startSender, type Join,
} from '../lab/multicast';
import { until } from '../lab/wait';

/** Seconds, as configured below: RFC 3376 §8.3 / §8.8 (tenths of a second in the config). */
const QUERY_RESPONSE_S = 2;
const LAST_MEMBER_QUERY_S = 0.5;
const ROBUSTNESS = 2;
const MAX_GROUPS = 16;
const MAX_SOURCES = 8;

describe('multicast SSM router', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let config: string;
  let sub: LabSubscriber[];
  let control: Capture[];
  let upstreamCapture: Capture;
  const joins: Record<string, Join> = {};
  const p = (i: number) => lab.subscribers[i]!.routerDev;
  const cli = async (...args: string[]) => (await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, ...args, '-c', gleand.configPath])).stdout;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const status = async (): Promise<any> => JSON.parse(await cli('status', '--json'));

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 4, startServers: false });
    sub = lab.subscribers;
    await prepareMulticastLab(lab);
    // sub3 is an IGMPv2 / MLDv1 host (RFC 4604 §2.2.2: its joins cannot name a source).
    await lab.exec(sub[3]!.ns, ['sysctl', '-qw', `net.ipv4.conf.${sub[3]!.dev}.force_igmp_version=2`,
      `net.ipv6.conf.${sub[3]!.dev}.force_mld_version=1`]);
    config = labGleandConfig(lab, {
      extra: `config multicast 'mc'
        option enabled '1'
        option upstream 'wan'
        option query_interval '10'
        option query_response_interval '${QUERY_RESPONSE_S * 10}'
        option last_member_query_interval '${LAST_MEMBER_QUERY_S * 10}'
        option robustness '${ROBUSTNESS}'
        option max_groups '${MAX_GROUPS}'
        option max_sources '${MAX_SOURCES}'
`,
    });
    // IGMP and MLD on two subscribers' wires and upstream, from before gleand's first query.
    control = [
      await lab.capture(sub[0]!.ns, sub[0]!.dev, 'igmp or (ip6 and not udp)', 'mc-ctl-sub0'),
      await lab.capture(sub[1]!.ns, sub[1]!.dev, 'igmp or (ip6 and not udp)', 'mc-ctl-sub1'),
    ];
    upstreamCapture = await lab.capture(lab.server.ns, lab.server.dev, 'igmp or (ip6 and not udp)', 'mc-ctl-upstream');
    await startSender(lab, [[MC.s1v4, MC.g4], [MC.s2v4, MC.g4], [MC.s1v6, MC.g6], [MC.s2v6, MC.g6]]);
    gleand = lab.startGleand(config);
    await gleand.ready();
    joins['0v4'] = await join(lab, sub[0]!, 4, MC.g4, [MC.s1v4]);
    joins['0v6'] = await join(lab, sub[0]!, 6, MC.g6, [MC.s1v6]);
    joins['1v4'] = await join(lab, sub[1]!, 4, MC.g4, [MC.s2v4]);
    joins['1v6'] = await join(lab, sub[1]!, 6, MC.g6, [MC.s2v6]);
    // EXCLUDE-mode (any-source) joins of SSM groups: RFC 4604 §2.2.1, nothing is forwarded.
    joins['2v4'] = await join(lab, sub[2]!, 4, MC.g4, []);
    joins['2v6'] = await join(lab, sub[2]!, 6, MC.g6, []);
    // Source-specific joins that a v2 / v1 host can only report as a group join.
    joins['3v4'] = await join(lab, sub[3]!, 4, MC.g4, [MC.s1v4]);
    joins['3v6'] = await join(lab, sub[3]!, 6, MC.g6, [MC.s1v6]);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('each subscriber receives exactly the channels it joined; EXCLUDE, IGMPv2 and MLDv1 joins of SSM groups get nothing', async () => {
    await until('the forwarding entries of the four INCLUDE joins', async () => {
      const want = [[MC.s1v4, MC.g4, p(0)], [MC.s2v4, MC.g4, p(1)], [MC.s1v6, MC.g6, p(0)], [MC.s2v6, MC.g6, p(1)]] as const;
      for (const [s, g, dev] of want) {
        const m = await kernelMroute(lab, s, g);
        if (!m || m.iif !== lab.router.upstreamDev || m.oifs.join() !== dev) return false;
      }
      return true;
    }, 20_000);
    const captures = await Promise.all(sub.map((s) => captureData(lab, s)));
    // Traffic has flowed for a while once the kernel counted 30 more packets of a channel.
    const start = (await kernelMroute(lab, MC.s1v4, MC.g4))!.packets;
    await until('30 packets forwarded', async () => (await kernelMroute(lab, MC.s1v4, MC.g4))!.packets >= start + 30, 20_000);
    const counts = await Promise.all(captures.map(async (c) => channelCounts(await c.stop())));
    expect(Object.keys(counts[0]!).sort()).toEqual([`${MC.s1v4} ${MC.g4}`, `${MC.s1v6} ${MC.g6}`].sort());
    expect(Object.keys(counts[1]!).sort()).toEqual([`${MC.s2v4} ${MC.g4}`, `${MC.s2v6} ${MC.g6}`].sort());
    for (const n of Object.values({ ...counts[0], ...counts[1] })) expect(n).toBeGreaterThanOrEqual(10);
    expect(counts[2]).toEqual({});
    expect(counts[3]).toEqual({});
    // The ignored joins are counted (gleand's own view, beside the wire's): RFC 4604 §3.1
    // EXCLUDE records and §3.5 IGMPv2 / MLDv1 reports of SSM groups.
    const ports = (await status())['modules']['multicast']['ports'];
    for (const fam of ['IGMP', 'MLD']) {
      expect(ports['sub2'][fam]['counters']['ssmExcludeIgnored']).toBeGreaterThan(0);
      expect(ports['sub3'][fam]['counters']['ssmOldReportIgnored']).toBeGreaterThan(0);
    }
    // Only the joined channels are in the kernel, each out of its subscriber's port.
    expect((await kernelMroutes(lab, 4)).map((m) => `${m.src} ${m.group} ${m.oifs.join()}`).sort())
      .toEqual([`${MC.s1v4} ${MC.g4} ${p(0)}`, `${MC.s2v4} ${MC.g4} ${p(1)}`]);
  });

  it('a leave stops the channel within the last member query time, after a group-and-source-specific query', async () => {
    const t0 = Date.now();
    await joins['0v4']!.leave();
    // RFC 3376 §6.4.2 / §8.12: the source timer is lowered to LMQT = LMQI × robustness.
    await until('(S1, G) gone from the kernel', async () => (await kernelMroute(lab, MC.s1v4, MC.g4)) === undefined,
      (LAST_MEMBER_QUERY_S * ROBUSTNESS + 1) * 1000, 50);
    const took = Date.now() - t0;
    console.info(`leave: (S1, G) out of the kernel ${took} ms after the join's socket closed`);
    expect(took).toBeLessThanOrEqual((LAST_MEMBER_QUERY_S * ROBUSTNESS + 1) * 1000);
    const c = await captureData(lab, sub[0]!);
    const start = (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets;
    await until('20 more packets of (S2, G)', async () => (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets >= start + 20, 20_000);
    const counts = await channelCounts(await c.stop());
    expect(counts[`${MC.s1v4} ${MC.g4}`] ?? 0).toBe(0);
    expect(counts[`${MC.s1v6} ${MC.g6}`] ?? 0).toBeGreaterThan(0); // the other family's channel is untouched
  });

  it('tshark decodes gleand\'s queries (general and group-and-source-specific) and its upstream reports without errors', async () => {
    const [c0, c1] = await Promise.all(control.map((c) => c.stop()));
    const up = await upstreamCapture.stop();
    const bad = '_ws.malformed or _ws.expert.severity == "error"';
    for (const pcap of [c0!, c1!, up]) expect(await tsharkFields(pcap, bad, ['frame.number'])).toEqual([]);
    // IGMPv3 general queries from the router (RFC 3376 §4.1) and MLDv2 ones (RFC 3810 §5.1).
    const q4 = await tsharkFields(c0!, 'igmp.type == 0x11 and igmp.version == 3', ['igmp.maddr', 'igmp.num_src', 'igmp.saddr']);
    expect(q4.some(([g]) => g === '0.0.0.0')).toBe(true);
    // The leave above: a group-and-source-specific query naming S1 (RFC 3376 §6.6.3.2).
    expect(q4.some(([g, n, s]) => g === MC.g4 && Number(n) >= 1 && (s ?? '').split(',').includes(MC.s1v4))).toBe(true);
    const q6 = await tsharkFields(c1!, 'icmpv6.type == 130', ['icmpv6.mld.multicast_address', 'ipv6.src']);
    expect(q6.some(([g, src]) => g === '::' && (src ?? '').startsWith('fe80:'))).toBe(true);
    // Upstream, the proxy reports the channels its ports want as an SSM-aware host (RFC 4605 §4.1).
    const r4 = await tsharkFields(up, 'igmp.type == 0x22', ['igmp.maddr', 'igmp.saddr']);
    expect(r4.some(([g, s]) => (g ?? '').split(',').includes(MC.g4) && (s ?? '').split(',').includes(MC.s2v4))).toBe(true);
    const r6 = await tsharkFields(up, 'icmpv6.type == 143', ['icmpv6.mldr.mar.multicast_address', 'icmpv6.mldr.mar.source_address']);
    expect(r6.some(([g, s]) => (g ?? '').split(',').includes(MC.g6) && (s ?? '').split(',').includes(MC.s2v6))).toBe(true);
  });

  it('a flood of reports with lying record counts stays within the bounds; the other ports are still served', async () => {
    await flood(lab, sub[3]!, 300);
    // Bounded: at most max_groups × max_sources channels a port, whatever was claimed.
    const all = [...(await kernelMroutes(lab, 4)), ...(await kernelMroutes(lab, 6))];
    expect(all.length).toBeLessThanOrEqual(MAX_GROUPS * MAX_SOURCES + 4);
    expect(all.filter((m) => m.oifs.includes(p(3))).length).toBeLessThanOrEqual(MAX_GROUPS * MAX_SOURCES);
    const c = await captureData(lab, sub[1]!);
    const start = (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets;
    await until('(S2, G) still forwarded to sub1', async () => (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets >= start + 20, 20_000);
    const counts = await channelCounts(await c.stop());
    expect(counts[`${MC.s2v4} ${MC.g4}`] ?? 0).toBeGreaterThan(0);
    expect(gleand.proc.running()).toBe(true);
    // Counted: the lying records as malformed, the bounds as refusals (gleand's view).
    const st = await status();
    const mc = st['modules']['multicast'];
    expect(Object.values(mc['counters']['dropped'] as Record<string, number>).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(mc['ports']['sub3']['IGMP']['counters']['groupLimit'] + mc['ports']['sub3']['IGMP']['counters']['sourceLimit']).toBeGreaterThan(0);
    console.info(`flood: ${all.length} kernel entries; dropped ${JSON.stringify(mc['counters']['dropped'])}; sub3 IGMP limits`,
      mc['ports']['sub3']['IGMP']['counters']['groupLimit'], mc['ports']['sub3']['IGMP']['counters']['sourceLimit'],
      'socket', JSON.stringify(st['drivers']['multicast']['devices'].find((d: { port: string }) => d.port === 'sub3')));
    // The human and JSON forms of the CLI read the same state.
    expect(await cli('mroutes')).toContain(`${MC.s2v4}`);
    expect(await cli('groups', 'sub1')).toMatch(/sub1\s+232\.1\.1\.1\s+include\s+IGMPv3\s+yes/);
    expect(await cli('status')).toMatch(/ROUTER PORT/);
  });

  it('kill -9 and start again: the kernel flushes, the startup queries bring every channel back within one Query Response Interval + 1 s', async () => {
    await gleand.stop('SIGKILL');
    await until('the kernel flushed gleand\'s entries', async () => (await kernelMroutes(lab, 4)).length === 0, 5000);
    gleand = lab.startGleand(config);
    await gleand.ready();
    const t0 = Date.now();
    await until('the channels back', async () =>
      (await kernelMroute(lab, MC.s2v4, MC.g4))?.oifs.includes(p(1)) === true &&
      (await kernelMroute(lab, MC.s1v6, MC.g6))?.oifs.includes(p(0)) === true &&
      (await kernelMroute(lab, MC.s2v6, MC.g6))?.oifs.includes(p(1)) === true,
    (QUERY_RESPONSE_S + 1) * 1000 + 2000, 50);
    console.info(`restart: every channel back in the kernel ${Date.now() - t0} ms after gleand ran again`);
    expect(Date.now() - t0).toBeLessThanOrEqual((QUERY_RESPONSE_S + 1) * 1000);
    const c = await captureData(lab, sub[1]!);
    const start = (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets;
    await until('traffic after the restart', async () => (await kernelMroute(lab, MC.s2v4, MC.g4))!.packets >= start + 10, 20_000);
    expect((await channelCounts(await c.stop()))[`${MC.s2v4} ${MC.g4}`] ?? 0).toBeGreaterThan(0);
  });
});
