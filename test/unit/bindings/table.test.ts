import { describe, expect, it } from 'vitest';
import { keyOf, parseBindingKey } from '../../../src/bindings/binding';
import { BindingTable } from '../../../src/bindings/table';
import { instant } from '../../../src/time';
import { lease4, lease6, mac, v4, v6 } from './fixtures';

const table = (maxBindings = 100, perPort = 10) => new BindingTable({ maxBindings, maxPerPort: () => perPort }, 4);
const t = instant;

describe('BindingTable upsert / refresh / remove', () => {
  it('adds, then refreshes the same lease on the same port and MAC', () => {
    const tb = table();
    const r1 = tb.upsert(lease4('192.0.2.7', 'p1', 1, 60_000), t(0));
    expect(r1.kind).toBe('added');
    if (r1.kind !== 'added') return;
    expect(keyOf(r1.binding)).toBe('192.0.2.7/32');
    expect(r1.binding.updatedAt).toBe(0);
    expect(tb.nextExpiry()).toBe(60_000);

    const r2 = tb.upsert(lease4('192.0.2.7', 'p1', 1, 120_000), t(30_000));
    expect(r2.kind).toBe('refreshed');
    if (r2.kind !== 'refreshed') return;
    expect(r2.previous.validUntil).toBe(60_000);
    expect(r2.binding.validUntil).toBe(120_000);
    expect(r2.binding.updatedAt).toBe(30_000);
    expect(tb.size).toBe(1);
    expect(tb.nextExpiry()).toBe(120_000);
    expect(tb.counters).toMatchObject({ added: 1, refreshed: 1 });
  });

  it('keeps fields a same-port renewal leaves null', () => {
    const tb = table();
    const cid = Uint8Array.of(1, 2, 3);
    tb.upsert(lease6('2001:db8::5', 128, 'p1', 5, 60_000, { clientId: cid, iaid: 7, circuitId: Uint8Array.of(9) }), t(0));
    const r = tb.upsert(lease6('2001:db8::5', 128, 'p1', null, 90_000), t(10));
    expect(r.kind).toBe('refreshed');
    const b = tb.get('2001:db8::5/128')!;
    expect(b.mac).toEqual(mac(5));
    expect(b.clientId).toEqual(cid);
    expect(b.iaid).toBe(7);
    expect(b.circuitId).toEqual(Uint8Array.of(9));
    expect(b.linkLocal).toEqual(v6('fe80::5'));
    expect(b.validUntil).toBe(90_000);
  });

  it('reports a renewal on another port as moved and re-indexes it', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.7', 'p1', 1, 60_000), t(0));
    const r = tb.upsert(lease4('192.0.2.7', 'p2', 1, 60_000), t(1000));
    expect(r.kind).toBe('moved');
    if (r.kind !== 'moved') return;
    expect(r.previous.port).toBe('p1');
    expect(r.binding.port).toBe('p2');
    expect(tb.byPort('p1')).toEqual([]);
    expect(tb.byPort('p2').map(keyOf)).toEqual(['192.0.2.7/32']);
    expect(tb.portSize('p1')).toBe(0);
    expect(tb.counters.moved).toBe(1);
  });

  it('reports the same address with another MAC as moved', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.7', 'p1', 1, 60_000), t(0));
    const r = tb.upsert(lease4('192.0.2.7', 'p1', 2, 60_000), t(1000));
    expect(r.kind).toBe('moved');
    expect(tb.byMac(mac(1))).toEqual([]);
    expect(tb.byMac(mac(2)).map(keyOf)).toEqual(['192.0.2.7/32']);
  });

  it('removes by key and by address', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.7', 'p1', 1, 60_000), t(0));
    tb.upsert(lease6('2001:db8:1::', 56, 'p1', 1, 60_000), t(0));
    expect(tb.remove('192.0.2.7/32')?.port).toBe('p1');
    expect(tb.remove('192.0.2.7/32')).toBeNull();
    expect(tb.remove('garbage')).toBeNull();
    expect(tb.removeAddress(6, v6('2001:db8:1::'), 56)?.kind).toBe('prefix');
    expect(tb.size).toBe(0);
    expect(tb.nextExpiry()).toBeNull();
    expect(tb.byMac(mac(1))).toEqual([]);
    expect(tb.counters.removed).toBe(2);
  });

  it('indexes by client id per family (DUID and option 61 are different spaces)', () => {
    const tb = table();
    const duid = Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0, 9);
    tb.upsert(lease6('2001:db8::9', 128, 'p1', 9, 60_000, { clientId: duid, iaid: 1 }), t(0));
    tb.upsert(lease6('2001:db8:9::', 56, 'p1', 9, 60_000, { clientId: duid, iaid: 2 }), t(0));
    tb.upsert(lease4('192.0.2.9', 'p1', 9, 60_000, { clientId: duid }), t(0));
    expect(tb.byClientId(6, duid).map(keyOf).sort()).toEqual(['2001:db8:9::/56', '2001:db8::9/128']);
    expect(tb.byClientId(4, duid).map(keyOf)).toEqual(['192.0.2.9/32']);
    expect(tb.byMac(mac(9))).toHaveLength(3);
    expect(tb.find(4, v4('192.0.2.9'))?.port).toBe('p1');
  });

  it('parses and formats keys symmetrically', () => {
    expect(parseBindingKey('2001:db8:1::/56')).toEqual({ family: 6, address: v6('2001:db8:1::'), prefixLength: 56 });
    expect(parseBindingKey('192.0.2.1/33')).toBeNull();
    expect(parseBindingKey('192.0.2.1')).toBeNull();
  });
});

