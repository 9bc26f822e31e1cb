import type { Action } from '../../src/actions';
import type { Config } from '../../src/config/config';
import { formatAddress, formatMac } from '../../src/wire/address';
import { ActualIndex, batches } from '../../src/kernel/diff';
import { DeltaAccumulator } from '../../src/kernel/delta';
import {
  ENTRY_TYPES, deltaSize, emptyDelta, type EntryDelta, type EntryKind, type EntryType, type KernelDelta, type KernelEntries,
} from '../../src/kernel/entries';
import type { Driver, DriverContext, ReloadVerdict } from '../driver';
import { linkInfo } from '../links';
import { RtnlMonitor, Rtnl, isOsError } from '../netlink';
import type { AnyApplier, ApplierContext } from './applier';
import { NeighbourApplier } from './neighbours';
import { RouteApplier } from './routes';
import { VerifyApplier } from './verifies';

const BATCH = 1024;
/** Keys one coalesced live batch may touch before the next deltas start another. */
const MAX_LIVE_KEYS = 8192;
/**
 * Entries a reconcile diffs between two turns of the event loop: a reconcile of 200k
 * entries must not keep the control socket or the packet path waiting.
 */
const SLICE = 4096;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/**
 * Notifications come in bursts (`ip route flush`, a table deleted): collect them for
 * this long, then repair once. Short enough that a hand-deleted entry is back within a
 * second.
 */
const REPAIR_DELAY_MS = 100;

/**
 * Applies the core's kernel deltas through the appliers of the registered entry kinds,
 * and reconciles: at start, every `reconcile_interval`, and within a second of a
 * netlink notification that someone else changed gleand's entries, it dumps gleand's
 * own entries, diffs them with the desired state and applies the difference in batches.
 * Work is serialised in one queue and every add is a create-or-replace, so a delta that
 * races a reconcile is harmless: nothing is installed twice, and nothing gleand did not
 * install is touched.
 */
