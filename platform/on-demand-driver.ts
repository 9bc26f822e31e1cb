import type { Config } from '../src/config/config';
import type { SubscriberConfig } from '../src/config/schema';
import { formatPrefix, type Prefix } from '../src/wire/address';
import type { Driver, DriverContext, ReloadVerdict } from './driver';
import { linkInfo } from './links';
import { RTN, Rtnl } from './netlink';
import type { NlMessage } from './netlink/message';
import { bindMessage, decodeLogged, modeMessage, unbindMessage } from './nflog';
import { NFT_NAMES, Nfnl, isTableName, runNftScript } from './nft';
import { LOG_PREFIX_DORMANT, LOG_PREFIX_WIDE } from './kernel/diverts';
import { pagingPorts } from './paging-frame';

/**
 * The kernel side of location on demand (seed 003 §1, §4.1; src/leasequery/on-demand.ts).
 * Measured on this kernel (Linux 6.x, see README "Location on demand"), the design is:
 *
 * - every `subnet4` / `subnet6` of an `on_demand` port (delegated-prefix pools included:
 *   they are `subnet6` entries) is a **blackhole route** tagged with gleand's route
 *   protocol in its table: an address gleand has no host or PD route for goes nowhere
 *   (never to the default route), and gleand's routes win by longest match;
 * - a prerouting chain (`on_demand_down`, priority raw) matches packets toward those
 *   subnets whose route lookup has no output device (`fib daddr oif missing`: exactly
 *   the blackholed ones; `fib daddr type blackhole` does not work, it looks only at the
 *   local table), copies them to gleand (`log group`, rate-limited) and drops them;
 * - the verify chain jumps to `on_demand_up` before its final drop; for `on_demand` ports
 *   it copies the unverified packet to gleand (rate-limited) and the drop follows;
 * - gleand reads the copies over nfnetlink_log (nflog.ts) on the nfnetlink socket code
 *   and hands them to the core as `on-demand` events. (The nftables `queue` statement,
 *   which would let the kernel hold the packet itself, is not built into this kernel;
 *   NFLOG is, so gleand holds the copy and delivers it itself.)
 *
 * Kernel state is left in place on stop, like every other entry of gleand's: the rules
 * only drop what would be dropped anyway (blackhole, verify).
 */
export const LOG_PREFIX_DOWN = 'gleand-down';
export const LOG_PREFIX_UP = 'gleand-up';
/** Copies per second per direction the kernel hands over (nft `limit rate`, burst the same). */
export const LOG_RATE_PER_S = 100;
/** Largest packet copied (the rest of a jumbo frame is not needed to deliver a packet of ≤ 64 KiB). */
const COPY_RANGE = 0xffff;

/** The ports on demand for one family: leasequery of that family on, the port relays it itself and has subnets. */
function onDemandPorts(config: Config, family: 4 | 6): SubscriberConfig[] {
  const lq = config.leasequery;
  if (!lq.enabled || !(family === 4 ? lq.v4 : lq.v6)) return [];
  return config.subscribers.filter((s) => s.on_demand && s.mode === 'relay'
    && (family === 4 ? s.relay_v4 && s.subnet4.length > 0 : s.relay_v6 && s.subnet6.length > 0));
}

function uniquePrefixes(ports: readonly SubscriberConfig[], family: 4 | 6): Prefix[] {
  const seen = new Map<string, Prefix>();
  for (const p of ports) for (const s of family === 4 ? p.subnet4 : p.subnet6) seen.set(formatPrefix(s), s);
  return [...seen.values()];
}

/** The rules of one family: down (blackholed destination) and up (unverified source). */
function familyRules(t: string, family: 4 | 6, group: number, ports: readonly SubscriberConfig[]): string[] {
  if (ports.length === 0) return [];
  const n = NFT_NAMES;
  const ip = family === 4 ? 'ip' : 'ip6';
  const subnets = uniquePrefixes(ports, family).map(formatPrefix).join(', ');
  const devices = ports.map((p) => quote(p.device)).join(', ');
  const limit = `limit rate ${LOG_RATE_PER_S}/second burst ${LOG_RATE_PER_S} packets`;
  const down = `${ip} daddr { ${subnets} } fib daddr type != local fib daddr oif missing`;
  return [
    `# IPv${family}: toward a subscriber subnet with no host route (it hit the blackhole): copy to gleand, drop.`,
    `# The router's own addresses (a giaddr inside the subnet) also have no output device in`,
    `# a fib lookup: they are excluded by type (which looks at the local table).`,
    `add rule ${t} ${n.onDemandDown} ${down} ${limit} log group ${group} prefix "${LOG_PREFIX_DOWN}"`,
    `add rule ${t} ${n.onDemandDown} ${down} drop`,
    `# An unverified IPv${family} source on an on-demand port: copy to gleand; verify drops it next.`,
    ...(family === 4
      ? [`add rule ${t} ${n.onDemandUp} meta nfproto ipv4 iifname { ${devices} } ${limit} log group ${group} prefix "${LOG_PREFIX_UP}"`]
      // A link-local or unspecified source is never leased (RFC 4291 §2.5.6): not worth a copy.
      : [`add rule ${t} ${n.onDemandUp} meta nfproto ipv6 iifname { ${devices} } ip6 saddr != { ::/128, fe80::/10 } ${limit} log group ${group} prefix "${LOG_PREFIX_UP}"`]),
  ];
}

