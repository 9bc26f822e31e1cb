import { describe, expect, it } from 'vitest';
import { type Binding, type BindingFields, keyOf } from '../../../src/bindings/binding';
import { formatMac } from '../../../src/wire/address';
import { BindingTable } from '../../../src/bindings/table';
import { instant } from '../../../src/time';
import { lease4, lease6, prng } from './fixtures';

/**
 * Random operation sequences against a plain-Map model: after every step all
 * indexes (key, port, MAC, client id, expiry order) must agree with the model.
 */
const PORTS = ['p0', 'p1', 'p2', 'p3'];
const PER_PORT = 12;
const MAX = 40;

interface ModelEntry {
  port: string;
  mac: string | null;
  cid: string | null;
  family: 4 | 6;
  validUntil: number | null;
}

function randomLease(rnd: () => number, now: number): BindingFields {
  const n = Math.floor(rnd() * 60);
  const port = PORTS[Math.floor(rnd() * PORTS.length)]!;
  const m = rnd() < 0.1 ? null : Math.floor(rnd() * 20);
  const until = rnd() < 0.1 ? null : now + 1 + Math.floor(rnd() * 5000);
  const cid = rnd() < 0.3 ? null : Uint8Array.of(Math.floor(rnd() * 15) + 1);
  if (n < 30) return lease4(`198.51.100.${n + 1}`, port, m, until, { clientId: cid });
  if (n < 45) return lease6(`2001:db8::${n}`, 128, port, m, until, { clientId: cid });
  return lease6(`2001:db8:${n}::`, 56, port, m, until, { clientId: cid });
}

const hex = (b: Uint8Array | null) => (b ? formatMac(b) : null);

function check(tb: BindingTable, model: Map<string, ModelEntry>): void {
  expect(tb.checkIntegrity()).toEqual([]);
  expect(tb.size).toBe(model.size);
  for (const [k, e] of model) {
    const b = tb.get(k);
    expect(b, k).not.toBeNull();
    expect({ port: b!.port, mac: hex(b!.mac), cid: hex(b!.clientId), validUntil: b!.validUntil }).toEqual({
      port: e.port,
      mac: e.mac,
      cid: e.cid,
      validUntil: e.validUntil,
    });
  }
  const group = (f: (e: ModelEntry) => string | null) => {
    const g = new Map<string, string[]>();
    for (const [k, e] of model) {
      const v = f(e);
      if (v !== null) g.set(v, [...(g.get(v) ?? []), k]);
    }
    return g;
  };
  const sorted = (bs: Binding[]) => bs.map(keyOf).sort();
  for (const p of PORTS) {
    expect(sorted(tb.byPort(p))).toEqual((group((e) => e.port).get(p) ?? []).sort());
    expect(tb.portSize(p)).toBeLessThanOrEqual(PER_PORT);
  }
  for (const [m, keys] of group((e) => e.mac)) {
    const bytes = Uint8Array.from(m.split(':').map((x) => parseInt(x, 16)));
    expect(sorted(tb.byMac(bytes))).toEqual(keys.sort());
  }
  for (const [c, keys] of group((e) => (e.cid === null ? null : `${e.family}|${e.cid}`))) {
    const [fam, id] = c.split('|');
    const bytes = Uint8Array.from(id!.split(':').map((x) => parseInt(x, 16)));
    expect(sorted(tb.byClientId(Number(fam) as 4 | 6, bytes))).toEqual(keys.sort());
  }
  const finite = [...model.values()].map((e) => e.validUntil).filter((v): v is number => v !== null);
  expect(tb.nextExpiry()).toBe(finite.length ? Math.min(...finite) : null);
  expect(sorted([...tb.entries()])).toEqual([...model.keys()].sort());
}

describe('BindingTable random operation sequences', () => {
  for (const seed of [1, 2, 3, 42, 1234]) {
    it(`keeps every index consistent (seed ${seed})`, () => {
      const rnd = prng(seed);
      const tb = new BindingTable({ maxBindings: MAX, maxPerPort: () => PER_PORT }, 2);
      const model = new Map<string, ModelEntry>();
      let now = 0;
      for (let step = 0; step < 1500; step++) {
        const r = rnd();
        if (r < 0.65) {
          const l = randomLease(rnd, now);
          const k = keyOf(l);
          const res = tb.upsert(l, instant(now));
          const prev = model.get(k);
          if (res.kind === 'rejected') {
            // Model of the rules: rejects only for bounds here (all leases are valid).
            if (!prev) {
              const portCount = [...model.values()].filter((e) => e.port === l.port).length;
              expect(model.size >= MAX || portCount >= PER_PORT).toBe(true);
            } else expect(res.reason).toBe('port-full');
            continue;
          }
          const samePort = prev?.port === l.port;
          model.set(k, {
            port: l.port,
            mac: hex(l.mac) ?? (samePort ? prev!.mac : null),
            cid: hex(l.clientId) ?? (samePort ? prev!.cid : null),
            family: l.family,
            validUntil: l.validUntil,
          });
          expect(res.kind).toBe(!prev ? 'added' : !samePort || (prev.mac && l.mac && prev.mac !== hex(l.mac)) ? 'moved' : 'refreshed');
        } else if (r < 0.8) {
          const keys = [...model.keys()];
          const k = keys.length && rnd() < 0.9 ? keys[Math.floor(rnd() * keys.length)]! : '203.0.113.1/32';
          expect(tb.remove(k) !== null).toBe(model.delete(k));
        } else {
          now += Math.floor(rnd() * 800);
          const expired = tb.sweep(instant(now));
          const want = [...model].filter(([, e]) => e.validUntil !== null && e.validUntil <= now);
          expect(expired.map(keyOf).sort()).toEqual(want.map(([k]) => k).sort());
          for (let i = 1; i < expired.length; i++)
            expect(expired[i]!.validUntil!).toBeGreaterThanOrEqual(expired[i - 1]!.validUntil!);
          for (const [k] of want) model.delete(k);
        }
        if (step % 10 === 0) check(tb, model);
      }
      check(tb, model);
    });
  }
});
