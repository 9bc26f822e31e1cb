import { describe, expect, it } from 'vitest';
import { BindingTable } from '../../../src/bindings/table';
import type { PortKernelConfig } from '../../../src/kernel/derive';
import { DeltaAccumulator, DeltaBuilder, netting } from '../../../src/kernel/delta';
import { DesiredState } from '../../../src/kernel/desired';
import { diff } from '../../../src/kernel/diff';
import { type KernelDelta, NEIGH, ROUTE, VERIFY, isEmptyDelta } from '../../../src/kernel/entries';
import { instant } from '../../../src/time';
import { lease4, lease6, prng } from '../bindings/fixtures';

const ports = new Map<string, PortKernelConfig>([
  ['p1', { device: 'eth1' }],
  ['p2', { device: 'eth2' }],
]);

/** A delta as text, the way a reader would write it down. */
function show(d: KernelDelta): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const put = (name: string, xs: string[]) => {
    if (xs.length) out[name] = xs.sort();
  };
  for (const op of ['add', 'remove', 'replace'] as const) {
    put(`route ${op}`, d.routes[op].map((e) => `${ROUTE.key(e)} ${ROUTE.attrs(e)}`));
    put(`neigh ${op}`, d.neighbours[op].map((e) => `${NEIGH.key(e)} ${NEIGH.attrs(e)}`));
    put(`verify ${op}`, d.verifies[op].map((e) => VERIFY.key(e)));
  }
  return out;
}

function setup(cfg = ports) {
  const table = new BindingTable({ maxBindings: 100, maxPerPort: () => 100 });
  const desired = new DesiredState(cfg);
  const upsert = (b: Parameters<BindingTable['upsert']>[0], at = 0) => {
    const r = table.upsert(b, instant(at));
    if (r.kind === 'rejected') throw new Error(r.reason);
    return show(desired.apply(r));
  };
  /** The incremental state must equal a full diff against an empty kernel. */
  const full = () => show(diff(desired.state(table), { routes: [], neighbours: [], verifies: [] }));
  return { table, desired, upsert, full };
}

describe('DesiredState derivation', () => {
  it('IPv4 address: host route, permanent neighbour, verify entry', () => {
    const { upsert } = setup();
    expect(upsert(lease4('192.0.2.7', 'p1', 1, 60_000))).toEqual({
      'route add': ['192.0.2.7/32 dev eth1'],
      'neigh add': ['192.0.2.7 dev eth1 02:00:00:00:00:01'],
      'verify add': ['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth1'],
    });
  });

  it('IPv6 address and delegated prefix of one client share the link-local entries', () => {
    const { upsert, table, desired, full } = setup();
    expect(upsert(lease6('2001:db8::5', 128, 'p1', 5, 60_000))).toEqual({
      'route add': ['2001:db8::5/128 dev eth1'],
      'neigh add': ['2001:db8::5 dev eth1 02:00:00:00:00:05', 'fe80::5 dev eth1 02:00:00:00:00:05'],
      'verify add': ['2001:db8::5/128 mac 02:00:00:00:00:05 dev eth1', 'fe80::5/128 mac 02:00:00:00:00:05 dev eth1'],
    });
    // The prefix adds its route via the link-local; the link-local entries exist already.
    expect(upsert(lease6('2001:db8:5::', 56, 'p1', 5, 60_000))).toEqual({
      'route add': ['2001:db8:5::/56 via fe80::5 dev eth1'],
      'verify add': ['2001:db8:5::/56 mac 02:00:00:00:00:05 dev eth1'],
    });
    expect(desired.peerCount).toBe(1);
    // Removing one binding keeps the shared entries; removing the last drops them.
    expect(show(desired.removed(table.remove('2001:db8::5/128')!))).toEqual({
      'route remove': ['2001:db8::5/128 dev eth1'],
      'neigh remove': ['2001:db8::5 dev eth1 02:00:00:00:00:05'],
      'verify remove': ['2001:db8::5/128 mac 02:00:00:00:00:05 dev eth1'],
    });
    expect(full()['neigh add']).toEqual(['fe80::5 dev eth1 02:00:00:00:00:05']);
    expect(show(desired.removed(table.remove('2001:db8:5::/56')!))).toEqual({
      'route remove': ['2001:db8:5::/56 via fe80::5 dev eth1'],
      'neigh remove': ['fe80::5 dev eth1 02:00:00:00:00:05'],
      'verify remove': ['2001:db8:5::/56 mac 02:00:00:00:00:05 dev eth1', 'fe80::5/128 mac 02:00:00:00:00:05 dev eth1'],
    });
    expect(desired.peerCount).toBe(0);
    expect(full()).toEqual({});
  });

  it('without a MAC: route only; a prefix without a link-local: no route', () => {
    const { upsert } = setup();
    expect(upsert(lease4('192.0.2.8', 'p1', null, 60_000))).toEqual({ 'route add': ['192.0.2.8/32 dev eth1'] });
    expect(upsert(lease6('2001:db8:8::', 56, 'p1', null, 60_000))).toEqual({});
  });

  it('a port without kernel config, and per-port switches', () => {
    const cfg = new Map<string, PortKernelConfig>([['p1', { device: 'eth1', neighbours: false, verify: false }]]);
    const { upsert, desired } = setup(cfg);
    expect(upsert(lease4('192.0.2.9', 'p1', 9, 60_000))).toEqual({ 'route add': ['192.0.2.9/32 dev eth1'] });
    expect(upsert(lease4('192.0.2.10', 'nowhere', 10, 60_000))).toEqual({});
    expect(desired.counters.unconfiguredPort).toBe(1);
  });
});

