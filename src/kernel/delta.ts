import { deltaSize, eachKind, entryType, type EntryDelta, type EntryKind, type KernelDelta, type KernelEntries } from './entries';

/** Bytes as a string of char codes 0–255: one allocation, no text formatting. */
const bin = (b: Uint8Array): string => String.fromCharCode.apply(null, b as unknown as number[]);

/**
 * Netting keys: the same identity as each kind's `key` (entries.ts), built from the
 * bytes instead of as text. Netting computes one per entry of every change — during a
 * bulk restore three per binding — and formatting IPv6 prefixes and MACs as text was
 * ~9% of the allocation per restored binding; these keys are never shown. Each is
 * unambiguous: fixed-length fields (the family fixes the address length) come before
 * the variable ones, which a separator or a length precedes. A kind without one here
 * nets by its text key.
 */
const NET_KEYS: { readonly [K in EntryKind]?: (e: KernelEntries[K]) => string } = {
  routes: (r) => `${r.family}${bin(r.dst)}${r.dstLen}`,
  neighbours: (n) => `${n.family}${bin(n.address)}${n.device}`,
  verifies: (v) => `${v.family}${bin(v.prefix)}${v.prefixLength} ${v.mac.length} ${bin(v.mac)}${v.device}`,
};

/** A kind's type with its netting key in place of the text one. */
export function netting<K extends EntryKind>(t: { readonly kind: K; key(e: KernelEntries[K]): string; attrs(e: KernelEntries[K]): string }) {
  const key = (NET_KEYS[t.kind] as ((e: KernelEntries[K]) => string) | undefined) ?? t.key;
  return { key, attrs: t.attrs };
}

/**
 * For each replace a `DeltaBuilder` emitted, the entry it replaces (what the kernel
 * holds). A delta's `replace` carries only the new entry, which is all the kernel needs
 * for NLM_F_REPLACE; but when an accumulator then folds in a removal of the same key,
 * the removal must name the old entry: RTM_DELROUTE with the new device or gateway
 * does not match the route in the kernel (ESRCH), which would stay until a reconcile.
 * Weak, so it lives exactly as long as the delta's entries.
 */
const replaced = new WeakMap<object, unknown>();

/**
 * Collects add/remove operations and nets them per key: removing an entry and
 * adding it back is nothing, adding it back with other attributes is a replace.
 * This is what lets a binding change be applied as "remove old, add new" without
 * the kernel seeing a delete/re-create of entries that did not change.
 *
 * Adds are keyed only once a removal comes: `DesiredState` adds an entry only when it
 * is not desired yet (the desired state is a set: the table holds one binding per key,
 * owned entries contain the binding's key, shared ones are reference-counted), so
 * until something is removed no add can net with another, and the adds are the delta
 * as they came. A bulk write of new bindings (a restore chunk: four entries each) then
 * costs no key strings and no per-key records. The first removal keys the adds so
 * far, in order, and from then on every operation nets by key as before.
 */
class KindBuilder<E> {
  private readonly ops = new Map<string, { before: E | null; after: E | null }>();
  /** Adds while no removal has come, not keyed (null once keyed). */
  private adds: E[] | null = [];

  constructor(private readonly type: { key(e: E): string; attrs(e: E): string }) {}

  add(e: E): void {
    if (this.adds !== null) {
      this.adds.push(e);
      return;
    }
    const k = this.type.key(e);
    const op = this.ops.get(k);
    if (op) op.after = e;
    else this.ops.set(k, { before: null, after: e });
  }

  remove(e: E): void {
    if (this.adds !== null) {
      const adds = this.adds;
      this.adds = null;
      for (const a of adds) this.add(a);
    }
    const k = this.type.key(e);
    const op = this.ops.get(k);
    if (op) op.after = null;
    else this.ops.set(k, { before: e, after: null });
  }

  build(): EntryDelta<E> {
    if (this.adds !== null) return { add: this.adds.slice(), remove: [], replace: [] };
    const out = { add: [] as E[], remove: [] as E[], replace: [] as E[] };
    for (const { before, after } of this.ops.values()) {
      if (before === null && after !== null) out.add.push(after);
      else if (before !== null && after === null) out.remove.push(before);
      else if (before !== null && after !== null && this.type.attrs(before) !== this.type.attrs(after)) {
        out.replace.push(after);
        replaced.set(after as object, before);
      }
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
      b = new KindBuilder<KernelEntries[K]>(netting(entryType(kind))) as KindBuilder<unknown>;
      this.kinds.set(kind, b);
    }
    return b as KindBuilder<KernelEntries[K]>;
  }
}

