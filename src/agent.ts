import type { Action } from './actions';
import { log } from './actions';
import type { Config } from './config/config';
import type { Event } from './events';
import type { Module } from './module';
import { earliest, type Instant } from './time';

/**
 * The composition root of the core: events in, actions out, next deadline.
 * Modules register here; the agent fans every event out to all of them and
 * aggregates their deadlines and status. It owns no I/O.
 */
export class Agent {
  private readonly modules: Module[] = [];
  private config: Config | null = null;
  private configGeneration = 0;
  private readonly startedAt: Instant;

  constructor(now: Instant, modules: readonly Module[] = []) {
    this.startedAt = now;
    for (const m of modules) this.register(m);
  }

  register(module: Module): void {
    if (this.modules.some((m) => m.name === module.name)) throw new Error(`module ${module.name} registered twice`);
    this.modules.push(module);
  }

  handle(event: Event, now: Instant): Action[] {
    const actions: Action[] = [];
    if (event.kind === 'config') {
      this.config = event.config;
      this.configGeneration++;
      actions.push(log('info', 'config', 'configuration applied', {
        generation: this.configGeneration,
        upstreams: event.config.upstreams.length,
        subscribers: event.config.subscribers.length,
      }));
    }
    for (const m of this.modules) actions.push(...m.handle(event, now));
    return actions;
  }

  poll(now: Instant): Action[] {
    const actions: Action[] = [];
    for (const m of this.modules) {
      const due = m.nextDeadline();
      if (due !== null && due <= now) actions.push(...m.poll(now));
    }
    return actions;
  }

  nextDeadline(): Instant | null {
    let next: Instant | null = null;
    for (const m of this.modules) next = earliest(next, m.nextDeadline());
    return next;
  }

  /** The first module that answers a control query; `undefined` when none does. */
  query(what: string, now: Instant): unknown {
    for (const m of this.modules) {
      const r = m.query?.(what, now);
      if (r !== undefined) return r;
    }
    return undefined;
  }

  /** The JSON document `gleand status --json` prints (stable keys for scripts). */
  status(now: Instant): Record<string, unknown> {
    const modules: Record<string, unknown> = {};
    for (const m of this.modules) modules[m.name] = m.status();
    return {
      uptimeMs: now - this.startedAt,
      configGeneration: this.configGeneration,
      ports: {
        upstream: this.config?.upstreams.map((u) => ({ name: u.name, device: u.device })) ?? [],
        subscriber: this.config?.subscribers.map((s) => ({
          name: s.name, device: s.device, upstream: s.upstream, mode: s.mode,
          relayV4: s.relay_v4, relayV6: s.relay_v6,
        })) ?? [],
      },
      modules,
    };
  }
}
