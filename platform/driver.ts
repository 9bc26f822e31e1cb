import type { Action, LogFields, LogLevel } from '../src/actions';
import type { Config } from '../src/config/config';
import type { Event } from '../src/events';
import type { KernelState } from '../src/kernel/entries';
import type { CoreQuery } from '../src/module';

/** What the runtime gives a driver: the core's event input and desired state, and a log. */
export interface DriverContext {
  /**
   * Feed an event to the core. Settles once the kernel deltas it caused are in the
   * kernel (at once, or nothing, when there are none): a producer of many events (the journal's
   * restore) waits for it before the next, so deltas never pile up unapplied; the TCP
   * driver keeps a bounded window of them per connection (flow control of a bulk stream).
   */
  emit(event: Event): Promise<unknown> | void;
  log(level: LogLevel, subsystem: string, message: string, fields?: LogFields, key?: string): void;
  /** The core's full desired kernel state (generated lazily), for a reconcile. */
  desiredState(): KernelState;
  /** Ask the core (e.g. `journal`: every binding, to compact the snapshot). */
  query(what: CoreQuery): unknown;
}

/**
 * What a reload did to a subsystem: applied `in-place`, torn down and set up again
 * (`reinstalled`: sockets reopened, kernel entries moved to a new table), or `refused`
 * (it could not apply all of the change; `detail` says what, and the subsystem goes on
 * with what it could, retrying the rest where it can). The runtime logs one verdict per
 * driver; `void` from `reconfigure` means in place.
 */
export interface ReloadVerdict {
  readonly verdict: 'in-place' | 'reinstalled' | 'refused';
  readonly detail?: string;
}

/** Control-socket queries a driver answers from the kernel or its sockets. */
export type DriverQuery = 'routes' | 'metrics';
export const DRIVER_QUERIES: readonly DriverQuery[] = ['routes', 'metrics'];
export const isDriverQuery = (q: string): q is DriverQuery => (DRIVER_QUERIES as readonly string[]).includes(q);

/**
 * A piece of the Linux I/O edge (raw sockets of the ports, netlink, ...). The runtime
 * starts drivers after the first config is accepted, hands them every later config,
 * and routes each action to the driver that claims its kind.
 */
export interface Driver {
  readonly name: string;
  readonly actionKinds: readonly Action['kind'][];
  start(config: Config, ctx: DriverContext): Promise<void>;
  reconfigure(config: Config): Promise<ReloadVerdict | void>;
  /**
   * Carry out an action. A promise means the action completes later; the runtime holds
   * the actions that follow it in the same batch until it settles (a reply leaves only
   * after the kernel entries gleaned from it are installed).
   */
  execute(action: Action): Promise<void> | void;
  /**
   * Its actions complete later (execute returns a promise): the runtime hands them over
   * at once and in order, and holds the actions after them until they settle.
   */
  readonly completesLater?: boolean;
  stop(): Promise<void>;
  /** Called once after the first config reached the core (e.g. to hand it what was restored). */
  started?(): void;
  status?(): Record<string, unknown>;
  /** Answer a control query it owns (e.g. `routes` from a kernel dump); `undefined`: not mine. */
  query?(what: DriverQuery): Promise<unknown> | undefined;
}
