import {
  type EntryDelta,
  type EntryKind,
  type EntryType,
  type KernelDelta,
  type KernelState,
  NEIGH,
  type NeighEntry,
  ROUTE,
  type RouteEntry,
  VERIFY,
  type VerifyEntry,
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
  type: EntryType<E>,
  desired: Iterable<E>,
  actual: Iterable<E>,
): Generator<{ op: BatchOp; entry: E }> {
  // Value null marks a key already matched by a desired entry.
  const have = new Map<string, E | null>();
  for (const e of actual) {
    const k = type.key(e);
    if (have.has(k)) yield { op: 'remove', entry: e };
    else have.set(k, e);
  }
  for (const e of desired) {
    const k = type.key(e);
    const a = have.get(k);
    if (a === undefined) yield { op: 'add', entry: e };
    else if (a !== null) {
      if (type.attrs(a) !== type.attrs(e)) yield { op: 'replace', entry: e };
      have.set(k, null);
    }
  }
  for (const a of have.values()) if (a !== null) yield { op: 'remove', entry: a };
}

export function diffEntries<E>(type: EntryType<E>, desired: Iterable<E>, actual: Iterable<E>): EntryDelta<E> {
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
export function* reconcileBatches<E>(
  type: EntryType<E>,
  desired: Iterable<E>,
  actual: Iterable<E>,
  size: number,
): Generator<{ kind: EntryKind; op: BatchOp; entries: E[] }> {
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

export function diff(desired: KernelState, actual: KernelState): KernelDelta {
  return {
    routes: diffEntries(ROUTE, desired.routes, actual.routes),
    neighbours: diffEntries(NEIGH, desired.neighbours, actual.neighbours),
    verifies: diffEntries(VERIFY, desired.verifies, actual.verifies),
  };
}

export type KernelBatch =
  | { readonly kind: 'route'; readonly op: BatchOp; readonly entries: RouteEntry[] }
  | { readonly kind: 'neigh'; readonly op: BatchOp; readonly entries: NeighEntry[] }
  | { readonly kind: 'verify'; readonly op: BatchOp; readonly entries: VerifyEntry[] };
export type BatchOp = 'add' | 'remove' | 'replace';

export function chunk<T>(xs: readonly T[], size: number): T[][] {
  const n = Math.max(1, Math.floor(size));
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/**
 * Cut a delta into batches of at most `size` entries, in an order that is safe
 * for the kernel: removals first (routes before the neighbours they may use, verify
 * entries last so a subscriber is never blocked before its routes go), then
 * replaces, then additions (neighbours before the routes that resolve through
 * them, verify entries last so traffic is allowed only once it can be routed).
 */
export function batches(delta: KernelDelta, size: number): KernelBatch[] {
  const out: KernelBatch[] = [];
  const push = <E>(kind: EntryKind, op: BatchOp, xs: E[]) => {
    for (const entries of chunk(xs, size)) out.push({ kind, op, entries } as KernelBatch);
  };
  push('route', 'remove', delta.routes.remove);
  push('neigh', 'remove', delta.neighbours.remove);
  push('verify', 'remove', delta.verifies.remove);
  push('neigh', 'replace', delta.neighbours.replace);
  push('route', 'replace', delta.routes.replace);
  push('verify', 'replace', delta.verifies.replace);
  push('neigh', 'add', delta.neighbours.add);
  push('route', 'add', delta.routes.add);
  push('verify', 'add', delta.verifies.add);
  return out;
}
