// npm run firmware: an x86_64 test image of gleand in build/firmware/, booted by
// test/e2e/firmware-image.test.ts under qemu-system-x86_64 (TCG: no KVM here).
//
//   vmlinuz         Debian's kernel (linux-image-<abi>-amd64, fetched with apt-get download)
//   initrd.cpio.gz  busybox and the modules to reach the root: mounts /dev/vda, switch_root
//   root.squashfs   the read-only root: busybox (init, sh), node, nft, gleand installed from
//                   the .ipk of `npm run package`, the modules gleand needs, /etc/rc.boot
//   flash.img       a small ext4 disk standing in for the flash overlay: /etc/config and
//                   /etc/gleand are bound from it; everything else is tmpfs
//
// procd is not in Debian: busybox init starts gleand (inittab `respawn`) through
// /etc/init.d/gleand-image, which follows the procd script's contract for start, stop
// and reload (check-config first; reload = SIGHUP). The OpenWrt package keeps the procd
// script itself.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'firmware');
const cache = join(root, 'build', 'firmware-cache');
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });

// ── the kernel: Debian's, the package linux-image-amd64 points at ──
function kernel() {
  const pkg = /Depends: (linux-image-\S+-amd64)/.exec(sh('apt-cache', ['depends', 'linux-image-amd64']))?.[1];
  if (!pkg) throw new Error('apt-cache: linux-image-amd64 names no kernel package (apt-get update first)');
  const abi = pkg.replace(/^linux-image-/, '');
  const tree = join(cache, pkg);
  if (!existsSync(join(tree, 'boot', `vmlinuz-${abi}`))) {
    mkdirSync(cache, { recursive: true });
    sh('apt-get', ['download', pkg], { cwd: cache });
    const deb = readdirSync(cache).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
    sh('dpkg-deb', ['-x', join(cache, deb), tree]);
    rmSync(join(cache, deb));
  }
  return { abi, tree, modules: join(tree, 'lib', 'modules', abi) };
}

// ── modules: a name's file and its dependencies, from each .ko's .modinfo (no depmod here) ──
function moduleIndex(dir) {
  const files = new Map();
  const walk = (d) => { for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) walk(join(d, e.name));
    else if (e.name.endsWith('.ko')) files.set(e.name.slice(0, -3).replace(/-/g, '_'), join(d, e.name));
  } };
  walk(dir);
  return files;
}
function depends(file) {
  const m = /depends=([^\n]*)/.exec(sh('readelf', ['-p', '.modinfo', file]));
  return m && m[1].trim() ? m[1].trim().split(',').map((n) => n.replace(/-/g, '_')) : [];
}
/** The modules to insmod for `names`, dependencies first. */
function closure(index, names) {
  const order = [];
  const seen = new Set();
  const visit = (n) => {
    if (seen.has(n)) return;
    seen.add(n);
    const file = index.get(n);
    if (!file) throw new Error(`no module ${n}`);
    for (const d of depends(file)) visit(d);
    order.push(file);
  };
  names.forEach(visit);
  return order;
}

