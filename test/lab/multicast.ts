/**
 * The multicast part of the lab: the server namespace doubles as the upstream sender
 * (two sources per family on its veth, so (S1, G) and (S2, G) are two channels), the
 * subscribers join with the real kernel (mc-join.py: IP_ADD_SOURCE_MEMBERSHIP /
 * MCAST_JOIN_SOURCE_GROUP), and what reaches each subscriber is counted on its wire by
 * tshark. Nothing here asks gleand: the judges are the kernel (`ip mroute`) and tshark.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tsharkFields, type Capture, type Lab, type LabProcess, type LabSubscriber } from './lab';

export const MC = {
  s1v4: '10.0.0.2', s2v4: '10.0.0.3',
  s1v6: 'fd00::2', s2v6: 'fd00::3',
  /** SSM groups (RFC 4607 §1): 232/8 and FF3x::/96. */
  g4: '232.1.1.1', g6: 'ff3e::8000:1',
  port: 5001,
} as const;

const PY = '/usr/bin/python3';
const script = (name: string) => path.join(REPO_ROOT, 'test', 'lab', name);

/** A subscriber's IPv4 address on its eth0 (the source of its kernel's IGMP reports). */
export const subscriberAddress = (s: LabSubscriber): string => `10.1.0.${50 + s.index}`;

/**
 * Second sources on the server's veth, an IPv4 address on each subscriber (IGMPv3 reports
 * then come from it, RFC 3376 §4.2.13 allows 0.0.0.0 too) and no reverse-path filter
 * there: the channels' sources are not on the subscribers' links.
 */
export async function prepareMulticastLab(lab: Lab): Promise<void> {
  const S = lab.server;
  await lab.exec(null, ['ip', '-n', S.ns, 'addr', 'add', `${MC.s2v4}/24`, 'dev', S.dev]);
  await lab.exec(null, ['ip', '-n', S.ns, 'addr', 'add', `${MC.s2v6}/64`, 'dev', S.dev, 'nodad']);
  for (const s of lab.subscribers) {
    await lab.exec(null, ['ip', '-n', s.ns, 'addr', 'add', `${subscriberAddress(s)}/24`, 'dev', s.dev]);
    await lab.exec(s.ns, ['sysctl', '-qw', 'net.ipv4.conf.all.rp_filter=0', `net.ipv4.conf.${s.dev}.rp_filter=0`]);
  }
}

/** The sender: every channel every `intervalMs`. */
export async function startSender(lab: Lab, channels: readonly (readonly [string, string])[], intervalMs = 100): Promise<LabProcess> {
  const p = lab.spawn(lab.server.ns, [PY, script('mc-send.py'), String(intervalMs / 1000), lab.server.dev,
    ...channels.map(([s, g]) => `${s},${g}`)], { name: 'mc-send' });
  await lab.waitForLog(p, 'sending');
  return p;
}

export interface Join {
  readonly proc: LabProcess;
  /** SIGTERM: the socket closes and the kernel reports the leave. */
  leave(): Promise<void>;
}

/** A kernel join on a subscriber: `sources` empty is an any-source (EXCLUDE {}) join. */
export async function join(lab: Lab, s: LabSubscriber, family: 4 | 6, group: string, sources: readonly string[]): Promise<Join> {
  const iface = family === 4 ? subscriberAddress(s) : s.dev;
  const mode = sources.length ? 'include' : 'exclude';
  const proc = lab.spawn(s.ns, [PY, script('mc-join.py'), String(family), group, iface, mode, ...sources],
    { name: `mc-join-${s.name}-v${family}` });
  await lab.waitForLog(proc, 'joined');
  return { proc, leave: () => proc.stop('SIGTERM', 3000) };
}

/** A capture of the channels' data on a subscriber's wire. */
export const captureData = (lab: Lab, s: LabSubscriber): Promise<Capture> =>
  lab.capture(s.ns, s.dev, `udp dst port ${MC.port}`, `mc-data-${s.name}`);