describe('BindingTable rejects without losing anything', () => {
  it('refuses malformed and already-expired leases', () => {
    const tb = table();
    expect(tb.upsert(lease4('192.0.2.7', 'p1', 1, 1000), t(1000))).toMatchObject({ kind: 'rejected', reason: 'expired' });
    expect(tb.upsert({ ...lease4('192.0.2.7', 'p1', 1, null), address: Uint8Array.of(1, 2, 3) }, t(0))).toMatchObject({
      kind: 'rejected',
      reason: 'invalid',
    });
    expect(tb.upsert(lease6('2001:db8:1::1', 56, 'p1', 1, null), t(0))).toMatchObject({ reason: 'invalid' }); // host bits
    expect(tb.upsert(lease6('fe80::1', 128, 'p1', 1, null), t(0))).toMatchObject({ reason: 'invalid' });
    expect(tb.upsert(lease4('224.0.0.1', 'p1', 1, null), t(0))).toMatchObject({ reason: 'invalid' });
    expect(tb.upsert({ ...lease4('192.0.2.7', 'p1', 1, null), mac: Uint8Array.of(1, 0, 0, 0, 0, 0) }, t(0))).toMatchObject({
      reason: 'invalid',
    });
    expect(tb.size).toBe(0);
    expect(tb.counters).toMatchObject({ rejectedExpired: 1, rejectedInvalid: 5 });
  });

  it('bounds each port and the table, and a refused move keeps the old binding', () => {
    const tb = new BindingTable({ maxBindings: 5, maxPerPort: (p) => (p === 'small' ? 2 : 10) }, 2);
    expect(tb.upsert(lease4('192.0.2.1', 'small', 1, null), t(0)).kind).toBe('added');
    expect(tb.upsert(lease4('192.0.2.2', 'small', 2, null), t(0)).kind).toBe('added');
    expect(tb.upsert(lease4('192.0.2.3', 'small', 3, null), t(0))).toMatchObject({ reason: 'port-full', existing: null });
    // Refreshing on a full port is fine: it does not add a binding.
    expect(tb.upsert(lease4('192.0.2.2', 'small', 2, 5000), t(0)).kind).toBe('refreshed');
    tb.upsert(lease4('192.0.2.4', 'big', 4, null), t(0));
    tb.upsert(lease4('192.0.2.5', 'big', 5, null), t(0));
    tb.upsert(lease4('192.0.2.6', 'big', 6, null), t(0));
    expect(tb.upsert(lease4('192.0.2.7', 'big', 7, null), t(0))).toMatchObject({ reason: 'table-full' });
    // Moving onto the full port is refused; the binding stays where it was.
    const r = tb.upsert(lease4('192.0.2.4', 'small', 4, null), t(0));
    expect(r).toMatchObject({ kind: 'rejected', reason: 'port-full' });
    expect(r.kind === 'rejected' && r.existing?.port).toBe('big');
    expect(tb.get('192.0.2.4/32')?.port).toBe('big');
    expect(tb.size).toBe(5);
    expect(tb.counters).toMatchObject({ rejectedPortFull: 2, rejectedTableFull: 1 });
    expect(tb.checkIntegrity()).toEqual([]);
  });

  it('never lets a glean overwrite a static binding', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.7', 'p1', 1, null, { source: 'static' }), t(0));
    expect(tb.upsert(lease4('192.0.2.7', 'p2', 2, 60_000), t(1))).toMatchObject({ kind: 'rejected', reason: 'static' });
    expect(tb.get('192.0.2.7/32')).toMatchObject({ port: 'p1', source: 'static', validUntil: null });
    expect(tb.upsert(lease4('192.0.2.7', 'p2', 2, null, { source: 'static' }), t(2)).kind).toBe('moved');
  });
});

