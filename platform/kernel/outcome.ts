import type { BatchResult } from '../netlink';
import type { EntryKind, KernelEntries } from '../../src/kernel/entries';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';

/** Entries mapped to their device's ifindex; those whose device is missing are counted. */
export function resolveDevices<E extends { device: string }, T>(
  entries: readonly E[], ctx: ApplierContext, f: (e: E, ifindex: number) => T,
): { resolved: T[]; noDevice: number } {
  const resolved: T[] = [];
  let noDevice = 0;
  for (const e of entries) {
    const i = ctx.ifindexOf(e.device);
    if (i === undefined) noDevice++;
    else resolved.push(f(e, i));
  }
  return { resolved, noDevice };
}

/** A netlink batch result as an outcome; `gone` codes are success when removing. */
export function outcome(r: BatchResult, gone: ReadonlySet<string> | null, noDevice: number): ApplyOutcome {
  const failures: string[] = [];
  for (const err of r.failures.values()) {
    const code = err.kind === 'errno' ? err.code : err.kind;
    if (gone?.has(code)) continue;
    failures.push(code);
  }
  return { applied: r.done, failures, noDevice };
}

/**
 * Remove gleand's entries of one kind that `which` selects (all by default), as the
 * kernel has them under `ctx`'s settings: used when the settings that tag them change
 * (they move) and when a port goes (they would be stranded). Throws when the kernel
 * refuses a removal, so a reload reports it.
 */
export async function withdrawByDump<K extends EntryKind>(
  a: Applier<K>, ctx: ApplierContext, which: (e: KernelEntries[K]) => boolean = () => true,
): Promise<number> {
  const mine = await a.dump(ctx);
  if (mine === null) throw new Error(`${a.kind}: could not read the kernel's entries`);
  const gone = mine.filter(which);
  if (gone.length === 0) return 0;
  const r = await a.apply('remove', gone, ctx);
  if (r.failures.length > 0) throw new Error(`${a.kind}: the kernel refused ${r.failures.length} removal(s) (${[...new Set(r.failures)].join(', ')})`);
  return r.applied;
}