export class KernelDriver implements Driver {
  readonly name = 'kernel';
  readonly actionKinds = ['kernel'] as const;
  private rtnl: Rtnl | null = null;
  private appliers: AnyApplier[] = [];
  private monitors: RtnlMonitor[] = [];
  private ctx!: DriverContext;
  private config!: Config;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private repairTimer: NodeJS.Timeout | null = null;
  private readonly repairKinds = new Set<EntryKind>();
  /** Live deltas waiting for the queue: folded into one batch until its job starts. */
  private open: { readonly acc: DeltaAccumulator; done: Promise<void> } | null = null;
  private ifindex = new Map<string, number>();
  private readonly counters = {
    applied: 0, failed: 0, noDevice: 0, reconciles: 0, repairs: 0, monitorOverruns: 0,
    /** Live deltas received, and the batches they were folded into. */
    deltas: 0, liveBatches: 0,
    lastReconcile: { added: 0, removed: 0, replaced: 0 },
    errors: {} as Record<string, number>,
  };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    this.config = config;
    const r = Rtnl.open();
    if (!r.ok) throw new Error(`netlink: ${JSON.stringify(r.error)}`);
    this.rtnl = r.value;
    this.appliers = [new RouteApplier(r.value), new NeighbourApplier(r.value), new VerifyApplier()];
    const missing = ENTRY_TYPES.filter((t) => !this.appliers.some((a) => a.kind === t.kind));
    if (missing.length) throw new Error(`no applier for kernel entries ${missing.map((t) => t.kind).join(', ')}`);
    this.refreshIfindexes();
    for (const a of this.appliers) await a.start(this.applierContext(config));
    this.openMonitors();
    this.arm();
    this.reconcile('start');
  }

  /**
   * A new config. Entries whose tag changed (route table or protocol, nft table) are
   * withdrawn under the old settings and re-installed under the new by the reconcile
   * that follows; everything else is adjusted in place.
   */
  reconfigure(config: Config): Promise<ReloadVerdict> {
    return new Promise((resolve) => this.enqueue(async () => {
      const before = this.applierContext(this.config);
      const moved = this.appliers.filter((a) => a.tag(this.config) !== a.tag(config));
      const detail = moved.map((a) => `${a.kind}: ${a.tag(this.config)} → ${a.tag(config)}`).join('; ');
      try {
        for (const a of moved) await a.withdraw(before);
        this.config = config;
        this.refreshIfindexes();
        const after = this.applierContext(config);
        for (const a of this.appliers) {
          if (moved.includes(a)) await a.start(after);
          else await a.portsChanged?.(after);
        }
      } catch (e) {
        this.config = config;
        resolve({ verdict: 'failed', detail: (e as Error).message });
        return;
      } finally {
        this.arm();
        this.reconcile('reload');
      }
      resolve(moved.length ? { verdict: 'reinstalled', detail } : { verdict: 'in-place' });
    }));
  }

  private arm(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = setInterval(() => this.reconcile('periodic'), this.config.global.reconcile_interval * 1000);
    this.timer.unref();
  }

  private applierContext(config: Config): ApplierContext {
    const byIndex = new Map([...this.ifindex].map(([d, i]) => [i, d]));
    return { config, ifindexOf: (d) => this.ifindex.get(d), deviceOf: (i) => byIndex.get(i) ?? null };
  }

  private refreshIfindexes(): void {
    this.ifindex = new Map();
    for (const s of this.config.subscribers) {
      const info = linkInfo(s.device);
      if (info) this.ifindex.set(s.device, info.ifindex);
    }
  }

  /** One notification socket per netlink protocol, with the groups its appliers need. */
  private openMonitors(): void {
    const byProtocol = new Map<number, Set<number>>();
    for (const a of this.appliers) {
      const groups = byProtocol.get(a.monitor.protocol) ?? new Set<number>();
      for (const g of a.monitor.groups) groups.add(g);
      byProtocol.set(a.monitor.protocol, groups);
    }
    for (const [protocol, groups] of byProtocol) {
      const mine = this.appliers.filter((a) => a.monitor.protocol === protocol);
      const m = RtnlMonitor.open([...groups], {
        onMessage: (msg) => {
          const ctx = this.applierContext(this.config);
          for (const a of mine) if (a.concerns(msg, ctx)) this.scheduleRepair(a.kind);
        },
        onOverrun: () => {
          this.counters.monitorOverruns++;
          for (const a of mine) this.scheduleRepair(a.kind);
        },
      }, { protocol, ref: false });
      if (isOsError(m)) {
        this.ctx.log('warn', 'kernel', 'netlink monitor unavailable: changes by others are repaired at the periodic reconcile',
          { protocol, error: m.code }, `monitor:${protocol}`);
        continue;
      }
      this.monitors.push(m);
    }
  }

  private scheduleRepair(kind: EntryKind): void {
    this.repairKinds.add(kind);
    if (this.repairTimer) return;
    this.repairTimer = setTimeout(() => {
      this.repairTimer = null;
      const kinds = [...this.repairKinds];
      this.repairKinds.clear();
      this.counters.repairs++;
      this.reconcile('repair', kinds);
    }, REPAIR_DELAY_MS);
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(job).catch((e: Error) =>
      this.ctx.log('error', 'kernel', `netlink job failed: ${e.message}`, undefined, 'kernel:job'));
    return this.queue;
  }

  /**
   * Live deltas are coalesced: every delta that arrives while the queue is busy (a batch
   * in flight, a reconcile) joins one open batch, applied by the same batched netlink
   * and nfnetlink path as a reconcile once the queue reaches it. An idle queue takes a
   * delta at once, so coalescing adds no delay; under load the batches grow by
   * themselves, up to MAX_LIVE_KEYS. Resolves once the delta is in the kernel: the
   * runtime holds the actions after it (the client's reply) until then.
   */
  execute(a: Action): Promise<void> | void {
    if (a.kind !== 'kernel') return;
    this.counters.deltas++;
    let batch = this.open;
    if (!batch || batch.acc.size >= MAX_LIVE_KEYS) {
      const fresh = { acc: new DeltaAccumulator(), done: Promise.resolve() };
      fresh.done = this.enqueue(async () => {
        if (this.open === fresh) this.open = null; // later deltas start the next batch
        this.counters.liveBatches++;
        await this.apply(fresh.acc.build());
      });
      this.open = batch = fresh;
    }
    batch.acc.push(a.delta);
    return batch.done;
  }

  /**
   * Dump, diff against the desired state, apply; `kinds` limits it to some entry kinds.
   * The diff is sliced (SLICE entries per turn of the event loop) and the apply awaits
   * each batch, so a large reconcile never holds the loop for long.
   */
  reconcile(why: string, kinds: readonly EntryKind[] = ENTRY_TYPES.map((t) => t.kind)): void {
    void this.enqueue(async () => {
      this.refreshIfindexes();
      const ctx = this.applierContext(this.config);
      const desired = this.ctx.desiredState();
      const delta = emptyDelta() as { [K in EntryKind]: EntryDelta<KernelEntries[K]> };
      for (const t of ENTRY_TYPES) {
        if (!kinds.includes(t.kind)) continue;
        const actual = await this.dumpKind(t.kind, ctx);
        if (actual === null) continue; // not known: nothing is removed on a guess
        (delta as Record<EntryKind, EntryDelta<unknown>>)[t.kind] =
          await diffSliced(t as EntryType<EntryKind>, (desired[t.kind] ?? []) as Iterable<never>, actual as never[]);
      }
      this.counters.lastReconcile = deltaSize(delta);
      this.counters.reconciles++;
      await this.apply(delta);
      const { added, removed, replaced } = this.counters.lastReconcile;
      if (added + removed + replaced > 0 || why === 'start') {
        this.ctx.log(why === 'repair' ? 'notice' : 'info', 'kernel', 'reconciled', { why, added, removed, replaced });
      }
    });
  }

  private async dumpKind(kind: EntryKind, ctx: ApplierContext): Promise<unknown[] | null> {
    const a = this.appliers.find((x) => x.kind === kind)!;
    const entries = await a.dump(ctx);
    if (!entries) this.ctx.log('warn', 'kernel', 'dump failed; will retry at the next reconcile', { kind }, `dump:${kind}`);
    return entries;
  }

  /** What the kernel holds of gleand's; a kind whose dump failed is left out. */
  private async dump(kinds: readonly EntryKind[]): Promise<{ [K in EntryKind]?: KernelEntries[K][] }> {
    const out: Partial<Record<EntryKind, unknown[]>> = {};
    const ctx = this.applierContext(this.config);
    for (const kind of kinds) {
      const entries = await this.dumpKind(kind, ctx);
      if (entries) out[kind] = entries;
    }
    return out as { [K in EntryKind]?: KernelEntries[K][] };
  }

  private async apply(delta: KernelDelta): Promise<void> {
    const ctx = this.applierContext(this.config);
    for (const b of batches(delta, BATCH)) {
      const applier = this.appliers.find((a) => a.kind === b.kind)!;
      const r = await (applier.apply as (op: typeof b.op, e: typeof b.entries, c: ApplierContext) => ReturnType<typeof applier.apply>)(b.op, b.entries, ctx);
      this.counters.applied += r.applied;
      this.counters.noDevice += r.noDevice;
      for (const code of r.failures) {
        this.counters.failed++;
        this.counters.errors[code] = (this.counters.errors[code] ?? 0) + 1;
        this.ctx.log('warn', 'kernel', 'kernel refused an entry', { kind: b.kind, op: b.op, error: code }, `kernel:${b.kind}:${code}`);
      }
    }
  }

  /** `gleand routes`: what the kernel holds of gleand's, read back by a dump (not the core's view). */
  query(what: string): Promise<unknown> | undefined {
    if (what !== 'routes') return undefined;
    return new Promise((resolve) => void this.enqueue(async () => {
      const s = await this.dump(ENTRY_TYPES.map((t) => t.kind));
      const prefix = (f: 4 | 6, a: Uint8Array, l: number) => `${addr(f, a)}/${l}`;
      resolve({
        routes: [...(s.routes ?? [])].map((r) => ({ dst: prefix(r.family, r.dst, r.dstLen), via: r.gateway ? addr(r.family, r.gateway) : null, device: r.device })),
        neighbours: [...(s.neighbours ?? [])].map((n) => ({ address: addr(n.family, n.address), lladdr: formatMac(n.lladdr), device: n.device })),
        verify: [...(s.verifies ?? [])].map((v) => ({ source: prefix(v.family, v.prefix, v.prefixLength), mac: formatMac(v.mac), device: v.device })),
      });
    }));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.repairTimer) clearTimeout(this.repairTimer);
    for (const m of this.monitors) m.close();
    this.monitors = [];
    await this.queue;
    for (const a of this.appliers) a.stop();
    this.rtnl?.close();
  }

  status(): Record<string, unknown> {
    const appliers: Record<string, unknown> = {};
    for (const a of this.appliers) if (a.status) Object.assign(appliers, a.status());
    return { ...this.counters, rtnl: this.rtnl?.stats, ...appliers };
  }
}

const addr = formatAddress;

/** `diffEntries`, yielding to the event loop every SLICE entries of either side. */
async function diffSliced<E>(type: { key(e: E): string; attrs(e: E): string }, desired: Iterable<E>, actual: readonly E[]): Promise<EntryDelta<E>> {
  const index = new ActualIndex(type);
  for (let i = 0; i < actual.length; i++) {
    index.put(actual[i]!);
    if ((i + 1) % SLICE === 0) await nextTurn();
  }
  const out: EntryDelta<E> = { add: [], remove: [], replace: [] };
  let n = 0;
  for (const e of desired) {
    const op = index.match(e);
    if (op) out[op].push(e);
    if (++n % SLICE === 0) await nextTurn();
  }
  for (const e of index.leftovers()) out.remove.push(e);
  return out;
}
