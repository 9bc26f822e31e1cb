/**
 * The .ipk of `npm run package`, read with tar and installed into a directory the way
 * opkg installs into an offline root (`opkg -o ROOT install`), and a way to run commands
 * inside that root as a router would (chroot, busybox ash as /bin/sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '..', '..', '..');

/** Runs build/package.mjs over build/out (npm test builds first) and returns the .ipk path. */
export function buildIpk(): string {
  const line = execFileSync(process.execPath, [path.join(REPO, 'build', 'package.mjs')], { cwd: REPO, encoding: 'utf8' });
  const m = /^(\S+\.ipk):/m.exec(line);
  if (!m) throw new Error(`package.mjs printed no .ipk: ${line}`);
  return m[1]!;
}

/** Extracts a gzipped tar into a new directory and lists its members in archive order. */
export function untarGz(file: string, dir = mkdtempSync(path.join(tmpdir(), 'gleand-untar-'))): { dir: string; members: string[] } {
  const members = execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);
  execFileSync('tar', ['-xzf', file, '-C', dir]);
  return { dir, members };
}

/** A control file's fields, read as opkg's pkg_parse does: `Name: value`, continuation lines start with a space. */
export function parseControl(text: string): Map<string, string> {
  const fields = new Map<string, string>();
  let last = '';
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (/^\s/.test(line) && last) { fields.set(last, `${fields.get(last)}\n${line.trim()}`); continue; }
    const m = /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line);
    if (!m) throw new Error(`control: not a field: ${JSON.stringify(line)}`);
    last = m[1]!;
    fields.set(last, m[2]!);
  }
  return fields;
}

export interface Unpacked { readonly outer: string[]; readonly dir: string; readonly control: string; readonly data: string }

/** The outer archive, then control.tar.gz and data.tar.gz, each in its own directory. */
export function unpackIpk(ipk: string): Unpacked {
  const { dir, members } = untarGz(ipk);
  const control = untarGz(path.join(dir, 'control.tar.gz')).dir;
  const data = untarGz(path.join(dir, 'data.tar.gz')).dir;
  return { outer: members, dir, control, data };
}

/**
 * What opkg does for `opkg -o ROOT install x.ipk` (libopkg: unpack data into the root,
 * control files into ROOT/usr/lib/opkg/info/<pkg>.<name>, the file list into <pkg>.list,
 * then postinst "configure" with IPKG_INSTROOT=ROOT, run by the build machine's sh).
 * Returns postinst's result.
 */
export function opkgInstall(ipk: string, root: string): { status: number | null; output: string } {
  const u = unpackIpk(ipk);
  const name = parseControl(readFileSync(path.join(u.control, 'control'), 'utf8')).get('Package')!;
  execFileSync('tar', ['-xzf', path.join(u.dir, 'data.tar.gz'), '-C', root]);
  const info = path.join(root, 'usr', 'lib', 'opkg', 'info');
  mkdirSync(info, { recursive: true });
  for (const f of readdirSync(u.control)) copyFileSync(path.join(u.control, f), path.join(info, `${name}.${f}`));
  const files = execFileSync('tar', ['-tzf', path.join(u.dir, 'data.tar.gz')], { encoding: 'utf8' })
    .split('\n').filter((f) => f && !f.endsWith('/')).map((f) => f.replace(/^\./, ''));
  writeFileSync(path.join(info, `${name}.list`), `${files.join('\n')}\n`);
  const run = spawnSync('sh', [path.join(info, `${name}.postinst`), 'configure'], {
    env: { ...process.env, IPKG_INSTROOT: root, PKG_ROOT: root }, encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/**
 * Prepares ROOT so that programs run chrooted in it: busybox as /bin/sh and its applets,
 * node at /usr/bin/node (the package's dependency), and the C library directories,
 * which runInRoot binds from this machine.
 */
export function makeRunnable(root: string): void {
  const bin = path.join(root, 'bin');
  mkdirSync(bin, { recursive: true });
  copyFileSync('/usr/bin/busybox', path.join(bin, 'busybox'));
  chmodSync(path.join(bin, 'busybox'), 0o755);
  for (const applet of ['sh', 'logger', 'sed', 'ln', 'rm', 'mkdir', 'cat', 'basename', 'grep', 'printf', 'readlink', 'kill', 'sleep']) {
    execFileSync('ln', ['-sf', 'busybox', path.join(bin, applet)]);
  }
  for (const d of ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'usr/lib64', 'dev', 'proc', 'tmp', 'var/run', 'etc/rc.d']) {
    mkdirSync(path.join(root, d), { recursive: true });
  }
  writeFileSync(path.join(root, 'usr', 'bin', 'node'), '');
  execFileSync('ln', ['-sfn', 'usr/lib', path.join(root, 'lib')]);
  execFileSync('ln', ['-sfn', 'usr/lib64', path.join(root, 'lib64')]);
}

/**
 * Runs argv chrooted in ROOT, in a private mount namespace (unshare -m) whose bind mounts
 * (node, the C libraries, /dev, /proc) end with it.
 */
export function runInRoot(root: string, argv: string[]): { status: number | null; stdout: string; stderr: string } {
  const script = [
    'set -e',
    'R="$1"; shift',
    'mount --bind /usr/bin/node "$R/usr/bin/node"',
    'mount --bind /usr/lib/x86_64-linux-gnu "$R/usr/lib/x86_64-linux-gnu"',
    'mount --bind /usr/lib64 "$R/usr/lib64"',
    'mount --bind /dev "$R/dev"',
    'mount -t proc proc "$R/proc"',
    'exec chroot "$R" "$@"',
  ].join('\n');
  const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', root, ...argv], {
    encoding: 'utf8', env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' },
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
