import { controlStream } from '../control';
import { bindingMatches, filterIsEmpty, parseBindingFilter } from './bindings-filter';
import { UsageError, type CommandContext } from './command';
import { StreamTable } from './table';

type Row = Record<string, unknown>;
const HEAD_TIMEOUT_MS = 30_000;

export const BINDING_COLUMNS = ['BINDING', 'PORT', 'MAC', 'VIA', 'EXPIRES', 'SOURCE'] as const;
export const bindingCells = (r: Row): string[] => [
  String(r['binding']), String(r['port']), String(r['mac'] ?? '-'), String(r['via'] ?? '-'),
  r['expiresInS'] === null ? 'never' : `${String(r['expiresInS'])} s`, String(r['source']),
];

/**
 * `gleand bindings`: the table streamed from the daemon row by row, filtered here, and
 * written as stdout drains; neither the JSON text nor the table is ever whole in memory.
 *
 * `--json` is byte for byte what `JSON.stringify(rows, null, 2)` gives (the form it
 * always had), written one row at a time: `[`, each row indented by two, `]`.
 * The human form ends with a count line: `N bindings` or `N of M bindings match`.
 */
export async function streamBindings(ctx: CommandContext): Promise<number> {
  const filter = parseBindingFilter(ctx.flags);
  if (typeof filter === 'string') throw new UsageError(filter);
  const json = ctx.flags.has('--json');
  const out = ctx.out;
  const write = (s: string) => out.write(s);
  const table = new StreamTable(BINDING_COLUMNS, write);
  let matched = 0;
  const closed = new Error('stdout closed');
  // The daemon builds the table's rows before the first one leaves: allow for 200k on a router's CPU.
  const total = await controlStream(ctx.socket(), { cmd: 'bindings' }, async (row) => {
    // The reader went away (`| head`): stop the stream, not only the printing.
    if (out.closed) throw closed;
    const r = row as Row;
    if (!bindingMatches(filter, r)) return;
    matched++;
    if (json) await write(`${matched === 1 ? '[\n  ' : ',\n  '}${JSON.stringify(r, null, 2).replace(/\n/g, '\n  ')}`);
    else await table.row(bindingCells(r));
  }, HEAD_TIMEOUT_MS).catch((e: unknown) => {
    if (e === closed) return -1;
    throw e;
  });
  if (total < 0) return 0;
  if (json) await write(matched === 0 ? '[]\n' : '\n]\n');
  else {
    await table.end();
    await write(filterIsEmpty(filter) ? `${total} binding${total === 1 ? '' : 's'}\n` : `${matched} of ${total} bindings match\n`);
  }
  return 0;
}
