import type { Binding, KernelFacts } from '../bindings/binding';
import type { BindingChange } from '../bindings/table';
import { DeltaBuilder } from './delta';
import {
  type PeerLink,
  type PortKernelConfig,
  type PortKernelConfigs,
  ownedEntries,
  peerLinkOf,
} from './derive';
import type { KernelDelta, KernelState, NeighEntry, RouteEntry, VerifyEntry } from './entries';
import { PeerTable } from './peer-table';

/** What `DesiredState` needs of the binding table. */
export interface BindingView {
  entries(): Iterable<Binding>;
  byPort(port: string): Binding[];
  /**
   * Every binding with only what its entries are derived from; the table's is cheaper
   * than `entries()` (no identifiers copied out), which a view without it falls back to.
   */
  kernelFacts?(): Iterable<KernelFacts>;
}

export interface DesiredCounters {
  /** A second MAC claimed a link-local already bound on the same device. */
  peerConflicts: number;
  /** Bindings on a port without kernel config: they imply nothing. */
  unconfiguredPort: number;
}

/**
 * The desired kernel state, maintained incrementally from binding changes.
 *
 * Entries owned by one binding are *derived* on demand (`ownedEntries`) rather than
 * stored: 200k bindings imply ~600k entries, and keeping them as objects would
 * cost far more than the table itself. Only the shared link-local entries are
 * stored, reference-counted per (device, link-local). Every change returns the
 * kernel delta it causes; `state(view)` generates the full desired state for the
 * reconcile `diff` (start-up, periodic audit, after a netlink resync).
 *
 * Every change the table makes must be applied here, in order; the port config
 * must only change through `reconfigure`.
 */
export class DesiredState {
  private ports: PortKernelConfigs;
  /**
   * One client's link-local on a device, shared by its bindings. The first variant
   * owns the neighbour entry; later variants (another MAC claiming the same
   * link-local on the same port) only get their verify entry, and take over the
   * neighbour when the first one's last binding goes. One per IPv6 client, so kept
   * in typed columns (see `PeerTable`).
   */
  private readonly peers = new PeerTable();
  readonly counters: DesiredCounters = { peerConflicts: 0, unconfiguredPort: 0 };

  constructor(ports: PortKernelConfigs) {
    this.ports = ports;
  }

  apply(change: BindingChange): KernelDelta {
    switch (change.kind) {
      case 'added':
        return this.added(change.binding);
      case 'removed':
      case 'expired':
        return this.removed(change.binding);
      case 'refreshed':
      case 'moved':
        return this.changed(change.previous, change.binding);
    }
  }

  /**
   * A change's entries into a builder that nets several changes into one delta (the
   * same netting `DeltaAccumulator` gives their separate deltas): a bulk write of a
   * chunk's bindings becomes one delta without one builder and key pass per binding.
   */
  applyTo(d: DeltaBuilder, change: BindingChange): void {
    switch (change.kind) {
      case 'added':
        this.addTo(d, change.binding, this.ports.get(change.binding.port));
        return;
      case 'removed':
      case 'expired':
        this.removeFrom(d, change.binding, this.ports.get(change.binding.port));
        return;
      case 'refreshed':
      case 'moved':
        this.replaceIn(d, change.previous, this.ports.get(change.previous.port), change.binding, this.ports.get(change.binding.port));
    }
  }

  added(b: Binding): KernelDelta {
    const d = new DeltaBuilder();
    this.addTo(d, b, this.ports.get(b.port));
    return d.build();
  }

  removed(b: Binding): KernelDelta {
    const d = new DeltaBuilder();
    this.removeFrom(d, b, this.ports.get(b.port));
    return d.build();
  }

  changed(previous: Binding, b: Binding): KernelDelta {
    const d = new DeltaBuilder();
    this.replaceIn(d, previous, this.ports.get(previous.port), b, this.ports.get(b.port));
    return d.build();
  }

  /** New port config: re-derive the bindings of every port whose settings changed. */
  reconfigure(ports: PortKernelConfigs, view: BindingView): KernelDelta {
    const d = new DeltaBuilder();
    const names = new Set([...this.ports.keys(), ...ports.keys()]);
    for (const port of names) {
      const before = this.ports.get(port);
      const after = ports.get(port);
      if (sameConfig(before, after)) continue;
      for (const b of view.byPort(port)) this.replaceIn(d, b, before, b, after);
    }
    this.ports = ports;
    return d.build();
  }

  /** The whole desired state, generated lazily from the table and the shared entries. */
  state(view: BindingView): KernelState {
    const owned = <E>(pick: (o: ReturnType<typeof ownedEntries>) => E[]) =>
      function* (this: DesiredState): Generator<E> {
        for (const b of view.kernelFacts?.() ?? view.entries()) {
          const cfg = this.ports.get(b.port);
          if (cfg) yield* pick(ownedEntries(b, cfg));
        }
      }.call(this);
    const self = this;
    return {
      routes: owned<RouteEntry>((o) => o.routes),
      neighbours: (function* () {
        yield* owned<NeighEntry>((o) => o.neighbours);
        for (const r of self.peers.heads()) if (self.peers.neighbours(r)) yield self.peerNeigh(r);
      })(),
      verifies: (function* () {
        yield* owned<VerifyEntry>((o) => o.verifies);
        for (const first of self.peers.heads()) {
          for (let v = first; v >= 0; v = self.peers.next(v)) if (self.peers.verify(v)) yield self.peerVerify(v);
        }
      })(),
    };
  }

