import type { Action } from '../src/actions';
import { Agent } from '../src/agent';
import { formatProblem, formatWarning, type Config, type ConfigProblem } from '../src/config/config';
import type { Event } from '../src/events';
import { isControlQuery } from '../src/module';
import { leasequeryEvent } from './cli/query';
import type { Instant } from '../src/time';
import { monotonicNow } from './clock';
import { readConfigFile } from './config-file';
import { ControlServer } from './control';
import { isDriverQuery, type Driver, type DriverContext, type ReloadVerdict } from './driver';
import { Logger } from './log';
import { VERSION } from './version';

/** What `dispatch` returns for an event with no kernel work to wait for (most of them). */
const SETTLED: Promise<unknown> = Promise.resolve();

export interface RuntimeOptions {
  readonly configPath: string;
  /** The core, composed (`createCore`): the runtime talks to its Agent only. */
  readonly core: (now: Instant) => Agent;
  readonly drivers: (config: Config) => Driver[];
}

/**
 * The event loop of the daemon. It owns the clock, the timers, the signals and the
 * control socket; it turns I/O into events for the core and executes the core's
 * actions through the drivers. Nothing in here decides protocol behaviour.
 */
export class Runtime {
  private readonly log: Logger;
  private agent!: Agent;
  private config!: Config;
  private drivers: Driver[] = [];
  private control: ControlServer | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** The deadline `timer` is armed for. */
  private armedFor: Instant | null = null;
  /** The driver of each action kind, found once (`execute` runs per relayed datagram). */
  private readonly driverOf = new Map<Action['kind'], Driver | undefined>();
  private stopping = false;
  private readonly counters = { reloads: 0, reloadsRefused: 0, internalErrors: 0 };
  /** What the last accepted reload did, per subsystem. */
  private lastReload: Record<string, ReloadVerdict> = {};
  /** `gleand query` requests waiting for their `query-result` action, by id. */
  private readonly pendingQueries = new Map<number, (result: unknown) => void>();
  private nextQueryId = 1;
  private resolveStopped!: (code: number) => void;
  readonly stopped = new Promise<number>((r) => (this.resolveStopped = r));

  constructor(private readonly opts: RuntimeOptions) {
    this.log = new Logger('info', () => monotonicNow());
  }

  /** Start, or exit non-zero before touching anything if the config is invalid. */
  async start(): Promise<boolean> {
    const loaded = readConfigFile(this.opts.configPath);
    if (!loaded.ok) {
      for (const p of loaded.problems) this.log.log('error', 'config', formatProblem(p));
      this.log.log('error', 'main', 'not starting: the configuration is invalid', { file: this.opts.configPath });
      return false;
    }
    this.config = loaded.config;
    this.log.setLevel(this.config.global.log_level);
    this.logWarnings(loaded.warnings);
    const now = monotonicNow();
    this.agent = this.opts.core(now);
    this.log.log('notice', 'main', 'starting', { version: VERSION, pid: process.pid, config: this.opts.configPath });
    const ctx: DriverContext = {
      emit: (event) => this.dispatch(event),
      log: (level, subsystem, message, fields, key) => this.log.log(level, subsystem, message, fields, key),
      desiredState: () => this.agent.desiredState(),
      query: (what) => this.agent.query(what, monotonicNow()),
    };
    try {
      this.drivers = this.opts.drivers(this.config);
      for (const d of this.drivers) await d.start(this.config, ctx);
      this.control = new ControlServer(this.config.global.control_socket, (cmd, args) => this.command(cmd, args));
      await this.control.listen();
    } catch (e) {
      this.log.log('error', 'main', `start-up failed: ${(e as Error).message}`);
      await this.shutdown();
      return false;
    }
    this.dispatch({ kind: 'config', config: this.config });
    for (const d of this.drivers) {
      try {
        d.started?.();
      } catch (e) {
        this.internalError(`started ${d.name}`, e);
      }
    }
    process.on('SIGHUP', () => void this.reload());
    process.on('SIGTERM', () => void this.stop('SIGTERM'));
    process.on('SIGINT', () => void this.stop('SIGINT'));
    this.log.log('notice', 'main', 'running', { control: this.config.global.control_socket });
    return true;
  }

  /**
   * Feed one event to the core; an exception is a bug, counted and logged, never fatal.
   * Settles once the event's kernel deltas are in the kernel.
   */
  dispatch(event: Event): Promise<unknown> {
    if (this.stopping) return SETTLED;
    const now = monotonicNow();
    let done: Promise<unknown> = SETTLED;
    try {
      done = this.execute(this.agent.handle(event, now));
    } catch (e) {
      this.internalError(`handling ${event.kind}`, e);
    }
    this.schedule();
    return done;
  }

