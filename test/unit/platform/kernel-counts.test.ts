/**
 * The kernel driver's entry counts (platform/kernel/counts.ts) against appliers that keep
 * their "kernel" in memory: desired from the core's deltas, installed from the last
 * read-back moved by what each batch got in — and a read-back correcting what the driver
 * could not know (an entry deleted behind its back). The netlink side: test/e2e/metrics.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/config';
import { NEIGH, ROUTE, emptyDelta, type EntryKind, type KernelDelta, type KernelEntries, type NeighEntry, type RouteEntry } from '../../../src/kernel/entries';
import type { DriverContext } from '../../../platform/driver';
import type { AnyApplier, Applier } from '../../../platform/kernel/applier';
import type { EntryCountRow } from '../../../platform/kernel/counts';
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

/** One kind's kernel in a map by key; `refuse` says which entries the kernel refuses to add. */
function memoryApplier<K extends EntryKind>(kind: K, key: (e: KernelEntries[K]) => string, refuse: (e: KernelEntries[K]) => boolean = () => false) {
  const held = new Map<string, KernelEntries[K]>();
  const a: Applier<K> = {
    kind, queryKey: kind, monitor: { protocol: 0, groups: [] },
    start: async () => {},
    dump: async () => [...held.values()],
    dumpEach: async (_ctx, each) => {
      for (const e of held.values()) each(e);
      return true;
    },
    apply: async (op, entries) => {
      const missed = new Set<number>();
      const failures: string[] = [];
      entries.forEach((e, i) => {
        if (op !== 'remove' && refuse(e)) {
          missed.add(i);
          failures.push('EINVAL');
        } else if (op === 'remove') {
          if (!held.delete(key(e))) missed.add(i);
        } else held.set(key(e), e);
      });
      return { applied: entries.length - missed.size, failures, noDevice: 0, missed };
    },
    tag: () => kind, withdraw: async () => {}, concerns: () => false, stop: () => {}, row: () => ({}),
  };
  return { applier: a as unknown as AnyApplier, held };
}

const host4 = (i: number): RouteEntry => ({ family: 4, dst: Uint8Array.of(10, 0, (i >> 8) & 0xff, i & 0xff), dstLen: 32, device: 'lo', gateway: null });
const pd6 = (i: number): RouteEntry => ({
  family: 6, dst: Uint8Array.of(0x20, 1, 0xd, 0xb8, 0, i, ...new Array(10).fill(0)), dstLen: 56, device: 'lo',
  gateway: Uint8Array.of(0xfe, 0x80, ...new Array(13).fill(0), i),
});
const neigh6 = (i: number): NeighEntry => ({
  family: 6, address: Uint8Array.of(0xfe, 0x80, ...new Array(13).fill(0), i), device: 'lo', lladdr: Uint8Array.of(2, 0, 0, 0, 0, i),
});

let driver: KernelDriver | null = null;
afterEach(async () => {
  await driver?.stop();
  driver = null;
});

