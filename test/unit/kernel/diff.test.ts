import { describe, expect, it } from 'vitest';
import { batches, chunk, diff, diffEntries, diffInSteps } from '../../../src/kernel/diff';
import { type NeighEntry, ROUTE, type RouteEntry, type VerifyEntry, emptyDelta } from '../../../src/kernel/entries';
import { mac, v4, v6 } from '../bindings/fixtures';

const host = (a: string, device = 'eth1'): RouteEntry => ({ family: 4, dst: v4(a), dstLen: 32, device, gateway: null });
const pd = (p: string, len: number, gw: string, device = 'eth1'): RouteEntry => ({
  family: 6,
  dst: v6(p),
  dstLen: len,
  device,
  gateway: v6(gw),
});
const neigh = (a: string, m: number, device = 'eth1'): NeighEntry => ({ family: 4, address: v4(a), device, lladdr: mac(m) });
const verify = (a: string, m: number, device = 'eth1'): VerifyEntry => ({
  family: 4,
  device,
  mac: mac(m),
  prefix: v4(a),
  prefixLength: 32,
});
const none = { routes: [], neighbours: [], verifies: [] };

describe('diff (reconcile, never replay)', () => {
  it('leaves what is in both alone, adds the missing, removes the stale', () => {
    const d = diff(
      { routes: [host('192.0.2.1'), host('192.0.2.2')], neighbours: [], verifies: [verify('192.0.2.1', 1)] },
      { routes: [host('192.0.2.2'), host('192.0.2.3')], neighbours: [neigh('192.0.2.9', 9)], verifies: [verify('192.0.2.1', 1)] },
    );
    expect(d.routes).toEqual({ add: [host('192.0.2.1')], remove: [host('192.0.2.3')], replace: [] });
    expect(d.neighbours).toEqual({ add: [], remove: [neigh('192.0.2.9', 9)], replace: [] });
    expect(d.verifies).toEqual({ add: [], remove: [], replace: [] });
  });

  it('replaces an entry whose key matches but attributes differ', () => {
    const d = diff(
      {
        routes: [host('192.0.2.1', 'eth2'), pd('2001:db8:1::', 56, 'fe80::2')],
        neighbours: [neigh('192.0.2.1', 2)],
        verifies: [],
      },
      {
        routes: [host('192.0.2.1', 'eth1'), pd('2001:db8:1::', 56, 'fe80::1')],
        neighbours: [neigh('192.0.2.1', 1)],
        verifies: [],
      },
    );
    expect(d.routes.replace).toEqual([host('192.0.2.1', 'eth2'), pd('2001:db8:1::', 56, 'fe80::2')]);
    expect(d.neighbours.replace).toEqual([neigh('192.0.2.1', 2)]);
    expect(d.routes.add).toEqual([]);
    expect(d.routes.remove).toEqual([]);
  });

  it('a verify entry with another MAC is a different entry (add + remove)', () => {
    const d = diff({ ...none, verifies: [verify('192.0.2.1', 2)] }, { ...none, verifies: [verify('192.0.2.1', 1)] });
    expect(d.verifies).toEqual({ add: [verify('192.0.2.1', 2)], remove: [verify('192.0.2.1', 1)], replace: [] });
  });

  it('removes duplicate keys the kernel reports beyond the first', () => {
    const d = diff({ ...none, routes: [host('192.0.2.1')] }, { ...none, routes: [host('192.0.2.1'), host('192.0.2.1', 'eth9')] });
    expect(d.routes).toEqual({ add: [], remove: [host('192.0.2.1', 'eth9')], replace: [] });
  });

  it('is idempotent: applying the delta and diffing again gives nothing', () => {
    const desired = [host('192.0.2.1'), host('192.0.2.2', 'eth2'), pd('2001:db8:1::', 56, 'fe80::1')];
    const actual = [host('192.0.2.2'), host('192.0.2.7')];
    const d = diff({ ...none, routes: desired }, { ...none, routes: actual });
    const after = new Map(actual.map((r) => [ROUTE.key(r), r]));
    d.routes.remove.forEach((r) => after.delete(ROUTE.key(r)));
    [...d.routes.replace, ...d.routes.add].forEach((r) => after.set(ROUTE.key(r), r));
    expect(diff({ ...none, routes: desired }, { ...none, routes: [...after.values()] })).toEqual(emptyDelta());
  });
});

describe('batching', () => {
  it('chunks', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 3)).toEqual([]);
  });

  it('orders removals, replaces, then additions (neighbours before routes)', () => {
    const d = diff(
      { routes: [host('192.0.2.1'), host('192.0.2.2'), host('192.0.2.3')], neighbours: [neigh('192.0.2.1', 1)], verifies: [] },
      { routes: [host('192.0.2.9')], neighbours: [neigh('192.0.2.8', 8)], verifies: [] },
    );
    expect(batches(d, 2).map((b) => `${b.op} ${b.kind} ${b.entries.length}`)).toEqual([
      'remove routes 1',
      'remove neighbours 1',
      'add neighbours 1',
      'add routes 2',
      'add routes 1',
    ]);
  });

  it('diffs in steps: pauses every `step` entries of either side, pulls the desired side lazily, ends with the same delta', () => {
    let pulled = 0;
    function* desired(): Generator<RouteEntry> {
      for (let i = 1; i <= 250; i++, pulled++) yield host(`10.0.${i >> 8}.${i & 0xff}`);
    }
    const actual = [host('192.0.2.1'), host('10.0.0.7')];
    const steps = diffInSteps(ROUTE, desired(), actual, 100);
    let pauses = 0;
    let r = steps.next();
    expect(pulled).toBeLessThanOrEqual(100); // the first pause comes before the desired side is read through
    for (; !r.done; r = steps.next()) pauses++;
    expect(pauses).toBe(2); // 2 + 250 entries, a pause after every 100
    const d = r.value;
    expect(d.add).toHaveLength(249);
    expect(d.remove).toEqual([host('192.0.2.1')]);
    pulled = 0;
    expect(d).toEqual(diffEntries(ROUTE, desired(), actual));
  });
});
