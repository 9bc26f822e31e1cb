import type { BatchResult } from '../netlink';
import type { ApplierContext, ApplyOutcome } from './applier';

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