  /** Shared link-local records (for status). */
  get peerCount(): number {
    return this.peers.size;
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private addTo(d: DeltaBuilder, b: Binding, cfg: PortKernelConfig | undefined): void {
    if (!cfg) {
      this.counters.unconfiguredPort++;
      return;
    }
    owned(d, b, cfg, 'add');
    const p = peerLinkOf(b, cfg);
    if (p) this.peerRef(d, p);
  }

  private removeFrom(d: DeltaBuilder, b: Binding, cfg: PortKernelConfig | undefined): void {
    if (!cfg) return;
    owned(d, b, cfg, 'remove');
    const p = peerLinkOf(b, cfg);
    if (p) this.peerUnref(d, p);
  }

  /**
   * Old → new for one binding. Owned entries: remove then add, so the builder nets
   * unchanged ones away and turns attribute changes into replaces. Shared entries:
   * take the new reference before dropping the old, so a count never passes 0.
   */
  private replaceIn(
    d: DeltaBuilder,
    prev: Binding,
    prevCfg: PortKernelConfig | undefined,
    b: Binding,
    cfg: PortKernelConfig | undefined,
  ): void {
    if (prevCfg) owned(d, prev, prevCfg, 'remove');
    if (cfg) {
      const p = peerLinkOf(b, cfg);
      if (p) this.peerRef(d, p);
    }
    if (prevCfg) {
      const p = peerLinkOf(prev, prevCfg);
      if (p) this.peerUnref(d, p);
    }
    if (!cfg) {
      this.counters.unconfiguredPort++;
      return;
    }
    owned(d, b, cfg, 'add');
  }

  private peerRef(d: DeltaBuilder, p: PeerLink): void {
    const peers = this.peers;
    const mac = macNumber(p.mac);
    const first = peers.find(p.device, p.linkLocal);
    let last = -1;
    for (let v = first; v >= 0; last = v, v = peers.next(v)) {
      if (peers.same(v, mac, p.neighbours, p.verify)) {
        peers.ref(v);
        return;
      }
    }
    const nv = peers.create(p.device, p.linkLocal, mac, p.neighbours, p.verify);
    if (last >= 0) {
      peers.setNext(last, nv);
      if (peers.mac(first) !== mac) this.counters.peerConflicts++;
    } else {
      peers.insertHead(nv);
      if (p.neighbours) d.add('neighbours', peerNeighOf(p));
    }
    if (p.verify) d.add('verifies', peerVerifyOf(p));
  }

  private peerUnref(d: DeltaBuilder, p: PeerLink): void {
    const peers = this.peers;
    const mac = macNumber(p.mac);
    let prev = -1;
    let v = peers.find(p.device, p.linkLocal);
    while (v >= 0 && !peers.same(v, mac, p.neighbours, p.verify)) {
      prev = v;
      v = peers.next(v);
    }
    if (v < 0 || peers.unref(v) > 0) return;
    if (peers.verify(v)) d.remove('verifies', this.peerVerify(v));
    const next = peers.next(v);
    if (prev >= 0) peers.setNext(prev, next);
    else {
      if (peers.neighbours(v)) d.remove('neighbours', this.peerNeigh(v));
      peers.removeHead(v, next);
      if (next >= 0 && peers.neighbours(next)) d.add('neighbours', this.peerNeigh(next));
    }
    peers.free(v);
  }

  private peerNeigh(r: number): NeighEntry {
    return { family: 6, address: this.peers.linkLocal(r), device: this.peers.device(r), lladdr: macFromNumber(this.peers.mac(r)) };
  }

  private peerVerify(r: number): VerifyEntry {
    return { family: 6, device: this.peers.device(r), mac: macFromNumber(this.peers.mac(r)), prefix: this.peers.linkLocal(r), prefixLength: 128 };
  }
}

/**
 * A new peer's entries from the binding's own link-local and MAC (fresh arrays from
 * the table, never written to): the same entries `peerNeigh` / `peerVerify` read back
 * from the peer table, without copying both out again for each new client.
 */
const peerNeighOf = (p: PeerLink): NeighEntry => ({ family: 6, address: p.linkLocal, device: p.device, lladdr: p.mac });
const peerVerifyOf = (p: PeerLink): VerifyEntry => ({ family: 6, device: p.device, mac: p.mac, prefix: p.linkLocal, prefixLength: 128 });

const macNumber = (m: Uint8Array): number => m.reduce((n, b) => n * 256 + b, 0);

function macFromNumber(n: number): Uint8Array {
  const m = new Uint8Array(6);
  for (let i = 5; i >= 0; i--, n = Math.floor(n / 256)) m[i] = n % 256;
  return m;
}

function sameConfig(a: PortKernelConfig | undefined, b: PortKernelConfig | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.device === b.device &&
    (a.routes !== false) === (b.routes !== false) &&
    (a.neighbours !== false) === (b.neighbours !== false) &&
    (a.verify !== false) === (b.verify !== false)
  );
}

/** Add or remove the entries that belong to one binding alone (its routes, neighbour, verify). */
function owned(d: DeltaBuilder, b: Binding, cfg: PortKernelConfig, op: 'add' | 'remove'): void {
  const o = ownedEntries(b, cfg);
  for (const e of o.routes) d[op]('routes', e);
  for (const e of o.neighbours) d[op]('neighbours', e);
  for (const e of o.verifies) d[op]('verifies', e);
}
