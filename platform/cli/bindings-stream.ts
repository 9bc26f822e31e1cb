import { bindingMatches, filterIsEmpty, parseBindingFilter } from './bindings-filter';
import { UsageError, type CommandContext } from './command';
import { streamRows, type Row } from './row-stream';

export const BINDING_COLUMNS = ['BINDING', 'PORT', 'MAC', 'VIA', 'EXPIRES', 'SOURCE'] as const;
export const bindingCells = (r: Row): string[] => [
  String(r['binding']), String(r['port']), String(r['mac'] ?? '-'), String(r['via'] ?? '-'),
  r['expiresInS'] === null ? 'never' : `${String(r['expiresInS'])} s`, String(r['source']),
];

/**
 * `gleand bindings`: the table streamed from the daemon (platform/cli/row-stream.ts),
 * filtered here. The human form ends with `N bindings` or `N of M bindings match`.
 */
export function streamBindings(ctx: CommandContext): Promise<number> {
  const filter = parseBindingFilter(ctx.flags);
  if (typeof filter === 'string') throw new UsageError(filter);
  return streamRows(ctx, {
    cmd: 'bindings', columns: BINDING_COLUMNS, cells: bindingCells,
    matches: (r) => bindingMatches(filter, r),
    countLine: (total, matched) =>
      (filterIsEmpty(filter) ? `${total} binding${total === 1 ? '' : 's'}\n` : `${matched} of ${total} bindings match\n`),
  });
}