// ── a directory tree's pieces ──
function put(from, to, mode) { mkdirSync(dirname(to), { recursive: true }); copyFileSync(from, to); if (mode) chmodSync(to, mode); }
function write(to, text, mode = 0o644) { mkdirSync(dirname(to), { recursive: true }); writeFileSync(to, text); chmodSync(to, mode); }
/** A binary and every library ldd names, at the same paths. */
function binaryWithLibs(dir, bin) {
  put(bin, join(dir, bin), 0o755);
  for (const lib of sh('ldd', [bin]).matchAll(/(\/\S+\.so[^\s]*)/g)) {
    const to = join(dir, lib[1]);
    if (!existsSync(to)) put(lib[1], to, 0o755);
  }
}
/** A merged-/usr tree (bin, sbin, lib, lib64 link into usr) with busybox and its applets. */
function busybox(dir, applets) {
  for (const d of ['bin', 'sbin', 'lib', 'lib64']) mkdirSync(join(dir, 'usr', d), { recursive: true });
  for (const [link, to] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']]) {
    sh('ln', ['-sfn', to, join(dir, link)]);
  }
  binaryWithLibs(dir, '/usr/bin/busybox');
  for (const a of applets) sh('ln', ['-sf', 'busybox', join(dir, 'usr', 'bin', a)]);
  sh('ln', ['-sf', '../bin/busybox', join(dir, 'usr', 'sbin', 'init')]);
}
function modulesInto(dir, files) {
  const list = [];
  for (const f of files) { put(f, join(dir, 'modules', basename(f))); list.push(basename(f)); }
  write(join(dir, 'modules', 'order'), `${list.join('\n')}\n`);
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const k = kernel();
copyFileSync(join(k.tree, 'boot', `vmlinuz-${k.abi}`), join(out, 'vmlinuz'));
const index = moduleIndex(k.modules);

// ── initrd ──
const initrd = join(out, 'initrd');
busybox(initrd, ['sh', 'mount', 'umount', 'insmod', 'switch_root', 'mkdir', 'cat', 'sleep']);
modulesInto(initrd, closure(index, ['virtio_pci', 'virtio_blk', 'squashfs']));
write(join(initrd, 'init'), `#!/bin/sh
# Load what reaches the root, mount the squashfs read-only, hand over to its init.
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $(cat /modules/order); do insmod /modules/$m; done
n=0; while [ ! -b /dev/vda ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
mkdir -p /newroot && mount -t squashfs -o ro /dev/vda /newroot || exec sh
umount /proc; mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
`, 0o755);
for (const d of ['proc', 'dev', 'newroot']) mkdirSync(join(initrd, d), { recursive: true });
sh('sh', ['-c', `cd "${initrd}" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "${join(out, 'initrd.cpio.gz')}"`]);
rmSync(initrd, { recursive: true, force: true });

// ── root ──
const rootfs = join(out, 'rootfs');
busybox(rootfs, ['sh', 'init', 'mount', 'umount', 'insmod', 'mkdir', 'cat', 'cp', 'ln', 'ls', 'sleep', 'kill',
  'ip', 'poweroff', 'reboot', 'sync', 'echo', 'grep', 'sed', 'logger', 'basename', 'printf', 'rm', 'touch', 'find', 'stat', 'head', 'tail', 'cut', 'sort']);
binaryWithLibs(rootfs, '/usr/bin/node');
binaryWithLibs(rootfs, '/usr/sbin/nft');
// gleand from the package, as opkg installs it (no postinst: busybox init starts it).
const ipk = readdirSync(join(root, 'build', 'dist')).find((f) => f.endsWith('_x86_64.ipk'));
if (!ipk) throw new Error('no .ipk in build/dist: npm run package first');
const unpack = join(out, 'ipk');
mkdirSync(unpack);
sh('tar', ['-xzf', join(root, 'build', 'dist', ipk), '-C', unpack]);
sh('tar', ['-xzf', join(unpack, 'data.tar.gz'), '-C', rootfs]);
rmSync(unpack, { recursive: true, force: true });
// The defaults the flash is seeded from on first boot.
put(join(rootfs, 'etc', 'config', 'gleand'), join(rootfs, 'rom', 'etc', 'config', 'gleand'));
rmSync(join(rootfs, 'etc', 'config', 'gleand'));
// The modules gleand needs (the feed Makefile's kmod list), the NICs and the flash's fs.
// Every nf_tables expression module: nft(8) lists what the kernel has when it builds its
// cache, and fails ("cache initialization failed") when a kind it asks for is missing.
const nftModules = [...index.keys()].filter((n) => /^(nft_|nf_tables|nfnetlink)/.test(n)).sort();
modulesInto(rootfs, closure(index, ['virtio_net', 'ext4', 'crc32c_generic', ...nftModules]));
for (const d of ['proc', 'sys', 'dev', 'tmp', 'var', 'overlay', 'etc/config', 'etc/gleand', 'root']) mkdirSync(join(rootfs, d), { recursive: true });
write(join(rootfs, 'etc', 'inittab'), `::sysinit:/etc/rc.boot
::respawn:/etc/init.d/gleand-image run
ttyS0::respawn:/bin/sh -l
::shutdown:/bin/umount -a -r
`);
write(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
write(join(rootfs, 'etc', 'profile'), 'export PATH=/usr/sbin:/usr/bin\nexport PS1="# "\n');
write(join(rootfs, 'etc', 'rc.boot'), `#!/bin/sh
# The image's boot: kernel filesystems, tmpfs for everything that changes, the flash
# disk for what must survive a reboot (/etc/config, /etc/gleand), modules, NIC names.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t tmpfs -o size=32m tmp /tmp
mount -t tmpfs -o size=16m var /var
mkdir -p /var/run /var/log
for m in $(cat /modules/order); do insmod /modules/$m 2>/dev/null; done
mount -t ext4 -o noatime /dev/vdb /overlay
mkdir -p /overlay/etc/config /overlay/etc/gleand
[ -f /overlay/etc/config/gleand ] || cp /rom/etc/config/gleand /overlay/etc/config/gleand
mount --bind /overlay/etc/config /etc/config
mount --bind /overlay/etc/gleand /etc/gleand
# The NICs in the order qemu attaches them: the upstream port, then the subscriber port.
ip link set eth0 name wan; ip link set eth1 name lan1
ip link set lo up; ip link set wan up; ip link set lan1 up
# The operator's own boot commands (addresses, forwarding), kept on the flash as
# OpenWrt keeps /etc/rc.local on its overlay.
[ -f /overlay/etc/rc.local ] && sh /overlay/etc/rc.local
# What reached the flash before gleand starts (the mount's superblock update): the
# baseline the e2e test counts gleand's own writes from.
sync
echo "rc.boot done $(cut -d' ' -f1 /proc/uptime) flash-stat: $(cat /sys/block/vdb/stat)"
`, 0o755);
// The image's service script: the procd script's contract under busybox init.
write(join(rootfs, 'etc', 'init.d', 'gleand-image'), `#!/bin/sh
# gleand under busybox init (the image has no procd): inittab respawns "run"; "reload"
# checks the file then sends SIGHUP, as /etc/init.d/gleand does under procd.
NODE=/usr/bin/node
BUNDLE=/usr/lib/gleand/gleand.js
CONFIG=/etc/config/gleand
case "$1" in
run)
	# An invalid file: say so and wait, rather than respawn a process that only exits.
	until "$NODE" "$BUNDLE" check-config "$CONFIG" >/var/log/gleand.check 2>&1; do sleep 5; done
	# exec keeps this shell's PID: the pid file names the daemon, never a process by name.
	echo $$ >/var/run/gleand.pid
	exec "$NODE" --optimize-for-size --max-semi-space-size=1 "$BUNDLE" run -c "$CONFIG" >>/var/log/gleand.log 2>&1 ;;
reload)
	"$NODE" "$BUNDLE" check-config "$CONFIG" >&2 || exit 1
	kill -HUP "$(cat /var/run/gleand.pid)" ;;
*) echo "usage: $0 run|reload" >&2; exit 2 ;;
esac
`, 0o755);
const squash = join(out, 'root.squashfs');
// lz4: the kernel reads it (CONFIG_SQUASHFS_LZ4) and mksquashfs writes it in seconds, where
// xz took about two minutes on this machine; the root is bigger (see README), not slower.
sh('mksquashfs', [rootfs, squash, '-comp', 'lz4', '-noappend', '-all-root', '-quiet', '-no-progress']);
rmSync(rootfs, { recursive: true, force: true });

// ── flash: a small ext4 holding what a freshly flashed router has: the default config ──
const flash = join(out, 'flash.img');
const seed = join(out, 'flash-seed');
put(join(root, 'firmware-image', 'openwrt', 'files', 'etc', 'config', 'gleand'), join(seed, 'etc', 'config', 'gleand'), 0o644);
mkdirSync(join(seed, 'etc', 'gleand'), { recursive: true });
sh('truncate', ['-s', '16M', flash]);
// No journal and no lazy init: the guest's ext4 writes only what gleand writes.
sh('mkfs.ext4', ['-q', '-F', '-L', 'flash', '-O', '^has_journal', '-E', 'lazy_itable_init=0', '-d', seed, flash]);
rmSync(seed, { recursive: true, force: true });

const mib = (f) => `${(statSync(f).size / 1048576).toFixed(1)} MiB`;
for (const f of ['vmlinuz', 'initrd.cpio.gz', 'root.squashfs', 'flash.img']) console.log(`  ${f.padEnd(16)} ${mib(join(out, f))}`);