describe('KernelDriver entry counts', () => {
  it('counts desired from deltas and installed from read-back plus what each batch got in, by kind, class and family', async () => {
    const desired = { routes: new Map<string, RouteEntry>(), neighbours: new Map<string, NeighEntry>() };
    // the kernel refuses the PD route of client 3 (a gateway it cannot reach, say)
    const routes = memoryApplier('routes', ROUTE.key, (r) => r.family === 6 && r.dst[5] === 3);
    const neighbours = memoryApplier('neighbours', NEIGH.key);
    const others = [memoryApplier('verifies', () => ''), memoryApplier('mroutes', () => ''), memoryApplier('diverts', () => '')];
    const ctx: DriverContext = {
      emit: () => undefined, log: () => undefined, query: () => undefined,
      desiredState: () => ({ routes: [...desired.routes.values()], neighbours: [...desired.neighbours.values()], verifies: [], mroutes: [], diverts: [] }),
    };
    const loaded = loadConfig(CONFIG, 'test');
    if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems));
    const d = new KernelDriver(() => [routes.applier, neighbours.applier, ...others.map((o) => o.applier)]);
    driver = d;
    // Two host routes were in the kernel before the start (kept from a previous run).
    for (const r of [host4(100), host4(101)]) routes.held.set(ROUTE.key(r), r);
    await d.start(loaded.config, ctx);
    const status = () => d.status() as { reconciles: number; entries: EntryCountRow[]; lastReconcileMsAgo: number | null; reconciled: Record<string, number> };
    const row = (kind: string, family: 4 | 6) => {
      const r = status().entries.find((x) => x.kind === kind && x.family === family)!;
      return { desired: r.desired, installed: r.installed };
    };
    await until('the start reconcile', async () => (status().reconciles >= 1 ? true : null), 10_000, 10);
    // The start reconcile read the kernel back and removed the two nobody desires.
    expect(routes.held.size).toBe(0);
    expect(row('routes_host', 4)).toEqual({ desired: 0, installed: 0 });
    expect(status().reconciled.removed).toBe(2);
    expect(status().lastReconcileMsAgo).not.toBeNull();
    // Every registered kind and family has its rows, zeros included; routes by class.
    expect(status().entries.map((r) => `${r.kind}/${r.family}`)).toEqual([
      'routes_host/4', 'routes_host/6', 'routes_pd/4', 'routes_pd/6', 'neighbours/4', 'neighbours/6',
      'verifies/4', 'verifies/6', 'mroutes/4', 'mroutes/6', 'diverts/4', 'diverts/6',
    ]);

    // Five clients arrive live: a host route, a PD route and a neighbour each.
    const send = (delta: KernelDelta) => d.execute({ kind: 'kernel', delta });
    for (let i = 1; i <= 5; i++) {
      desired.routes.set(ROUTE.key(host4(i)), host4(i));
      desired.routes.set(ROUTE.key(pd6(i)), pd6(i));
      desired.neighbours.set(NEIGH.key(neigh6(i)), neigh6(i));
      await send({ ...emptyDelta(), routes: { add: [host4(i), pd6(i)], remove: [], replace: [] }, neighbours: { add: [neigh6(i)], remove: [], replace: [] } });
    }
    expect(row('routes_host', 4)).toEqual({ desired: 5, installed: 5 });
    expect(row('routes_pd', 6)).toEqual({ desired: 5, installed: 4 }); // the refused one is not in
    expect(row('neighbours', 6)).toEqual({ desired: 5, installed: 5 });
    expect(row('routes_host', 6)).toEqual({ desired: 0, installed: 0 });

    // Client 2 leaves; someone deletes client 4's neighbour behind gleand's back.
    desired.routes.delete(ROUTE.key(host4(2)));
    desired.routes.delete(ROUTE.key(pd6(2)));
    desired.neighbours.delete(NEIGH.key(neigh6(2)));
    await send({ ...emptyDelta(), routes: { add: [], remove: [host4(2), pd6(2)], replace: [] }, neighbours: { add: [], remove: [neigh6(2)], replace: [] } });
    neighbours.held.delete(NEIGH.key(neigh6(4)));
    expect(row('routes_host', 4)).toEqual({ desired: 4, installed: 4 });
    expect(row('neighbours', 6)).toEqual({ desired: 4, installed: 4 }); // not known yet
    // A replace (new link-layer address) moves no count.
    const moved = { ...neigh6(1), lladdr: Uint8Array.of(2, 0, 0, 0, 0, 0x99) };
    desired.neighbours.set(NEIGH.key(moved), moved);
    await send({ ...emptyDelta(), neighbours: { add: [], remove: [], replace: [moved] } });
    expect(row('neighbours', 6)).toEqual({ desired: 4, installed: 4 });

    // The next reconcile reads the kernel back (3 neighbours), then puts the lost one back.
    const before = status().reconciles;
    d.reconcile('periodic');
    await until('the reconcile', async () => (status().reconciles > before ? true : null), 10_000, 10);
    expect(neighbours.held.size).toBe(4);
    expect(row('neighbours', 6)).toEqual({ desired: 4, installed: 4 });
    expect(row('routes_pd', 6)).toEqual({ desired: 4, installed: 3 }); // still refused
    expect(row('routes_host', 4)).toEqual({ desired: 4, installed: routes.held.size - 3 });
  });
});
