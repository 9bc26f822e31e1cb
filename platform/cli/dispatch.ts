import { isUnreachable } from '../control';
import { parseArgs } from './args';
import { EXIT, socketPath, UsageError, type Command } from './command';
import { Output } from './output';

/**
 * `gleand COMMAND ...`: find the command's row, answer `--help`/`-h` and `gleand help
 * [COMMAND]` from the table without touching the daemon, check the options against the
 * row, run it, and turn what went wrong into an exit status (EXIT): a usage error 2, a
 * daemon that cannot be reached 3, an error the daemon answered 1.
 */
const HELP_FLAGS = ['-h', '--help'];

export const EXIT_STATUS_TEXT = `exit status: 0 ok, 1 a problem found (check-config problems, no answer to a query,
an error from the daemon), 2 usage error, 3 the daemon cannot be reached`;

function usageLine(c: Command): string {
  return `usage: gleand ${c.name}${c.synopsis ? ` ${c.synopsis}` : ''}`;
}

export function commandHelp(c: Command): string {
  const opts = c.options.map((o) => [o.names.join(', ') + (o.value ? ` ${o.value}` : ''), o.doc] as const);
  const w = Math.max(0, ...opts.map(([k]) => k.length));
  return [
    usageLine(c), '', `${c.summary}.`,
    ...(c.details ? ['', c.details] : []),
    ...(opts.length ? ['', 'options:', ...opts.map(([k, d]) => `  ${k.padEnd(w)}  ${d}`)] : []),
    '', EXIT_STATUS_TEXT, '',
  ].join('\n');
}

export function overview(commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: gleand COMMAND [options]', '',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    `  ${'help'.padEnd(w)}  this text; gleand help COMMAND or gleand COMMAND --help: that command's usage`,
    '', EXIT_STATUS_TEXT, '',
  ].join('\n');
}

export async function dispatch(argv: readonly string[], commands: readonly Command[], out = new Output()): Promise<number> {
  // The command is the first positional word; options may come before it (`gleand -s SOCK status`).
  const allWithValue = new Set(commands.flatMap((c) => c.options.filter((o) => o.value).flatMap((o) => o.names)));
  let first;
  try {
    first = parseArgs(argv, allWithValue);
  } catch (e) {
    return usage((e as Error).message, commands);
  }
  const name = first.positional[0];
  const command = commands.find((c) => c.name === name);
  if (name === 'help' || name === undefined) {
    const topic = name === 'help' ? first.positional[1] : undefined;
    const c = topic === undefined ? undefined : commands.find((x) => x.name === topic);
    if (topic !== undefined && !c) return usage(`unknown command '${topic}'`, commands);
    // bare `gleand` is a usage error unless it asked for help
    const asked = name === 'help' || argv.some((a) => HELP_FLAGS.includes(a));
    if (!asked) return usage('a command is needed', commands);
    await out.write(c ? commandHelp(c) : overview(commands));
    return EXIT.ok;
  }
  if (!command) return usage(`unknown command '${name}'`, commands);
  if (argv.some((a) => HELP_FLAGS.includes(a))) {
    await out.write(commandHelp(command));
    return EXIT.ok;
  }
  const withValue = new Set(command.options.filter((o) => o.value).flatMap((o) => o.names));
  const known = new Set(command.options.flatMap((o) => o.names));
  let parsed;
  try {
    parsed = parseArgs(argv, withValue);
  } catch (e) {
    return usage((e as Error).message, commands, command);
  }
  const unknown = [...parsed.flags.keys()].find((f) => !known.has(f));
  if (unknown) return usage(`unknown option '${unknown}'`, commands, command);
  const args = parsed.positional.slice(1);
  if (args.length > (command.maxArgs ?? 0)) return usage(`unexpected '${args[command.maxArgs ?? 0]}'`, commands, command);
  const flags = parsed.flags;
  try {
    return await command.run({ args, flags, out, socket: () => socketPath(flags) });
  } catch (e) {
    if (e instanceof UsageError) return usage(e.message, commands, command);
    process.stderr.write(`gleand: ${e instanceof Error ? e.message : String(e)}\n`);
    return isUnreachable(e) ? EXIT.unreachable : EXIT.problem;
  }
}

function usage(problem: string, commands: readonly Command[], c?: Command): number {
  process.stderr.write(`gleand: ${problem}\n${c ? `${usageLine(c)}\n(gleand ${c.name} --help for more)\n` : overview(commands)}`);
  return EXIT.usage;
}
