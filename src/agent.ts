import type { Action } from './actions';
import type { Config } from './config/config';
import type { Event } from './events';
import { ENTRY_TYPES, type EntryKind, type KernelState } from './kernel/entries';
import type { Claim, CoreQuery, Module } from './module';
import { earliest, type Instant } from './time';
import { peekDhcp4MessageType, peekDhcp6MessageType, peekIpProtocol } from './wire/peek';

type TrafficEvent = Extract<Event, { kind: 'packet' | 'udp' }>;

/**
 * Who takes one stream of traffic (subscriber frames of a family, or server-side
 * datagrams of a family and mode): a module for the rest, and modules by selector
 * (IP protocol, DHCP message type) that win over it.
 */
class Route {
  rest: Module | null = null;
  readonly bySelector = new Map<number, Module>();
}

/**
 * The composition root of the core: events in, actions out, next deadline, desired
 * kernel state, status and queries. Modules register with the claims they take; the
 * agent routes each event to its claimant (ARCHITECTURE "Bindings have one owner").
 * The platform talks to the agent only. It owns no I/O.
 */
export class Agent {
  private readonly modules: Module[] = [];
  private readonly broadcast = new Map<Event['kind'], Module[]>();
  private readonly routes = new Map<string, Route>();
  private readonly queries = new Map<CoreQuery, Module>();
  private config: Config | null = null;
  private configGeneration = 0;
  private readonly startedAt: Instant;
  /** Traffic no module claims: counted here, so no module counts it as its own drop. */
  private readonly unclaimed = { packet: 0, udp: 0 };

  constructor(now: Instant, modules: readonly Module[] = []) {
    this.startedAt = now;
    for (const m of modules) this.register(m);
  }

  register(module: Module): void {
    if (this.modules.some((m) => m.name === module.name)) throw new Error(`module ${module.name} registered twice`);
    for (const c of module.claims) this.claim(module, c);
    for (const q of module.answers ?? []) {
      const owner = this.queries.get(q);
      if (owner) throw new Error(`query ${q} claimed by ${owner.name} and ${module.name}`);
      this.queries.set(q, module);
    }
    this.modules.push(module);
  }

  private claim(module: Module, c: Claim): void {
    if (c.kind !== 'packet' && c.kind !== 'udp') {
      const list = this.broadcast.get(c.kind) ?? [];
      list.push(module);
      this.broadcast.set(c.kind, list);
      return;
    }
    const key = routeKey(c.kind, c.family, c.kind === 'udp' && c.passive);
    const route = this.routes.get(key) ?? new Route();
    this.routes.set(key, route);
    const selectors = c.kind === 'packet' ? c.ipProtocol : c.messageTypes;
    const taken = (by: Module | null | undefined) => {
      if (by) throw new Error(`${key} claimed by ${by.name} and ${module.name}`);
    };
    if (!selectors) {
      taken(route.rest);
      route.rest = module;
      return;
    }
    for (const s of selectors) {
      taken(route.bySelector.get(s));
      route.bySelector.set(s, module);
    }
  }

  handle(event: Event, now: Instant): Action[] {
    if (event.kind === 'packet' || event.kind === 'udp') {
      const m = this.claimant(event);
      if (m) return m.handle(event, now);
      this.unclaimed[event.kind]++;
      return [];
    }
    const actions: Action[] = [];
    if (event.kind === 'config') {
      this.config = event.config;
      this.configGeneration++;
    }
    for (const m of this.broadcast.get(event.kind) ?? []) append(actions, m.handle(event, now));
    return actions;
  }

  private claimant(e: TrafficEvent): Module | null {
    const route = this.routes.get(e.kind === 'packet' ? routeKey('packet', e.family, false) : routeKey('udp', e.family, e.passive));
    if (!route) return null;
    if (route.bySelector.size > 0) {
      const selector = e.kind === 'packet'
        ? peekIpProtocol(e.family, e.bytes)
        : e.family === 4 ? peekDhcp4MessageType(e.payload) : peekDhcp6MessageType(e.payload);
      const m = route.bySelector.get(selector);
      if (m) return m;
    }
    return route.rest;
  }

  poll(now: Instant): Action[] {
    const actions: Action[] = [];
    for (const m of this.modules) {
      const due = m.nextDeadline();
      if (due !== null && due <= now) append(actions, m.poll(now));
    }
    return actions;
  }

  nextDeadline(): Instant | null {
    let next: Instant | null = null;
    for (const m of this.modules) next = earliest(next, m.nextDeadline());
    return next;
  }

  get generation(): number {
    return this.configGeneration;
  }

  /** The answer of the module that owns `what`; `undefined` when nobody does. */
  query(what: CoreQuery, now: Instant): unknown {
    return this.queries.get(what)?.query?.(what, now);
  }

  /**
   * The desired kernel state: for each registered kind, every module's entries of that
   * kind (lazily chained, so a reconcile streams it). A kind nobody desires is empty,
   * which lets a reconcile remove what gleand installed of it earlier.
   */
  desiredState(): KernelState {
    const states = this.modules.map((m) => m.desired?.() ?? {});
    const out: Partial<Record<EntryKind, Iterable<unknown>>> = {};
    for (const t of ENTRY_TYPES) {
      const kind = t.kind;
      out[kind] = { *[Symbol.iterator]() { for (const s of states) yield* (s[kind] ?? []) as Iterable<unknown>; } };
    }
    return out as KernelState;
  }

  /** The JSON document `gleand status --json` prints (stable keys for scripts). */
  status(now: Instant): Record<string, unknown> {
    const modules: Record<string, unknown> = {};
    for (const m of this.modules) modules[m.name] = m.status(now);
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
      unclaimed: { ...this.unclaimed },
      modules,
    };
  }
}

/**
 * `to.push(...from)` passes every element as an argument: a restore of 200k bindings
 * (or a sweep of as many) returns more actions than V8's argument limit (~120k) and
 * threw. A loop has no such bound.
 */
function append<T>(to: T[], from: readonly T[]): void {
  for (const x of from) to.push(x);
}

/**
 * Constant strings, not a template: `claimant` looks a route up per datagram, and a
 * string built each time is hashed each time.
 */
const routeKey = (kind: 'packet' | 'udp', family: 4 | 6, passive: boolean): string =>
  kind === 'packet' ? (family === 4 ? 'packet/v4' : 'packet/v6')
    : family === 4 ? (passive ? 'udp/v4/passive' : 'udp/v4/relay') : (passive ? 'udp/v6/passive' : 'udp/v6/relay');
