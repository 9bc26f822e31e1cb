/**
 * End to end against the real kernel, checked with ip(8) (CONVENTIONS 15). Each run
 * makes its own namespace (gn<pid><random>) with a veth pair and removes it afterwards.
 * The work runs in test/e2e/netlink-worker.ts under `ip netns exec`, since a Node
 * process cannot switch its own namespace. Needs root: fails (does not skip) without.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = path.resolve(__dirname, '../..');
const TSX = path.join(REPO, 'node_modules/.bin/tsx');
const WORKER = path.join(__dirname, 'netlink-worker.ts');
const PROTO = '191';
const ns = `gn${process.pid}${Math.floor(Math.random() * 1e6)}`;

const ip = (...args: string[]): string => execFileSync('ip', ['-n', ns, ...args], { encoding: 'utf8', maxBuffer: 256 << 20 });

function worker(scenario: string, env: Record<string, string> = {}): Record<string, unknown> {
  const r = spawnSync('ip', ['netns', 'exec', ns, TSX, WORKER, scenario], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 240_000,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`worker ${scenario}: exit ${r.status} signal ${r.signal}\n${r.stderr}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as Record<string, unknown>;
}

describe('rtnetlink client against the kernel', () => {
  beforeAll(() => {
    if (process.getuid?.() !== 0) throw new Error('netlink e2e needs root (network namespaces); run as root');
    execFileSync('ip', ['netns', 'add', ns]);
    ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ip('link', 'set', 'lo', 'up');
    ip('link', 'set', 'v0', 'up');
    ip('link', 'set', 'v1', 'up');
    ip('addr', 'add', '192.0.2.2/24', 'dev', 'v0');
  });

  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]);
  });

  it('installs routes and neighbours that ip(8) sees, reports per-request errors', () => {
    const r = worker('install');
    expect(r.added).toEqual({ done: 302, failures: [] });
    const again = r.again as { done: number; failures: [number, { code: string }][] };
    expect(again.done).toBe(0);
    expect(again.failures.map(([i, e]) => [i, e.code])).toEqual([[0, 'EEXIST'], [1, 'EEXIST']]);
    const badDev = r.badDev as { failures: [number, { code: string }][] };
    expect(badDev.failures[0]?.[1].code).toBe('ENODEV');
    expect(r.neighs).toEqual({ done: 2, failures: [] });
    expect((r.v6 as string[]).length).toBe(301);
    expect(r.v6).toContain('2001:db8:1:2b00::/56 fe80::1 1024');
    expect(r.v6).toContain('fd00:1::/64 - 7');
    expect(r.t1000).toEqual(['10.20.0.0/16 192.0.2.1 t1000']);
    expect(r.neigh).toEqual(expect.arrayContaining(['2001:db8::10 02:00:00:00:00:10', '192.0.2.20 02:00:00:00:00:20']));
    expect(r.notes).toBe(301);
    expect(r.firstNote).toBe('new 2001:db8::/56');

    const shown = ip('-6', 'route', 'show', 'proto', PROTO).trim().split('\n');
    expect(shown).toHaveLength(301);
    expect(shown).toContain('2001:db8:1:2b00::/56 via fe80::1 dev v0 metric 1024 pref medium');
    expect(ip('-4', 'route', 'show', 'table', '1000', 'proto', PROTO).trim()).toBe('10.20.0.0/16 via 192.0.2.1 dev v0');
    const neigh = ip('neigh', 'show', 'dev', 'v0', 'nud', 'permanent');
    expect(neigh).toContain('2001:db8::10 lladdr 02:00:00:00:00:10 PERMANENT');
    expect(neigh).toContain('192.0.2.20 lladdr 02:00:00:00:00:20 PERMANENT');
  });

  it('deletes what it installed', () => {
    const r = worker('remove');
    expect(r.del).toEqual({ done: 302, failures: [] });
    expect(r.neigh).toEqual({ done: 2, failures: [] });
    const missing = r.missing as { failures: [number, { code: string }][] };
    expect(missing.failures[0]?.[1].code).toBe('ENOENT');
    expect(r.left).toBe(0);
    expect(ip('-6', 'route', 'show', 'proto', PROTO).trim()).toBe('');
    expect(ip('-4', 'route', 'show', 'table', 'all', 'proto', PROTO).trim()).toBe('');
    expect(ip('neigh', 'show', 'dev', 'v0', 'nud', 'permanent').trim()).toBe('');
  });

  it('a notification overflow is an event: the process lives, overruns, and a re-dump sees every route', () => {
    const r = worker('overflow', { GN_ROUTES: '100000' });
    expect(r.alive).toBe(true);
    expect(r.added).toBe(100_000);
    expect(r.failed).toBe(0);
    expect(r.overruns as number).toBeGreaterThanOrEqual(1);
    expect(r.notesBeforeRedump as number).toBeLessThan(100_000); // some were dropped
    expect(r.redump).toBe(100_000);
    expect(r.notesAfter as number).toBeGreaterThanOrEqual(1); // the monitor still works
    const count = ip('-6', 'route', 'show', 'proto', PROTO).trim().split('\n').length;
    expect(count).toBe(100_001); // + the route added after the overrun
  });
});