describe('BindingTable expiry by sweep', () => {
  it('expires in validUntil order, exactly at validUntil, never infinite leases', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.3', 'p1', 3, 3000), t(0));
    tb.upsert(lease4('192.0.2.1', 'p1', 1, 1000), t(0));
    tb.upsert(lease4('192.0.2.9', 'p1', 9, null), t(0));
    tb.upsert(lease4('192.0.2.2', 'p2', 2, 2000), t(0));
    expect(tb.nextExpiry()).toBe(1000);
    expect(tb.sweep(t(999))).toEqual([]);
    expect(tb.sweep(t(1000)).map(keyOf)).toEqual(['192.0.2.1/32']);
    expect(tb.nextExpiry()).toBe(2000);
    // A refresh pushes the deadline out.
    tb.upsert(lease4('192.0.2.2', 'p2', 2, 5000), t(1500));
    expect(tb.sweep(t(4000)).map(keyOf)).toEqual(['192.0.2.3/32']);
    expect(tb.sweep(t(10_000)).map(keyOf)).toEqual(['192.0.2.2/32']);
    expect(tb.nextExpiry()).toBeNull();
    expect(tb.size).toBe(1);
    expect(tb.counters.expired).toBe(3);
  });

  it('sweeps many at once, earliest first', () => {
    const tb = table(1000, 1000);
    const untils = [50, 10, 40, 10, 30, 20, 60, 5];
    untils.forEach((u, i) => tb.upsert(lease4(`192.0.2.${i + 1}`, 'p1', i, u), t(0)));
    const out = tb.sweep(t(45));
    expect(out.map((b) => b.validUntil)).toEqual([5, 10, 10, 20, 30, 40]);
    expect(tb.size).toBe(2);
  });

  it('a refresh to an infinite lease leaves the expiry heap', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.1', 'p1', 1, 1000), t(0));
    tb.upsert(lease4('192.0.2.1', 'p1', 1, null), t(10));
    expect(tb.nextExpiry()).toBeNull();
    expect(tb.sweep(t(1_000_000))).toEqual([]);
  });
});

describe('BindingTable with a limit below its minimum capacity', () => {
  it('grows past a tiny initial limit once the limit is raised (expiry heap resize)', () => {
    const t = new BindingTable({ maxBindings: 1, maxPerPort: () => 1000 });
    t.setLimits({ maxBindings: 1000, maxPerPort: () => 1000 });
    for (let i = 1; i <= 40; i++) {
      const r = t.upsert({
        family: 4, kind: 'address', address: Uint8Array.of(198, 51, 100, i), prefixLength: 32, port: 'p',
        mac: Uint8Array.of(2, 0, 0, 0, 0, i), clientId: null, circuitId: null, remoteId: null, linkLocal: null,
        validUntil: instant(10_000 + i), source: 'glean',
      }, instant(0));
      expect(r.kind).toBe('added');
    }
    expect(t.size).toBe(40);
    expect(t.sweep(instant(20_000))).toHaveLength(40);
  });
});

