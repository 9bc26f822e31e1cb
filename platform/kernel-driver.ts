import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { batches, diff, type KernelBatch } from '../src/kernel/diff';
import type { KernelDelta, KernelState, NeighEntry, RouteEntry, VerifyEntry } from '../src/kernel/entries';
import { formatAddress, formatMac } from '../src/wire/address';
import type { Driver, DriverContext } from './driver';
import { linkInfo } from './links';
import { RT_SCOPE, Rtnl, type BatchResult, type Neighbour, type Route } from './netlink';
import { NftVerify } from './nft';

const BATCH = 1024;
// Deleting what is already gone is success for a reconciler (ESRCH: route, ENOENT: neighbour).
const GONE = new Set(['ESRCH', 'ENOENT']);

/**
 * Applies the core's kernel deltas through netlink and reconciles: at start and every
 * `reconcile_interval` it dumps gleand's own entries (routes with its protocol number in
 * its table, neighbours with NDA_PROTOCOL = that number, the verify sets), diffs them
 * with the desired state and applies the difference in batches. Work is serialised in
 * one queue, and every add is a create-or-replace, so a delta that races a reconcile is
 * harmless: nothing is installed twice, and nothing gleand did not install is touched.
 */
export class KernelDriver implements Driver {
  readonly name = 'kernel';
  readonly actionKinds = ['kernel'] as const;
  private rtnl: Rtnl | null = null;
  private ctx!: DriverContext;
  private config!: Config;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private ifindex = new Map<string, number>();
  private readonly counters = {
    applied: 0, failed: 0, noDevice: 0, reconciles: 0, lastReconcile: { added: 0, removed: 0, replaced: 0 },
    errors: {} as Record<string, number>,
  };

  private verify: NftVerify | null = null;
  private rulesetReady = false;

