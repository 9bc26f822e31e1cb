import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Action } from '../src/actions';
import { StringDecoder } from 'node:string_decoder';
import { parseBindingKey, type Binding, type BindingFields, type ParsedKey } from '../src/bindings/binding';
import { deleteLine, fromRecord, putLine, writePutLine } from '../src/bindings/journal';
import type { Config } from '../src/config/config';
import { instant, type Instant } from '../src/time';
import { monotonicNow } from './clock';
import type { Driver, DriverContext } from './driver';
import { LoopBudget } from './loop-budget';

/**
 * The journal is rewritten compactly when its lines pass twice the table's size plus
 * this: when more than about half of it is dead lines (renewals and deletes of bindings
 * it already holds a line for).
 */
const COMPACT_SLACK = 10_000;
/**
 * CPU time a compaction works between turns of the event loop, as the kernel driver's
 * reconcile (issue 7 item 3: `status` answers within 100 ms). Counted in time, not in
 * records: 2,048 records per turn held the loop 40–50 ms unloaded while clients arrived.
 * The clock is read every COMPACT_CHECK records (a record is a few µs).
 */
const COMPACT_SLICE_MS = 4;
const COMPACT_CHECK = 16;
/** Bytes of compacted lines gathered before a write to the new file (~1,000 lines). */
const COMPACT_BYTES = 256 * 1024;
/**
 * Bytes of the journal read at a time at start, and lines per `restore` event at most.
 * A `restore` event is handled in one go (table, desired state, kernel delta): 2,048
 * bindings took 150–300 ms of one turn of the loop on a loaded 2-core router, which the
 * control socket waited behind (issue 7 item 3: every answer within 100 ms); 512 keep
 * it to a few tens of ms.
 */
const READ_BYTES = 256 * 1024;
const RESTORE_CHUNK = 512;
/** Bytes of lines held for the next write (~1,000 put lines; a turn that appends more writes more than once). */
const PENDING_BYTES = 256 * 1024;

/** CLOCK_MONOTONIC in ms: shared by every process of one boot, unlike the core's clock. */
const systemMonoMs = (): number => Number(process.hrtime.bigint() / 1_000_000n);

