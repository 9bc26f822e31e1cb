import { log, type Action } from '../actions';
import type { Config } from '../config/config';
import { bytesEqual, formatAddress, formatMac, type Prefix } from '../wire/address';
import type { Event } from '../events';
import type { PortKernelConfig } from '../kernel/derive';
import { DesiredState } from '../kernel/desired';
import { DeltaAccumulator, DeltaBuilder } from '../kernel/delta';
import { isEmptyDelta, type KernelState } from '../kernel/entries';
import type { Claim, CoreQuery, Module } from '../module';
import type { Instant } from '../time';
import { applyGleans } from './apply';
import { keyOf, type Binding, type BindingFields } from './binding';
import type { Glean } from './glean';
import { bindingRow, describe } from './rows';
import { inSubnets } from './subnet';
import { BindingTable, type BindingChange } from './table';

/** The table's initial bound until the config arrives; at least its initial capacity (16). */
const PLACEHOLDER_MAX_BINDINGS = 1024;

/** What a producer gets back from a write: the changes made, and the actions they imply, in order. */
export interface Written {
  readonly changes: readonly BindingChange[];
  /** Kernel deltas and log lines; a producer returns them before anything it sends. */
  readonly actions: Action[];
}

/**
 * The one interface every producer of bindings writes through: the relay's gleaners
 * today; leasequery answers, bulk restore and static config next. The reads are what a
 * producer reports beside its own counters.
 */
export interface BindingWriter {
  /**
   * `logEach` false: no line per change (a bulk restore of 100k bindings logs one
   * summary, as the snapshot restore does), only the kernel and journal actions.
   */
  write(gleans: readonly Glean[], now: Instant, opts?: { readonly logEach?: boolean }): Written;
  /**
   * The binding of exactly this address or prefix (a host length when omitted), or null;
   * read only (the RELEASE guard, on-demand location).
   */
  find(family: 4 | 6, address: Uint8Array, prefixLength?: number): Binding | null;
  /** The bindings of one client id / DUID, read only (bulk restore places a lease without relay data by them). */
  byClientId(family: 4 | 6, clientId: Uint8Array): Binding[];
  portSize(port: string): number;
  /** The owner's status document (`modules.bindings` of `gleand status --json`). */
  status(): Record<string, unknown>;
}

export interface OwnerCounters {
  /** A lease outside every `subnet4`/`subnet6` of its port: the server handed out a wrong address. */
  rejectedSubnet: number;
  /** Bindings stored again from the previous run's snapshot journal. */
  restored: number;
  /** Bindings ended because a reload removed their port (its subscriber section). */
  removedWithPort: number;
  /**
   * A lease of the same client (client id / DUID) on the same port offered with another
   * MAC: refused, the binding stays with the MAC it has (see `keepsItsMac`).
   */
  refusedMacChange: number;
}

/**
 * The owner of the binding table (ARCHITECTURE "Bindings have one owner"). It applies
 * what producers learnt within the port's limits and subnets, expires bindings by the
 * clock, and derives the desired kernel state (routes, neighbours, verify entries) from
 * the table, returning each change's kernel delta as an action.
 */
export class Bindings implements Module, BindingWriter {
  readonly name = 'bindings';
  readonly claims: readonly Claim[] = [{ kind: 'config' }, { kind: 'restore' }];
  readonly answers: readonly CoreQuery[] = ['bindings', 'journal', 'binding-count'];
  private readonly table = new BindingTable({ maxBindings: PLACEHOLDER_MAX_BINDINGS, maxPerPort: () => 0 });
  private readonly kernel = new DesiredState(new Map());
  private subnets = new Map<string, readonly Prefix[]>();
  readonly counters: OwnerCounters = { rejectedSubnet: 0, restored: 0, removedWithPort: 0, refusedMacChange: 0 };
  /** The restore in progress (its chunks so far), for its one log line. */
  private restoring = { restored: 0, refused: 0 };
  /**
   * While a restore comes in chunks: the keys producers wrote meanwhile (live, so newer
   * than the journal). Bounded by the table; dropped with the last chunk.
   */
  private liveDuringRestore: Set<string> | null = null;

