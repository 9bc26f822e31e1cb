import {
  type EntryType,
  type KernelDelta,
  type NeighEntry,
  NEIGH,
  ROUTE,
  type RouteEntry,
  VERIFY,
  type VerifyEntry,
} from './entries';

/**
 * Collects add/remove operations and nets them per key: removing an entry and
 * adding it back is nothing, adding it back with other attributes is a replace.
 * This is what lets a binding change be applied as "remove old, add new" without
 * the kernel seeing a delete/re-create of entries that did not change.
 */
class KindBuilder<E> {
  private readonly ops = new Map<string, { before: E | null; after: E | null }>();

  constructor(private readonly type: EntryType<E>) {}

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

  build(): { add: E[]; remove: E[]; replace: E[] } {
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

export class DeltaBuilder {
  readonly routes = new KindBuilder<RouteEntry>(ROUTE);
  readonly neighbours = new KindBuilder<NeighEntry>(NEIGH);
  readonly verifies = new KindBuilder<VerifyEntry>(VERIFY);

  build(): KernelDelta {
    return { routes: this.routes.build(), neighbours: this.neighbours.build(), verifies: this.verifies.build() };
  }
}
