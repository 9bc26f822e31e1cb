import * as fs from 'node:fs';
import { parseUci } from '../../src/config/uci';
import type { Output } from './output';

/**
 * One `gleand` subcommand: its row in the command table (platform/cli/commands.ts).
 * `gleand help`, `gleand COMMAND --help` and the usage errors are generated from
 * these rows, so a new command is one row (name, synopsis, options, run).
 */
export interface CommandOption {
  /** Spellings, e.g. `['-c', '--config']`. */
  readonly names: readonly string[];
  /** Takes a value (shown in the help as its placeholder, e.g. `FILE`). */
  readonly value?: string;
  readonly doc: string;
}

export interface CommandContext {
  /** Positional arguments after the command name. */
  readonly args: readonly string[];
  readonly flags: ReadonlyMap<string, string | true>;
  readonly out: Output;
  /** The daemon's control socket (`-s`, else the config's `control_socket`, else the default). */
  socket(): string;
}

export interface Command {
  readonly name: string;
  /** What follows `gleand NAME` in the usage line. */
  readonly synopsis: string;
  /** One line for `gleand help`. */
  readonly summary: string;
  /** More for `gleand NAME --help`. */
  readonly details?: string;
  readonly options: readonly CommandOption[];
  /** Most positional arguments it takes (default 0: any is a usage error). */
  readonly maxArgs?: number;
  /** Exit status: see EXIT in commands.ts. */
  run(ctx: CommandContext): Promise<number>;
}

/**
 * Exit statuses, kept stable for scripts (README "Exit status"). An EPIPE on stdout
 * (the reader went away) is not an error: the command's own status stands.
 */
export const EXIT = { ok: 0, problem: 1, usage: 2, unreachable: 3 } as const;

/** A usage error: printed with the command's usage line, exit 2. */
export class UsageError extends Error {}

export const DEFAULT_CONFIG = '/etc/config/gleand';
export const DEFAULT_SOCKET = '/var/run/gleand.sock';

export const CONFIG_OPTION: CommandOption = { names: ['-c', '--config'], value: 'FILE', doc: `the daemon's config, read for control_socket (default ${DEFAULT_CONFIG})` };
export const SOCKET_OPTION: CommandOption = { names: ['-s', '--socket'], value: 'SOCK', doc: `the control socket (default: the config's control_socket, else ${DEFAULT_SOCKET})` };
export const JSON_OPTION: CommandOption = { names: ['--json'], doc: 'print the daemon\'s answer as JSON (stable, for scripts)' };
export const DAEMON_OPTIONS = [SOCKET_OPTION, CONFIG_OPTION] as const;

/**
 * The control socket: `-s`, else the one the config names, else the default. The
 * file is only read for `control_socket`, so `status` still finds the daemon while
 * the file on disk holds an edit the daemon refused.
 */
export function socketPath(flags: ReadonlyMap<string, string | true>): string {
  const s = flags.get('-s') ?? flags.get('--socket');
  if (typeof s === 'string') return s;
  const c = flags.get('-c') ?? flags.get('--config');
  if (typeof c === 'string') {
    try {
      const { doc } = parseUci(fs.readFileSync(c, 'utf8'));
      const global = doc.sections.find((sec) => sec.type === 'global');
      const st = global?.statements.filter((x) => x.name === 'control_socket').pop();
      if (st) return st.value;
    } catch { /* unreadable: fall through to the default */ }
  }
  return DEFAULT_SOCKET;
}
