import type { Instant } from '../time';
import { bytesEqual } from '../wire/address';
import { type Binding, type BindingFields, type KernelFacts, parseBindingKey } from './binding';
import { ExpiryHeap } from './expiry-heap';
import { SlotHash, mix32 } from './slot-hash';
import { BindingStore, CID_NEXT, CLIENT_ID, MAC_NEXT, PORT_NEXT, PORT_PREV, keyHash, macHash } from './store';
import { MAX_PORTS, type RejectReason, rejectReason } from './validate';

export interface BindingTableLimits {
  /** Global bound on bindings. */
  readonly maxBindings: number;
  /** Bound per subscriber port (from that port's config). */
  readonly maxPerPort: (port: string) => number;
}

export type UpsertResult =
  | { readonly kind: 'added'; readonly binding: Binding }
  /** Same port and MAC: lifetimes / identifiers updated. */
  | { readonly kind: 'refreshed'; readonly binding: Binding; readonly previous: Binding }
  /** The same address or prefix now belongs to another port or another MAC. */
  | { readonly kind: 'moved'; readonly binding: Binding; readonly previous: Binding }
  /** Nothing changed; `existing` is the binding the table still holds for the key. */
  | { readonly kind: 'rejected'; readonly reason: RejectReason; readonly existing: Binding | null };

/** Every change the table can make, as the kernel desired state consumes it. */
export type BindingChange =
  | Exclude<UpsertResult, { kind: 'rejected' }>
  | { readonly kind: 'removed' | 'expired'; readonly binding: Binding };

export interface BindingCounters {
  added: number;
  refreshed: number;
  moved: number;
  removed: number;
  expired: number;
  rejectedInvalid: number;
  rejectedExpired: number;
  rejectedStatic: number;
  rejectedPortFull: number;
  rejectedTableFull: number;
}

const REJECT_COUNTER: Record<RejectReason, keyof BindingCounters> = {
  invalid: 'rejectedInvalid',
  expired: 'rejectedExpired',
  static: 'rejectedStatic',
  'port-full': 'rejectedPortFull',
  'table-full': 'rejectedTableFull',
};

/**
 * The binding table: one binding per address/prefix key, indexed by key, port,
 * MAC and client id, bounded per port and globally, expired by `sweep(now)` from an
 * indexed heap ordered by `validUntil` (no timer per binding).
 *
 * Upsert policy:
 * - an unknown key is `added` if the port and the table have room;
 * - a known key on the same port and MAC is `refreshed`; fields given as null
 *   (MAC, ids, link-local, IAID unset) keep their previous values, since a renewal
 *   seen through a relay does not always carry them;
 * - a known key on another port, or with another MAC, is `moved` (nothing is
 *   inherited across ports); the new port must have room;
 * - a glean or leasequery never overwrites a `static` binding.
 * A rejected upsert leaves the table exactly as it was. Lowering a limit does not
 * evict: it only refuses new bindings until the count falls below it.
 */
export class BindingTable {
  private readonly store: BindingStore;
  private readonly keys: SlotHash;
  private readonly macs: SlotHash;
  private readonly clients: SlotHash;
  private readonly heap: ExpiryHeap;
  private readonly portIds = new Map<string, number>();
  private readonly portNames: string[] = [];
  private readonly portHead: number[] = [];
  private readonly portCount: number[] = [];
  private count = 0;
  private limits: BindingTableLimits;
  readonly counters: BindingCounters = {
    added: 0,
    refreshed: 0,
    moved: 0,
    removed: 0,
    expired: 0,
    rejectedInvalid: 0,
    rejectedExpired: 0,
    rejectedStatic: 0,
    rejectedPortFull: 0,
    rejectedTableFull: 0,
  };

  constructor(limits: BindingTableLimits, initialCapacity = 1024) {
    this.limits = limits;
    const cap = Math.max(16, Math.min(initialCapacity, limits.maxBindings));
    const st = (this.store = new BindingStore(cap, limits.maxBindings));
    this.keys = new SlotHash(cap, (s) => st.slotKeyHash(s));
    this.macs = new SlotHash(cap, (s) => st.slotMacHash(s));
    this.clients = new SlotHash(cap, (s) => clientHash(st.isV6(s), st.id(s, CLIENT_ID)));
    this.heap = new ExpiryHeap(cap, st);
  }

  /** Bytes of columns, identifiers and indexes (for the memory benchmark). */
  get bytes(): number {
    return this.store.bytes + this.keys.bytes + this.macs.bytes + this.clients.bytes + this.heap.bytes;
  }

