import { eachKind, entryType, type EntryDelta, type EntryKind, type KernelDelta, type KernelEntries } from './entries';

/**
 * Collects add/remove operations and nets them per key: removing an entry and
 * adding it back is nothing, adding it back with other attributes is a replace.
 * This is what lets a binding change be applied as "remove old, add new" without
 * the kernel seeing a delete/re-create of entries that did not change.
 */
class KindBuilder<E> {
  private readonly ops = new Map<string, { before: E | null; after: E | null }>();

  constructor(private readonly type: { key(e: E): string; attrs(e: E): string }) {}

  add(e: E): void {
    const k = this.type.key(e);
    const op = this.ops.get(k);
    if (op) op.after = e;
    else this.ops.set(k, { before: null, after: e });
  }

  remove(e: E): void {
    const k = this.type.key(e);
    const op = this.ops.get(k);
    if (op) op.after = null;
    else this.ops.set(k, { before: e, after: null });
  }

  build(): EntryDelta<E> {
    const out = { add: [] as E[], remove: [] as E[], replace: [] as E[] };
    for (const { before, after } of this.ops.values()) {
      if (before === null && after !== null) out.add.push(after);
      else if (before !== null && after === null) out.remove.push(before);
      else if (before !== null && after !== null && this.type.attrs(before) !== this.type.attrs(after))
        out.replace.push(after);
    }
    return out;
  }
}

/** One netting builder per registered kind; `build()` gives a delta with every kind. */
export class DeltaBuilder {
  private readonly kinds = new Map<EntryKind, KindBuilder<unknown>>();

  add<K extends EntryKind>(kind: K, e: KernelEntries[K]): void {
    this.of(kind).add(e);
  }

  remove<K extends EntryKind>(kind: K, e: KernelEntries[K]): void {
    this.of(kind).remove(e);
  }

  build(): KernelDelta {
    const parts = eachKind((t) => [t.kind, this.kinds.get(t.kind)?.build() ?? { add: [], remove: [], replace: [] }]);
    return Object.fromEntries(parts) as unknown as KernelDelta;
  }

  private of<K extends EntryKind>(kind: K): KindBuilder<KernelEntries[K]> {
    let b = this.kinds.get(kind);
    if (!b) {
      b = new KindBuilder<KernelEntries[K]>(entryType(kind)) as KindBuilder<unknown>;
      this.kinds.set(kind, b);
    }
    return b as KindBuilder<KernelEntries[K]>;
  }
}
