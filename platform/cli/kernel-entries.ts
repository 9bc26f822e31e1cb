import type { EntryCountRow } from '../kernel/counts';
import { keyValues, table } from './table';

type Obj = Record<string, unknown>;

/**
 * The kernel driver's entry counts in `gleand status` (drivers.kernel.entries): what the
 * core wants and what is in the kernel as gleand knows it, per kind and family (rows
 * where both are 0 left out), and the last reconcile. Null without a kernel driver.
 */
export function renderKernelEntries(drivers: Obj): string | null {
  const k = drivers['kernel'] as Obj | undefined;
  if (!k || !Array.isArray(k['entries'])) return null;
  const rows = (k['entries'] as EntryCountRow[]).filter((r) => r.desired > 0 || r.installed > 0);
  const last = k['lastReconcile'] as { added: number; removed: number; replaced: number } | undefined;
  const ago = typeof k['lastReconcileMsAgo'] === 'number' ? `${Math.round(k['lastReconcileMsAgo'] / 1000)} s ago` : null;
  return [
    table(['KERNEL ENTRIES', 'FAMILY', 'DESIRED', 'INSTALLED'], rows.map((r) => [r.kind, r.family, r.desired, r.installed])),
    '',
    keyValues([['last reconcile', last && ago ? `${ago}: added ${last.added}, removed ${last.removed}, replaced ${last.replaced}` : 'not yet']]),
  ].join('\n');
}
