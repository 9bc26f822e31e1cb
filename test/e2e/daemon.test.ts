// The built bundle as a daemon in the lab's router namespace: status over the control
// socket, SIGHUP with a broken file keeps the running config, SIGTERM stops cleanly.
// Needs root and network namespaces: fails loudly without them, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, type GleandHandle, type Lab } from '../lab/lab';
import { until } from '../lab/wait';

describe('gleand daemon in the router namespace', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let config: string;

  const status = async (): Promise<Record<string, any>> => {
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath]);
    if (r.code !== 0) throw new Error(`gleand status failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2, startServers: false });
    config = labGleandConfig(lab);
    gleand = lab.startGleand(config);
    await until('the control socket', async () => (fs.existsSync(`${lab.dir}/gleand.sock`) ? true : null));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('answers status --json over the control socket with the configured ports', async () => {
    const s = await status();
    expect(s.pid).toBe(gleand.pid);
    expect(s.configGeneration).toBe(1);
    expect(s.ports.upstream).toEqual([{ name: 'wan', device: lab.router.upstreamDev }]);
    expect(s.ports.subscriber.map((p: { device: string }) => p.device)).toEqual(lab.subscribers.map((x) => x.routerDev));
    // the human form is an aligned table naming the same ports
    const human = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '-c', gleand.configPath]);
    expect(human.stdout).toMatch(new RegExp(`^sub0\\s+${lab.subscribers[0]!.routerDev}\\s+wan\\s+relay`, 'm'));
  });

  it('refuses a broken file on SIGHUP and keeps the running config', async () => {
    fs.writeFileSync(gleand.configPath, `${config}\nconfig subscriber 'bad'\n\toption device 'x'\n\toption upstream 'nowhere'\n`);
    process.kill(gleand.pid, 'SIGHUP');
    await until('the refusal in the log', async () => (/reload refused/.test(gleand.proc.log()) ? true : null));
    expect(gleand.proc.log()).toMatch(/error config: .*gleand\.conf:\d+:\d+: bad\.upstream: no 'upstream' section named 'nowhere'/);
    const s = await status();
    expect(s.reloadsRefused).toBe(1);
    expect(s.configGeneration).toBe(1);
    expect(s.ports.subscriber.map((p: { name: string }) => p.name)).toEqual(['sub0', 'sub1']);
    expect(gleand.proc.running()).toBe(true);
  });

  it('applies a valid file on SIGHUP (a paging section, built now: no "not built yet" warning)', async () => {
    fs.writeFileSync(gleand.configPath, labGleandConfig(lab, {
      subscribers: [lab.subscribers[0]!], extra: "config paging\n\toption pages_max '8'\n",
    }));
    process.kill(gleand.pid, 'SIGHUP');
    const s = await until('the new config', async () => {
      const st = await status();
      return st.configGeneration === 2 ? st : null;
    });
    expect(s.reloads).toBe(1);
    expect(s.ports.subscriber.map((p: { name: string }) => p.name)).toEqual(['sub0']);
    // issue 11 built the paging platform half: the section is no longer marked planned
    expect(gleand.proc.log()).not.toMatch(/not built yet/);
  });

  it('stops on SIGTERM with exit code 0 and removes its control socket', async () => {
    process.kill(gleand.pid, 'SIGTERM');
    const exit = await gleand.proc.exited;
    expect(exit).toEqual({ code: 0, signal: null });
    expect(fs.existsSync(`${lab.dir}/gleand.sock`)).toBe(false);
  });
});