describe('DesiredState incremental changes', () => {
  it('a plain renewal changes nothing in the kernel', () => {
    const { upsert } = setup();
    upsert(lease6('2001:db8:5::', 56, 'p1', 5, 60_000));
    expect(upsert(lease6('2001:db8:5::', 56, 'p1', 5, 120_000), 30_000)).toEqual({});
  });

  it('a move to another port replaces the route and moves neighbour and verify entries', () => {
    const { upsert, full } = setup();
    upsert(lease4('192.0.2.7', 'p1', 1, 60_000));
    expect(upsert(lease4('192.0.2.7', 'p2', 1, 60_000), 1000)).toEqual({
      'route replace': ['192.0.2.7/32 dev eth2'],
      'neigh add': ['192.0.2.7 dev eth2 02:00:00:00:00:01'],
      'neigh remove': ['192.0.2.7 dev eth1 02:00:00:00:00:01'],
      'verify add': ['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth2'],
      'verify remove': ['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth1'],
    });
    expect(full()['neigh add']).toEqual(['192.0.2.7 dev eth2 02:00:00:00:00:01']);
  });

  it('a new MAC for the same address replaces the neighbour lladdr', () => {
    const { upsert } = setup();
    upsert(lease4('192.0.2.7', 'p1', 1, 60_000));
    expect(upsert(lease4('192.0.2.7', 'p1', 2, 60_000), 1000)).toEqual({
      'neigh replace': ['192.0.2.7 dev eth1 02:00:00:00:00:02'],
      'verify add': ['192.0.2.7/32 mac 02:00:00:00:00:02 dev eth1'],
      'verify remove': ['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth1'],
    });
  });

  it('a renewal with a new link-local replaces the prefix route', () => {
    const { upsert } = setup();
    upsert(lease6('2001:db8:5::', 56, 'p1', 5, 60_000));
    const ll = Uint8Array.from([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x55]);
    expect(upsert(lease6('2001:db8:5::', 56, 'p1', 5, 60_000, { linkLocal: ll }), 10)).toEqual({
      'route replace': ['2001:db8:5::/56 via fe80::55 dev eth1'],
      'neigh add': ['fe80::55 dev eth1 02:00:00:00:00:05'],
      'neigh remove': ['fe80::5 dev eth1 02:00:00:00:00:05'],
      'verify add': ['fe80::55/128 mac 02:00:00:00:00:05 dev eth1'],
      'verify remove': ['fe80::5/128 mac 02:00:00:00:00:05 dev eth1'],
    });
  });

  it('two MACs claiming one link-local: the first keeps the neighbour until it goes', () => {
    const { upsert, table, desired } = setup();
    upsert(lease6('2001:db8:1::', 56, 'p1', 1, 60_000, { linkLocal: Uint8Array.from([0xfe, 0x80, ...Array(13).fill(0), 1]) }));
    expect(upsert(lease6('2001:db8:2::', 56, 'p1', 2, 60_000, { linkLocal: Uint8Array.from([0xfe, 0x80, ...Array(13).fill(0), 1]) }))).toEqual({
      'route add': ['2001:db8:2::/56 via fe80::1 dev eth1'],
      'verify add': ['2001:db8:2::/56 mac 02:00:00:00:00:02 dev eth1', 'fe80::1/128 mac 02:00:00:00:00:02 dev eth1'],
    });
    expect(desired.counters.peerConflicts).toBe(1);
    expect(show(desired.removed(table.remove('2001:db8:1::/56')!))).toEqual({
      'route remove': ['2001:db8:1::/56 via fe80::1 dev eth1'],
      'neigh replace': ['fe80::1 dev eth1 02:00:00:00:00:02'],
      'verify remove': ['2001:db8:1::/56 mac 02:00:00:00:00:01 dev eth1', 'fe80::1/128 mac 02:00:00:00:00:01 dev eth1'],
    });
  });

  it('expiry removes what the binding implied', () => {
    const { upsert, table, desired, full } = setup();
    upsert(lease4('192.0.2.7', 'p1', 1, 1000));
    upsert(lease4('192.0.2.8', 'p1', 2, 5000));
    const deltas = table.sweep(instant(1000)).map((b) => show(desired.apply({ kind: 'expired', binding: b })));
    expect(deltas).toEqual([
      {
        'route remove': ['192.0.2.7/32 dev eth1'],
        'neigh remove': ['192.0.2.7 dev eth1 02:00:00:00:00:01'],
        'verify remove': ['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth1'],
      },
    ]);
    expect(full()['route add']).toEqual(['192.0.2.8/32 dev eth1']);
  });

  it('reconfigure re-derives only ports whose settings changed', () => {
    const { upsert, table, desired, full } = setup();
    upsert(lease4('192.0.2.7', 'p1', 1, 60_000));
    upsert(lease4('192.0.2.8', 'p2', 2, 60_000));
    const next = new Map<string, PortKernelConfig>([
      ['p1', { device: 'eth1' }],
      ['p2', { device: 'eth2.5', verify: false }],
    ]);
    expect(show(desired.reconfigure(next, table))).toEqual({
      'route replace': ['192.0.2.8/32 dev eth2.5'],
      'neigh add': ['192.0.2.8 dev eth2.5 02:00:00:00:00:02'],
      'neigh remove': ['192.0.2.8 dev eth2 02:00:00:00:00:02'],
      'verify remove': ['192.0.2.8/32 mac 02:00:00:00:00:02 dev eth2'],
    });
    expect(full()['verify add']).toEqual(['192.0.2.7/32 mac 02:00:00:00:00:01 dev eth1']);
  });

  it('the sum of incremental deltas equals the full desired state (random walk)', () => {
    const { table, desired } = setup();
    // Apply every delta to a simulated kernel; at the end it must match state().
    const kernel = { routes: new Map(), neighbours: new Map(), verifies: new Map() };
    const types = { routes: ROUTE, neighbours: NEIGH, verifies: VERIFY } as const;
    const applyDelta = (d: KernelDelta) => {
      for (const kind of ['routes', 'neighbours', 'verifies'] as const) {
        const m = kernel[kind] as Map<string, unknown>;
        const ty = types[kind] as { key(e: unknown): string };
        for (const e of d[kind].remove) expect(m.delete(ty.key(e))).toBe(true);
        for (const e of d[kind].replace) {
          expect(m.has(ty.key(e))).toBe(true);
          m.set(ty.key(e), e);
        }
        for (const e of d[kind].add) {
          expect(m.has(ty.key(e))).toBe(false);
          m.set(ty.key(e), e);
        }
      }
    };
    const rnd = prng(7);
    for (let step = 0; step < 600; step++) {
      const n = Math.floor(rnd() * 12);
      const port = rnd() < 0.5 ? 'p1' : 'p2';
      const m = Math.floor(rnd() * 4);
      const r = rnd();
      if (r < 0.8) {
        const l =
          n < 4
            ? lease4(`192.0.2.${n + 1}`, port, m, null)
            : n < 8
              ? lease6(`2001:db8::${n}`, 128, port, m, null)
              : lease6(`2001:db8:${n}::`, 60, port, m, null);
        const res = table.upsert(l, instant(step));
        if (res.kind !== 'rejected') applyDelta(desired.apply(res));
      } else {
        const keys = [...table.entries()];
        const b = keys[Math.floor(rnd() * keys.length)];
        if (b) applyDelta(desired.removed(table.removeAddress(b.family, b.address, b.prefixLength)!));
      }
    }
    const d = diff(desired.state(table), {
      routes: kernel.routes.values(),
      neighbours: kernel.neighbours.values(),
      verifies: kernel.verifies.values(),
    });
    expect(isEmptyDelta(d)).toBe(true);
    expect(kernel.routes.size).toBeGreaterThan(3);
    expect(kernel.neighbours.size).toBeGreaterThan(3);
  });
});

