// `npm run lab | tee lab.log`, then Ctrl-C: tee dies first. The lab CLI (test/lab/cli.ts)
// must run on after the reader of its stdout is gone and tear everything down on
// SIGINT: no namespace, veth or directory with its prefix left (judged by `ip`).
// Needs root and network namespaces: fails loudly without them, never skips.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureLabPackages, GLEAND_BUNDLE, REPO_ROOT, requireRootAndNetns } from '../lab/lab';
import { until } from '../lab/wait';

const sh = (cmd: string): Promise<string> => new Promise((resolve) => {
  const p = spawn('bash', ['-c', cmd], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout.on('data', (d: Buffer) => { out += String(d); });
  p.on('close', () => resolve(out));
});

/** Namespaces and links (root namespace) whose names carry the lab's prefix. */
async function leftovers(prefix: string): Promise<string[]> {
  const ns = (await sh('ip netns list')).split('\n').filter((l) => l.startsWith(`${prefix}-`));
  const links = (await sh('ip -o link show')).split('\n').filter((l) => l.includes(` ${prefix}-`));
  return [...ns, ...links];
}

describe('the lab CLI tears down whatever happened to its stdout', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-labcli-'));
  let pgid = 0;

  afterAll(() => {
    // only if the test failed midway: the group we started, by its id
    try { if (pgid) process.kill(-pgid, 'SIGKILL'); } catch { /* gone */ }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs on after `| head -n 1` exited, and SIGINT to its process group leaves nothing behind', async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    const first = path.join(dir, 'first-line');
    const tsx = path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
    // Its own process group, as a shell job is: the SIGINT below is a terminal's Ctrl-C.
    const job = spawn('bash', ['-c', `${tsx} test/lab/cli.ts 2>${dir}/stderr | head -n 1 > ${first}`],
      { cwd: REPO_ROOT, detached: true, stdio: 'ignore' });
    pgid = job.pid!;
    const exited = new Promise<number | null>((resolve) => job.on('exit', (code) => resolve(code)));

    const prefix = await until('the lab\'s first line', async () => /^lab (gl[0-9a-f]{4}) up/.exec(fs.readFileSync(first, 'utf8'))?.[1], 60_000);
    const labDir = `/tmp/${prefix}`;
    // head has exited; the lab's later lines (gleand's pid, the lease table, status every
    // 2 s) hit a closed pipe. It must still be up, all four demo leases gleaned.
    await until('the demo\'s leases gleaned', async () => {
      if ((await leftovers(prefix)).length === 0) throw new Error('the lab is gone already');
      const status = await sh(`ip netns exec ${prefix}-rtr ${process.execPath} ${GLEAND_BUNDLE} status --json -s ${labDir}/gleand.sock`);
      return status && JSON.parse(status).modules.bindings.bindings >= 4 ? true : null;
    }, 90_000, 500);
    expect((await leftovers(prefix)).length).toBeGreaterThan(0);

    process.kill(-pgid, 'SIGINT');
    await exited;
    await until('the lab process to finish its teardown', async () => (!fs.existsSync(labDir) ? true : null), 30_000);
    expect(await leftovers(prefix)).toEqual([]);
    expect(fs.readFileSync(`${dir}/stderr`, 'utf8')).toMatch(new RegExp(`lab: SIGINT: tearing down ${prefix}`));
    pgid = 0;
  });
});
