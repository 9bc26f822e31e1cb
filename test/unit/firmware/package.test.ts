/**
 * The x86_64 .ipk of `npm run package`, read with tar and gzip (not with our writer's
 * code), its fields checked as opkg checks them, and installed into a directory the way
 * opkg installs into an offline root; the installed `gleand` command then checks the
 * installed default config, chrooted in that root.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, buildIpk, makeRunnable, opkgInstall, parseControl, runInRoot, unpackIpk, type Unpacked } from './ipk';

let ipk = '';
let u: Unpacked;
const roots: string[] = [];

beforeAll(() => {
  ipk = buildIpk();
  u = unpackIpk(ipk);
});
afterAll(() => { for (const r of [...roots, u?.dir, u?.control, u?.data]) if (r) rmSync(r, { recursive: true, force: true }); });

describe('the .ipk container', () => {
  it('is what ipkg-build writes and opkg reads: a gzipped tar of debian-binary, data.tar.gz, control.tar.gz', () => {
    expect(path.basename(ipk)).toBe('gleand_0.1.0-1_x86_64.ipk');
    // gzip magic, and not an ar archive ("!<arch>\n"), which opkg would also accept.
    const head = readFileSync(ipk).subarray(0, 8);
    expect([...head.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(head.toString('latin1')).not.toBe('!<arch>\n');
    expect(u.outer).toEqual(['./debian-binary', './data.tar.gz', './control.tar.gz']);
    expect(readFileSync(path.join(u.dir, 'debian-binary'), 'utf8')).toBe('2.0\n');
    // Owners are numeric root, as opkg extracts them onto the router.
    const listing = execFileSync('tar', ['--numeric-owner', '-tvzf', path.join(u.dir, 'data.tar.gz')], { encoding: 'utf8' });
    for (const line of listing.split('\n').filter(Boolean)) expect(line.split(/\s+/)[1]).toBe('0/0');
  });

  it('is reproducible: the same tree makes the same bytes', () => {
    const first = readFileSync(ipk);
    expect(readFileSync(buildIpk()).equals(first)).toBe(true);
  });
});

describe('control', () => {
  it('has the fields opkg requires, well formed', () => {
    const f = parseControl(readFileSync(path.join(u.control, 'control'), 'utf8'));
    expect(f.get('Package')).toMatch(/^[a-z0-9.+-]+$/);
    expect(f.get('Package')).toBe('gleand');
    // [epoch:]upstream[-revision], upstream starting with a digit (opkg's parse_version).
    expect(f.get('Version')).toMatch(/^(\d+:)?\d[A-Za-z0-9.+~]*-\d+$/);
    expect(f.get('Architecture')).toBe('x86_64');
    // Installed-Size: ipkg-build's measure, the bytes of the uncompressed data tar.
    const dataTar = execFileSync('gzip', ['-dc', path.join(u.dir, 'data.tar.gz')], { maxBuffer: 1 << 28 });
    expect(Number(f.get('Installed-Size'))).toBe(dataTar.length);
    const depends = f.get('Depends')!.split(',').map((d) => d.trim());
    expect(depends).toEqual(expect.arrayContaining(['node', 'nftables-json', 'kmod-nft-core', 'kmod-nft-fib', 'kmod-nfnetlink-log']));
    for (const d of depends) expect(d).toMatch(/^[a-z0-9.+-]+$/);
    expect(f.get('Description')).toBeTruthy();
  });

  it('marks the default config as a conffile, and it is in the data', () => {
    const conffiles = readFileSync(path.join(u.control, 'conffiles'), 'utf8').split('\n').filter(Boolean);
    expect(conffiles).toEqual(['/etc/config/gleand']);
    for (const c of conffiles) expect(statSync(path.join(u.data, c)).isFile()).toBe(true);
  });

  it('has postinst and prerm, executable sh scripts that parse', () => {
    for (const s of ['postinst', 'prerm']) {
      const file = path.join(u.control, s);
      expect(statSync(file).mode & 0o111).toBe(0o111);
      expect(readFileSync(file, 'utf8')).toMatch(/^#!\/bin\/sh\n/);
      execFileSync('busybox', ['sh', '-n', file]);
    }
  });
});

describe('data', () => {
  it('installs the bundle and addons under /usr/lib/gleand, the command, the init script and the config', () => {
    const files = execFileSync('tar', ['-tzf', path.join(u.dir, 'data.tar.gz')], { encoding: 'utf8' })
      .split('\n').filter((f) => f && !f.endsWith('/')).sort();
    expect(files).toEqual([
      './etc/config/gleand', './etc/init.d/gleand',
      './usr/lib/gleand/gleand.js', './usr/lib/gleand/gleand_native.node', './usr/lib/gleand/raw.node',
      './usr/sbin/gleand',
    ]);
    for (const x of ['etc/init.d/gleand', 'usr/sbin/gleand']) expect(statSync(path.join(u.data, x)).mode & 0o111).toBe(0o111);
    // The addons are this machine's: x86-64 ELF shared objects.
    for (const a of ['gleand_native.node', 'raw.node']) {
      expect(execFileSync('readelf', ['-h', path.join(u.data, 'usr/lib/gleand', a)], { encoding: 'utf8' })).toMatch(/Machine:\s+Advanced Micro Devices X86-64/);
    }
  });
});

describe('installed into a root as opkg does', () => {
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'gleand-root-'));
    roots.push(root);
  });

  it('postinst (IPKG_INSTROOT set) enables the service: rc.d links named from START/STOP', () => {
    const r = opkgInstall(ipk, root);
    expect(r).toEqual({ status: 0, output: '' });
    expect(readlinkSync(path.join(root, 'etc/rc.d/S60gleand'))).toBe('../init.d/gleand');
    expect(readlinkSync(path.join(root, 'etc/rc.d/K15gleand'))).toBe('../init.d/gleand');
    expect(readFileSync(path.join(root, 'usr/lib/opkg/info/gleand.list'), 'utf8')).toMatch(/^\/usr\/sbin\/gleand$/m);
  });

  it('the installed /usr/sbin/gleand checks the installed default config, chrooted in the root', () => {
    makeRunnable(root);
    const r = runInRoot(root, ['/usr/sbin/gleand', 'check-config', '/etc/config/gleand']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('/etc/config/gleand: ok\n');
    expect(r.status).toBe(0);
    const v = runInRoot(root, ['/usr/sbin/gleand', 'version']);
    expect(v.stdout).toBe(`gleand ${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version}\n`);
  });

  it('prerm (IPKG_INSTROOT set) removes the rc.d links', () => {
    execFileSync('sh', [path.join(root, 'usr/lib/opkg/info/gleand.prerm'), 'remove'], { env: { ...process.env, IPKG_INSTROOT: root } });
    expect(() => lstatSync(path.join(root, 'etc/rc.d/S60gleand'))).toThrow();
    expect(() => lstatSync(path.join(root, 'etc/rc.d/K15gleand'))).toThrow();
  });
});
