import {
  eachKind,
  ENTRY_TYPES,
  type EntryDelta,
  type EntryKind,
  type EntryType,
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
 * the lazy generator from `DesiredState.state`, and with `reconcileBatches` the
 * result is streamed too (a cold start with an empty kernel never holds every
 * desired entry at once).
 */
export function* reconcile<E>(
  type: { key(e: E): string; attrs(e: E): string },
  desired: Iterable<E>,
  actual: Iterable<E>,
): Generator<{ op: BatchOp; entry: E }> {
  const index = new ActualIndex(type);
  for (const e of actual) index.put(e);
  for (const e of desired) {
    const op = index.match(e);
    if (op) yield { op, entry: e };
  }
  for (const e of index.leftovers()) yield { op: 'remove', entry: e };
}

/**
 * The kernel's entries of one kind by key. Built, matched and drained one entry at a
 * time, so a caller can spread a large reconcile over several turns of its event loop.
 */
export class ActualIndex<E> {
  /** Value null marks a key already matched by a desired entry. */
  private readonly have = new Map<string, E | null>();
  /** Entries whose key was already taken: the kernel holds a duplicate, which goes. */
  private readonly duplicates: E[] = [];

  constructor(private readonly type: { key(e: E): string; attrs(e: E): string }) {}

  put(e: E): void {
    const k = this.type.key(e);
    if (this.have.has(k)) this.duplicates.push(e);
    else this.have.set(k, e);
  }

  /** What a desired entry needs: added, replaced, or nothing (`null`: in place already). */
  match(e: E): 'add' | 'replace' | null {
    const k = this.type.key(e);
    const a = this.have.get(k);
    if (a === undefined) return 'add';
    if (a === null) return null;
    this.have.set(k, null);
    return this.type.attrs(a) !== this.type.attrs(e) ? 'replace' : null;
  }

  /** The kernel's entries no desired entry matched, and the duplicates: to remove. */
  *leftovers(): Generator<E> {
    yield* this.duplicates;
    for (const a of this.have.values()) if (a !== null) yield a;
  }
}

export function diffEntries<E>(type: { key(e: E): string; attrs(e: E): string }, desired: Iterable<E>, actual: Iterable<E>): EntryDelta<E> {
  const out: EntryDelta<E> = { add: [], remove: [], replace: [] };
  for (const { op, entry } of reconcile(type, desired, actual)) out[op].push(entry);
  return out;
}

/**
 * `reconcile` cut into batches of at most `size` entries of one operation,
 * emitted as soon as they fill (adds and replaces while `desired` streams, removals
 * after). Safe order for a reconcile: nothing is removed that a later add needs,
 * because a key in both sets is a replace, never a remove plus an add.
 */
export function* reconcileBatches<K extends EntryKind>(
  type: EntryType<K>,
  desired: Iterable<KernelEntries[K]>,
  actual: Iterable<KernelEntries[K]>,
  size: number,
): Generator<KindBatch<K>> {
  type E = KernelEntries[K];
  const n = Math.max(1, Math.floor(size));
  const open: Record<BatchOp, E[]> = { add: [], remove: [], replace: [] };
  for (const { op, entry } of reconcile(type, desired, actual)) {
    open[op].push(entry);
    if (open[op].length === n) {
      yield { kind: type.kind, op, entries: open[op] };
      open[op] = [];
    }
  }
  for (const op of ['replace', 'add', 'remove'] as const) {
    if (open[op].length) yield { kind: type.kind, op, entries: open[op] };
  }
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