const quote = (device: string): string => `"${device.replace(/[^A-Za-z0-9_.@:-]/g, '')}"`;

/** The two chains' contents as an `nft -f` script (one transaction: whole or nothing). */
export function onDemandScript(table: string, group: number, ports4: readonly SubscriberConfig[], ports6: readonly SubscriberConfig[] = []): string {
  if (!isTableName(table)) throw new Error(`invalid nftables table name ${JSON.stringify(table)}`);
  const t = `inet ${table}`;
  const n = NFT_NAMES;
  return [
    `# gleand location on demand, generated by platform/on-demand-driver.ts: do not edit.`,
    `add table ${t}`,
    `add chain ${t} ${n.onDemandUp}`,
    `flush chain ${t} ${n.onDemandUp}`,
    `add chain ${t} ${n.onDemandDown} { type filter hook prerouting priority raw; policy accept; }`,
    `flush chain ${t} ${n.onDemandDown}`,
    ...familyRules(t, 4, group, ports4),
    ...familyRules(t, 6, group, ports6),
    ``,
  ].join('\n');
}

export class OnDemandDriver implements Driver {
  readonly name = 'on-demand';
  readonly actionKinds = [] as const;
  private ctx!: DriverContext;
  private rtnl: Rtnl | null = null;
  private nflog: Nfnl | null = null;
  private group = 0;
  private config!: Config;
  /** Subscriber device ifindex → port name, for the ingress of upstream copies. */
  private portsByIfindex = new Map<number, string>();
  private readonly counters = {
    copies: 0, down: 0, up: 0, dormant: 0, wide: 0, decodeErrors: 0, unknownIngress: 0, routeErrors: 0, nftErrors: 0, blackholes: 0,
  };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    const r = Rtnl.open();
    if (!r.ok) throw new Error(`netlink: ${JSON.stringify(r.error)}`);
    this.rtnl = r.value;
    await this.apply(config, null);
  }

  async reconfigure(config: Config): Promise<ReloadVerdict> {
    const problems = await this.apply(config, this.config);
    return problems.length > 0 ? { verdict: 'refused', detail: problems.join('; ') } : { verdict: 'in-place' };
  }

  execute(): void {}

  private async apply(config: Config, old: Config | null): Promise<string[]> {
    this.config = config;
    const problems: string[] = [];
    const ports4 = onDemandPorts(config, 4);
    const ports6 = onDemandPorts(config, 6);
    const ports = [...new Set([...ports4, ...ports6])];
    this.portsByIfindex = new Map();
    for (const p of ports) {
      const link = linkInfo(p.device);
      if (link) this.portsByIfindex.set(link.ifindex, p.name);
    }
    // The paging divert's copies come to the same group (one listener per group, so one
    // socket for both: platform/kernel/diverts.ts writes its rules with this group).
    const listen = ports.length > 0 || config.paging.enabled;
    if (!listen || config.global.nflog_group !== this.group) this.closeLog();
    if (listen && !this.nflog) {
      const e = await this.openLog(config.global.nflog_group);
      if (e) problems.push(e);
    }
    problems.push(...await this.blackholes(config, old, [...uniquePrefixes(ports4, 4), ...uniquePrefixes(ports6, 6)]));
    // After a table change the old table's chains are left to its own reconcile (the
    // kernel driver withdraws the old table's entries); ours are written into the new one.
    const run = await runNftScript('nft', onDemandScript(config.global.nft_table, config.global.nflog_group, ports4, ports6));
    if (run.code !== 0) {
      this.counters.nftErrors++;
      problems.push(`nft: ${run.error ?? run.stderr.trim()}`);
    }
    for (const p of problems) this.ctx.log('error', 'on-demand', p);
    return problems;
  }

  /**
   * Blackhole routes for the subnets of on-demand ports, tagged with gleand's protocol;
   * blackholes of gleand's that no port wants any more are removed. (The kernel driver's
   * route reconcile leaves them alone: it keeps only routes on a port's device; an IPv6
   * blackhole is reported on `lo`.)
   */
  private async blackholes(config: Config, old: Config | null, wanted: readonly Prefix[]): Promise<string[]> {
    const g = config.global;
    const route = (p: Prefix, table: number, protocol: number) => ({ dst: p.address, dstLen: p.length, table, protocol, type: RTN.BLACKHOLE });
    const problems: string[] = [];
    const add = await this.rtnl!.addRoutes(wanted.map((p) => route(p, g.route_table, g.route_protocol)), { replace: true });
    for (const [i, e] of add.failures) problems.push(`blackhole ${formatPrefix(wanted[i]!)}: ${JSON.stringify(e)}`);
    this.counters.blackholes = add.done;
    const tags = [{ table: g.route_table, protocol: g.route_protocol }];
    if (old && (old.global.route_table !== g.route_table || old.global.route_protocol !== g.route_protocol)) {
      tags.push({ table: old.global.route_table, protocol: old.global.route_protocol });
    }
    const keep = new Set(wanted.map(formatPrefix));
    for (const [i, tag] of tags.entries()) {
      const dump = await this.rtnl!.dumpRoutes({ protocol: tag.protocol, table: tag.table });
      if (!dump.ok) continue;
      const prefixOf = (m: { dst?: Uint8Array; dstLen: number }): Prefix =>
        ({ family: m.dst!.length === 16 ? 6 : 4, address: m.dst!, length: m.dstLen });
      const stale = dump.value.items.filter((m) => m.type === RTN.BLACKHOLE && m.dst && (m.dst.length === 4 || m.dst.length === 16)
        && (i > 0 || !keep.has(formatPrefix(prefixOf(m)))));
      if (stale.length === 0) continue;
      const del = await this.rtnl!.deleteRoutes(stale.map((m) => route(prefixOf(m), tag.table, tag.protocol)));
      for (const [, e] of del.failures) problems.push(`removing a blackhole: ${JSON.stringify(e)}`);
    }
    this.counters.routeErrors += problems.length;
    return problems;
  }

  private async openLog(group: number): Promise<string | null> {
    const r = Nfnl.open({ rcvbufBytes: 1 << 20, sndbufBytes: 64 << 10, onUnsolicited: (m) => this.copied(m) });
    if (!r.ok) return `nflog socket: ${JSON.stringify(r.error)}`;
    const sock = r.value;
    // A group has one listener: binding fails (EBUSY) while another process holds it.
    const bound = await sock.get(bindMessage(group));
    const mode = bound.ok ? await sock.get(modeMessage(group, COPY_RANGE)) : bound;
    if (!mode.ok) {
      sock.close();
      return `nflog group ${group}: ${JSON.stringify(mode.error)}`;
    }
    this.nflog = sock;
    this.group = group;
    return null;
  }

  private closeLog(): void {
    const sock = this.nflog;
    if (!sock) return;
    // The kernel unbinds a closed socket's group by itself; the explicit unbind is courtesy.
    void sock.get(unbindMessage(this.group)).finally(() => sock.close());
    this.nflog = null;
    this.group = 0;
  }

  /** One NFLOG copy: which direction (the rule's prefix), the ingress port, the frame's MAC. */
  private copied(m: NlMessage): void {
    this.counters.copies++;
    const d = decodeLogged(m);
    if (!d.ok) {
      this.counters.decodeErrors++;
      this.ctx.log('debug', 'on-demand', 'undecodable NFLOG message', { reason: d.reason }, 'nflog-decode');
      return;
    }
    const p = d.value;
    if (p.prefix === LOG_PREFIX_DORMANT) {
      // Toward a dormant host's address (RFC 3154 §5.1 DMA): the paging module holds it and pages.
      this.counters.dormant++;
      this.ctx.emit({ kind: 'dormant', family: p.family, port: null, bytes: p.payload });
      return;
    }
    if (p.prefix === LOG_PREFIX_WIDE) {
      // Wide cast forwarded toward a paging port (RFC 3154 §4.3): the output device names the port.
      const port = p.outdev === null ? undefined : this.pagingPortOf(p.outdev);
      if (port === undefined) {
        this.counters.unknownIngress++;
        return;
      }
      this.counters.wide++;
      this.ctx.emit({ kind: 'dormant', family: p.family, port, bytes: p.payload });
      return;
    }
    if (p.prefix === LOG_PREFIX_DOWN) {
      this.counters.down++;
      this.ctx.emit({ kind: 'on-demand', direction: 'down', family: p.family, port: null, mac: null, bytes: p.payload });
      return;
    }
    const port = p.indev === null ? undefined : this.portsByIfindex.get(p.indev);
    if (p.prefix !== LOG_PREFIX_UP || port === undefined) {
      this.counters.unknownIngress++;
      return;
    }
    this.counters.up++;
    this.ctx.emit({ kind: 'on-demand', direction: 'up', family: p.family, port, mac: p.mac, bytes: p.payload });
  }

  /**
   * The paging port on device `ifindex`, looked up in the config at each copy (copies
   * are rate-limited by the kernel rule, and a device may have come up after a reload).
   */
  private pagingPortOf(ifindex: number): string | undefined {
    const ports = pagingPorts(this.config);
    return this.config.subscribers.find((s) => ports.has(s.name) && linkInfo(s.device)?.ifindex === ifindex)?.name;
  }

  async stop(): Promise<void> {
    this.nflog?.close();
    this.nflog = null;
    this.rtnl?.close();
  }

  status(): Record<string, unknown> {
    return { listening: this.nflog !== null, group: this.group, ...this.counters };
  }
}