/**
 * What one key went through while deltas accumulated: what the kernel had before the
 * first of them (`null`: absent, `unknown`: present with attributes we did not see),
 * and what it must have after the last.
 */
interface KeyHistory<E> {
  before: E | null | 'unknown'; // 'unknown': a replace from a diff, whose old entry is not known
  after: E | null;
  /** The last entry seen for the key (a removal needs one). */
  last: E;
}

class KindAccumulator<E> {
  private readonly keys = new Map<string, KeyHistory<E>>();

  constructor(private readonly type: { key(e: E): string; attrs(e: E): string }) {}

  get size(): number {
    return this.keys.size;
  }

  add(e: E, op: 'add' | 'remove' | 'replace'): void {
    const k = this.type.key(e);
    const h = this.keys.get(k);
    const after = op === 'remove' ? null : e;
    if (h) {
      h.after = after;
      h.last = e;
      return;
    }
    const before = op === 'add' ? null : op === 'remove' ? e : ((replaced.get(e as object) as E | undefined) ?? 'unknown');
    this.keys.set(k, { before, after, last: e });
  }

  build(): EntryDelta<E> {
    const out = { add: [] as E[], remove: [] as E[], replace: [] as E[] };
    for (const { before, after, last } of this.keys.values()) {
      if (before === null) {
        if (after !== null) out.add.push(after);
      } else if (after === null) out.remove.push(before === 'unknown' ? last : before);
      else if (before === 'unknown' || this.type.attrs(before) !== this.type.attrs(after)) out.replace.push(after);
    }
    return out;
  }
}

/**
 * Deltas that arrived one after another, folded into one with the same effect: a key
 * added and removed again is nothing, removed and re-added unchanged is nothing, changed
 * is a replace. This is how live gleaning reaches the kernel in batches: the deltas of
 * many clients that arrived while the previous batch was being applied go in one batch.
 */
export class DeltaAccumulator {
  private readonly kinds = new Map<EntryKind, KindAccumulator<unknown>>();
  /**
   * The first delta, kept as it came until a second one needs folding in: a delta is
   * already netted per key (a `DeltaBuilder`'s, or another accumulator's), so alone it
   * is its own fold, and a batch that gets one delta (a bulk restore chunk, a client
   * on an idle router) costs no key strings here.
   */
  private first: KernelDelta | null = null;

  push(delta: KernelDelta): void {
    if (this.first === null && this.kinds.size === 0) {
      this.first = delta;
      return;
    }
    if (this.first !== null) {
      const first = this.first;
      this.first = null;
      this.fold(first);
    }
    this.fold(delta);
  }

  private fold(delta: KernelDelta): void {
    eachKind((t) => {
      const d = delta[t.kind];
      if (!d.add.length && !d.remove.length && !d.replace.length) return;
      let acc = this.kinds.get(t.kind) as KindAccumulator<KernelEntries[typeof t.kind]> | undefined;
      if (!acc) {
        acc = new KindAccumulator(netting(t));
        this.kinds.set(t.kind, acc as KindAccumulator<unknown>);
      }
      for (const e of d.remove) acc.add(e, 'remove');
      for (const e of d.replace) acc.add(e, 'replace');
      for (const e of d.add) acc.add(e, 'add');
    });
  }

  /** Keys touched so far (the batch size bound). */
  get size(): number {
    if (this.first !== null) {
      const { added, removed, replaced } = deltaSize(this.first);
      return added + removed + replaced;
    }
    let n = 0;
    for (const k of this.kinds.values()) n += k.size;
    return n;
  }

  build(): KernelDelta {
    if (this.first !== null) return this.first;
    const parts = eachKind((t) => [t.kind, this.kinds.get(t.kind)?.build() ?? { add: [], remove: [], replace: [] }]);
    return Object.fromEntries(parts) as unknown as KernelDelta;
  }
}