  handle(event: Event, now: Instant): Action[] {
    if (event.kind === 'config') return this.configure(event.config);
    if (event.kind === 'restore') return this.restore(event, now);
    return [];
  }

  /**
   * Bindings of the previous run (its snapshot journal), stored again within today's
   * limits and subnets; a large journal comes in chunks (`more`), in file order, and a
   * chunk's delete lines (`ended`) go first. Each chunk becomes one coalesced kernel
   * delta, and nothing is journaled: the journal just read them (writing 200k records
   * back would double the file and the heap for nothing). One log line for the whole
   * restore: a restart of a router with 100k subscribers must not write 100k lines.
   */
  private restore(event: Extract<Event, { kind: 'restore' }>, now: Instant): Action[] {
    // Between chunks live traffic goes on: what a producer wrote since the restore began
    // is newer than anything in the journal, and no line of it overrides it.
    this.liveDuringRestore ??= new Set();
    const live = this.liveDuringRestore;
    const changes: BindingChange[] = [];
    for (const k of event.ended ?? []) {
      if (live.has(keyOf(k))) continue;
      const b = this.table.removeAddress(k.family, k.address, k.prefixLength);
      if (b) changes.push({ kind: 'removed', binding: b });
    }
    const accepted = event.bindings.filter((f) => {
      if (live.has(keyOf(f))) return false;
      const subnets = this.subnets.get(f.port);
      return subnets !== undefined && inSubnets(subnets, f.family, f.address, f.prefixLength);
    });
    const stored = applyGleans(this.table, accepted.map((f) => ({ op: 'upsert' as const, fields: f })), now);
    this.counters.restored += stored.length;
    this.restoring.restored += stored.length;
    this.restoring.refused += event.bindings.length - stored.length;
    const acc = new DeltaAccumulator();
    for (const c of changes.concat(stored)) acc.push(this.kernel.apply(c));
    const delta = acc.build();
    const actions: Action[] = isEmptyDelta(delta) ? [] : [{ kind: 'kernel', delta }];
    if (!event.more) {
      actions.push(log('notice', 'bindings', 'restored', { from: event.from, ...this.restoring }));
      this.restoring = { restored: 0, refused: 0 };
      this.liveDuringRestore = null;
    }
    return actions;
  }

  private configure(config: Config): Action[] {
    const perPort = new Map(config.subscribers.map((s) => [s.name, s.max_bindings]));
    this.table.setLimits({ maxBindings: config.global.max_bindings, maxPerPort: (p) => perPort.get(p) ?? 0 });
    const before = this.subnets;
    this.subnets = new Map(config.subscribers.map((s) => [s.name, [...s.subnet4, ...s.subnet6]]));
    // Only ports that went or whose subnets changed are walked: a reload of a router with
    // 200k bindings must not hold the event loop for a pass over all of them.
    const text = (ps: readonly Prefix[] | undefined) => ps?.map((p) => `${formatAddress(p.family, p.address)}/${p.length}`).join(' ');
    const changed = [...before.keys()].filter((port) => text(before.get(port)) !== text(this.subnets.get(port)));
    // Ports that are gone end first, while the kernel view still knows their devices.
    const actions = changed.some((port) => !this.subnets.has(port)) ? this.withdrawRemovedPorts() : [];
    const kernelPorts = new Map<string, PortKernelConfig>(config.subscribers.map((s) => [s.name, {
      device: s.device, routes: true, neighbours: true, verify: s.verify_source,
    }]));
    const delta = this.kernel.reconfigure(kernelPorts, this.table);
    if (!isEmptyDelta(delta)) actions.push({ kind: 'kernel', delta });
    // A reload may end more bindings than a spread's argument limit: concat, not push(...).
    return actions.concat(this.toKernel(this.outsideSubnets(changed.filter((port) => this.subnets.has(port)), actions)));
  }

