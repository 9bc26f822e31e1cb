import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Action } from '../src/actions';
import type { Binding, BindingFields } from '../src/bindings/binding';
import { fromRecord, toRecord } from '../src/bindings/journal';
import type { Config } from '../src/config/config';
import { instant, type Instant } from '../src/time';
import { monotonicNow } from './clock';
import type { Driver, DriverContext } from './driver';

/** Lines appended beyond the table's size before the journal is rewritten compactly. */
const COMPACT_SLACK = 10_000;
/** Bindings written per turn of the event loop while compacting. */
const COMPACT_CHUNK = 2048;

/** CLOCK_MONOTONIC in ms: shared by every process of one boot, unlike the core's clock. */
const systemMonoMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/**
 * The snapshot journal: every binding change appended as one JSON line to a file in RAM
 * (`snapshot`, on tmpfs: never flash), so that a gleand killed at any instant restarts
 * with every binding it had (its expiry, MAC/DUID, port, circuit) instead of an empty
 * table. At start the file is read back and handed to the core as a `restore` event;
 * it is rewritten compactly when it grows well past the table. A damaged line is
 * skipped and counted, never fatal.
 */
export class JournalDriver implements Driver {
  readonly name = 'journal';
  readonly actionKinds = ['journal'] as const;
  private ctx!: DriverContext;
  private file: string | null = null;
  private fd: number | null = null;
  private offset = 0;
  private restored: BindingFields[] = [];
  private pending: string[] = [];
  private flushQueued = false;
  /** While a compaction runs: what was appended to the old file since it began. */
  private compacting: string[] | null = null;
  private readonly counters = { read: 0, skipped: 0, appended: 0, compactions: 0, writeErrors: 0, lines: 0, compactedTo: 0 };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    // Core instants and the system's monotonic clock differ by a constant.
    this.offset = systemMonoMs() - monotonicNow();
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    const file = config.global.snapshot || null;
    if (file === this.file) return;
    this.close();
    this.file = file;
    if (!file) return;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (this.counters.lines === 0 && this.restored.length === 0) this.read(file);
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  private read(file: string): void {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return; // no journal: a first start, or a reboot (tmpfs is empty)
    }
    const byKey = new Map<string, BindingFields | null>();
    for (const line of text.split('\n')) {
      if (line === '') continue;
      this.counters.lines++;
      let entry: { op?: unknown; rec?: unknown; key?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        this.counters.skipped++;
        continue;
      }
      if (entry.op === 'delete' && typeof entry.key === 'string') {
        byKey.set(entry.key, null);
        continue;
      }
      const fields = entry.op === 'put' ? fromRecord(entry.rec, (mono) => instant(mono - this.offset)) : null;
      if (!fields) {
        this.counters.skipped++;
        continue;
      }
      byKey.set((entry.rec as { key: string }).key, fields);
    }
    this.restored = [...byKey.values()].filter((f): f is BindingFields => f !== null);
    this.counters.read = this.restored.length;
    if (this.counters.skipped > 0) {
      this.ctx.log('warn', 'journal', 'skipped damaged snapshot lines', { file, skipped: this.counters.skipped });
    }
  }

  /** After the first config: the previous run's bindings go to the core. */
  started(): void {
    if (!this.file) return;
    const bindings = this.restored;
    this.restored = [];
    this.ctx.emit({ kind: 'restore', bindings, from: this.file });
  }

  execute(a: Action): void {
    if (a.kind !== 'journal' || this.fd === null) return;
    const b = a.binding;
    const line = a.op === 'put'
      ? JSON.stringify({ op: 'put', rec: toRecord(b, (t: Instant) => t + this.offset) })
      : JSON.stringify({ op: 'delete', key: toRecord(b, () => 0).key });
    this.pending.push(line);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  /** One write per turn of the event loop: on tmpfs it is a memory copy. */
  private flush(): void {
    this.flushQueued = false;
    if (this.fd === null || this.pending.length === 0) return;
    const text = `${this.pending.join('\n')}\n`;
    this.counters.appended += this.pending.length;
    this.counters.lines += this.pending.length;
    this.pending = [];
    try {
      fs.writeSync(this.fd, text);
    } catch (e) {
      this.counters.writeErrors++;
      this.ctx.log('error', 'journal', `cannot append to the snapshot: ${(e as Error).message}`, { file: this.file! }, 'journal:write');
    }
    if (this.compacting) this.compacting.push(text);
    else if (this.counters.lines > 2 * this.counters.compactedTo + COMPACT_SLACK) void this.compact();
  }

  /**
   * Rewrite the journal as one line per binding the core holds, COMPACT_CHUNK lines per
   * turn of the event loop (a table of 200k must not hold the loop), into a new file
   * that replaces the old one by rename (never half a file). Appends go on to the old
   * file meanwhile — a crash mid-way loses nothing — and are copied after the compacted
   * lines before the rename, so the new file ends in the same state.
   */
  private async compact(): Promise<void> {
    const file = this.file!;
    const tmp = `${file}.tmp`;
    this.compacting = [];
    let tmpFd: number | null = null;
    try {
      tmpFd = fs.openSync(tmp, 'w', 0o600);
      let chunk: string[] = [];
      let n = 0;
      for (const b of this.ctx.query('journal') as Iterable<Binding>) {
        chunk.push(JSON.stringify({ op: 'put', rec: toRecord(b, (t: Instant) => t + this.offset) }));
        n++;
        if (chunk.length === COMPACT_CHUNK) {
          fs.writeSync(tmpFd, `${chunk.join('\n')}\n`);
          chunk = [];
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.file !== file) throw new Error('the snapshot file changed during compaction');
        }
      }
      if (chunk.length) fs.writeSync(tmpFd, `${chunk.join('\n')}\n`);
      if (this.file !== file || this.fd === null) throw new Error('the journal was closed during compaction');
      for (const text of this.compacting) fs.writeSync(tmpFd, text);
      fs.closeSync(tmpFd);
      tmpFd = null;
      fs.renameSync(tmp, file);
      if (this.fd !== null) fs.closeSync(this.fd);
      this.fd = fs.openSync(file, 'a', 0o600);
      this.counters.compactions++;
      this.counters.lines = this.counters.compactedTo = n;
    } catch (e) {
      this.counters.writeErrors++;
      this.ctx.log('error', 'journal', `cannot rewrite the snapshot: ${(e as Error).message}`, { file }, 'journal:compact');
      if (tmpFd !== null) fs.closeSync(tmpFd);
      fs.rmSync(tmp, { force: true });
    } finally {
      this.compacting = null;
    }
  }

  private close(): void {
    if (this.fd !== null) {
      this.flush();
      fs.closeSync(this.fd);
    }
    this.fd = null;
  }

  async stop(): Promise<void> {
    this.close();
  }

  status(): Record<string, unknown> {
    return { file: this.file, ...this.counters };
  }
}
