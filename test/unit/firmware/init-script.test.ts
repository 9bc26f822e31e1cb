/**
 * The procd init script's decisions: what it asks procd to do on start, restart and
 * reload, with a valid and an invalid config. The script runs as on a router — the
 * .ipk installed into a root, chrooted there, busybox ash as /bin/sh, the real gleand
 * check-config — under rc.common.stand-in, our stand-in for OpenWrt's rc.common and
 * procd.sh (those, jshn, ubus and procd are not packaged in Debian; the stand-in follows
 * their contract and records what would go to procd over ubus).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIpk, makeRunnable, opkgInstall, runInRoot } from './ipk';

const INIT = 'firmware-image/openwrt/files/etc/init.d/gleand';
const COMMAND = '/usr/bin/node --optimize-for-size --max-semi-space-size=1 /usr/lib/gleand/gleand.js run -c /etc/config/gleand';
const INVALID = "config global 'main'\n\toption log_level 'loud'\n";

describe('OpenWrt init script, as text', () => {
  const text = readFileSync(INIT, 'utf8');

  it('is valid POSIX sh (busybox ash runs it)', () => {
    expect(() => execFileSync('sh', ['-n', INIT])).not.toThrow();
    expect(() => execFileSync('busybox', ['sh', '-n', INIT])).not.toThrow();
  });

  it('is a procd service: logs to logd, reload trigger on its config', () => {
    expect(text).toMatch(/^#!\/bin\/sh \/etc\/rc\.common$/m);
    expect(text).toMatch(/^USE_PROCD=1$/m);
    expect(text).toMatch(/procd_set_param stdout 1/);
    expect(text).toMatch(/procd_set_param stderr 1/);
    expect(text).toMatch(/procd_add_reload_trigger "gleand"/);
  });
});

describe('OpenWrt init script under rc.common/procd (stand-in), chrooted in the installed package', () => {
  let root = '';
  const config = (): string => path.join(root, 'etc/config/gleand');
  let valid = '';
  const ubus = (): string[] => (existsSync(path.join(root, 'tmp/ubus.log')) ? readFileSync(path.join(root, 'tmp/ubus.log'), 'utf8').split('\n').filter(Boolean) : []);
  const instances = (): string[] => readFileSync(path.join(root, 'tmp/procd.instances'), 'utf8').split('\n').filter(Boolean);
  const initd = (action: string): ReturnType<typeof runInRoot> => runInRoot(root, ['/etc/init.d/gleand', action]);
  /** What the action sent to procd, and its result. */
  const act = (action: string): { status: number | null; stderr: string; stdout: string; sent: string[] } => {
    const before = ubus().length;
    const r = initd(action);
    return { ...r, sent: ubus().slice(before) };
  };

  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'gleand-initd-'));
    expect(opkgInstall(buildIpk(), root).status).toBe(0);
    makeRunnable(root);
    copyFileSync(path.join(__dirname, 'rc.common.stand-in'), path.join(root, 'etc/rc.common'));
    valid = readFileSync(config(), 'utf8');
  });
  afterAll(() => { if (root) rmSync(root, { recursive: true, force: true }); });

  it('start with an invalid config on a router where gleand is not running: sends procd nothing, error on stderr, exit 1', () => {
    writeFileSync(config(), INVALID);
    const r = act('start');
    expect(r.sent).toEqual([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('/etc/config/gleand:2:2: main.log_level: "loud" is not one of');
    expect(r.stdout).toBe('');
  });

  it('start with the default config: one instance with the init script flags, respawn 300 5 0, reload trigger', () => {
    writeFileSync(config(), valid);
    const r = act('start');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.sent).toEqual(['set gleand triggers=config.change:gleand; instances=1']);
    expect(instances()).toEqual([`respawn=300 5 0 command=${COMMAND}`]);
  });

  it('start with an invalid config while gleand runs: the instance stays, error on stderr, exit 1', () => {
    writeFileSync(config(), INVALID);
    const r = act('start');
    expect(r.sent).toEqual([]);
    expect(instances()).toEqual([`respawn=300 5 0 command=${COMMAND}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('main.log_level: "loud" is not one of');
  });

  it('restart with an invalid config while gleand runs: no stop, no start, error on stderr, exit 1', () => {
    const r = act('restart');
    expect(r.sent).toEqual([]);
    expect(instances()).toEqual([`respawn=300 5 0 command=${COMMAND}`]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('main.log_level: "loud" is not one of');
  });

  it('reload with an invalid config: no SIGHUP (the daemon would refuse it), error on stderr, exit 1', () => {
    const r = act('reload');
    expect(r.sent).toEqual([]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('main.log_level: "loud" is not one of');
  });

  it('with the config fixed: reload sends SIGHUP, restart stops and starts', () => {
    writeFileSync(config(), valid);
    expect(act('reload')).toMatchObject({ status: 0, stderr: '', sent: ['signal gleand * HUP'] });
    expect(act('restart')).toMatchObject({ status: 0, stderr: '', sent: ['delete gleand', 'set gleand triggers=config.change:gleand; instances=1'] });
    expect(instances()).toEqual([`respawn=300 5 0 command=${COMMAND}`]);
  });

  it('a config with warnings only (options not built yet) starts', () => {
    writeFileSync(config(), `${valid}\nconfig multicast\n\toption enabled '0'\n`);
    const r = act('start');
    expect(r.status).toBe(0);
    expect(r.sent).toEqual(['set gleand triggers=config.change:gleand; instances=1']);
    writeFileSync(config(), valid);
  });

  it('stop removes the instance', () => {
    expect(act('stop')).toMatchObject({ status: 0, sent: ['delete gleand'] });
    expect(instances()).toEqual([]);
  });
});