  /**
   * A subscriber section removed by a reload releases its port: the port's bindings end
   * and their routes, neighbours and verify entries are withdrawn (the relay closes the
   * port and the nft ports set drops the device in the same reload). Leaving the kernel
   * state in force would keep routing to subscribers on a device gleand no longer
   * verifies: an open port. One log line per port, not per binding.
   */
  private withdrawRemovedPorts(): Action[] {
    const changes: BindingChange[] = [];
    const perPort = new Map<string, number>();
    for (const b of [...this.table.entries()]) {
      if (this.subnets.has(b.port)) continue;
      this.table.removeAddress(b.family, b.address, b.prefixLength);
      changes.push({ kind: 'removed', binding: b });
      perPort.set(b.port, (perPort.get(b.port) ?? 0) + 1);
    }
    this.counters.removedWithPort += changes.length;
    const actions = this.toKernel(changes, false);
    for (const [port, bindings] of perPort) {
      actions.push(log('notice', 'bindings', 'ended: port removed by the reload', { port, bindings }));
    }
    return actions;
  }

  /** A reload that narrows a port's subnets (`ports`) ends the bindings now outside them. */
  private outsideSubnets(ports: readonly string[], actions: Action[]): BindingChange[] {
    const changes: BindingChange[] = [];
    for (const b of ports.flatMap((port) => this.table.byPort(port))) {
      if (inSubnets(this.subnets.get(b.port) ?? [], b.family, b.address, b.prefixLength)) continue;
      this.table.removeAddress(b.family, b.address, b.prefixLength);
      this.counters.rejectedSubnet++;
      actions.push(log('warn', 'bindings', 'ended: outside the port\'s subnets after the reload', {
        binding: keyOf(b), port: b.port,
      }, `subnet:${b.port}`));
      changes.push({ kind: 'removed', binding: b });
    }
    return changes;
  }

  write(gleans: readonly Glean[], now: Instant, opts?: { readonly logEach?: boolean }): Written {
    const actions: Action[] = [];
    const accepted = gleans.filter((g) => this.withinSubnets(g, actions) && this.keepsItsMac(g, actions));
    const changes = applyGleans(this.table, accepted, now);
    if (this.liveDuringRestore) for (const c of changes) this.liveDuringRestore.add(keyOf(c.binding));
    actions.push(...this.toKernel(changes, opts?.logEach ?? true));
    return { changes, actions };
  }

  /**
   * A port holds only leases of the subnets it serves (`subnet4`/`subnet6`, delegated
   * prefixes included): servers do hand out wrong ones, and a wrong one installed would
   * route someone else's addresses to this subscriber.
   */
  private withinSubnets(g: Glean, actions: Action[]): boolean {
    if (g.op !== 'upsert') return true;
    const f = g.fields;
    if (inSubnets(this.subnets.get(f.port) ?? [], f.family, f.address, f.prefixLength)) return true;
    this.counters.rejectedSubnet++;
    actions.push(log('warn', 'bindings', 'refused: outside the port\'s subnets', {
      binding: keyOf(f), port: f.port,
    }, `subnet:${f.port}`));
    return false;
  }

