/**
 * The x86_64 test image of `npm run firmware`, booted under qemu-system-x86_64 with TCG
 * (no KVM on these machines) as the router of a lab: its two virtio NICs are tap devices
 * bridged, in the lab's router namespace (`Lab.routerTaps`), with the veths toward the
 * namespace running ISC dhcpd and toward a subscriber namespace running dhclient. The
 * flash disk carries the lab's gleand config (devices `wan` and `lan1`, the names the
 * image gives eth0 and eth1) and an rc.local with the router's addresses.
 *
 * Judged from outside the VM: the client's address and dhcpd's lease file (the lease and
 * its renewals went through gleand in the VM), a ping from the subscriber to the server
 * (forwarded by the VM along the route gleand installed), and from inside over the serial
 * console: `gleand status/bindings --json`, `kill -9` answered by a respawn, reloads, and
 * the flash disk's writes as the guest kernel counts them (/sys/block/vdb/stat) — from
 * the boot's baseline to the end, gleand writes one file, its relay DUID, once.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, labGleandConfig, type Lab, type LabClient, type LabProcess } from '../lab/lab';
import { until } from '../lab/wait';

const REPO = path.resolve(__dirname, '..', '..');
const IMAGE = path.join(REPO, 'build', 'firmware');
// Under TCG on a 2-core machine every node start costs seconds: generous bounds, no
// timing assertions.
const BOOT_MS = 600_000;
const COMMAND_MS = 240_000;
// Short leases: the client renews every 30 s (T1, RFC 2131 §4.4.5) while the test runs.
const LEASE_S = 60;
const RENEWALS = 4;

class Console {
  private text = '';
  private seq = 0;
  constructor(private readonly sock: Socket) {
    sock.on('data', (b: Buffer) => { this.text += b.toString('latin1'); });
  }
  get output(): string { return this.text; }
  async waitFor(re: RegExp, what: string, timeoutMs = BOOT_MS): Promise<RegExpExecArray> {
    return until(what, async () => re.exec(this.text), timeoutMs, 250);
  }
  /** Runs a shell command on the console; its output (CR stripped) and exit status. */
  async run(cmd: string, timeoutMs = COMMAND_MS): Promise<{ out: string; status: number }> {
    const n = ++this.seq;
    // The markers are built by the shell, so the echoed command line never matches them.
    this.sock.write(`N=${n}; echo "@@$N<"; ${cmd}; echo "@@$N>$?"\n`);
    const m = await this.waitFor(new RegExp(`@@${n}<\\r?\\n([\\s\\S]*?)@@${n}>(\\d+)`), `console: ${cmd}`, timeoutMs);
    return { out: m[1]!.replace(/\r/g, ''), status: Number(m[2]) };
  }
}

let lab: Lab;
let vm: LabProcess;
let con: Console;
let client: LabClient;
let address = '';
/** The flash disk's counters (writes completed, sectors written) when rc.boot hands over, and after gleand's first start. */
let atHandover: [number, number];
let afterStart: [number, number];
let duid = '';

/** gleand status --json over the console, or null while the daemon does not answer. */
async function status(): Promise<Record<string, unknown> | null> {
  const r = await con.run('gleand status --json');
  if (r.status !== 0) return null;
  try { return JSON.parse(r.out.slice(r.out.indexOf('{'))) as Record<string, unknown>; } catch { return null; }
}
/**
 * /sys/block/vdb/stat's writes completed and sectors written (Documentation/block/stat.rst).
 * Sectors are the measure: every `sync` adds a completed write that carries no sector
 * (the cache flush ext4 sends down), so the writes count moves with the test's own syncs.
 */
const writes = (stat: string): [number, number] => {
  const f = stat.trim().split(/\s+/).map(Number);
  return [f[4]!, f[6]!];
};
async function flashWrites(): Promise<[number, number]> {
  await con.run('sync');
  return writes((await con.run('cat /sys/block/vdb/stat')).out);
}
/** dhcpd's lease file: how many times it recorded `addr` (the first lease and each renewal). */
const leaseRecords = (addr: string): number =>
  readFileSync(lab.server.dhcpd4LeasesPath, 'utf8').split(`lease ${addr} {`).length - 1;

