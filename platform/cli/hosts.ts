import { controlStream } from '../control';
import type { CommandContext } from './command';
import { StreamTable } from './table';

type Row = Record<string, unknown>;
const HEAD_TIMEOUT_MS = 30_000;

export const HOST_COLUMNS = ['HOST', 'STATE', 'AREA', 'PORT', 'ADDRESSES', 'LIFETIME', 'PAGES', 'LAST PAGE', 'HELD', 'WAKEUPS/H'] as const;
const secs = (ms: unknown): string => (typeof ms === 'number' ? `${Math.round(ms / 1000)} s` : '-');
export const hostCells = (r: Row): string[] => [
  String(r['id']), String(r['state']), String(r['area']), String(r['port']),
  (Array.isArray(r['addresses']) ? (r['addresses'] as unknown[]).join(' ') : '') || '-',
  secs(r['lifetimeLeftMs']), String(r['pagesSent']), r['lastPageAgoMs'] === null ? 'never' : `${secs(r['lastPageAgoMs'])} ago`,
  String(r['held']), String(r['wakeupsThisHour']),
];

/**
 * `gleand hosts`: the paging agent's tracked hosts (RFC 3154 §5.1 Tracking Agent),
 * streamed row by row like `gleand bindings` — a million hosts (§4.2) are never one
 * JSON text in the daemon or here. `--json` prints one JSON array; the table ends with
 * a count line. The paging counters are in `gleand status` (modules.paging).
 */
export async function streamHosts(ctx: CommandContext): Promise<number> {
  const json = ctx.flags.has('--json');
  const out = ctx.out;
  const write = (s: string) => out.write(s);
  const table = new StreamTable(HOST_COLUMNS, write);
  const closed = new Error('stdout closed');
  let n = 0;
  const total = await controlStream(ctx.socket(), { cmd: 'hosts' }, async (row) => {
    if (out.closed) throw closed;
    n++;
    if (json) await write(`${n === 1 ? '[\n  ' : ',\n  '}${JSON.stringify(row, null, 2).replace(/\n/g, '\n  ')}`);
    else await table.row(hostCells(row as Row));
  }, HEAD_TIMEOUT_MS).catch((e: unknown) => {
    if (e === closed) return -1;
    throw e;
  });
  if (total < 0) return 0;
  if (json) await write(n === 0 ? '[]\n' : '\n]\n');
  else {
    await table.end();
    await write(`${total} host${total === 1 ? '' : 's'}\n`);
  }
  return 0;
}