describe('bulk writes: several changes netted into one delta', () => {
  it('applyTo into one builder has the effect of the separate deltas folded by an accumulator (random walk, groups of 1–8)', () => {
    const a = setup();
    const b = setup();
    const types = { routes: ROUTE, neighbours: NEIGH, verifies: VERIFY } as const;
    type Kernel = Record<keyof typeof types, Map<string, unknown>>;
    const kernelA: Kernel = { routes: new Map(), neighbours: new Map(), verifies: new Map() };
    const kernelB: Kernel = { routes: new Map(), neighbours: new Map(), verifies: new Map() };
    // A simulated kernel; `exact`: a removal must name the entry as the kernel holds it.
    const applyDelta = (kernel: Kernel, d: KernelDelta, exact: boolean) => {
      for (const kind of ['routes', 'neighbours', 'verifies'] as const) {
        const m = kernel[kind];
        const ty = types[kind] as { key(e: unknown): string; attrs(e: unknown): string };
        for (const e of d[kind].remove) {
          expect(m.has(ty.key(e))).toBe(true);
          if (exact) expect(ty.attrs(e)).toBe(ty.attrs(m.get(ty.key(e))));
          m.delete(ty.key(e));
        }
        for (const e of d[kind].replace) {
          expect(m.has(ty.key(e))).toBe(true);
          m.set(ty.key(e), e);
        }
        for (const e of d[kind].add) {
          expect(m.has(ty.key(e))).toBe(false);
          m.set(ty.key(e), e);
        }
      }
    };
    const text = (k: Kernel) => Object.fromEntries(Object.entries(k).map(([kind, m]) => {
      const ty = types[kind as keyof typeof types] as { key(e: unknown): string; attrs(e: unknown): string };
      return [kind, [...m.values()].map((e) => `${ty.key(e)} ${ty.attrs(e)}`).sort()];
    }));
    const rnd = prng(11);
    for (let group = 0; group < 150; group++) {
      const size = 1 + Math.floor(rnd() * 8);
      const acc = new DeltaAccumulator();
      const builder = new DeltaBuilder();
      for (let i = 0; i < size; i++) {
        const n = Math.floor(rnd() * 12);
        const port = rnd() < 0.5 ? 'p1' : 'p2';
        const m = Math.floor(rnd() * 4);
        const keys = [...a.table.entries()];
        const victim = rnd() < 0.25 ? keys[Math.floor(rnd() * keys.length)] : undefined;
        if (victim) {
          const ra = a.table.removeAddress(victim.family, victim.address, victim.prefixLength)!;
          const rb = b.table.removeAddress(victim.family, victim.address, victim.prefixLength)!;
          acc.push(a.desired.apply({ kind: 'removed', binding: ra }));
          b.desired.applyTo(builder, { kind: 'removed', binding: rb });
          continue;
        }
        const l = n < 4 ? lease4(`192.0.2.${n + 1}`, port, m, null)
          : n < 8 ? lease6(`2001:db8::${n}`, 128, port, m, null) : lease6(`2001:db8:${n}::`, 60, port, m, null);
        const ra = a.table.upsert(l, instant(group));
        const rb = b.table.upsert(l, instant(group));
        expect(rb.kind).toBe(ra.kind);
        if (ra.kind !== 'rejected') acc.push(a.desired.apply(ra));
        if (rb.kind !== 'rejected') b.desired.applyTo(builder, rb);
      }
      applyDelta(kernelA, acc.build(), true);
      applyDelta(kernelB, builder.build(), true);
      expect(text(kernelB)).toEqual(text(kernelA));
    }
    expect(kernelB.routes.size).toBeGreaterThan(3);
    expect(show(diff(b.desired.state(b.table), {
      routes: kernelB.routes.values(), neighbours: kernelB.neighbours.values(), verifies: kernelB.verifies.values(),
    } as never))).toEqual({});
  });

  it('an accumulator given one delta hands back that delta; a second one is folded in', () => {
    const { table, desired } = setup();
    const r1 = table.upsert(lease6('2001:db8::5', 128, 'p1', 5, null), instant(0));
    const r2 = table.upsert(lease6('2001:db8:5::', 56, 'p1', 5, null), instant(0));
    if (r1.kind === 'rejected' || r2.kind === 'rejected') throw new Error('rejected');
    const d1 = desired.apply(r1);
    const d2 = desired.apply(r2);
    const one = new DeltaAccumulator();
    one.push(d1);
    expect(one.build()).toBe(d1);
    expect(one.size).toBe(5);
    const two = new DeltaAccumulator();
    two.push(d1);
    two.push(d2);
    expect(two.size).toBe(7);
    expect(show(two.build())).toEqual({
      'route add': ['2001:db8:5::/56 via fe80::5 dev eth1', '2001:db8::5/128 dev eth1'],
      'neigh add': ['2001:db8::5 dev eth1 02:00:00:00:00:05', 'fe80::5 dev eth1 02:00:00:00:00:05'],
      'verify add': ['2001:db8:5::/56 mac 02:00:00:00:00:05 dev eth1', '2001:db8::5/128 mac 02:00:00:00:00:05 dev eth1', 'fe80::5/128 mac 02:00:00:00:00:05 dev eth1'],
    });
  });
  it('a binding that moves and is then removed in one batch removes what the kernel holds, not the moved entry', () => {
    const { table, desired } = setup();
    const up = (l: Parameters<BindingTable['upsert']>[0]) => {
      const r = table.upsert(l, instant(0));
      if (r.kind === 'rejected') throw new Error(r.reason);
      return desired.apply(r);
    };
    // Applied in an earlier batch: the kernel holds the route and neighbour on eth1.
    up(lease4('192.0.2.7', 'p1', 7, null));
    const acc = new DeltaAccumulator();
    // One batch: the client moves to p2 (a replace: same keys for the route), then goes.
    acc.push(up(lease4('192.0.2.7', 'p2', 7, null)));
    const gone = table.removeAddress(4, lease4('192.0.2.7', 'p2', 7, null).address, 32)!;
    acc.push(desired.apply({ kind: 'removed', binding: gone }));
    // The route delete must name eth1 (RTM_DELROUTE with the moved device is ESRCH
    // and leaves the old route until the next reconcile).
    expect(show(acc.build())).toEqual({
      'route remove': ['192.0.2.7/32 dev eth1'],
      'neigh remove': ['192.0.2.7 dev eth1 02:00:00:00:00:07'],
      'verify remove': ['192.0.2.7/32 mac 02:00:00:00:00:07 dev eth1'],
    });
  });
  it('the netting keys (bytes) tell entries apart exactly as the text keys do', () => {
    const rnd = prng(5);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    // few distinct values, so that pairs share keys; separators and digits among them
    const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i < 2 ? pick([0x31, 0x7c, 0x20]) : 0));
    const devs = ['eth1', 'eth10', '1eth', 'eth1 '];
    const entries = Array.from({ length: 200 }, () => {
      const family = pick([4, 6] as const);
      const addr = bytes(family === 4 ? 4 : 16);
      const len = pick([1, 11, 56]);
      const device = pick(devs);
      const mac = Uint8Array.of(2, 0, 0, 0, 0, pick([1, 0x7c]));
      return {
        routes: { family, dst: addr, dstLen: len, device, gateway: null },
        neighbours: { family, address: addr, device, lladdr: mac },
        verifies: { family, device, mac, prefix: addr, prefixLength: len },
      };
    });
    for (const [kind, ty] of [['routes', ROUTE], ['neighbours', NEIGH], ['verifies', VERIFY]] as const) {
      const net = netting(ty as never) as unknown as { key(e: unknown): string };
      const text = ty as unknown as { key(e: unknown): string };
      const nets = entries.map((e) => net.key(e[kind]));
      const texts = entries.map((e) => text.key(e[kind]));
      const wrong: string[] = [];
      let same = 0;
      for (let i = 0; i < entries.length; i++) {
        for (let j = i + 1; j < entries.length; j++) {
          if ((nets[i] === nets[j]) !== (texts[i] === texts[j])) wrong.push(`${texts[i]} / ${texts[j]}`);
          if (texts[i] === texts[j]) same++;
        }
      }
      expect(wrong).toEqual([]);
      expect(same, kind).toBeGreaterThan(0); // some pairs do share a key
    }
  });
});
