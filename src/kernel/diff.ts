import {
  eachKind,
  ENTRY_TYPES,
  type EntryDelta,
  type EntryKind,
  type KernelDelta,
  type KernelEntries,
  type KernelState,
} from './entries';

/**
 * Reconcile one kind of entry: `actual` is what the platform dumped of gleand's own
 * entries (routes with gleand's protocol number in its table, neighbours it marked
 * permanent on subscriber devices, its verify set). Entries in both with the same
 * attributes are left alone; desired entries missing from actual are added; actual
 * entries nobody desires are removed; a key present in both with other attributes
 * is replaced. Duplicate keys in `actual` beyond the first are removed. `desired`
 * must have unique keys (DesiredState guarantees it); a repeat would be added twice.
 *
 * Memory: `actual` is indexed once (O(n)); `desired` is only iterated, so it can be
 * the lazy generator from `DesiredState.state`.
 *
 * The work is a generator that pauses (yields) after every `step` entries of either
 * side and returns the delta, so the platform can spread a diff of 200k entries over
 * turns of its event loop; `diffEntries` runs it in one go.
 */
export function* diffInSteps<E>(
  type: { key(e: E): string; attrs(e: E): string },
  desired: Iterable<E>,
  actual: Iterable<E>,
  step: number,
): Generator<void, EntryDelta<E>> {
  const every = Math.max(1, Math.floor(step));
  const out: EntryDelta<E> = { add: [], remove: [], replace: [] };
  // Value null marks a key already matched by a desired entry.
  const have = new Map<string, E | null>();
  let n = 0;
  for (const e of actual) {
    const k = type.key(e);
    if (have.has(k)) out.remove.push(e);
    else have.set(k, e);
    if (++n % every === 0) yield;
  }
  for (const e of desired) {
    const k = type.key(e);
    const a = have.get(k);
    if (a === undefined) out.add.push(e);
    else if (a !== null) {
      if (type.attrs(a) !== type.attrs(e)) out.replace.push(e);
      have.set(k, null);
    }
    if (++n % every === 0) yield;
  }
  for (const a of have.values()) if (a !== null) out.remove.push(a);
  return out;
}

export function diffEntries<E>(type: { key(e: E): string; attrs(e: E): string }, desired: Iterable<E>, actual: Iterable<E>): EntryDelta<E> {
  const steps = diffInSteps(type, desired, actual, Infinity);
  for (let r = steps.next(); ; r = steps.next()) if (r.done) return r.value;
}

/**
 * Diff every kind that both sides know. A kind missing from `actual` (its dump
 * failed) or from `desired` gets an empty delta: nothing is removed on a guess.
 */
export function diff(desired: KernelState, actual: KernelState): KernelDelta {
  const parts = eachKind((t) => {
    const want = desired[t.kind];
    const have = actual[t.kind];
    return [t.kind, want && have ? diffEntries(t, want, have) : { add: [], remove: [], replace: [] }] as const;
  });
  return Object.fromEntries(parts) as unknown as KernelDelta;
}

export type BatchOp = 'add' | 'remove' | 'replace';
/** Entries of one kind and one operation, applied by the platform in one go. */
export interface KindBatch<K extends EntryKind> {
  readonly kind: K;
  readonly op: BatchOp;
  readonly entries: KernelEntries[K][];
}
export type KernelBatch = { [K in EntryKind]: KindBatch<K> }[EntryKind];

export function chunk<T>(xs: readonly T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * Cut a delta into batches of at most `size` entries, in an order that is safe
 * for the kernel: every removal first, then replaces, then additions. Within the
 * removal phase kinds go by `removeRank` (routes before the neighbours they may use,
 * verify entries last so a subscriber is never blocked before its routes go); within
 * the others by `rank` (neighbours before the routes that resolve through them, verify
 * entries last so traffic is allowed only once it can be routed).
 */
export function batches(delta: KernelDelta, size: number): KernelBatch[] {
  const out: KernelBatch[] = [];
  const byRemove = [...ENTRY_TYPES].sort((a, b) => a.removeRank - b.removeRank);
  const byRank = [...ENTRY_TYPES].sort((a, b) => a.rank - b.rank);
  const phases: [BatchOp, typeof ENTRY_TYPES][] = [['remove', byRemove], ['replace', byRank], ['add', byRank]];
  for (const [op, types] of phases) {
    for (const t of types) {
      for (const entries of chunk(delta[t.kind][op] as unknown[], size)) out.push({ kind: t.kind, op, entries } as KernelBatch);
    }
  }
  return out;
}