beforeAll(async () => {
  execFileSync(process.execPath, [path.join(REPO, 'build', 'package.mjs')], { cwd: REPO, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    const b = spawn(process.execPath, [path.join(REPO, 'build', 'firmware.mjs')], { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] });
    b.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`build/firmware.mjs exited ${code}`))));
  });
  lab = await createLab({ leaseTime: LEASE_S });
  const [wanTap, lanTap] = await lab.routerTaps();
  // The flash as the operator leaves it: gleand's config for this lab, and the router's
  // addresses (the lab's router addresses, now the VM's) in rc.local.
  const work = path.join(lab.dir, 'vm');
  const seed = path.join(work, 'seed');
  mkdirSync(path.join(seed, 'etc', 'config'), { recursive: true });
  mkdirSync(path.join(seed, 'etc', 'gleand'));
  writeFileSync(path.join(seed, 'etc', 'config', 'gleand'), labGleandConfig(lab, {
    logLevel: 'info', controlSocket: '/var/run/gleand.sock', stateDir: '/etc/gleand', snapshot: '/var/run/gleand/bindings',
    upstreamDevice: 'wan', subscriberDevice: () => 'lan1',
  }));
  const R = lab.router;
  writeFileSync(path.join(seed, 'etc', 'rc.local'), `ip addr add ${R.ipv4}/24 dev wan
ip addr add ${R.ipv6}/64 dev wan
ip addr add ${R.gateway4}/32 dev lo
ip addr add ${R.gateway6}/128 dev lo
echo 1 > /proc/sys/net/ipv4/ip_forward
echo 1 > /proc/sys/net/ipv6/conf/all/forwarding
`);
  const flash = path.join(work, 'flash.img');
  // As build/firmware.mjs makes the image's flash: no journal, no lazy init.
  execFileSync('truncate', ['-s', '16M', flash]);
  execFileSync('mkfs.ext4', ['-q', '-F', '-L', 'flash', '-O', '^has_journal', '-E', 'lazy_itable_init=0', '-d', seed, flash]);
  const serial = path.join(work, 'serial.sock');
  const started = Date.now();
  // In the router namespace, where the taps are; the lab tracks it and stops it at
  // teardown (success, failure or interrupt). wait=on: the guest starts once the console
  // is connected, so no boot output is lost.
  vm = lab.spawn(R.ns, [
    'qemu-system-x86_64',
    '-machine', 'q35,accel=tcg', '-m', '768', '-display', 'none', '-monitor', 'none', '-no-reboot',
    '-chardev', `socket,id=s0,path=${serial},server=on,wait=on`, '-serial', 'chardev:s0',
    '-kernel', path.join(IMAGE, 'vmlinuz'), '-initrd', path.join(IMAGE, 'initrd.cpio.gz'),
    '-append', 'console=ttyS0 quiet panic=-1',
    '-drive', `file=${path.join(IMAGE, 'root.squashfs')},if=virtio,format=raw,readonly=on`,
    '-drive', `file=${flash},if=virtio,format=raw`,
    '-netdev', `tap,id=n0,ifname=${wanTap},script=no,downscript=no`, '-device', 'virtio-net-pci,netdev=n0,mac=52:54:00:00:00:01',
    '-netdev', `tap,id=n1,ifname=${lanTap},script=no,downscript=no`, '-device', 'virtio-net-pci,netdev=n1,mac=52:54:00:00:00:02',
  ], { name: 'qemu' });
  await until('qemu to open its console socket', async () => existsSync(serial) || !vm.running(), 30_000);
  if (!vm.running()) throw new Error(`qemu exited:\n${vm.log()}`);
  const sock = connect(serial);
  con = new Console(sock);
  try {
    const boot = await con.waitFor(/rc\.boot done \S+ flash-stat: ([^\r\n]+)/, 'the image to boot');
    atHandover = writes(boot[1]!);
    await con.waitFor(/\n# /, 'the console shell');
    await until('gleand to answer over its control socket', status, BOOT_MS, 1000);
  } catch (e) {
    await con.run('tail -20 /var/log/gleand.check /var/log/gleand.log', 60_000).catch(() => undefined);
    throw new Error(`${String(e)}\n--- console ---\n${con.output.slice(-6000)}\n--- qemu ---\n${vm.log()}`);
  }
  console.log(`firmware image: qemu start to gleand answering ${((Date.now() - started) / 1000).toFixed(1)} s (TCG)`);
  afterStart = await flashWrites();
  duid = (await con.run('cat /overlay/etc/gleand/relay-id')).out;
}, 2 * BOOT_MS);

afterAll(async () => {
  if (con) await con.run('tail -30 /var/log/gleand.log', 30_000).then((r) => console.log(r.out), () => undefined);
  await lab?.teardown();
});