  /**
   * A binding never changes MAC because of who sent a frame last. A lease the server
   * gives to another client (another client id / DUID, or none to compare) is a real
   * change and moves (table.ts). The same client's lease on the same port suddenly
   * bound to another MAC is what a station that copied the client's DUID (readable by
   * anyone on the link; RFC 8415 §11) and asked for it gets: the server cannot tell
   * them apart, gleand keeps the binding — its route, neighbour and verify entries —
   * with the MAC it has, does not extend it, and counts and logs the attempt. DHCP
   * snooping does the same (Cisco SISF lets an address move only after the old owner
   * fails to answer a probe; gleand has no probe yet). A client whose MAC really
   * changed gets the new one bound when the old binding ends: valid lifetime, a
   * RELEASE from the old MAC, or a valid lifetime of 0 (RFC 8415 §18.2.10.1).
   */
  private keepsItsMac(g: Glean, actions: Action[]): boolean {
    if (g.op !== 'upsert') return true;
    const f = g.fields;
    if (!f.mac || !f.clientId || f.source === 'static') return true;
    const b = this.table.find(f.family, f.address, f.prefixLength);
    if (!b || b.port !== f.port || !b.mac || bytesEqual(b.mac, f.mac) || !bytesEqual(b.clientId, f.clientId)) return true;
    this.counters.refusedMacChange++;
    actions.push(log('warn', 'bindings', 'refused: the same client\'s lease from another MAC', {
      binding: keyOf(f), port: f.port, mac: formatMac(b.mac), offered: formatMac(f.mac),
    }, `mac-change:${f.port}`));
    return false;
  }

  portSize(port: string): number {
    return this.table.portSize(port);
  }

  find(family: 4 | 6, address: Uint8Array, prefixLength?: number): Binding | null {
    return this.table.find(family, address, prefixLength);
  }

  byClientId(family: 4 | 6, clientId: Uint8Array): Binding[] {
    return this.table.byClientId(family, clientId);
  }

  entries(): IterableIterator<Binding> {
    return this.table.entries();
  }

  poll(now: Instant): Action[] {
    return this.toKernel(this.table.sweep(now).map((binding) => ({ kind: 'expired', binding })));
  }

  nextDeadline(): Instant | null {
    return this.table.nextExpiry();
  }

  desired(): KernelState {
    return this.kernel.state(this.table);
  }

  /**
   * Each change's kernel delta and (unless `logEach` is off) its log line, then the
   * journal records of them all: what the snapshot says exists has been asked of the
   * kernel first.
   */
  private toKernel(changes: readonly BindingChange[], logEach = true): Action[] {
    const actions: Action[] = [];
    if (logEach) {
      for (const c of changes) {
        const delta = this.kernel.apply(c);
        if (!isEmptyDelta(delta)) actions.push({ kind: 'kernel', delta });
        // Renewals are the bulk of the traffic (every client, every T1): debug, so a
        // router with 100k subscribers does not flood logd; new, moved and ended are info.
        actions.push(log(c.kind === 'refreshed' ? 'debug' : 'info', 'bindings', c.kind, describe(c.binding)));
      }
    } else {
      // A bulk write (a restore chunk, a port's bindings ended): one netted delta for all
      // its changes, one kernel action — not a builder, a key pass and an action each.
      const d = new DeltaBuilder();
      for (const c of changes) this.kernel.applyTo(d, c);
      const delta = d.build();
      if (!isEmptyDelta(delta)) actions.push({ kind: 'kernel', delta });
    }
    for (const c of changes) {
      const ended = c.kind === 'removed' || c.kind === 'expired';
      actions.push({ kind: 'journal', op: ended ? 'delete' : 'put', binding: c.binding });
    }
    return actions;
  }

  status(): Record<string, unknown> {
    return {
      bindings: this.table.size,
      table: { ...this.table.counters, ...this.counters },
      kernel: { ...this.kernel.counters, peers: this.kernel.peerCount },
    };
  }

  query(what: CoreQuery, now: Instant): unknown {
    // Lazy: the journal compacts a large table over several turns of its event loop.
    if (what === 'journal') return this.table.entries();
    if (what === 'binding-count') return this.table.size;
    // Lazy too: the control socket streams 200k rows chunk by chunk, each row made as it
    // is written, so the table is never copied into a list of rows.
    return rows(this.table.entries(), now);
  }
}

function* rows(entries: Iterable<Binding>, now: Instant): Generator<ReturnType<typeof bindingRow>> {
  for (const b of entries) yield bindingRow(b, now);
}
