/**
 * The snapshot journal driver over a real file in a temporary directory: what a run
 * appends, the next run reads back (after a crash: no shutdown), damaged lines are
 * skipped, and a compaction leaves exactly the table's bindings.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Binding } from '../../../src/bindings/binding';
import { loadConfig, type Config } from '../../../src/config/config';
import type { Event } from '../../../src/events';
import { instant } from '../../../src/time';
import { parseIPv4 } from '../../../src/wire/address';
import { monotonicNow } from '../../../platform/clock';
import type { DriverContext } from '../../../platform/driver';
import { JournalDriver } from '../../../platform/journal';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true }); });

function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-journal-'));
  dirs.push(dir);
  const r = loadConfig(`config global\n\toption snapshot '${dir}/run/bindings'\nconfig upstream 'wan'\n\toption device 'lo'\n`, 'test');
  if (!r.ok) throw new Error('config');
  return { dir, config: r.config as Config, file: `${dir}/run/bindings` };
}

const binding = (i: number, validForMs: number | null = 600_000): Binding => ({
  family: 4, kind: 'address', address: parseIPv4(`10.0.${i >> 8}.${i & 255}`)!, prefixLength: 32, port: 'lan1',
  mac: Uint8Array.of(2, 0, 0, 0, i >> 8, i & 255), clientId: null, circuitId: new TextEncoder().encode('lan1'), remoteId: null,
  linkLocal: null, validUntil: validForMs === null ? null : instant(monotonicNow() + validForMs), source: 'glean', updatedAt: monotonicNow(),
});

function context(table: () => Iterable<Binding>) {
  const events: Event[] = [];
  const ctx: DriverContext = {
    emit: (e) => void events.push(e), log: () => {}, desiredState: () => ({}),
    // As the bindings owner answers: the table's bindings, or how many it holds.
    query: (what) => (what === 'binding-count' ? [...table()].length : table()),
  };
  return { ctx, events };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('JournalDriver', () => {
  it('a new run reads back what the last one appended, without a clean stop', async () => {
    const { config, file } = setup();
    const a = context(() => []);
    const first = new JournalDriver();
    await first.start(config, a.ctx);
    first.started();
    expect(a.events).toEqual([{ kind: 'restore', bindings: [], from: file }]);
    for (let i = 0; i < 5; i++) first.execute({ kind: 'journal', op: 'put', binding: binding(i) });
    first.execute({ kind: 'journal', op: 'delete', binding: binding(3) });
    first.execute({ kind: 'journal', op: 'put', binding: { ...binding(4), port: 'lan2' } });
    await turn(); // one write per turn; then the process "dies" (no stop)
    fs.appendFileSync(file, '{"op":"put","rec":{"key":"nonsense"}}\nnot json\n');

    const b = context(() => []);
    const second = new JournalDriver();
    await second.start(config, b.ctx);
    second.started();
    const restore = b.events[0] as Extract<Event, { kind: 'restore' }>;
    expect(restore.bindings.map((x) => [x.address[3], x.port])).toEqual([[0, 'lan1'], [1, 'lan1'], [2, 'lan1'], [4, 'lan2']]);
    // Lease ends survive the change of process: within a few ms of what was written.
    const expected = binding(0).validUntil!;
    expect(Math.abs(restore.bindings[0]!.validUntil! - expected)).toBeLessThan(50);
    expect((second.status() as { skipped: number }).skipped).toBe(2);
    await second.stop();
  });

  it('a large journal is read back in chunks over turns of the event loop, in file order; what this run appends is not read', async () => {
    const { config, file } = setup();
    const a = context(() => []);
    const first = new JournalDriver();
    await first.start(config, a.ctx);
    first.started();
    for (let i = 0; i < 5000; i++) first.execute({ kind: 'journal', op: 'put', binding: binding(i) });
    for (let i = 0; i < 5000; i += 2) first.execute({ kind: 'journal', op: 'delete', binding: binding(i) });
    first.execute({ kind: 'journal', op: 'put', binding: binding(4998) }); // deleted, then back
    await turn();
    await first.stop();

    const b = context(() => []);
    const second = new JournalDriver();
    await second.start(config, b.ctx);
    second.started();
    expect(b.events).toHaveLength(1); // the first chunk now, the rest on later turns
    second.execute({ kind: 'journal', op: 'put', binding: binding(9999) });
    while (b.events.length === 0 || (b.events.at(-1) as Extract<Event, { kind: 'restore' }>).more) await turn();
    const chunks = b.events as Extract<Event, { kind: 'restore' }>[];
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(0, -1).every((c) => c.more === true)).toBe(true);
    // Replayed in order, the chunks leave exactly the bindings the file ended with.
    const live = new Map<string, number>();
    const key = (addr: Uint8Array) => `${addr[2]}.${addr[3]}`;
    for (const c of chunks) {
      for (const k of c.ended ?? []) live.delete(key(k.address));
      for (const f of c.bindings) live.set(key(f.address), (f.address[2]! << 8) | f.address[3]!);
    }
    const want = [...Array.from({ length: 2500 }, (_, i) => 2 * i + 1), 4998].sort((x, y) => x - y);
    expect([...live.values()].sort((x, y) => x - y)).toEqual(want);
    expect(live.has(key(binding(9999).address))).toBe(false);
    await second.stop();
  });

  it('compaction rewrites the file as the table, keeping what was appended meanwhile', async () => {
    const { config, file } = setup();
    let table: Binding[] = [];
    const { ctx } = context(() => table);
    const d = new JournalDriver();
    await d.start(config, ctx);
    d.started();
    // 12,000 renewals of 100 bindings: well past the compaction threshold.
    table = Array.from({ length: 100 }, (_, i) => binding(i));
    for (let round = 0; round < 120; round++) {
      for (const b of table) d.execute({ kind: 'journal', op: 'put', binding: b });
      await turn();
    }
    for (let k = 0; k < 10; k++) await turn();
    const s = d.status() as { compactions: number; lines: number };
    expect(s.compactions).toBeGreaterThanOrEqual(1);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(12_000);
    await d.stop();
    const again = context(() => []);
    const next = new JournalDriver();
    await next.start(config, again.ctx);
    next.started();
    expect((again.events[0] as Extract<Event, { kind: 'restore' }>).bindings).toHaveLength(100);
    await next.stop();
  });

  it('a compaction of a large table works in slices of time (scripted clock), its lines byte for byte the appended ones', async () => {
    const { config, file } = setup();
    // Each binding the compaction reads costs 0.05 ms of a scripted clock: 2,048 of them
    // (a slice counted in records) would hold the loop 102 ms.
    let t = 0;
    const table = Array.from({ length: 10_000 }, (_, i) => binding(i));
    const ctx: DriverContext = {
      emit: () => {}, log: () => {}, desiredState: () => ({}),
      query: (what) => (what === 'binding-count' ? table.length : (function* () {
        for (const b of table) { t += 0.05; yield b; }
      })()),
    };
    const d = new JournalDriver(() => t);
    await d.start(config, ctx);
    d.started();
    for (const b of table) d.execute({ kind: 'journal', op: 'put', binding: b });
    await turn();
    const appended = fs.readFileSync(file, 'utf8'); // one line per binding, as appended
    // Three more rounds: 40,000 lines, past twice the table + 10,000.
    for (let round = 0; round < 3; round++) {
      for (const b of table) d.execute({ kind: 'journal', op: 'put', binding: b });
      await turn();
    }
    // The scripted time between turns of the loop while the compaction runs.
    let last = t;
    let held = 0;
    let turns = 0;
    while ((d.status() as { compactions: number }).compactions === 0 && turns < 100_000) {
      await turn();
      held = Math.max(held, t - last);
      last = t;
      turns++;
    }
    expect((d.status() as { compactions: number }).compactions).toBe(1);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(4 + 16 * 0.05); // the slice, plus the records between two reads of the clock
    expect(turns).toBeGreaterThan(50); // 10,000 × 0.05 ms in slices of 4 ms: ~125 turns
    // The compacted lines are the appended ones, byte for byte, then what was appended meanwhile.
    const after = fs.readFileSync(file, 'utf8');
    expect(after.startsWith(appended)).toBe(true);
    const lines = new Set(appended.split('\n'));
    expect(after.slice(appended.length).split('\n').every((l) => lines.has(l))).toBe(true);
    await d.stop();
  });

  it('a journal that grows with the table (a bulk restore from empty) is not compacted; dead lines are', async () => {
    const { config, file } = setup();
    let size = 0;
    const table = Array.from({ length: 30_000 }, (_, i) => binding(i));
    const { ctx } = context(() => table.slice(0, size));
    const d = new JournalDriver();
    await d.start(config, ctx);
    d.started();
    // 30,000 new bindings, 500 per turn as a restore's chunks come: every line is live.
    for (let i = 0; i < table.length; i += 500) {
      for (const b of table.slice(i, i + 500)) d.execute({ kind: 'journal', op: 'put', binding: b });
      size = i + 500;
      await turn();
    }
    for (let k = 0; k < 3; k++) await turn();
    expect((d.status() as { compactions: number }).compactions).toBe(0);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(30_000);
    // Then 1,000 of them renewed 41 times: 71,000 lines, past twice the table + 10,000.
    for (let round = 0; round < 41; round++) {
      for (const b of table.slice(0, 1000)) d.execute({ kind: 'journal', op: 'put', binding: b });
      await turn();
    }
    for (let k = 0; k < 30; k++) await turn();
    expect((d.status() as { compactions: number }).compactions).toBe(1);
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').length).toBeLessThan(32_000);
    await d.stop();
  });

  it('a line longer than the pending buffer (a port name of 300k characters) is written whole, in order', async () => {
    const { config } = setup();
    const a = context(() => []);
    const first = new JournalDriver();
    await first.start(config, a.ctx);
    first.started();
    const long = 'é'.repeat(300_000);
    first.execute({ kind: 'journal', op: 'put', binding: binding(1) });
    first.execute({ kind: 'journal', op: 'put', binding: { ...binding(2), port: long } });
    first.execute({ kind: 'journal', op: 'put', binding: binding(3) });
    first.execute({ kind: 'journal', op: 'delete', binding: binding(1) });
    await turn();
    await first.stop();
    const b = context(() => []);
    const second = new JournalDriver();
    await second.start(config, b.ctx);
    second.started();
    const restore = b.events[0] as Extract<Event, { kind: 'restore' }>;
    expect(restore.bindings.map((x) => [x.address[3], x.port.length])).toEqual([[2, 300_000], [3, 4]]);
    expect((second.status() as { skipped: number }).skipped).toBe(0);
    await second.stop();
  });
});
