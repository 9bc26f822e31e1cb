import type { CommandContext } from './command';
import { streamRows, type Row } from './row-stream';

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
export function streamHosts(ctx: CommandContext): Promise<number> {
  return streamRows(ctx, {
    cmd: 'hosts', columns: HOST_COLUMNS, cells: hostCells,
    countLine: (total) => `${total} host${total === 1 ? '' : 's'}\n`,
  });
}