  setLimits(limits: BindingTableLimits): void {
    this.limits = limits;
    this.store.maxCapacity = limits.maxBindings;
  }

  get size(): number {
    return this.count;
  }

  portSize(port: string): number {
    const id = this.portIds.get(port);
    return id === undefined ? 0 : this.portCount[id]!;
  }

  upsert(b: BindingFields, now: Instant): UpsertResult {
    const bad = rejectReason(b, now);
    const s = bad === 'invalid' ? -1 : this.findSlot(b.family, b.address, b.prefixLength);
    if (bad) return this.reject(bad, s);
    if (s < 0) return this.insert(b, now);
    const previous = this.readSlot(s);
    if (previous.source === 'static' && b.source !== 'static') return this.reject('static', s);
    const samePort = previous.port === b.port;
    if (!samePort && this.portFull(b.port)) return this.reject('port-full', s);
    if (!samePort && this.portIds.size >= MAX_PORTS && !this.portIds.has(b.port)) return this.reject('table-full', s);
    const merged = samePort ? inherit(b, previous) : b;
    const moved = !samePort || (previous.mac !== null && merged.mac !== null && !bytesEqual(previous.mac, merged.mac));
    this.unlink(s);
    this.place(s, merged, now);
    this.counters[moved ? 'moved' : 'refreshed']++;
    return { kind: moved ? 'moved' : 'refreshed', binding: this.readSlot(s), previous };
  }

  /** Remove by key (`192.0.2.7/32`, `2001:db8::/56`); the removed binding, or null. */
  remove(key: string): Binding | null {
    const k = parseBindingKey(key);
    return k ? this.removeAddress(k.family, k.address, k.prefixLength) : null;
  }

  removeAddress(family: 4 | 6, address: Uint8Array, prefixLength: number): Binding | null {
    const s = this.findSlot(family, address, prefixLength);
    if (s < 0) return null;
    const b = this.readSlot(s);
    this.drop(s);
    this.counters.removed++;
    return b;
  }

  get(key: string): Binding | null {
    const k = parseBindingKey(key);
    return k ? this.find(k.family, k.address, k.prefixLength) : null;
  }

  /** Exact lookup; `prefixLength` defaults to a host address. */
  find(family: 4 | 6, address: Uint8Array, prefixLength = family === 4 ? 32 : 128): Binding | null {
    const s = this.findSlot(family, address, prefixLength);
    return s < 0 ? null : this.readSlot(s);
  }

  byPort(port: string): Binding[] {
    const id = this.portIds.get(port);
    const out: Binding[] = [];
    if (id === undefined) return out;
    for (let s = this.portHead[id]!; s >= 0; s = this.store.link(s, PORT_NEXT)) out.push(this.readSlot(s));
    return out;
  }

  byMac(mac: Uint8Array): Binding[] {
    const out: Binding[] = [];
    if (mac.length !== 6) return out;
    for (let s = this.macHead(mac); s >= 0; s = this.store.link(s, MAC_NEXT)) out.push(this.readSlot(s));
    return out;
  }

  byClientId(family: 4 | 6, clientId: Uint8Array): Binding[] {
    const out: Binding[] = [];
    const id = this.store.ids.find(clientId);
    if (id < 0) return out;
    for (let s = this.clientHead(family === 6, id); s >= 0; s = this.store.link(s, CID_NEXT)) out.push(this.readSlot(s));
    return out;
  }

  /**
   * Every binding, materialised one at a time (no order promised). Walks the slots, not
   * the lists, so the table may change between two steps (a reconcile iterates it over
   * several turns of the event loop): a removed binding is skipped, one added behind the
   * walk is missed, nothing is read from a freed slot.
   */
  *entries(): IterableIterator<Binding> {
    for (let s = 0; s < this.store.slots; s++) if (this.store.isLive(s)) yield this.readSlot(s);
  }

  /** `entries()` with only the fields kernel entries are derived from (a reconcile's desired state). */
  *kernelFacts(): IterableIterator<KernelFacts> {
    for (let s = 0; s < this.store.slots; s++) {
      if (this.store.isLive(s)) yield this.store.readKernelFacts(s, this.portNames[this.store.port(s)]!);
    }
  }

  /** When the next binding expires; null when none has a finite lifetime. */
  nextExpiry(): Instant | null {
    const s = this.heap.peek();
    return s < 0 ? null : (this.store.validUntil(s) as Instant);
  }

