import type { Action } from './actions';
import type { Event } from './events';
import type { Instant } from './time';

/**
 * The shape of every protocol module (ARCHITECTURE "The core is sans-IO").
 * `handle` reacts to an event, `poll` runs timers that are due, `nextDeadline` says
 * when the platform must call `poll` again (`null`: not until the next event).
 */
export interface Module {
  readonly name: string;
  handle(event: Event, now: Instant): Action[];
  poll(now: Instant): Action[];
  nextDeadline(): Instant | null;
  /** A JSON-safe snapshot for `gleand status`. */
  status(): Record<string, unknown>;
  /** Answer a control-socket query it owns (`bindings`, ...); `undefined`: not mine. */
  query?(what: string, now: Instant): unknown;
}
