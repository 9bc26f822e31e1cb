import type { LogFields, LogLevel } from '../src/actions';

/**
 * Log lines for procd/logd: procd forwards a service's stdout and stderr to syslog
 * line by line, so one event is one line:
 *
 *   <level> <subsystem>: <message> key=value key="quoted value"
 *
 * Warnings and errors go to stderr (procd logs them at a higher priority).
 * Lines that input can trigger carry a `key`; each key gets a token bucket so a flood
 * of hostile packets cannot flood the log (a summary line reports what was suppressed).
 */
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, notice: 2, warn: 3, error: 4 };

const BUCKET_SIZE = 10;          // lines a key may burst
const REFILL_PER_MS = 1 / 6000;  // then one line per 6 s
const MAX_KEYS = 1024;           // bound on the limiter table itself

interface Bucket { tokens: number; at: number; suppressed: number }

function formatValue(v: string | number | boolean): string {
  const s = String(v);
  return /^[^\s"=\\]+$/.test(s) ? s : JSON.stringify(s);
}

export function formatLine(level: LogLevel, subsystem: string, message: string, fields?: LogFields): string {
  const kv = fields ? Object.entries(fields).map(([k, v]) => ` ${k}=${formatValue(v)}`).join('') : '';
  // Control characters from hostile input must not forge extra log lines.
  return `${level} ${subsystem}: ${message}${kv}`.replace(/[\x00-\x1f\x7f]/g, '?');
}

export class Logger {
  private minRank: number;
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    level: LogLevel,
    private readonly clockMs: () => number,
    private readonly out: (line: string, toStderr: boolean) => void = (line, err) =>
      (err ? process.stderr : process.stdout).write(`${line}\n`),
  ) {
    this.minRank = RANK[level];
  }

  setLevel(level: LogLevel): void {
    this.minRank = RANK[level];
  }

  log(level: LogLevel, subsystem: string, message: string, fields?: LogFields, key?: string): void {
    if (RANK[level] < this.minRank) return;
    if (key !== undefined && !this.admit(key, level, subsystem)) return;
    this.out(formatLine(level, subsystem, message, fields), RANK[level] >= RANK.warn);
  }

  private admit(key: string, level: LogLevel, subsystem: string): boolean {
    const now = this.clockMs();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_KEYS) this.evictFull(now);
      b = { tokens: BUCKET_SIZE, at: now, suppressed: 0 };
      this.buckets.set(key, b);
    }
    b.tokens = Math.min(BUCKET_SIZE, b.tokens + (now - b.at) * REFILL_PER_MS);
    b.at = now;
    if (b.tokens < 1) {
      b.suppressed++;
      return false;
    }
    b.tokens -= 1;
    if (b.suppressed > 0) {
      this.out(formatLine(level, subsystem, 'log lines suppressed by rate limit', { key, suppressed: b.suppressed }), false);
      b.suppressed = 0;
    }
    return true;
  }

  /** Drop buckets that have refilled completely (they hold no information). */
  private evictFull(now: number): void {
    for (const [k, b] of this.buckets) {
      if (b.suppressed === 0 && b.tokens + (now - b.at) * REFILL_PER_MS >= BUCKET_SIZE) this.buckets.delete(k);
    }
    if (this.buckets.size >= MAX_KEYS) this.buckets.clear();
  }
}