describe('the test image under qemu (TCG), the router of a lab', () => {
  it('busybox init started gleand at boot; the root is read-only, /tmp and /var are tmpfs', async () => {
    const s = (await status())!;
    expect(s['configFile']).toBe('/etc/config/gleand');
    expect(s['version']).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version);
    const mounts = (await con.run('cat /proc/mounts')).out;
    expect(mounts).toMatch(/^\S+ \/ squashfs ro/m);
    expect(mounts).toMatch(/^tmp \/tmp tmpfs/m);
    expect(mounts).toMatch(/^var \/var tmpfs/m);
    expect(mounts).toMatch(/^\/dev\/vdb \/overlay ext4/m);
  });

  it('gleand wrote one file to the flash at its first start, its relay DUID', async () => {
    const files = (await con.run('find /overlay -type f | sort')).out.trim().split('\n');
    expect(files).toEqual(['/overlay/etc/config/gleand', '/overlay/etc/gleand/relay-id', '/overlay/etc/rc.local']);
    expect(duid).toMatch(/^[0-9a-f:]+\n$/);
    expect(afterStart[1]).toBeGreaterThan(atHandover[1]);
    console.log(`flash: ${atHandover[0]} writes (${atHandover[1]} sectors) before gleand (the mount), ` +
      `${afterStart[0] - atHandover[0]} writes (${afterStart[1] - atHandover[1]} sectors) for the relay DUID`);
  });

  it("the subscriber's dhclient gets its lease through gleand in the VM", async () => {
    client = lab.startClient(0, 'dhclient4');
    const lease = await client.waitLease(4, COMMAND_MS);
    address = lease.address!;
    const sub = lab.subscribers[0]!;
    // dhcpd saw it relayed (giaddr in the pool's subnet) and recorded it for this MAC.
    expect(lease.server).toBe(lab.server.ipv4);
    const leases = readFileSync(lab.server.dhcpd4LeasesPath, 'utf8');
    const block = leases.slice(leases.lastIndexOf(`lease ${address} {`));
    expect(block).toContain(`hardware ethernet ${sub.mac};`);
    expect(block).toMatch(/binding state active;/);
    // gleand's view agrees: one binding on lan1 for this MAC and address.
    const rows = await until('gleand to list the binding', async () => {
      const r = await con.run('gleand bindings --json');
      const all = r.status === 0 ? JSON.parse(r.out.slice(r.out.indexOf('['))) as { binding: string; port: string; mac: string }[] : [];
      return all.length > 0 ? all : null;
    }, COMMAND_MS, 2000);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.binding).toContain(address);
    expect(rows[0]!.port).toBe(sub.name); // the UCI section of the port whose device is lan1
    expect(rows[0]!.mac).toBe(sub.mac);
    // The VM forwards for it: the subscriber reaches the server along gleand's host route.
    await until('a ping from the subscriber to the server through the VM', async () =>
      (await lab.exec(sub.ns, ['ping', '-c', '1', '-W', '5', lab.server.ipv4], { check: false })).code === 0, COMMAND_MS, 1000);
  }, 2 * COMMAND_MS);

  it('kill -9 is answered by a respawn, and the flash sees no write', async () => {
    const pid = (await status())!['pid'] as number;
    expect((await con.run(`kill -9 ${pid}`)).status).toBe(0);
    const again = await until('a new gleand', async () => {
      const s = await status();
      return s && s['pid'] !== pid ? s : null;
    }, BOOT_MS, 1000);
    expect(again['pid']).not.toBe(pid);
    expect((await flashWrites())[1]).toBe(afterStart[1]);
  }, BOOT_MS);

  it(`the client renews ${RENEWALS} times through the VM (minutes of running, a reload): still no flash write`, async () => {
    expect((await con.run('/etc/init.d/gleand-image reload')).status).toBe(0);
    const first = leaseRecords(address);
    await until(`${RENEWALS} renewals recorded by dhcpd`, async () => leaseRecords(address) >= first + RENEWALS, 4 * RENEWALS * LEASE_S * 1000, 2000);
    expect(client.lease(4)!.address).toBe(address);
    const s = (await status())!;
    expect(Object.keys(s['lastReload'] as object).length).toBeGreaterThan(0);
    const now = await flashWrites();
    expect(now[1]).toBe(afterStart[1]);
    expect((await con.run('cat /overlay/etc/gleand/relay-id')).out).toBe(duid);
    console.log(`flash: ${now[1] - afterStart[1]} sectors written from gleand's first start through the lease, a respawn, ` +
      `a reload and ${RENEWALS} renewals (${now[0] - afterStart[0]} writes: the test's syncs)`);
  }, 5 * RENEWALS * LEASE_S * 1000);

  it('a UCI edit + reload is applied (SIGHUP); an invalid edit is refused by reload and the daemon keeps running', async () => {
    const pid = (await status())!['pid'] as number;
    const reloads = Number((await con.run('grep -c "config: reloaded" /var/log/gleand.log')).out.trim());
    expect((await con.run("sed -i \"s/option log_level 'info'/option log_level 'debug'/\" /etc/config/gleand")).status).toBe(0);
    expect((await con.run('/etc/init.d/gleand-image reload')).status).toBe(0);
    await until('the reload to be applied', async () =>
      Number((await con.run('grep -c "config: reloaded" /var/log/gleand.log')).out.trim()) > reloads, COMMAND_MS, 1000);
    const s = (await status())!;
    expect(s['pid']).toBe(pid);
    expect(JSON.stringify(s['lastReload'])).not.toMatch(/refused/);

    expect((await con.run("sed -i \"s/option log_level 'debug'/option log_level 'loud'/\" /etc/config/gleand")).status).toBe(0);
    const bad = await con.run('/etc/init.d/gleand-image reload');
    expect(bad.status).toBe(1);
    expect(bad.out).toContain('main.log_level: "loud" is not one of');
    expect((await status())!['pid']).toBe(pid);
    // The operator's edits are the only other writes: the DUID is still the one file gleand wrote.
    expect((await con.run('cat /overlay/etc/gleand/relay-id')).out).toBe(duid);
  });
});