/** Datagrams per `source group` in a capture, as tshark reads them. */
export async function channelCounts(pcap: string): Promise<Record<string, number>> {
  const rows = await tsharkFields(pcap, `udp.dstport == ${MC.port}`, ['ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst']);
  const out: Record<string, number> = {};
  for (const [s4, d4, s6, d6] of rows) {
    const key = s4 ? `${s4} ${d4}` : `${s6} ${d6}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The kernel's multicast forwarding entries in the router namespace, as `ip -j mroute` prints them. */
export interface KernelMroute { src: string; group: string; iif: string; oifs: string[]; packets: number }

export async function kernelMroutes(lab: Lab, family: 4 | 6): Promise<KernelMroute[]> {
  const r = await lab.exec(lab.router.ns, ['ip', '-s', `-${family}`, '-j', 'mroute', 'show']);
  const rows = JSON.parse(r.stdout.trim() || '[]') as
    { src: string; dst: string; iif: string; state?: string; packets?: number; multipath?: { oif: string }[] }[];
  return rows.filter((x) => x.state !== 'unresolved').map((x) => ({
    src: x.src, group: x.dst, iif: x.iif, oifs: (x.multipath ?? []).map((m) => m.oif).sort(), packets: x.packets ?? 0,
  }));
}

/** The kernel's entry of one channel, or undefined. */
export async function kernelMroute(lab: Lab, source: string, group: string): Promise<KernelMroute | undefined> {
  return (await kernelMroutes(lab, source.includes(':') ? 6 : 4)).find((m) => m.src === source && m.group === group);
}

/** Scapy's hostile reports out of a subscriber's eth0 (mc-flood.py). */
export async function flood(lab: Lab, s: LabSubscriber, count: number): Promise<void> {
  await lab.exec(s.ns, [PY, script('mc-flood.py'), s.dev, String(count)], { timeoutMs: 120_000 });
}

/** The wall-clock times (seconds, time.time()) of a join's socket option and of the channel's first datagram (null: none in time). */
export interface FirstPacket { readonly join: number; readonly first: number | null }

/**
 * One join of (source, group) on a subscriber with the real kernel, until the first
 * datagram arrives (mc-join.py `first`); the process then exits and its socket's close is
 * the leave.
 */
export async function firstPacket(lab: Lab, s: LabSubscriber, family: 4 | 6, group: string, source: string, timeoutS = 10): Promise<FirstPacket> {
  const iface = family === 4 ? subscriberAddress(s) : s.dev;
  const r = await lab.exec(s.ns, [PY, script('mc-join.py'), String(family), group, iface, 'first', String(timeoutS), source],
    { timeoutMs: (timeoutS + 10) * 1000 });
  return JSON.parse(r.stdout.trim()) as FirstPacket;
}

/**
 * smcroute, the kernel's forwarding with static (S, G) entries and no membership protocol:
 * the reference the join benchmark holds gleand against. It takes the namespace's
 * multicast routing sockets (one owner per namespace), so gleand must not run beside it.
 */
export async function startSmcroute(lab: Lab, routes: readonly { source: string; group: string; to: string }[]): Promise<LabProcess> {
  const conf = path.join(lab.dir, 'smcroute.conf');
  const devices = new Set([lab.router.upstreamDev, ...routes.map((r) => r.to)]);
  fs.writeFileSync(conf, [
    ...[...devices].map((d) => `phyint ${d} enable`),
    ...routes.map((r) => `mroute from ${lab.router.upstreamDev} source ${r.source} group ${r.group} to ${r.to}`),
  ].join('\n') + '\n');
  // -N: VIFs / MIFs only for the devices named above; its pid file and socket in the lab's directory.
  return lab.spawn(lab.router.ns, ['smcrouted', '-n', '-N', '-f', conf, '-l', 'info',
    '-P', path.join(lab.dir, 'smcroute.pid'), '-u', path.join(lab.dir, 'smcroute.sock')], { name: 'smcrouted' });
}
