/**
 * Benchmarks that need a network namespace re-run their own file inside a fresh one
 * (a process cannot change its own namespace): `ip netns add`, a veth pair `dev`/v1 up,
 * `ip netns exec` with GN_NETNS set, and the namespace deleted whatever happens.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';

const TSX = path.join(path.resolve(__dirname, '../..'), 'node_modules/.bin/tsx');

export const sh = (cmd: string, args: string[]): string =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 << 20 });

/** `prefix` names the namespace (with this process's pid, so runs never collide). */
export function rerunInNamespace(prefix: string, file: string, dev = 'v0'): void {
  const ns = `${prefix}${process.pid}`;
  try {
    sh('ip', ['netns', 'add', ns]);
    sh('ip', ['-n', ns, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', 'v1']);
    for (const d of ['lo', dev, 'v1']) sh('ip', ['-n', ns, 'link', 'set', d, 'up']);
    const r = spawnSync('ip', ['netns', 'exec', ns, TSX, file], { stdio: 'inherit', env: { ...process.env, GN_NETNS: ns } });
    if (r.status !== 0) process.exitCode = r.status ?? 1;
  } finally {
    spawnSync('ip', ['netns', 'del', ns]);
  }
}
