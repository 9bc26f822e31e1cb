import { describe, expect, it } from 'vitest';
import { deleteLine, fromRecord, putLine, toRecord, writePutLine } from '../../../src/bindings/journal';
import type { Binding } from '../../../src/bindings/binding';
import { instant } from '../../../src/time';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';
import { prng } from '../prng';

const v6 = (t: string) => parseIPv6(t)!;
const OFFSET = 5_000_000; // the system's monotonic clock runs ahead of the core's by this
const toMono = (t: number) => t + OFFSET;
const fromMono = (m: number) => instant(m - OFFSET);

const pd: Binding = {
  family: 6, kind: 'prefix', address: v6('2001:db8:100::'), prefixLength: 56, port: 'lan1',
  mac: Uint8Array.of(2, 0, 0, 0, 0, 7), clientId: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0, 7), iaid: 2,
  circuitId: new TextEncoder().encode('lan1'), remoteId: null, linkLocal: v6('fe80::7'),
  validUntil: instant(90_000), source: 'glean', updatedAt: instant(1_000),
};

describe('snapshot journal records', () => {
  it('round-trip every field; the lease end moves between the two clocks', () => {
    const r = toRecord(pd, toMono);
    expect(r.validUntilMono).toBe(5_090_000);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    const { updatedAt: _u, ...fields } = pd;
    expect(fromRecord(JSON.parse(JSON.stringify(r)), fromMono)).toEqual(fields);
    const v4: Binding = { ...pd, family: 4, kind: 'address', address: parseIPv4('192.0.2.7')!, prefixLength: 32, linkLocal: null, iaid: undefined, validUntil: null };
    const { iaid: _i, ...noIaid } = v4;
    const back = fromRecord(toRecord(noIaid as Binding, toMono), fromMono)!;
    expect(back.validUntil).toBeNull();
    expect(back.address).toEqual(parseIPv4('192.0.2.7'));
  });

  it('a damaged record is refused, never thrown', () => {
    const good = toRecord(pd, toMono) as unknown as Record<string, unknown>;
    const bad: unknown[] = [
      null, 7, 'x', [], {},
      { ...good, key: '2001:db8::/129' }, { ...good, kind: 'host' }, { ...good, port: 3 }, { ...good, source: 'rumour' },
      { ...good, mac: '0200' }, { ...good, mac: 'zz0000000007' }, { ...good, linkLocal: 'fe80' }, { ...good, clientId: 12 },
      { ...good, validUntilMono: 'soon' }, { ...good, validUntilMono: Infinity }, { ...good, iaid: -1 }, { ...good, iaid: 1.5 },
    ];
    for (const r of bad) expect(fromRecord(r, fromMono), JSON.stringify(r)).toBeNull();
    const rnd = prng(3);
    const text = JSON.stringify(good);
    for (let i = 0; i < 2000; i++) {
      const chars = text.split('');
      chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(32 + Math.floor(rnd() * 90));
      let parsed: unknown;
      try { parsed = JSON.parse(chars.join('')); } catch { continue; }
      expect(() => fromRecord(parsed, fromMono)).not.toThrow();
    }
  });

  it('the journal lines are the JSON of the record, byte for byte (IPv4 and IPv6, every field present or not)', () => {
    const rnd = prng(11);
    const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
    const maybe = <T>(v: T): T | null => (rnd() < 0.3 ? null : v);
    const ports = ['lan1', 'eth0.100', 'a "quoted" \\ port', 'p\u00e9rt\u0001\n', ''];
    const offsets = [0, 5_000_000, 0.25, -1e15];
    for (let i = 0; i < 2000; i++) {
      const v4 = rnd() < 0.4;
      const b: Binding = {
        family: v4 ? 4 : 6, kind: v4 || rnd() < 0.5 ? 'address' : 'prefix', address: bytes(v4 ? 4 : 16),
        prefixLength: v4 ? 32 : 1 + Math.floor(rnd() * 128), port: ports[i % ports.length]!, mac: maybe(bytes(6)),
        clientId: maybe(bytes(1 + Math.floor(rnd() * 20))), ...(!v4 && rnd() < 0.6 ? { iaid: Math.floor(rnd() * 2 ** 32) } : {}),
        circuitId: maybe(bytes(Math.floor(rnd() * 12))), remoteId: maybe(bytes(Math.floor(rnd() * 12))),
        linkLocal: v4 ? null : maybe(v6(`fe80::${Math.floor(rnd() * 0xffff).toString(16)}`)),
        validUntil: rnd() < 0.2 ? null : instant(Math.floor(rnd() * 1e9) + (rnd() < 0.5 ? 0.5 : 0)),
        source: (['glean', 'leasequery', 'static'] as const)[i % 3]!, updatedAt: instant(1_000),
      };
      const off = offsets[i % offsets.length]!;
      const mono = (t: number) => t + off;
      expect(putLine(b, mono)).toBe(JSON.stringify({ op: 'put', rec: toRecord(b, mono) }));
      expect(deleteLine(b)).toBe(JSON.stringify({ op: 'delete', key: toRecord(b, mono).key }));
      // The same line and its newline as UTF-8, written at an offset into a buffer.
      const want = new TextEncoder().encode(`${putLine(b, mono)}\n`);
      const buf = new Uint8Array(want.length + 20).fill(0xee);
      expect(writePutLine(buf, 7, b, mono)).toBe(7 + want.length);
      expect(buf.subarray(7, 7 + want.length)).toEqual(want);
      expect([...buf.subarray(0, 7), ...buf.subarray(7 + want.length)].every((x) => x === 0xee)).toBe(true);
      // One byte short: -1, and nothing written past the end of the buffer.
      const short = new Uint8Array(want.length + 6);
      const guard = new Uint8Array(short.buffer, 0, want.length + 6);
      expect(writePutLine(short.subarray(0, want.length + 5), 7, b, mono)).toBe(-1);
      expect(guard[want.length + 5]).toBe(0);
    }
    // A non-finite instant is written as JSON writes it (null), and read back refused, not thrown.
    const odd = { ...pd, validUntil: instant(Infinity) };
    expect(putLine(odd, toMono)).toBe(JSON.stringify({ op: 'put', rec: toRecord(odd, toMono) }));
  });
});
