import type { BatchOp } from '../../src/kernel/diff';
import { ENTRY_TYPES, type EntryKind, type KernelDelta, type KernelEntries } from '../../src/kernel/entries';

/** One row of `status` → `drivers.kernel.entries` (and of the `gleand_kernel_entries_*` gauges). */
export interface EntryCountRow {
  /** The kind, or `kind_class` for a kind counted by classes (`routes_host`, `routes_pd`). */
  readonly kind: string;
  readonly family: 4 | 6;
  /** Entries the core wants. */
  readonly desired: number;
  /** Entries in the kernel, as the driver knows them (see EntryCounts). */
  readonly installed: number;
}

interface Counted {
  readonly family: 4 | 6;
}

/** Every row label, from the registry: a kind's classes, or the kind itself. */
function labelsOf(kind: EntryKind): readonly string[] {
  const t = ENTRY_TYPES.find((x) => x.kind === kind)!;
  return t.classes ? t.classes.names.map((c) => `${kind}_${c}`) : [kind];
}

/** Per kind: its class function, and the row keys (v4, v6) by class (or by the kind's name). */
const ROW_KEYS = new Map(ENTRY_TYPES.map((t) => {
  const classes = t.classes?.names ?? [t.kind];
  const label = (c: string) => (t.classes ? `${t.kind}_${c}` : t.kind);
  const keys = new Map(classes.map((c) => [c, [`${label(c)}/4`, `${label(c)}/6`] as const]));
  return [t.kind, { classOf: t.classes?.of as ((e: unknown) => string) | undefined, keys }] as const;
}));

/**
 * Counts of gleand's kernel entries by kind, class and family, kept without walking
 * anything when `status` asks (a status call at 200k bindings must cost nothing):
 *
 * - *desired*: every change of the core's desired state reaches the driver as a delta
 *   (src/kernel/desired.ts returns one for every binding change, the multicast module
 *   one for every forwarding change), and a delta's `add` is a key the core did not want
 *   before, its `remove` one it no longer wants, its `replace` the same key (classes
 *   depend on the key alone). So the deltas keep the count; a reconcile's walk of the
 *   desired state sets it again when no delta arrived during the walk.
 * - *installed*: set from each read-back of the kernel (a reconcile's dump, streamed into
 *   its digest or taken whole), then moved by the entries each applied batch got into or
 *   out of the kernel. An add is a create-or-replace, so one that re-adds an entry the
 *   kernel held already counts twice. That is what a restore after a restart does to
 *   the entries the recovery window kept, so inside the window the driver reads the
 *   kernel back once the restore's batches pause for a second (`recount` in driver.ts).
 *   Elsewhere (an entry someone else added with gleand's tag) it lasts until the next
 *   reconcile.
 */
export class EntryCounts {
  private readonly desired = new Map<string, number>();
  private readonly installed = new Map<string, number>();
  /** performance.now() of the last read-back of each kind; null before the first. */
  private readonly readBack = new Map<EntryKind, number>();

  /** The row key of one entry: `label/family` (no string built per entry: a reconcile tallies 200k). */
  private static keyOf<K extends EntryKind>(kind: K, e: KernelEntries[K]): string {
    const row = ROW_KEYS.get(kind)!;
    const t = row.classOf ? row.classOf(e) : kind;
    return row.keys.get(t)![(e as Counted).family === 4 ? 0 : 1];
  }

  private static bump(m: Map<string, number>, key: string, by: number): void {
    m.set(key, (m.get(key) ?? 0) + by);
  }

  /** A delta of the core's desired state (an action the driver received). */
  desiredChanged(delta: KernelDelta): void {
    for (const t of ENTRY_TYPES) {
      const d = delta[t.kind];
      for (const e of d.add) EntryCounts.bump(this.desired, EntryCounts.keyOf(t.kind, e), 1);
      for (const e of d.remove) EntryCounts.bump(this.desired, EntryCounts.keyOf(t.kind, e), -1);
    }
  }

  /** A tally of one kind, filled entry by entry (a walk of the desired state, a dump). */
  static tally<K extends EntryKind>(kind: K): Tally<K> {
    return new Tally(kind, (e) => EntryCounts.keyOf(kind, e));
  }

  /** A full walk of the desired state of one kind, taken while nothing changed it. */
  setDesired(t: Tally<EntryKind>): void {
    this.replaceKind(this.desired, t);
  }

  /** A complete read-back of one kind from the kernel. */
  setInstalled(t: Tally<EntryKind>, now: number): void {
    this.replaceKind(this.installed, t);
    this.readBack.set(t.kind, now);
  }

  /** Entries of a batch the kernel took (`missed`: indexes of those it did not). */
  applied<K extends EntryKind>(kind: K, op: BatchOp, entries: readonly KernelEntries[K][], missed: ReadonlySet<number>): void {
    if (op === 'replace') return; // the same key, the same class: the count stays
    const by = op === 'add' ? 1 : -1;
    entries.forEach((e, i) => {
      if (!missed.has(i)) EntryCounts.bump(this.installed, EntryCounts.keyOf(kind, e), by);
    });
  }

  private replaceKind(m: Map<string, number>, t: Tally<EntryKind>): void {
    for (const label of labelsOf(t.kind)) for (const f of [4, 6]) m.set(`${label}/${f}`, t.counts.get(`${label}/${f}`) ?? 0);
  }

  /** Every kind, class and family of the registry, zeros included (a gauge that vanishes at 0 is no gauge). */
  rows(): EntryCountRow[] {
    const out: EntryCountRow[] = [];
    for (const t of ENTRY_TYPES) {
      for (const kind of labelsOf(t.kind)) {
        for (const family of [4, 6] as const) {
          const k = `${kind}/${family}`;
          // Never below zero: a removal the kernel answered "already gone" for an entry no
          // read-back had counted would otherwise show as -1 until the next read-back.
          out.push({ kind, family, desired: Math.max(0, this.desired.get(k) ?? 0), installed: Math.max(0, this.installed.get(k) ?? 0) });
        }
      }
    }
    return out;
  }

  /** Milliseconds since the oldest kind's last read-back at `now`; null until every kind was read back once. */
  readBackAgeMs(now: number): number | null {
    if (this.readBack.size < ENTRY_TYPES.length) return null;
    return Math.round(now - Math.min(...this.readBack.values()));
  }
}

/** Counts of one kind by row key, filled one entry at a time; `reset` when a dump restarts. */
export class Tally<K extends EntryKind> {
  readonly counts = new Map<string, number>();
  constructor(readonly kind: K, private readonly keyOf: (e: KernelEntries[K]) => string) {}

  add(e: KernelEntries[K]): void {
    const k = this.keyOf(e);
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  reset(): void {
    this.counts.clear();
  }
}
