/** Aligned plain-text tables for the human output of the CLI. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | boolean)[])[]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...cells.slice(1).map(line)].join('\n');
}

/** Key/value block: keys padded to one column. */
export function keyValues(pairs: readonly (readonly [string, string | number | boolean])[]): string {
  const w = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/**
 * A table too large to hold (`gleand bindings` with 200k rows): column widths come
 * from the header and the first WIDTH_SAMPLE rows, and later rows are written as they
 * come; a later cell wider than its column pushes its own line only.
 */
export class StreamTable {
  static readonly WIDTH_SAMPLE = 256;
  private sample: string[][] | null = [];
  private widths: number[] = [];

  constructor(private readonly headers: readonly string[], private readonly write: (text: string) => Promise<void>) {}

  async row(cells: readonly (string | number)[]): Promise<void> {
    const r = cells.map(String);
    if (this.sample) {
      this.sample.push(r);
      if (this.sample.length >= StreamTable.WIDTH_SAMPLE) await this.flushSample();
      return;
    }
    await this.write(`${this.line(r)}\n`);
  }

  /** Writes what is still held (all of a short table). */
  async end(): Promise<void> {
    if (this.sample) await this.flushSample();
  }

  private async flushSample(): Promise<void> {
    const rows = this.sample ?? [];
    this.sample = null;
    this.widths = this.headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    await this.write(`${[this.headers, ...rows].map((r) => this.line(r)).join('\n')}\n`);
  }

  private line(r: readonly string[]): string {
    return r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(this.widths[i] ?? 0))).join('  ').trimEnd();
  }
}