describe('BindingTable.kernelFacts (what a reconcile derives the desired state from)', () => {
  it('yields, for every live binding, exactly the kernel fields entries() has, and skips removed ones', () => {
    const tb = table(100, 100);
    tb.upsert(lease4('192.0.2.7', 'p1', 1, 60_000, { clientId: Uint8Array.of(1, 2, 3), circuitId: Uint8Array.of(9) }), t(0));
    tb.upsert(lease6('2001:db8::5', 128, 'p2', 5, 60_000, { clientId: Uint8Array.of(0, 3, 0, 1), iaid: 7 }), t(0));
    tb.upsert(lease6('2001:db8:100::', 56, 'p2', 5, null, { iaid: 8 }), t(0));
    tb.upsert(lease6('2001:db8::6', 128, 'p1', null, 60_000), t(0));
    tb.upsert(lease4('192.0.2.8', 'p1', 2, 60_000), t(0));
    tb.remove('192.0.2.8/32');
    const pick = ({ family, kind, address, prefixLength, port, mac, linkLocal }: any) => ({ family, kind, address, prefixLength, port, mac, linkLocal });
    const facts = [...tb.kernelFacts()];
    expect(facts).toHaveLength(4);
    expect(facts).toStrictEqual([...tb.entries()].map(pick));
  });
});

describe('BindingTable column size (issue 7: bindings in as few bytes as the family needs)', () => {
  const fill = (n: number, lease: (i: number) => Parameters<BindingTable['upsert']>[0]) => {
    const tb = new BindingTable({ maxBindings: n, maxPerPort: () => n }, 16);
    for (let i = 0; i < n; i++) expect(tb.upsert(lease(i), t(0)).kind).toBe('added');
    return tb;
  };
  // 8,192 bindings: two full pages, indexes at their usual load.
  const N = 8192;
  it('keeps an IPv4 binding in at most 112 bytes of columns, ids and indexes (140 with 16-byte addresses and 8-byte times)', () => {
    const tb = fill(N, (i) => lease4(`10.0.${i >> 8}.${i & 255}`, 'p1', i, 3_600_000 + i, { clientId: Uint8Array.of(1, i >> 8, i & 255) }));
    expect(tb.bytes / N).toBeLessThan(112);
    expect(tb.checkIntegrity()).toEqual([]);
  });
  it('keeps an IPv6 binding in at most 136 bytes of columns, ids and indexes (140 before)', () => {
    const tb = fill(N, (i) => lease6(`2001:db8::${i.toString(16)}`, 128, 'p1', i, 3_600_000 + i, { clientId: Uint8Array.of(1, i >> 8, i & 255), iaid: i }));
    expect(tb.bytes / N).toBeLessThan(136);
    expect(tb.checkIntegrity()).toEqual([]);
  });
});

describe('BindingTable times (store.ts)', () => {
  it('keeps a lease end to the millisecond and the last update in whole seconds', () => {
    const tb = table();
    tb.upsert(lease4('192.0.2.1', 'p1', 1, 1500), t(700));
    const b = tb.get('192.0.2.1/32')!;
    expect(b.validUntil).toBe(1500);
    expect(b.updatedAt).toBe(0);
    expect(tb.sweep(t(1499))).toEqual([]);
    expect(tb.sweep(t(1500)).map(keyOf)).toEqual(['192.0.2.1/32']);
  });
  it('keeps times before the clock origin (restored bindings) and far ahead, in order', () => {
    const tb = table();
    const far = 400 * 86_400_000 + 123; // past 2^32 ms
    tb.upsert(lease4('192.0.2.1', 'p1', 1, far), t(-5_000_000));
    tb.upsert(lease4('192.0.2.2', 'p1', 2, far + 1), t(-5_000_000));
    tb.upsert(lease4('192.0.2.3', 'p1', 3, 2 ** 32 - 1), t(-5_000_000));
    const b = tb.get('192.0.2.1/32')!;
    expect(b.updatedAt).toBe(-5_000_000);
    expect(b.validUntil).toBe(far);
    expect(tb.sweep(t(far)).map((x) => x.validUntil)).toEqual([2 ** 32 - 1, far]);
    expect(tb.nextExpiry()).toBe(far + 1);
  });
  it('refuses an IAID on an IPv4 binding (RFC 8415 §12: it is DHCPv6\'s)', () => {
    const tb = table();
    expect(tb.upsert(lease4('192.0.2.1', 'p1', 1, 60_000, { iaid: 3 }), t(0))).toMatchObject({ kind: 'rejected', reason: 'invalid' });
  });
});
