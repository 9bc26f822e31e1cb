import type { Action, LogFields, LogLevel } from '../src/actions';
import type { Config } from '../src/config/config';
import type { Event } from '../src/events';

/** What the runtime gives a driver: a way to feed events to the core, and to log. */
export interface DriverContext {
  emit(event: Event): void;
  log(level: LogLevel, subsystem: string, message: string, fields?: LogFields, key?: string): void;
}

/**
 * A piece of the Linux I/O edge (raw sockets of the ports, netlink, ...). The runtime
 * starts drivers after the first config is accepted, hands them every later config,
 * and routes each action to the driver that claims its kind.
 */
export interface Driver {
  readonly name: string;
  readonly actionKinds: readonly Action['kind'][];
  start(config: Config, ctx: DriverContext): Promise<void>;
  reconfigure(config: Config): Promise<void>;
  execute(action: Action): void;
  stop(): Promise<void>;
  status?(): Record<string, unknown>;
  /** Answer a control query it owns (e.g. `routes` from a kernel dump); `undefined`: not mine. */
  query?(what: string): Promise<unknown> | undefined;
}
