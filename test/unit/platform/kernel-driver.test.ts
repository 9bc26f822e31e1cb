/**
 * The kernel driver's reconcile against appliers that keep their "kernel" in memory
 * (the netlink side is tested in test/e2e): what it does when live deltas arrive while
 * it takes its digests — a restore or a flood in progress.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config';
import { ROUTE, emptyDelta, type EntryKind, type KernelEntries, type RouteEntry } from '../../../src/kernel/entries';
import type { DriverContext } from '../../../platform/driver';
import type { AnyApplier, Applier } from '../../../platform/kernel/applier';
import { KernelDriver } from '../../../platform/kernel/driver';
import { until } from '../../lab/wait';

const CONFIG = `
config global
	option recovery_window '0'
	option reconcile_interval '3600'
config upstream 'wan'
	option device 'up0'
config subscriber 'lan1'
	option device 'lo'
	option upstream 'wan'
	option relay_v4 '0'
	option relay_v6 '0'
`;

/** One kind's entries held in a map by key; counts the whole dumps a full diff takes. */
function memoryApplier<K extends EntryKind>(kind: K, key: (e: KernelEntries[K]) => string, onDumpEach?: () => void, onDump?: () => void) {
  const held = new Map<string, KernelEntries[K]>();
  const stats = { fullDumps: 0 };
  const a: Applier<K> = {
    kind, queryKey: kind, monitor: { protocol: 0, groups: [] },
    start: async () => {},
    dump: async () => {
      stats.fullDumps++;
      onDump?.();
      return [...held.values()];
    },
    dumpEach: async (_ctx, each) => {
      onDumpEach?.();
      for (const e of held.values()) each(e);
      return true;
    },
    apply: async (op, entries) => {
      for (const e of entries) (op === 'remove' ? held.delete(key(e)) : held.set(key(e), e));
      return { applied: entries.length, failures: [], noDevice: 0, missed: new Set<number>() };
    },
    tag: () => kind, withdraw: async () => {}, concerns: () => false, stop: () => {}, row: () => ({}),
  };
  return { applier: a as unknown as AnyApplier, held, stats };
}

const route = (i: number): RouteEntry =>
  ({ family: 4, dst: Uint8Array.of(10, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff), dstLen: 32, device: 'lo', gateway: null });

let driver: KernelDriver | null = null;
afterEach(async () => {
  await driver?.stop();
  driver = null;
});

