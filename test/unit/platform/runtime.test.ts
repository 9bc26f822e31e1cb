/**
 * The runtime between the core and the drivers: action order (a reply waits for the
 * kernel delta before it), reload verdicts per subsystem, queries routed to their owner.
 * Real Runtime, real Agent, real control socket in a temporary directory; the drivers
 * are stand-ins that record what they were asked to do.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { Agent } from '../../../src/agent';
import type { Config } from '../../../src/config/config';
import type { Event } from '../../../src/events';
import { emptyDelta } from '../../../src/kernel/entries';
import type { Claim, Module } from '../../../src/module';
import type { Driver, DriverContext, ReloadVerdict } from '../../../platform/driver';
import { controlRequest } from '../../../platform/control';
import { Runtime } from '../../../platform/runtime';

const config = (dir: string, extra = '') => `
config global
	option control_socket '${dir}/ctl.sock'
	option state_dir '${dir}'
	option log_level 'error'
${extra}
config upstream 'wan'
	option device 'lo'
`;

/**
 * On a v4 datagram: a kernel delta, then the reply (as the relay answers a DHCPACK);
 * on a v6 one, two deltas then the reply (IA_NA + IA_PD). The reply's first byte
 * says which event it answers.
 */
class Answerer implements Module {
  readonly name = 'answerer';
  readonly claims: readonly Claim[] = [{ kind: 'udp', family: 4, passive: false }, { kind: 'udp', family: 6, passive: false }];
  readonly answers = ['bindings'] as const;
  handle(e: Event): Action[] {
    const n = e.kind === 'udp' && e.family === 6 ? 2 : 1;
    return [
      ...Array.from({ length: n }, (): Action => ({ kind: 'kernel', delta: emptyDelta() })),
      { kind: 'link-send', port: 'p', family: 4, destinationMac: new Uint8Array(6), bytes: Uint8Array.of(n) },
    ];
  }
  poll(): Action[] { return []; }
  nextDeadline() { return null; }
  status() { return {}; }
  query() { return ['row']; }
}

class Recording implements Driver {
  ctx!: DriverContext;
  readonly completesLater: boolean;
  constructor(
    readonly name: string,
    readonly actionKinds: readonly Action['kind'][],
    readonly log: string[],
    private readonly verdict: ReloadVerdict | void = undefined,
  ) {
    this.completesLater = actionKinds.includes('kernel');
  }
  private readonly pending: (() => void)[] = [];
  release(): void {
    for (const r of this.pending.splice(0)) r();
  }
  async start(_c: Config, ctx: DriverContext) { this.ctx = ctx; }
  async reconfigure(): Promise<ReloadVerdict | void> { return this.verdict; }
  execute(a: Action): Promise<void> | void {
    this.log.push(`${this.name} ${a.kind} start`);
    if (a.kind !== 'kernel') return;
    return new Promise<void>((resolve) => {
      this.pending.push(() => { this.log.push(`${this.name} ${a.kind} done`); resolve(); });
    });
  }
  async stop() {}
}

const dirs: string[] = [];
const runtimes: Runtime[] = [];
afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop('test');
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function setup(verdict?: ReloadVerdict) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-rt-'));
  dirs.push(dir);
  const file = path.join(dir, 'gleand.conf');
  fs.writeFileSync(file, config(dir));
  const log: string[] = [];
  const kernel = new Recording('kernel', ['kernel'], log, verdict);
  const link = new Recording('packet', ['link-send'], log);
  const rt = new Runtime({ configPath: file, core: (now) => new Agent(now, [new Answerer()]), drivers: () => [kernel, link] });
  expect(await rt.start()).toBe(true);
  runtimes.push(rt);
  return { dir, file, log, kernel, rt };
}

const udp: Event = { kind: 'udp', family: 4, source: new Uint8Array(4), sourcePort: 67, destinationPort: 67, payload: new Uint8Array(300), passive: false };

/**
 * A module with one deadline, moved by the first payload byte of each v4 datagram:
 * 0 leaves it, 1 sets it `ahead` ms from now, 2 clears it. Records each poll.
 */
class Timed implements Module {
  readonly name = 'timed';
  readonly claims: readonly Claim[] = [{ kind: 'udp', family: 4, passive: false }];
  due: number | null = null;
  readonly polls: number[] = [];
  ahead = 0;
  handle(e: Event, now: number): Action[] {
    if (e.kind !== 'udp') return [];
    if (e.payload[0] === 1) this.due = now + this.ahead;
    if (e.payload[0] === 2) this.due = null;
    return [];
  }
  poll(now: number): Action[] {
    this.polls.push(now);
    this.due = null;
    return [];
  }
  nextDeadline() { return this.due as never; }
  status() { return {}; }
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe('Runtime', () => {
  it('keeps the timer armed across events that leave the deadline, re-arms it when the deadline moves, and polls when due', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-rt-'));
    dirs.push(dir);
    const file = path.join(dir, 'gleand.conf');
    fs.writeFileSync(file, config(dir));
    const timed = new Timed();
    const rt = new Runtime({ configPath: file, core: (now) => new Agent(now, [timed]), drivers: () => [] });
    expect(await rt.start()).toBe(true);
    runtimes.push(rt);
    const datagram = (b: number): Event => ({ ...udp, payload: Uint8Array.of(b) } as Event);
    // A far deadline, then one far sooner: the timer must follow it, not keep the first.
    timed.ahead = 3_600_000;
    rt.dispatch(datagram(1));
    for (let i = 0; i < 100; i++) rt.dispatch(datagram(0)); // the deadline stays where it is
    expect(timed.polls).toEqual([]);
    timed.ahead = 10;
    rt.dispatch(datagram(1));
    for (let i = 0; i < 100; i++) rt.dispatch(datagram(0));
    await until(() => timed.polls.length === 1);
    // After the poll the module has no deadline; a new one is armed again, and a cleared one never fires.
    rt.dispatch(datagram(1));
    await until(() => timed.polls.length === 2);
    timed.ahead = 20;
    rt.dispatch(datagram(1));
    rt.dispatch(datagram(2));
    timed.ahead = 30;
    rt.dispatch(datagram(1));
    await until(() => timed.polls.length === 3);
    expect(timed.due).toBeNull();
  });

  it('holds the reply until the kernel delta before it is applied', async () => {
    const { log, kernel, rt } = await setup();
    rt.dispatch(udp);
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['kernel kernel start']);
    kernel.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(log).toEqual(['kernel kernel start', 'kernel kernel done', 'packet link-send start']);
  });