  /** Remove and return every binding with `validUntil <= now`, earliest first. */
  sweep(now: Instant): Binding[] {
    const out: Binding[] = [];
    for (let s = this.heap.peek(); s >= 0 && this.store.validUntil(s) <= now; s = this.heap.peek()) {
      out.push(this.readSlot(s));
      this.drop(s);
      this.counters.expired++;
    }
    return out;
  }

  /** Cross-check every index against the slots (tests and `gleand status --check`). */
  checkIntegrity(): string[] {
    const errs: string[] = [];
    const st = this.store;
    let seen = 0;
    this.portHead.forEach((head, id) => {
      let n = 0;
      for (let s = head, prev = -1; s >= 0; prev = s, s = st.link(s, PORT_NEXT)) {
        n++;
        if (!st.isLive(s)) errs.push(`slot ${s} on port list is free`);
        if (st.port(s) !== id) errs.push(`slot ${s} on wrong port list`);
        if (st.link(s, PORT_PREV) !== prev) errs.push(`slot ${s} bad prev link`);
        const b = this.readSlot(s);
        if (this.findSlot(b.family, b.address, b.prefixLength) !== s) errs.push(`slot ${s} not found by key`);
        if (b.mac && !this.listHas(this.macHead(b.mac), MAC_NEXT, s)) errs.push(`slot ${s} not in mac list`);
        const cid = st.id(s, CLIENT_ID);
        if (cid >= 0 && !this.listHas(this.clientHead(st.isV6(s), cid), CID_NEXT, s))
          errs.push(`slot ${s} not in client list`);
        if (b.clientId && st.ids.find(b.clientId) !== cid) errs.push(`slot ${s} client id not interned`);
        if ((st.validUntil(s) !== Infinity) !== this.heap.has(s)) errs.push(`slot ${s} heap membership`);
      }
      if (n !== this.portCount[id]) errs.push(`port ${this.portNames[id]} count ${this.portCount[id]} != ${n}`);
      seen += n;
    });
    if (seen !== this.count) errs.push(`count ${this.count} != ${seen}`);
    if (this.keys.size !== this.count) errs.push(`key index ${this.keys.size} != ${this.count}`);
    return errs;
  }

  // ── internals ────────────────────────────────────────────────────────────────

  private reject(reason: RejectReason, slot: number): UpsertResult {
    this.counters[REJECT_COUNTER[reason]]++;
    return { kind: 'rejected', reason, existing: slot < 0 ? null : this.readSlot(slot) };
  }

  private portFull(port: string): boolean {
    return this.portSize(port) >= this.limits.maxPerPort(port);
  }

  private insert(b: BindingFields, now: Instant): UpsertResult {
    if (this.count >= this.limits.maxBindings) return this.reject('table-full', -1);
    if (this.portFull(b.port)) return this.reject('port-full', -1);
    if (this.portIds.size >= MAX_PORTS && !this.portIds.has(b.port)) return this.reject('table-full', -1);
    const s = this.store.alloc(b.family === 6);
    this.place(s, b, now);
    this.keys.insert(s);
    this.count++;
    this.counters.added++;
    return { kind: 'added', binding: this.readSlot(s) };
  }

  /**
   * Write a binding into slot `s`, updated at `now`, and link it into the port, MAC,
   * client and expiry indexes. The fields go to the columns as given: no copy of them
   * with `updatedAt` set (a spread per binding stored, ~8 us each in a bulk restore).
   */
  private place(s: number, b: BindingFields, now: Instant): void {
    const st = this.store;
    const pid = this.portId(b.port);
    st.write(s, b, pid, now);
    // Port list (doubly linked, insert at head).
    const head = this.portHead[pid]!;
    if (head >= 0) st.setLink(head, PORT_PREV, s);
    st.setLink(s, PORT_NEXT, head);
    st.setLink(s, PORT_PREV, -1);
    this.portHead[pid] = s;
    this.portCount[pid]!++;
    if (st.hasMac(s)) this.pushAfterHead(this.macHeadOf(s), s, MAC_NEXT, this.macs);
    const cid = st.id(s, CLIENT_ID);
    if (cid >= 0) this.pushAfterHead(this.clientHead(st.isV6(s), cid), s, CID_NEXT, this.clients);
    if (st.validUntil(s) !== Infinity) this.heap.push(s);
  }

