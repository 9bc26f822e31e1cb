/**
 * The command table's dispatch (platform/cli/dispatch.ts): help from the rows without
 * running anything, usage errors (2), a daemon that cannot be reached (3), an error
 * the daemon answered (1); and the Output that waits for a pipe to drain.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { UsageError, type Command } from '../../../platform/cli/command';
import { CLIENT_COMMANDS } from '../../../platform/cli/commands';
import { commandHelp, dispatch } from '../../../platform/cli/dispatch';
import { Output } from '../../../platform/cli/output';

function capture(): { out: Output; text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (d: Buffer) => { text += String(d); });
  return { out: new Output(s), text: () => text };
}

const ran = vi.fn(async () => 0);
const TABLE: Command[] = [
  { name: 'alpha', synopsis: '[--json] [-s SOCK]', summary: 'first', options: [{ names: ['--json'], doc: 'json' }, { names: ['-s'], value: 'SOCK', doc: 'socket' }], run: ran },
  { name: 'beta', synopsis: 'X', summary: 'second', options: [], maxArgs: 1, run: async (ctx) => { throw new UsageError(`bad ${ctx.args[0]}`); } },
  { name: 'gamma', synopsis: '', summary: 'third', options: [], run: async () => { throw Object.assign(new Error('cannot reach gleand'), { unreachable: true }); } },
  { name: 'delta', synopsis: '', summary: 'fourth', options: [], run: async () => { throw new Error('the daemon said no'); } },
];

describe('dispatch', () => {
  it('answers --help, -h and help COMMAND from the table without running the command', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const argv of [['alpha', '--help'], ['alpha', '-h', '--bogus'], ['help', 'alpha']]) {
      const c = capture();
      expect(await dispatch(argv, TABLE, c.out)).toBe(0);
      await c.out.finish();
      expect(c.text()).toBe(commandHelp(TABLE[0]!));
    }
    expect(ran).not.toHaveBeenCalled();
    const c = capture();
    expect(await dispatch(['help'], TABLE, c.out)).toBe(0);
    await c.out.finish();
    expect(c.text()).toMatch(/^  alpha\s+first$/m);
    vi.restoreAllMocks();
  });

  it('exit statuses: 2 usage, 3 unreachable, 1 an error answered, 0 ok; options may precede the command', async () => {
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const code = async (argv: string[]) => dispatch(argv, TABLE, capture().out);
    expect(await code([])).toBe(2);
    expect(await code(['nope'])).toBe(2);
    expect(await code(['alpha', '--bogus'])).toBe(2);
    expect(await code(['alpha', 'extra'])).toBe(2);
    expect(await code(['alpha', '-s'])).toBe(2);
    expect(await code(['beta', 'x'])).toBe(2);
    expect(await code(['help', 'nope'])).toBe(2);
    expect(await code(['gamma'])).toBe(3);
    expect(await code(['delta'])).toBe(1);
    expect(await code(['-s', '/x.sock', 'alpha', '--json'])).toBe(0);
    expect(err.mock.calls.map((c) => String(c[0])).join('')).toMatch(/unknown option '--bogus'\nusage: gleand alpha/);
    vi.restoreAllMocks();
  });

  it('every client command has help naming itself', () => {
    for (const c of CLIENT_COMMANDS) expect(commandHelp(c)).toMatch(new RegExp(`^usage: gleand ${c.name}\\b`));
  });
});

describe('Output', () => {
  it('holds a writer until a full stream drains, and loses nothing', async () => {
    const s = new PassThrough({ highWaterMark: 1024 });
    const out = new Output(s);
    const chunks: string[] = [];
    let waited = 0;
    const writing = (async () => {
      for (let i = 0; i < 100; i++) {
        const p = out.write(`${String(i).padStart(2000, '.')}\n`);
        if (s.writableNeedDrain) waited++;
        await p;
      }
      await out.finish();
    })();
    // nobody reads yet: the first piece fills the stream and the writer must wait
    await new Promise((r) => setImmediate(r));
    expect(waited).toBe(1);
    s.on('data', (d: Buffer) => chunks.push(String(d)));
    await writing;
    expect(waited).toBeGreaterThan(0);
    expect(chunks.join('').split('\n')).toHaveLength(101);
  });

  it('a reader that went away (EPIPE) ends the output quietly', async () => {
    const s = new PassThrough();
    const out = new Output(s);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    s.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    expect(out.closed).toBe(true);
    await out.write('more');
    await out.finish();
    expect(err).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });
});
