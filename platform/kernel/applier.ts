import type { Config } from '../../src/config/config';
import type { BatchOp } from '../../src/kernel/diff';
import type { EntryKind, KernelEntries } from '../../src/kernel/entries';
import type { NlMessage } from '../netlink/message';

/** What an applier needs of the driver: the running config and the port devices. */
export interface ApplierContext {
  readonly config: Config;
  ifindexOf(device: string): number | undefined;
  deviceOf(ifindex: number): string | null;
}

export interface ApplyOutcome {
  /** Entries the kernel accepted. */
  readonly applied: number;
  /** Error code (`EEXIST`, `ENODEV`, `encode`…) of each entry the kernel refused. */
  readonly failures: readonly string[];
  /** Entries skipped because their device does not exist. */
  readonly noDevice: number;
  /**
   * Indexes (into the entries applied) of those the operation did not change in the
   * kernel: refused, skipped for a missing device, or removed when already gone. The
   * driver's count of installed entries moves by the others (platform/kernel/counts.ts).
   */
  readonly missed: ReadonlySet<number>;
}

/**
 * The platform half of one kernel entry kind (the core half is its `EntryType`): how
 * gleand's entries of the kind are read back from the kernel, applied in batches, and
 * moved when the settings that tag them change. The kernel driver iterates its
 * appliers; adding a kind adds an applier and touches nothing else here.
 */
export interface Applier<K extends EntryKind> {
  readonly kind: K;
  /** The netlink notifications that tell of changes to this kind (protocol and groups). */
  readonly monitor: { readonly protocol: number; readonly groups: readonly number[] };
  /** Open sockets and create what the kind needs (a table, a ruleset). */
  start(ctx: ApplierContext): Promise<void>;
  /** Gleand's entries of this kind as the kernel has them; `null` when the read failed. */
  dump(ctx: ApplierContext): Promise<KernelEntries[K][] | null>;
  /**
   * The same entries as `dump`, handed to `each` one by one as the dump arrives and held
   * nowhere (a reconcile digests them: platform/kernel/driver.ts); `restart` says the
   * dump is re-run and what `each` saw is void. False when the read failed. Optional: a
   * kind without it is dumped whole.
   */
  dumpEach?(ctx: ApplierContext, each: (e: KernelEntries[K]) => void, restart: () => void): Promise<boolean>;
  apply(op: BatchOp, entries: KernelEntries[K][], ctx: ApplierContext): Promise<ApplyOutcome>;
  /**
   * The settings that name gleand's entries of this kind (route table and protocol, nft
   * table). When they change on reload the entries must move: `withdraw` under the old
   * context removes them, and the next reconcile installs them under the new one.
   */
  tag(config: Config): string;
  withdraw(old: ApplierContext): Promise<void>;
  /** The subscriber ports changed (verify chain ports). */
  portsChanged?(ctx: ApplierContext): Promise<void>;
  /**
   * A notification from the monitor; true when it says that gleand's entries of this
   * kind were changed by someone else (the driver then repairs the kind). The kernel
   * stamps a notification with the portid of the socket whose request caused it, so
   * an applier recognises its own changes by its socket's portid.
   */
  concerns(m: NlMessage, ctx: ApplierContext): boolean;
  /**
   * Whether a notification stamped with this portid is this applier's own change (the
   * test `concerns` starts with). When every applier on a monitor has it, the monitor
   * drops their own notifications from the header alone, without framing them.
   */
  madeBy?(portId: number): boolean;
  stop(): void;
  status?(): Record<string, unknown>;
  /** The key of this kind's rows in `gleand routes --json` (stable for scripts). */
  readonly queryKey: string;
  /** One entry as a row of `gleand routes`: text, as ip(8) and nft(8) print it. */
  row(e: KernelEntries[K]): Record<string, unknown>;
}

/** An applier of any kind (the union keeps each applier's entry type). */
export type AnyApplier = { [K in EntryKind]: Applier<K> }[EntryKind];