describe('KernelDriver reconcile while live deltas arrive', () => {
  it('puts the full diff off while deltas flow, and runs it once they stop', async () => {
    const desired = new Map<string, RouteEntry>();
    let arriving: (() => void) | null = null;
    const routes = memoryApplier('routes', ROUTE.key, () => arriving?.());
    const neighbours = memoryApplier('neighbours', () => '');
    const verifies = memoryApplier('verifies', () => '');
    const mroutes = memoryApplier('mroutes', () => '');
    const diverts = memoryApplier('diverts', () => '');
    const ctx: DriverContext = {
      emit: () => undefined, log: () => undefined, query: () => undefined,
      desiredState: () => ({ routes: [...desired.values()], neighbours: [], verifies: [], mroutes: [], diverts: [] }),
    };
    const loaded = loadConfig(CONFIG, 'test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const d = new KernelDriver(() => [routes.applier, neighbours.applier, verifies.applier, mroutes.applier, diverts.applier]);
    driver = d;
    await d.start(loaded.config, ctx);
    const status = () => d.status() as { reconciles: number; postponed: number; digestsEqual: number };
    await until('the start reconcile', async () => (status().reconciles >= 1 ? true : null), 10_000, 10);

    // 1,000 routes desired, 990 in the kernel (10 lost behind gleand's back)...
    for (let i = 0; i < 1000; i++) desired.set(ROUTE.key(route(i)), route(i));
    for (let i = 10; i < 1000; i++) routes.held.set(ROUTE.key(route(i)), route(i));
    // ...and while the reconcile digests the dump, a new client's route arrives live.
    let next = 1000;
    arriving = () => {
      const r = route(next++);
      desired.set(ROUTE.key(r), r);
      void d.execute({ kind: 'kernel', delta: { ...emptyDelta(), routes: { add: [r], remove: [], replace: [] } } });
    };
    d.reconcile('periodic');
    await until('the reconcile put off', async () => (status().postponed >= 1 ? true : null), 10_000, 10);
    expect(routes.stats.fullDumps).toBe(0); // no dump of everything while deltas flow
    arriving = null; // the flood is over: the retry finds the digests still differ and diffs
    await until('the lost routes back', async () => (routes.held.size === desired.size ? true : null), 10_000, 20);
    expect(routes.stats.fullDumps).toBe(1);
    expect([...routes.held.keys()].sort()).toEqual([...desired.keys()].sort());
    expect(status().postponed).toBe(1);
  });

  it('abandons a full diff under which live batches touched more keys than it may remember, and retries it', async () => {
    const desired = new Map<string, RouteEntry>();
    let flood: (() => void) | null = null;
    const routes = memoryApplier('routes', ROUTE.key, undefined, () => flood?.());
    const other = [memoryApplier('neighbours', () => ''), memoryApplier('verifies', () => ''), memoryApplier('mroutes', () => ''), memoryApplier('diverts', () => '')];
    const ctx: DriverContext = {
      emit: () => undefined, log: () => undefined, query: () => undefined,
      desiredState: () => ({ routes: [...desired.values()], neighbours: [], verifies: [], mroutes: [], diverts: [] }),
    };
    const loaded = loadConfig(CONFIG, 'test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const d = new KernelDriver(() => [routes.applier, ...other.map((o) => o.applier)]);
    driver = d;
    await d.start(loaded.config, ctx);
    const status = () => d.status() as { reconciles: number; abandoned: number; postponed: number };
    await until('the start reconcile', async () => (status().reconciles >= 1 ? true : null), 10_000, 10);
    for (let i = 0; i < 100; i++) desired.set(ROUTE.key(route(i)), route(i));
    for (let i = 10; i < 100; i++) routes.held.set(ROUTE.key(route(i)), route(i)); // 10 lost
    // Once the full diff has begun (digests differed, nothing arriving), 70,000 new routes arrive live.
    flood = () => {
      flood = null;
      const add = Array.from({ length: 70_000 }, (_, i) => route(1000 + i));
      for (const r of add) desired.set(ROUTE.key(r), r);
      void d.execute({ kind: 'kernel', delta: { ...emptyDelta(), routes: { add, remove: [], replace: [] } } });
    };
    d.reconcile('periodic');
    await until('the full diff abandoned', async () => (status().abandoned === 1 ? true : null), 20_000, 10);
    await until('the lost routes back by the retry', async () => (routes.held.size === desired.size ? true : null), 20_000, 20);
    expect(routes.stats.fullDumps).toBe(2);
    expect(status().abandoned).toBe(1);
    expect([...routes.held.keys()].sort()).toEqual([...desired.keys()].sort());
  });

  it('a reload is never put off (its verdict reports the reconcile)', async () => {
    const desired = new Map<string, RouteEntry>([[ROUTE.key(route(1)), route(1)]]);
    let arriving: (() => void) | null = null;
    const routes = memoryApplier('routes', ROUTE.key, () => arriving?.());
    const other = [memoryApplier('neighbours', () => ''), memoryApplier('verifies', () => ''), memoryApplier('mroutes', () => ''), memoryApplier('diverts', () => '')];
    const ctx: DriverContext = {
      emit: () => undefined, log: () => undefined, query: () => undefined,
      desiredState: () => ({ routes: [...desired.values()], neighbours: [], verifies: [], mroutes: [], diverts: [] }),
    };
    const loaded = loadConfig(CONFIG, 'test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const d = new KernelDriver(() => [routes.applier, ...other.map((o) => o.applier)]);
    driver = d;
    arriving = () => {
      const r = route(2);
      desired.set(ROUTE.key(r), r);
      void d.execute({ kind: 'kernel', delta: { ...emptyDelta(), routes: { add: [r], remove: [], replace: [] } } });
    };
    await d.start(loaded.config, ctx);
    expect(await d.reconfigure(loaded.config)).toEqual({ verdict: 'in-place' });
    expect(routes.held.has(ROUTE.key(route(1)))).toBe(true);
  });
});