  it('hands kernel deltas over in the order the core made them, across events', async () => {
    const { log, kernel, rt } = await setup();
    rt.dispatch({ ...udp, family: 6 }); // two deltas, then a reply
    rt.dispatch(udp); // one delta, then a reply
    await new Promise((r) => setTimeout(r, 20));
    expect(log).toEqual(['kernel kernel start', 'kernel kernel start', 'kernel kernel start']);
    kernel.release();
    await new Promise((r) => setTimeout(r, 0));
    expect(log.filter((l) => l.startsWith('packet'))).toEqual(['packet link-send start', 'packet link-send start']);
  });

  it('settles what an event emitted by a driver returns only once its kernel deltas are in (a bulk reader window)', async () => {
    const { kernel } = await setup();
    let settled = false;
    const p = kernel.ctx.emit(udp); // a delta in flight
    expect(p).toBeInstanceOf(Promise);
    void (p as Promise<unknown>).then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 0));
    expect(settled).toBe(false);
    kernel.release();
    await p;
    expect(settled).toBe(true);
  });

  it('reports a verdict per subsystem for a reload, and answers queries from their owner', async () => {
    const { file, dir, rt } = await setup({ verdict: 'reinstalled', detail: 'routes: table 254 → table 100' });
    fs.writeFileSync(file, config(dir, "\toption route_table '100'"));
    await rt.reload();
    const s = rt.status();
    expect(s['reloads']).toBe(1);
    expect(s['lastReload']).toEqual({
      kernel: { verdict: 'reinstalled', detail: 'routes: table 254 → table 100' },
      packet: { verdict: 'in-place' },
    });
    expect(s['configGeneration']).toBe(2);
    expect(await controlRequest(path.join(dir, 'ctl.sock'), { cmd: 'bindings' })).toEqual(['row']);
    await expect(controlRequest(path.join(dir, 'ctl.sock'), { cmd: 'nonsense' })).rejects.toThrow(/unknown command/);
  });

  it('a reload the file refuses changes nothing', async () => {
    const { file, rt } = await setup();
    fs.writeFileSync(file, 'config global\n\toption log_level loud\n');
    await rt.reload();
    expect(rt.status()['reloadsRefused']).toBe(1);
    expect(rt.status()['configGeneration']).toBe(1);
  });
});

/** Answers a `leasequery` event 50 ms later (a timer), with a kernel delta before the result. */
class SlowAsker implements Module {
  readonly name = 'asker';
  readonly claims: readonly Claim[] = [{ kind: 'leasequery' }];
  private due: { at: number; id: number } | null = null;
  handle(e: Event, now: number): Action[] {
    if (e.kind === 'leasequery') this.due = { at: now + 50, id: e.id };
    return [];
  }
  poll(): Action[] {
    const d = this.due!;
    this.due = null;
    return [{ kind: 'kernel', delta: emptyDelta() }, { kind: 'query-result', id: d.id, result: { verdict: 'active', id: d.id } }];
  }
  nextDeadline() { return (this.due?.at ?? null) as never; }
  status() { return {}; }
}

describe('Runtime: gleand query over the control socket', () => {
  it('answers after the core\'s query-result and its kernel delta, without blocking other requests meanwhile', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-rt-'));
    dirs.push(dir);
    const file = path.join(dir, 'gleand.conf');
    fs.writeFileSync(file, config(dir));
    const log: string[] = [];
    const kernel = new Recording('kernel', ['kernel'], log);
    const rt = new Runtime({ configPath: file, core: (now) => new Agent(now, [new SlowAsker()]), drivers: () => [kernel] });
    expect(await rt.start()).toBe(true);
    runtimes.push(rt);
    const sock = path.join(dir, 'ctl.sock');
    let answered: unknown = null;
    const q = controlRequest(sock, { cmd: 'leasequery', by: 'ip', value: '192.0.2.7', waitS: 5 }).then((r) => (answered = r));
    expect(await controlRequest(sock, { cmd: 'ping' })).toBe('pong'); // the loop is free while the query waits
    await new Promise((r) => setTimeout(r, 120));
    expect(log).toEqual(['kernel kernel start']);
    expect(answered).toBeNull(); // held until the delta is in
    kernel.release();
    expect(await q).toEqual({ verdict: 'active', id: 1 });
    await expect(controlRequest(sock, { cmd: 'leasequery', by: 'ip', value: 'nope' })).rejects.toThrow(/not an IPv4 or IPv6 address/);
    await expect(controlRequest(sock, { cmd: 'leasequery', by: 'mac', value: '02:00:00:00:00:01', waitS: 500 })).rejects.toThrow(/wait must be/);
  });
});
