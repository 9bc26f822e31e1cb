/**
 * Everything the core asks the platform to do. Actions are data: tests assert
 * the exact list a module returns for an event at an instant (CONVENTIONS 9).
 */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export type Action =
  /** Transmit an IP datagram (header included) out of a named port. */
  | {
      readonly kind: 'send';
      readonly port: string;
      readonly family: 4 | 6;
      readonly bytes: Uint8Array;
    }
  /**
   * A log line. `key` groups lines that hostile input can trigger, so the platform can
   * rate-limit them per key without the core knowing about wall-clock budgets.
   */
  | {
      readonly kind: 'log';
      readonly level: LogLevel;
      readonly subsystem: string;
      readonly message: string;
      readonly fields?: LogFields;
      readonly key?: string;
    };

export const log = (
  level: LogLevel,
  subsystem: string,
  message: string,
  fields?: LogFields,
  key?: string,
): Action => ({ kind: 'log', level, subsystem, message, ...(fields ? { fields } : {}), ...(key ? { key } : {}) });