  private schedule(): void {
    const due = this.stopping ? null : this.agent.nextDeadline();
    // Most events leave the next deadline where it was (a relayed datagram sets none):
    // re-arming the timer on every dispatch cost ~6% of the relay's CPU at saturation.
    if (due === this.armedFor && (due === null || this.timer !== null)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = due;
    if (due === null) return;
    const delay = Math.max(0, due - monotonicNow());
    // Node timers overflow past 2^31-1 ms; a far deadline just re-arms.
    this.timer = setTimeout(() => this.onTimer(), Math.min(delay, 0x7fffffff));
  }

  private onTimer(): void {
    this.timer = null;
    this.armedFor = null;
    try {
      this.execute(this.agent.poll(monotonicNow()));
    } catch (e) {
      this.internalError('poll', e);
    }
    this.schedule();
  }

  /**
   * Carry out the core's actions in order. Log lines are written at once. Actions of a
   * driver that completes later (kernel deltas) are handed over at once, in order — so
   * deltas of successive events reach the kernel driver in the order the core made
   * them — and every other action after them in the batch waits until they settle: a
   * client's reply leaves only once the neighbour and verify entries gleaned from it
   * are in the kernel (its first packet passes).
   */
  private execute(actions: Action[]): Promise<unknown> {
    // The distinct promises to wait for (the kernel driver hands every delta of one
    // coalesced batch the same one), and the gate over them, made once per new promise:
    // a Promise.all per held action would cost O(deltas × actions) per batch — a bulk
    // restore chunk of ~450 bindings made ~100k promise reactions.
    // Made on the first kernel delta: most events (a relayed datagram) have none.
    let waits: Set<Promise<void>> | null = null;
    let gate: Promise<unknown> | null = null;
    const after = () => (gate ??= Promise.all(waits!));
    // Held actions behind the same gate run from one reaction, in order (a bulk restore
    // chunk holds a journal record per binding behind its one kernel batch), not one
    // promise reaction each. `always`: it runs even when the wait failed (an answer).
    type Held = { readonly run: () => unknown; readonly always: boolean };
    let group: { readonly gate: Promise<unknown>; readonly held: Held[] } | null = null;
    const hold = (run: () => unknown, always = false) => {
      const gate = after();
      if (group?.gate === gate) {
        group.held.push({ run, always });
        return;
      }
      const g = (group = { gate, held: [{ run, always }] });
      gate.then(() => {
        for (const h of g.held) h.run();
      }, (e: unknown) => {
        this.internalError(`waiting before ${g.held.length} held action(s)`, e);
        for (const h of g.held) if (h.always) h.run();
      });
    };
    for (const a of actions) {
      if (a.kind === 'log') {
        this.log.log(a.level, a.subsystem, a.message, a.fields, a.key);
        continue;
      }
      if (a.kind === 'query-result') {
        // After the batch's kernel deltas: the binding the answer reports is in the kernel.
        const deliver = () => this.pendingQueries.get(a.id)?.(a.result);
        if (waits) hold(deliver, true);
        else deliver();
        continue;
      }
      let driver = this.driverOf.get(a.kind);
      if (driver === undefined && !this.driverOf.has(a.kind)) {
        driver = this.drivers.find((d) => d.actionKinds.includes(a.kind));
        this.driverOf.set(a.kind, driver);
      }
      if (!driver) {
        this.log.log('error', 'main', 'no driver for action', { kind: a.kind }, `nodriver:${a.kind}`);
        continue;
      }
      const run = (): Promise<void> | void => {
        try {
          return driver.execute(a);
        } catch (e) {
          this.internalError(`executing ${a.kind}`, e);
        }
      };
      if (driver.completesLater) {
        const p = run();
        if (p && !waits?.has(p)) {
          (waits ??= new Set()).add(p);
          gate = null;
        }
      } else if (waits) {
        hold(run);
      } else {
        run();
      }
    }
    // What the caller may wait for (a chunked restore reads on once its kernel work is in).
    return waits ? after() : SETTLED;
  }

  private internalError(where: string, e: unknown): void {
    this.counters.internalErrors++;
    this.log.log('error', 'main', `internal error in ${where}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`,
      undefined, `internal:${where}`);
  }

  private reloading: Promise<void> = Promise.resolve();

  /** SIGHUP: an invalid file is refused and logged; the running config stays. Reloads run one at a time. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.reloadNow());
    return this.reloading;
  }

  private async reloadNow(): Promise<void> {
    if (this.stopping) return;
    const loaded = readConfigFile(this.opts.configPath);
    if (!loaded.ok) {
      this.counters.reloadsRefused++;
      for (const p of loaded.problems) this.log.log('error', 'config', formatProblem(p));
      this.log.log('error', 'config', 'reload refused: keeping the running configuration', {
        problems: loaded.problems.length,
      });
      return;
    }
    this.counters.reloads++;
    const config = (this.config = loaded.config);
    this.log.setLevel(config.global.log_level);
    this.logWarnings(loaded.warnings);
    const verdicts: Record<string, ReloadVerdict> = {};
    for (const d of this.drivers) {
      try {
        verdicts[d.name] = (await d.reconfigure(config)) ?? { verdict: 'in-place' };
      } catch (e) {
        this.internalError(`reconfigure ${d.name}`, e);
        verdicts[d.name] = { verdict: 'refused', detail: (e as Error).message };
      }
    }
    this.dispatch({ kind: 'config', config });
    this.lastReload = verdicts;
    const failed = Object.values(verdicts).some((v) => v.verdict === 'refused');
    this.log.log(failed ? 'warn' : 'notice', 'config', failed ? 'reloaded, partly refused' : 'reloaded', {
      file: this.opts.configPath,
      generation: this.agent.generation,
      ...Object.fromEntries(Object.entries(verdicts).map(([name, v]) => [name, v.verdict])),
    });
    for (const [name, v] of Object.entries(verdicts)) {
      if (v.detail) this.log.log(v.verdict === 'refused' ? 'error' : 'info', 'config', `${name}: ${v.verdict}`, { detail: v.detail });
    }
  }

  /** The same lines `check-config` prints, at warn level (after the file's log_level applies). */
  private logWarnings(warnings: readonly ConfigProblem[]): void {
    for (const w of warnings) this.log.log('warn', 'config', formatWarning(w));
  }

  private async command(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    if (cmd === 'status') return this.status();
    if (cmd === 'ping') return 'pong';
    if (cmd === 'leasequery') return this.leasequery(args);
    if (cmd === 'recover') return this.recover();
    if (isControlQuery(cmd)) return this.agent.query(cmd, monotonicNow());
    if (isDriverQuery(cmd)) {
      for (const d of this.drivers) {
        const r = d.query?.(cmd);
        if (r !== undefined) return r;
      }
    }
    throw new Error(`unknown command '${cmd}'`);
  }

  /**
   * `gleand query`: the request becomes a `leasequery` event; the control socket's answer
   * waits (without blocking the loop) for the core's `query-result` with the same id, or
   * for the wait plus a margin if the core never answers.
   */
  private leasequery(args: Record<string, unknown>): Promise<unknown> {
    const event = leasequeryEvent(this.nextQueryId++, args);
    if (typeof event === 'string') return Promise.reject(new Error(event));
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({ verdict: 'no-answer', detail: 'the core did not answer in time' }), event.waitMs + 2000);
      const done = (result: unknown) => {
        clearTimeout(timer);
        this.pendingQueries.delete(event.id);
        resolve(result);
      };
      this.pendingQueries.set(event.id, done);
      this.dispatch(event);
    });
  }

  /** `gleand recover`: the core starts a bulk leasequery run and answers at once (`query-result`). */
  private recover(): Promise<unknown> {
    const id = this.nextQueryId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({ verdict: 'refused', reason: 'the core did not answer' }), 2000);
      const done = (result: unknown) => {
        clearTimeout(timer);
        this.pendingQueries.delete(id);
        resolve(result);
      };
      this.pendingQueries.set(id, done);
      this.dispatch({ kind: 'recover', id });
    });
  }

  status(): Record<string, unknown> {
    const drivers: Record<string, unknown> = {};
    for (const d of this.drivers) if (d.status) drivers[d.name] = d.status();
    return {
      version: VERSION,
      pid: process.pid,
      configFile: this.opts.configPath,
      rssBytes: process.memoryUsage.rss(),
      ...this.counters,
      lastReload: this.lastReload,
      ...this.agent.status(monotonicNow()),
      drivers,
      control: this.control?.status() ?? null,
    };
  }

  /**
   * Graceful stop: close sockets and leave kernel state in place, so subscribers keep
   * forwarding while gleand restarts; the next start reconciles it.
   */
  async stop(reason: string): Promise<void> {
    if (this.stopping) return;
    this.log.log('notice', 'main', 'stopping', { reason });
    await this.shutdown();
    this.resolveStopped(0);
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    this.control?.close();
    for (const d of [...this.drivers].reverse()) {
      try {
        await d.stop();
      } catch (e) {
        this.internalError(`stop ${d.name}`, e);
      }
    }
  }
}