/**
 * The snapshot journal: every binding change appended as one JSON line to a file in RAM
 * (`snapshot`, on tmpfs: never flash), so that a gleand killed at any instant restarts
 * with every binding it had (its expiry, MAC/DUID, port, circuit) instead of an empty
 * table. At start the file is read back and handed to the core as `restore` events;
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
  /** A core instant on the system's monotonic clock. */
  private readonly toMono = (t: Instant): number => t + this.offset;
  private first = true;
  private toRead: { readonly fd: number; readonly size: number } | null = null;
  /** While the previous run's journal is read back: no compaction (it would miss what is not read yet). */
  private reading = false;
  /**
   * Lines appended since the last write, as UTF-8 (`writePutLine` writes a put's line
   * straight into it: no string per line), and how many.
   */
  private pending: Buffer = Buffer.allocUnsafe(PENDING_BYTES);
  private used = 0;
  private pendingLines = 0;
  private flushQueued = false;
  /** While a compaction runs: what was appended to the old file since it began. */
  private compacting: Uint8Array[] | null = null;
  private readonly counters = { read: 0, skipped: 0, appended: 0, compactions: 0, writeErrors: 0, lines: 0, compactedTo: 0 };

  /** `now`: the clock the compaction's slices are timed by (ms; a test scripts it). */
  constructor(private readonly now?: () => number) {}

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    // Core instants and the system's monotonic clock differ by a constant.
    this.offset = systemMonoMs() - monotonicNow();
    await this.reconfigure(config);
  }

  /** The journal as the previous run left it, opened at the first config; read at `started`. */
  private openForRead(file: string): void {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch {
      return; // no journal: a first start, or a reboot (tmpfs is empty)
    }
    this.toRead = { fd, size: fs.fstatSync(fd).size };
  }

  async reconfigure(config: Config): Promise<void> {
    const file = config.global.snapshot || null;
    if (file === this.file) return;
    this.close();
    this.file = file;
    if (!file) return;
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    if (this.first) this.openForRead(file);
    this.first = false;
    this.fd = fs.openSync(file, 'a', 0o600);
  }

  /**
   * The previous run's journal, read back in chunks: READ_BYTES of the file at a time and
   * at most RESTORE_CHUNK lines per `restore` event, one event per turn of the event loop.
   * A journal of 200k bindings read whole (one string, every line, every binding's
   * fields at once) cost ~800 MiB of peak heap and held the loop for seconds; a chunk
   * costs a few hundred KiB. The next chunk waits until the kernel has the previous
   * one's entries. Lines go in file order, so the core ends in the state the
   * last line left; within a chunk the last line of a key wins. Only what the file held
   * when reading began is read: what this run appends meanwhile is already in the core.
   */
  private async readBack(file: string, fd: number, size: number): Promise<void> {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    let chunk = new Map<string, BindingFields | null>();
    const emit = (more: boolean) => {
      const bindings: BindingFields[] = [];
      const ended: ParsedKey[] = [];
      for (const [key, f] of chunk) {
        if (f) bindings.push(f);
        else {
          const k = parseBindingKey(key);
          if (k) ended.push(k);
        }
      }
      this.counters.read += bindings.length;
      chunk = new Map();
      return this.ctx.emit({ kind: 'restore', bindings, ...(ended.length ? { ended } : {}), from: file, ...(more ? { more } : {}) });
    };
    try {
      for (let pos = 0; pos < size;) {
        let n: number;
        try {
          n = fs.readSync(fd, buf, 0, Math.min(READ_BYTES, size - pos), pos);
        } catch (e) {
          this.ctx.log('error', 'journal', `cannot read the snapshot: ${(e as Error).message}`, { file });
          break;
        }
        if (n <= 0) break;
        pos += n;
        const lines = (rest + decoder.write(buf.subarray(0, n))).split('\n');
        rest = lines.pop()!;
        for (const line of lines) {
          this.readLine(line, chunk);
          if (chunk.size >= RESTORE_CHUNK) {
            // The next chunk once this one's kernel entries are in: read at the pace the
            // kernel takes them, never a pile of unapplied deltas (hundreds of MiB at 200k).
            await emit(true);
            await new Promise<void>((resolve) => setImmediate(resolve));
            if (this.file !== file) return; // reconfigured to another file meanwhile
          }
        }
      }
      this.readLine(rest + decoder.end(), chunk); // a last line without its newline
      emit(false);
    } finally {
      fs.closeSync(fd);
      this.reading = false;
    }
    // What was read counts as the compacted size: no rewrite before the file grows past it.
    this.counters.compactedTo = this.counters.read;
    if (this.counters.skipped > 0) {
      this.ctx.log('warn', 'journal', 'skipped damaged snapshot lines', { file, skipped: this.counters.skipped });
    }
  }

  /** One journal line into the chunk's last-op-per-key map; a damaged line is counted. */
  private readLine(line: string, chunk: Map<string, BindingFields | null>): void {
    if (line === '') return;
    this.counters.lines++;
    let entry: { op?: unknown; rec?: unknown; key?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      this.counters.skipped++;
      return;
    }
    if (entry.op === 'delete' && typeof entry.key === 'string') {
      chunk.delete(entry.key); // re-inserted last: file order is kept within the chunk
      chunk.set(entry.key, null);
      return;
    }
    const fields = entry.op === 'put' ? fromRecord(entry.rec, (mono) => instant(mono - this.offset)) : null;
    if (!fields) {
      this.counters.skipped++;
      return;
    }
    const key = (entry.rec as { key: string }).key;
    chunk.delete(key);
    chunk.set(key, fields);
  }

  /** After the first config: the previous run's bindings go to the core, chunk by chunk. */
  started(): void {
    const r = this.toRead;
    this.toRead = null;
    if (!this.file) return;
    if (!r) {
      this.ctx.emit({ kind: 'restore', bindings: [], from: this.file });
      return;
    }
    this.reading = true;
    void this.readBack(this.file, r.fd, r.size);
  }

  execute(a: Action): void {
    if (a.kind !== 'journal' || this.fd === null) return;
    const b = a.binding;
    if (a.op === 'put') this.appendPut(b);
    else this.appendText(`${deleteLine(b)}\n`);
    if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => this.flush());
    }
  }

  /** A put's line, written straight into the pending bytes (what is pending is written first when they are full). */
  private appendPut(b: Binding): void {
    let end = writePutLine(this.pending, this.used, b, this.toMono);
    if (end < 0 && this.used > 0) {
      this.flush();
      end = writePutLine(this.pending, 0, b, this.toMono);
    }
    if (end < 0) return this.appendText(`${putLine(b, this.toMono)}\n`); // longer than the buffer: written alone
    this.used = end;
    this.pendingLines++;
  }

  /** A line given as text (a delete: rare beside puts). */
  private appendText(line: string): void {
    const n = Buffer.byteLength(line);
    if (this.used + n > this.pending.length) this.flush();
    if (n > this.pending.length) {
      this.pendingLines++;
      this.writeOut(Buffer.from(line));
      return;
    }
    this.used += this.pending.write(line, this.used);
    this.pendingLines++;
  }

  /** One write per turn of the event loop (more only when a turn appends more than PENDING_BYTES): on tmpfs it is a memory copy. */
  private flush(): void {
    this.flushQueued = false;
    if (this.fd === null || this.used === 0) return;
    const text = this.pending.subarray(0, this.used);
    this.used = 0;
    this.writeOut(text);
  }

  private writeOut(text: Uint8Array): void {
    if (this.fd === null) return;
    this.counters.appended += this.pendingLines;
    this.counters.lines += this.pendingLines;
    this.pendingLines = 0;
    try {
      fs.writeSync(this.fd, text);
    } catch (e) {
      this.counters.writeErrors++;
      this.ctx.log('error', 'journal', `cannot append to the snapshot: ${(e as Error).message}`, { file: this.file! }, 'journal:write');
    }
    // A compaction copies what was appended meanwhile after its lines: a copy, the pending buffer is reused.
    if (this.compacting) this.compacting.push(Uint8Array.prototype.slice.call(text));
    else if (!this.reading && this.counters.lines > 2 * this.counters.compactedTo + COMPACT_SLACK && this.dead()) void this.compact();
  }

  /**
   * Whether most of the file is dead lines, measured against the table's size now (the
   * core's `binding-count`), not the size of the last compaction: a journal that grows
   * because the table grows (a bulk restore appends one line per new binding, 100k from
   * empty) holds no dead line, and compacting it at 10k, 30k, 70k lines rewrote more
   * records than the restore appended (~5% of its CPU at 20k) for nothing. The count
   * since the last compaction stays the cheap first test, so the core is asked only
   * past it.
   */
  private dead(): boolean {
    const size = this.ctx.query('binding-count');
    return typeof size !== 'number' || this.counters.lines > 2 * size + COMPACT_SLACK;
  }

  /**
   * Rewrite the journal as one line per binding the core holds, COMPACT_SLICE_MS of work
   * per turn of the event loop (a table of 200k must not hold the loop), into a new file
   * that replaces the old one by rename (never half a file). Appends go on to the old
   * file meanwhile — a crash mid-way loses nothing — and are copied after the compacted
   * lines before the rename, so the new file ends in the same state. The lines are
   * `writePutLine`'s bytes, the same as an append's (no string per line).
   */
  private async compact(): Promise<void> {
    const file = this.file!;
    const tmp = `${file}.tmp`;
    this.compacting = [];
    let tmpFd: number | null = null;
    try {
      const fd = tmpFd = fs.openSync(tmp, 'w', 0o600);
      const out = Buffer.allocUnsafe(COMPACT_BYTES);
      let used = 0;
      const write = () => {
        if (used > 0) fs.writeSync(fd, out.subarray(0, used));
        used = 0;
      };
      const budget = new LoopBudget(COMPACT_SLICE_MS, COMPACT_CHECK, this.now);
      let n = 0;
      for (const b of this.ctx.query('journal') as Iterable<Binding>) {
        let end = writePutLine(out, used, b, this.toMono);
        if (end < 0 && used > 0) {
          write();
          end = writePutLine(out, 0, b, this.toMono);
        }
        if (end < 0) fs.writeSync(fd, `${putLine(b, this.toMono)}\n`); // longer than the buffer: written alone
        else used = end;
        n++;
        if (budget.spent()) {
          write();
          await new Promise<void>((resolve) => setImmediate(resolve));
          if (this.file !== file) throw new Error('the snapshot file changed during compaction');
          budget.restart();
        }
      }
      write();
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
    if (this.toRead) fs.closeSync(this.toRead.fd);
    this.toRead = null;
    this.close();
    this.file = null; // a read-back in progress stops at its next chunk
  }

  status(): Record<string, unknown> {
    return { file: this.file, ...this.counters };
  }
}
