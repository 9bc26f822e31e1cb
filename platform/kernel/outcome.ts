import type { BatchResult } from '../netlink';
import type { EntryKind, KernelEntries } from '../../src/kernel/entries';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';

/** Entries mapped to their device's ifindex; those whose device is missing are counted. */
export interface Resolved<T> {
  readonly resolved: T[];
  readonly noDevice: number;
  /** For each resolved request, the index of its entry; entries not in it had no device. */
  readonly at: readonly number[];
}

export function resolveDevices<E extends { device: string }, T>(
  entries: readonly E[], ctx: ApplierContext, f: (e: E, ifindex: number) => T,
): Resolved<T> {
  const resolved: T[] = [];
  const at: number[] = [];
  let noDevice = 0;
  entries.forEach((e, j) => {
    const i = ctx.ifindexOf(e.device);
    if (i === undefined) noDevice++;
    else {
      resolved.push(f(e, i));
      at.push(j);
    }
  });
  return { resolved, noDevice, at };
}

/**
 * A netlink batch result as an outcome; `gone` codes are success when removing (though
 * the removal changed nothing: `missed`).
 */
export function outcome<T>(r: BatchResult, gone: ReadonlySet<string> | null, res: Resolved<T>, count: number): ApplyOutcome {
  const failures: string[] = [];
  const missed = new Set<number>();
  if (res.noDevice > 0) {
    const resolved = new Set(res.at);
    for (let j = 0; j < count; j++) if (!resolved.has(j)) missed.add(j);
  }
  for (const [i, err] of r.failures) {
    missed.add(res.at[i]!);
    const code = err.kind === 'errno' ? err.code : err.kind;
    if (gone?.has(code)) continue;
    failures.push(code);
  }
  return { applied: r.done, failures, noDevice: res.noDevice, missed };
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
