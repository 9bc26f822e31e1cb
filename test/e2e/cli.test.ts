// The CLI as an operator and a script use it: help and exit statuses with no daemon,
// and output that survives a pipe — `gleand bindings --json` for 10,000 bindings is the
// same through `head -c`, `cat` and into a file, a reader that closes early ends it
// quietly, and the filters pick the rows the snapshot says they should.
// Needs root and network namespaces: fails loudly without them, never skips.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, type GleandHandle, type Lab } from '../lab/lab';
import { until } from '../lab/wait';
import { writeBindingSnapshot, type WrittenBinding } from './helpers/bindings-snapshot';

const COMMANDS = ['run', 'status', 'bindings', 'routes', 'metrics', 'query', 'recover', 'check-config', 'version'];

const gleand = (args: string[]) => spawnSync(process.execPath, [GLEAND_BUNDLE, ...args], { encoding: 'utf8', timeout: 20_000 });

describe('gleand help and exit statuses, no daemon', () => {
  beforeAll(() => {
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
  });

  it.each(COMMANDS)('%s --help and -h print that command\'s usage and exit 0', (cmd) => {
    for (const flag of ['--help', '-h']) {
      // a socket that does not exist: help must not try it
      const r = gleand([cmd, flag, '-s', '/nonexistent/gleand.sock']);
      expect(r.status, `${cmd} ${flag}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: gleand ${cmd}\\b`));
      expect(r.stdout).toMatch(/exit status: 0 ok/);
      expect(r.stderr).toBe('');
    }
  });

  it('help lists every command; help COMMAND is COMMAND --help', () => {
    const r = gleand(['help']);
    expect(r.status).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toMatch(new RegExp(`^  ${c}\\s`, 'm'));
    expect(gleand(['help', 'bindings']).stdout).toBe(gleand(['bindings', '--help']).stdout);
  });

  it('exits 2 on a usage error, 3 when the daemon cannot be reached, 1 on a problem found', () => {
    expect(gleand([]).status).toBe(2);
    expect(gleand(['frobnicate']).status).toBe(2);
    const bad = gleand(['bindings', '--bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown option '--bogus'[\s\S]*usage: gleand bindings/);
    expect(gleand(['bindings', '--address', 'not-an-address', '-s', '/nonexistent/gleand.sock']).status).toBe(2);
    expect(gleand(['query', 'ip']).status).toBe(2);
    const gone = gleand(['status', '-s', '/nonexistent/gleand.sock']);
    expect(gone.status).toBe(3);
    expect(gone.stderr).toMatch(/cannot reach gleand/);
    expect(gleand(['bindings', '-s', '/nonexistent/gleand.sock']).status).toBe(3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-cli-'));
    fs.writeFileSync(path.join(dir, 'bad.conf'), "config subscriber 'x'\n\toption upstream 'nowhere'\n");
    expect(gleand(['check-config', path.join(dir, 'bad.conf')]).status).toBe(1);
    fs.rmSync(dir, { recursive: true });
  });
});

describe('gleand bindings with 10,000 bindings, through pipes', () => {
  let lab: Lab;
  let g: GleandHandle;
  let written: WrittenBinding[];
  const N = { v4: 4000, v6: 3000, pd: 3000 };

  /** A shell line in the router namespace (where the control socket is). */
  const sh = (line: string) => lab.exec(lab.router.ns, ['bash', '-c', `set -o pipefail; ${line}`], { timeoutMs: 60_000 });
  const cli = () => `${process.execPath} ${GLEAND_BUNDLE}`;
  const sock = () => `-s ${lab.dir}/gleand.sock`;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2, startServers: false });
    written = writeBindingSnapshot(`${lab.dir}/snapshot/bindings`, lab.subscribers.map((s) => s.name), N,
      lab.addressing.pool6, lab.addressing.delegated);
    g = lab.startGleand(labGleandConfig(lab, {
      logLevel: 'notice',
      subscriber: () => ({ max_bindings: '10000', subnet4: ['10.64.0.0/16'] }),
    }));
    await until('10,000 bindings restored', async () => {
      const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-s', `${lab.dir}/gleand.sock`]);
      return r.code === 0 && JSON.parse(r.stdout).modules.bindings.bindings === 10_000 ? true : null;
    }, 90_000, 500);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('--json is identical through head -c, cat and into a file, and parses to every binding', async () => {
    const out = (name: string) => `${lab.dir}/${name}.json`;
    expect((await sh(`${cli()} bindings --json ${sock()} > ${out('file')}`)).code).toBe(0);
    expect((await sh(`${cli()} bindings --json ${sock()} | cat > ${out('cat')}`)).code).toBe(0);
    expect((await sh(`${cli()} bindings --json ${sock()} | head -c 1000000000 > ${out('head')}`)).code).toBe(0);
    const file = fs.readFileSync(out('file'), 'utf8');
    expect(file.length).toBeGreaterThan(1_000_000);
    expect(fs.readFileSync(out('cat'), 'utf8')).toBe(file);
    expect(fs.readFileSync(out('head'), 'utf8')).toBe(file);
    const rows = JSON.parse(file) as { binding: string; port: string; mac: string; source: string }[];
    expect(rows).toHaveLength(10_000);
    // the snapshot is the judge: the same set of (binding, port, mac, source)
    const key = (r: { binding: string; port: string; mac: string; source: string }) => `${r.binding} ${r.port} ${r.mac} ${r.source}`;
    expect(new Set(rows.map(key))).toEqual(new Set(written.map(key)));
    // and the stable form scripts had: JSON.stringify(rows, null, 2)
    expect(file).toBe(`${JSON.stringify(rows, null, 2)}\n`);
  });

  it('the human table streams every row and ends with a count line', async () => {
    const r = await sh(`${cli()} bindings ${sock()} | cat`);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^BINDING\s+PORT\s+MAC\s+VIA\s+EXPIRES\s+SOURCE$/);
    expect(lines).toHaveLength(1 + 10_000 + 1);
    expect(lines[lines.length - 1]).toBe('10000 bindings');
  });

  it('a reader that closes early ends it quietly, with status 0', async () => {
    const r = await sh(`${cli()} bindings --json ${sock()} 2>${lab.dir}/epipe.err | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`);
    expect(r.stdout.trim()).toBe('0');
    expect(fs.readFileSync(`${lab.dir}/epipe.err`, 'utf8')).toBe('');
    // the daemon is not hurt by the reader that went away
    const s = await sh(`${cli()} status --json ${sock()} | cat`);
    expect(JSON.parse(s.stdout).modules.bindings.bindings).toBe(10_000);
  });

  it('filters by --port, --mac, --address (an address or a prefix that holds it) and --source', async () => {
    const json = async (args: string) => {
      const r = await sh(`${cli()} bindings --json ${sock()} ${args} | cat`);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { binding: string }[]).map((x) => x.binding).sort();
    };
    const expectFrom = (f: (w: WrittenBinding) => boolean) => written.filter(f).map((w) => w.binding).sort();
    expect(await json('--port sub1')).toEqual(expectFrom((w) => w.port === 'sub1'));
    expect(await json('--source leasequery')).toEqual(expectFrom((w) => w.source === 'leasequery'));
    const one = written[4321]!;
    expect(await json(`--mac ${one.mac.toUpperCase()}`)).toEqual(expectFrom((w) => w.mac === one.mac));
    // an address inside a delegated /56 finds that prefix
    const pd = written.find((w) => w.binding.endsWith('/56'))!;
    const inside = pd.binding.replace(/::\/56$/, ':42::1');
    expect(await json(`--address ${inside}`)).toEqual([pd.binding]);
    // a v4 address finds its host binding; a prefix lists every binding within it
    expect(await json('--address 10.64.1.7')).toEqual(['10.64.1.7/32']);
    expect(await json('--address 10.64.1.0/24')).toEqual(expectFrom((w) => w.binding.startsWith('10.64.1.')));
    expect(await json('--port sub0 --source glean --address 10.64.0.0/16'))
      .toEqual(expectFrom((w) => w.port === 'sub0' && w.source === 'glean' && w.family === 4));
    const human = await sh(`${cli()} bindings ${sock()} --port sub1 | cat`);
    expect(human.stdout.trimEnd().split('\n').pop()).toBe(`${written.filter((w) => w.port === 'sub1').length} of 10000 bindings match`);
  });
});