  /** Undo `place` except the key index and the slot itself. */
  private unlink(s: number): void {
    const st = this.store;
    const pid = st.port(s);
    const next = st.link(s, PORT_NEXT);
    const prev = st.link(s, PORT_PREV);
    if (prev >= 0) st.setLink(prev, PORT_NEXT, next);
    else this.portHead[pid] = next;
    if (next >= 0) st.setLink(next, PORT_PREV, prev);
    this.portCount[pid]!--;
    if (st.hasMac(s)) this.unlinkFrom(this.macHeadOf(s), s, MAC_NEXT, this.macs);
    const cid = st.id(s, CLIENT_ID);
    if (cid >= 0) this.unlinkFrom(this.clientHead(st.isV6(s), cid), s, CID_NEXT, this.clients);
    this.heap.remove(s);
  }

  private drop(s: number): void {
    this.unlink(s);
    this.keys.remove(s);
    this.store.free(s);
    this.count--;
  }

  /** Lists whose head lives in a SlotHash: new members go second so the head stays put. */
  private pushAfterHead(head: number, s: number, list: number, index: SlotHash): void {
    const st = this.store;
    if (head < 0) {
      st.setLink(s, list, -1);
      index.insert(s);
    } else {
      st.setLink(s, list, st.link(head, list));
      st.setLink(head, list, s);
    }
  }

  private unlinkFrom(head: number, s: number, list: number, index: SlotHash): void {
    const st = this.store;
    if (head === s) {
      const n = st.link(s, list);
      if (n >= 0) index.replace(s, n);
      else index.remove(s);
      return;
    }
    for (let p = head; p >= 0; p = st.link(p, list)) {
      if (st.link(p, list) === s) {
        st.setLink(p, list, st.link(s, list));
        return;
      }
    }
  }

  private listHas(head: number, list: number, s: number): boolean {
    for (let p = head; p >= 0; p = this.store.link(p, list)) if (p === s) return true;
    return false;
  }

  private portId(port: string): number {
    let id = this.portIds.get(port);
    if (id === undefined) {
      id = this.portNames.length;
      this.portIds.set(port, id);
      this.portNames.push(port);
      this.portHead.push(-1);
      this.portCount.push(0);
    }
    return id;
  }

  private readSlot(s: number): Binding {
    return this.store.read(s, this.portNames[this.store.port(s)]!);
  }

  private findSlot(family: 4 | 6, address: Uint8Array, prefixLength: number): number {
    const v6 = family === 6;
    if (address.length !== (v6 ? 16 : 4)) return -1;
    const st = this.store;
    return this.keys.find(keyHash(v6, prefixLength, address, 0), (s) => st.keyEquals(s, v6, prefixLength, address));
  }

  private macHead(mac: Uint8Array): number {
    const st = this.store;
    return this.macs.find(macHash(mac, 0), (o) => st.macEquals(o, mac, 0));
  }

  /** Head of the MAC list slot `s` belongs (or would belong) to. */
  private macHeadOf(s: number): number {
    const st = this.store;
    const mac = st.macView(s);
    return this.macs.find(st.slotMacHash(s), (o) => st.macEquals(o, mac, 0));
  }

  /** Head of the list of bindings with this (family, interned client id). */
  private clientHead(v6: boolean, id: number): number {
    const st = this.store;
    return this.clients.find(clientHash(v6, id), (o) => st.id(o, CLIENT_ID) === id && st.isV6(o) === v6);
  }
}

/** Interned ids are unique per value, so the id stands for the bytes. */
const clientHash = (v6: boolean, id: number): number => mix32(id * 2 + (v6 ? 1 : 0));

/**
 * Same-port refresh: fields the update leaves null keep their previous value. Written
 * out, one literal per shape (with or without an IAID), not as spreads: every renewal
 * of a live client comes through here.
 */
function inherit(b: BindingFields, prev: Binding): BindingFields {
  const iaid = b.iaid ?? prev.iaid;
  const { family, kind, address, prefixLength, port, validUntil, source } = b;
  const mac = b.mac ?? prev.mac;
  const clientId = b.clientId ?? prev.clientId;
  const circuitId = b.circuitId ?? prev.circuitId;
  const remoteId = b.remoteId ?? prev.remoteId;
  const linkLocal = b.linkLocal ?? prev.linkLocal;
  return iaid !== undefined
    ? { family, kind, address, prefixLength, port, mac, linkLocal, clientId, iaid, circuitId, remoteId, validUntil, source }
    : { family, kind, address, prefixLength, port, mac, linkLocal, clientId, circuitId, remoteId, validUntil, source };
}
