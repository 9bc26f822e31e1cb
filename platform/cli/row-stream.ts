import { controlStream } from '../control';
import type { CommandContext } from './command';
import { StreamTable } from './table';

export type Row = Record<string, unknown>;
/** The head line's wait: the daemon's answer starts once its other work of that turn is done. */
const HEAD_TIMEOUT_MS = 30_000;

/** One streamed table command (`gleand bindings`, `gleand hosts`). */
export interface RowStream {
  readonly cmd: string;
  readonly columns: readonly string[];
  cells(r: Row): string[];
  /** Rows that are printed (a filter); absent: every row. */
  matches?(r: Row): boolean;
  /** The human form's last line, from the daemon's row count and the rows printed. */
  countLine(total: number, matched: number): string;
}

/**
 * A table streamed from the daemon row by row (control socket `"stream":true`) and
 * written as stdout drains: neither the JSON text nor the table is ever whole in memory.
 *
 * `--json` is byte for byte what `JSON.stringify(rows, null, 2)` gives, written one row at
 * a time: `[`, each row indented by two, `]`. The human form ends with the count line.
 * A reader that goes away (`| head`) stops the stream, not only the printing.
 */
export async function streamRows(ctx: CommandContext, spec: RowStream): Promise<number> {
  const json = ctx.flags.has('--json');
  const out = ctx.out;
  const write = (s: string) => out.write(s);
  const table = new StreamTable(spec.columns, write);
  const closed = new Error('stdout closed');
  let matched = 0;
  const total = await controlStream(ctx.socket(), { cmd: spec.cmd }, async (row) => {
    if (out.closed) throw closed;
    const r = row as Row;
    if (spec.matches && !spec.matches(r)) return;
    matched++;
    if (json) await write(`${matched === 1 ? '[\n  ' : ',\n  '}${JSON.stringify(r, null, 2).replace(/\n/g, '\n  ')}`);
    else await table.row(spec.cells(r));
  }, HEAD_TIMEOUT_MS).catch((e: unknown) => {
    if (e === closed) return -1;
    throw e;
  });
  if (total < 0) return 0;
  if (json) await write(matched === 0 ? '[]\n' : '\n]\n');
  else {
    await table.end();
    await write(spec.countLine(total, matched));
  }
  return 0;
}