  /** `desired`: the core's full desired state, generated on demand for a reconcile. */
  constructor(private readonly desired: () => KernelState) {}

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    const r = Rtnl.open();
    if (!r.ok) throw new Error(`netlink: ${JSON.stringify(r.error)}`);
    this.rtnl = r.value;
    // Source verification lives in nftables sets (platform/nft/): the table is made
    // once, its sets keep their elements across restarts, and the reconcile diffs them.
    const v = await NftVerify.open({ table: config.global.nft_table });
    if (!v.ok) throw new Error(`nftables: ${JSON.stringify(v.error)}`);
    this.verify = v.value;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    this.config = config;
    this.refreshIfindexes();
    await this.syncPorts();
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.reconcile('periodic'), config.global.reconcile_interval * 1000);
    this.timer.unref();
    this.reconcile('start');
  }

  /** The verify chain applies to exactly the subscriber ports' ifindexes. */
  private async syncPorts(): Promise<void> {
    if (!this.verify) return;
    const ports = [...this.ifindex.values()];
    const r = this.rulesetReady ? await this.verify.setPorts(ports) : await this.verify.ensureRuleset(ports);
    if (!r.ok) {
      this.ctx.log('error', 'kernel', 'nftables ruleset/ports update failed', { error: JSON.stringify(r.error) }, 'nft:ports');
      return;
    }
    this.rulesetReady = true;
  }

  private refreshIfindexes(): void {
    this.ifindex = new Map();
    for (const s of this.config.subscribers) {
      const info = linkInfo(s.device);
      if (info) this.ifindex.set(s.device, info.ifindex);
    }
  }

  private enqueue(job: () => Promise<void>): void {
    this.queue = this.queue.then(job).catch((e: Error) =>
      this.ctx.log('error', 'kernel', `netlink job failed: ${e.message}`, undefined, 'kernel:job'));
  }

  execute(a: Action): void {
    if (a.kind !== 'kernel') return;
    this.enqueue(() => this.apply(a.delta));
  }

  /** Dump, diff against the desired state, apply. */
  reconcile(why: string): void {
    this.enqueue(async () => {
      this.refreshIfindexes();
      const actual = await this.dump();
      if (!actual) return;
      const delta = diff(this.desired(), actual);
      const n = (d: { add: unknown[]; remove: unknown[]; replace: unknown[] }[]) => ({
        added: d.reduce((s, x) => s + x.add.length, 0),
        removed: d.reduce((s, x) => s + x.remove.length, 0),
        replaced: d.reduce((s, x) => s + x.replace.length, 0),
      });
      this.counters.lastReconcile = n([delta.routes, delta.neighbours, delta.verifies]);
      this.counters.reconciles++;
      await this.apply(delta);
      const { added, removed, replaced } = this.counters.lastReconcile;
      if (added + removed + replaced > 0 || why === 'start') {
        this.ctx.log('info', 'kernel', 'reconciled', { why, added, removed, replaced });
      }
    });
  }

  private async dump(): Promise<KernelState | null> {
    const rtnl = this.rtnl!;
    const g = this.config.global;
    const routes = await rtnl.dumpRoutes({ protocol: g.route_protocol, table: g.route_table });
    const neighs = await rtnl.dumpNeighbours({});
    if (!routes.ok || !neighs.ok) {
      this.ctx.log('warn', 'kernel', 'dump failed; will retry at the next reconcile', undefined, 'kernel:dump');
      return null;
    }
    const deviceOf = this.deviceOf();
    const routeEntries: RouteEntry[] = [];
    for (const r of routes.value.items) {
      const device = r.oif === undefined ? null : deviceOf(r.oif);
      if (!device || !r.dst) continue; // ours but on a device no port names: left for its owner
      routeEntries.push({ family: familyOf(r.dst), dst: r.dst, dstLen: r.dstLen, device, gateway: r.gateway ?? null });
    }
    const neighEntries: NeighEntry[] = [];
    for (const n of neighs.value.items) {
      if (n.protocol !== g.route_protocol || !n.dst || !n.lladdr || n.lladdr.length === 0) continue;
      const device = deviceOf(n.ifindex);
      if (!device) continue;
      neighEntries.push({ family: familyOf(n.dst), address: n.dst, device, lladdr: n.lladdr });
    }
    let verifies: VerifyEntry[] = [];
    if (this.verify) {
      const v = await this.verify.dump((i) => deviceOf(i) ?? undefined);
      if (!v.ok) {
        this.ctx.log('warn', 'kernel', 'nftables dump failed; will retry at the next reconcile', undefined, 'nft:dump');
        return null;
      }
      verifies = v.value.entries;
      // Elements of a device that no longer exists: nobody can desire them.
      if (v.value.orphans.length > 0) await this.verify.removeElements(v.value.orphans);
    }
    return { routes: routeEntries, neighbours: neighEntries, verifies };
  }

  private deviceOf(): (ifindex: number) => string | null {
    const byIndex = new Map([...this.ifindex].map(([d, i]) => [i, d]));
    return (i) => byIndex.get(i) ?? null;
  }

  private async apply(delta: KernelDelta): Promise<void> {
    for (const b of batches(delta, BATCH)) await this.applyBatch(b);
  }

  private async applyBatch(b: KernelBatch): Promise<void> {
    const rtnl = this.rtnl!;
    if (b.kind === 'verify') {
      if (!this.verify) return;
      const ifindexOf = (d: string) => this.ifindex.get(d);
      const r = b.op === 'remove' ? await this.verify.remove(b.entries, ifindexOf) : await this.verify.add(b.entries, ifindexOf);
      this.counters.applied += r.applied;
      for (const e of r.failures.values()) {
        const code = e.kind === 'errno' ? e.code : e.kind;
        this.counters.failed++;
        this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
        this.ctx.log('warn', 'kernel', 'nftables element failed', { error: code }, `nft:${code}`);
      }
      return;
    }
    if (b.kind === 'route') {
      const routes = this.resolve(b.entries, (e, oif) => this.route(e, oif));
      const r = b.op === 'remove' ? await rtnl.deleteRoutes(routes) : await rtnl.addRoutes(routes, { replace: true });
      this.count(r, b.op === 'remove');
      return;
    }
    const neighs = this.resolve(b.entries, (e, ifindex): Neighbour => ({
      dst: e.address, ifindex, lladdr: e.lladdr, protocol: this.config.global.route_protocol,
    }));
    const r = b.op === 'remove' ? await rtnl.deleteNeighbours(neighs) : await rtnl.addNeighbours(neighs);
    this.count(r, b.op === 'remove');
  }

  private route(e: RouteEntry, oif: number): Route {
    const g = this.config.global;
    return {
      dst: e.dst, dstLen: e.dstLen, oif, table: g.route_table, protocol: g.route_protocol,
      ...(e.gateway ? { gateway: e.gateway } : { scope: RT_SCOPE.LINK }),
    };
  }

  private resolve<E extends { device: string }, T>(entries: readonly E[], f: (e: E, ifindex: number) => T): T[] {
    const out: T[] = [];
    for (const e of entries) {
      const i = this.ifindex.get(e.device);
      if (i === undefined) this.counters.noDevice++;
      else out.push(f(e, i));
    }
    return out;
  }

  private count(r: BatchResult, removing: boolean): void {
    this.counters.applied += r.done;
    for (const err of r.failures.values()) {
      const code = err.kind === 'errno' ? err.code : err.kind;
      if (removing && GONE.has(code)) continue;
      this.counters.failed++;
      this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
      this.ctx.log('warn', 'kernel', 'netlink request failed', { error: code }, `kernel:${code}`);
    }
  }

  /** `gleand routes`: what the kernel holds of gleand's, read back by a dump (not the core's view). */
  query(what: string): Promise<unknown> | undefined {
    if (what !== 'routes') return undefined;
    return new Promise((resolve) => this.enqueue(async () => {
      const s = await this.dump();
      const prefix = (f: 4 | 6, a: Uint8Array, l: number) => `${addr(f, a)}/${l}`;
      resolve(s && {
        routes: [...s.routes].map((r) => ({ dst: prefix(r.family, r.dst, r.dstLen), via: r.gateway ? addr(r.family, r.gateway) : null, device: r.device })),
        neighbours: [...s.neighbours].map((n) => ({ address: addr(n.family, n.address), lladdr: formatMac(n.lladdr), device: n.device })),
        verify: [...s.verifies].map((v) => ({ source: prefix(v.family, v.prefix, v.prefixLength), mac: formatMac(v.mac), device: v.device })),
      });
    }));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.queue;
    this.rulesetReady = false;
    this.rtnl?.close();
    this.verify?.close();
  }

  status(): Record<string, unknown> {
    return { ...this.counters, rtnl: this.rtnl?.stats, nft: this.verify?.stats };
  }
}

const addr = formatAddress;
/** Netlink's address attributes are 4 or 16 bytes (the codec checks); the length is the family. */
const familyOf = (a: Uint8Array): 4 | 6 => (a.length === 4 ? 4 : 6);
