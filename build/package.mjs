// npm run package: build/dist/gleand_<version>-<release>_x86_64.ipk from build/out (the
// bundle and this machine's addons) and firmware-image/openwrt/files.
//
// The layout is the one OpenWrt's scripts/ipkg-build writes and opkg installs: an outer
// gzipped tar (GNU format, numeric owners) holding ./debian-binary ("2.0"),
// ./data.tar.gz and ./control.tar.gz. opkg also reads an ar outer archive (the Debian
// form); the buildroot writes tar, so this does too.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'out');
const files = join(root, 'firmware-image', 'openwrt', 'files');
const feedMakefile = join(root, 'firmware-image', 'openwrt', 'package', 'gleand', 'Makefile');

/** A `NAME:=value` of the feed Makefile, so the .ipk and the feed agree on what they say. */
function makeVar(text, name) {
  const m = new RegExp(`^${name}:=(.*)$`, 'm').exec(text);
  if (!m) throw new Error(`${feedMakefile}: no ${name}`);
  return m[1].trim();
}

const make = readFileSync(feedMakefile, 'utf8');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (makeVar(make, 'PKG_VERSION') !== pkg.version) {
  throw new Error(`PKG_VERSION ${makeVar(make, 'PKG_VERSION')} in the feed Makefile is not package.json's ${pkg.version}`);
}
const version = `${pkg.version}-${makeVar(make, 'PKG_RELEASE')}`;
const arch = 'x86_64';
// opkg's Depends: the feed's DEPENDS with the buildroot's markers taken off
// ("+" = select, "@" = a config symbol, which is no package).
const depends = ['libc', ...makeVar(make, 'GLEAND_DEPENDS').split(/\s+/)
  .filter((d) => d.startsWith('+') && !d.startsWith('+@')).map((d) => d.slice(1))];

const work = mkdtempSync(join(tmpdir(), 'gleand-ipk-'));
const data = join(work, 'data');
const control = join(work, 'control');
const put = (from, to, mode) => { mkdirSync(dirname(to), { recursive: true }); copyFileSync(from, to); chmodSync(to, mode); };

// data: what opkg unpacks into / (the source map stays out: 1.2 MiB of flash for stack
// traces that can be mapped off the router with the map of the same build).
for (const f of ['gleand.js', 'gleand_native.node', 'raw.node']) {
  put(join(out, f), join(data, 'usr', 'lib', 'gleand', f), f.endsWith('.node') ? 0o755 : 0o644);
}
put(join(files, 'usr', 'sbin', 'gleand'), join(data, 'usr', 'sbin', 'gleand'), 0o755);
put(join(files, 'etc', 'init.d', 'gleand'), join(data, 'etc', 'init.d', 'gleand'), 0o755);
put(join(files, 'etc', 'config', 'gleand'), join(data, 'etc', 'config', 'gleand'), 0o644);

// One mtime for every entry, so the same tree makes the same bytes: SOURCE_DATE_EPOCH
// when set (as the buildroot does), else the last commit's time.
const mtime = process.env.SOURCE_DATE_EPOCH
  ?? execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: root, encoding: 'utf8' }).trim();
const tarGz = (dir, dest, entries) => {
  // ipkg-build's flags: GNU format, numeric owner root, sorted names, one mtime.
  const tar = execFileSync('tar', ['--format=gnu', '--numeric-owner', '--owner=0', '--group=0', '--sort=name',
    `--mtime=@${mtime}`, '-C', dir, '-cf', '-', ...entries], { maxBuffer: 1 << 28 });
  writeFileSync(dest, execFileSync('gzip', ['-n', '-9'], { input: tar, maxBuffer: 1 << 28 }));
  return tar.length;
};
const installedSize = tarGz(data, join(work, 'data.tar.gz'), ['.']);

mkdirSync(control);
const description = makeVar(make, 'GLEAND_DESCRIPTION');
writeFileSync(join(control, 'control'), [
  `Package: ${makeVar(make, 'PKG_NAME')}`,
  `Version: ${version}`,
  `Depends: ${depends.join(', ')}`,
  `Source: firmware-image/openwrt/package/gleand`,
  `SourceName: ${makeVar(make, 'PKG_NAME')}`,
  `License: ${makeVar(make, 'PKG_LICENSE')}`,
  `Section: net`,
  `Architecture: ${arch}`,
  `Installed-Size: ${installedSize}`,
  `Description: ${description}`,
  '',
].join('\n'));
writeFileSync(join(control, 'conffiles'), '/etc/config/gleand\n');
for (const script of ['postinst', 'prerm']) {
  put(join(root, 'firmware-image', 'openwrt', 'package', 'gleand', 'files', script), join(control, script), 0o755);
}
tarGz(control, join(work, 'control.tar.gz'), ['.']);
writeFileSync(join(work, 'debian-binary'), '2.0\n');

const dist = join(root, 'build', 'dist');
mkdirSync(dist, { recursive: true });
const ipk = join(dist, `${makeVar(make, 'PKG_NAME')}_${version}_${arch}.ipk`);
tarGz(work, ipk, ['./debian-binary', './data.tar.gz', './control.tar.gz']);
rmSync(work, { recursive: true, force: true });

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${ipk}: ${kib(statSync(ipk).size)} (installed ${kib(installedSize)})`);
