import { ExpiryHeap } from '../bindings/expiry-heap';
import type { Instant } from '../time';
import { formatHex } from '../wire/address';
import type { PagingPrefix } from '../wire/paging';
import type { ReplayState } from './auth';
import type { WakeWindow } from './limits';

/**
 * The Tracking Agent's table (RFC 3154 §5.1): one entry per registered host, soft state
 * with a lifetime (§4.4), found by host id and by each of its addresses, and one timer per
 * entry in an indexed heap (the binding table's, src/bindings/expiry-heap.ts), so
 * `nextDeadline` is O(1) and a timer change O(log n) at a million hosts (§4.2).
 *
 * States (src/paging/PROTOCOL.md "Agent state machine"):
 * - `dormant`: registered and asleep; its traffic is diverted to gleand and held.
 * - `paging`: something arrived; PAGEs go out with backoff until it answers.
 * - `active`: it answered (or deregistered as active); tracked, nothing diverted.
 * - `inactive`: no refresh, no answer after N pages, or a planned transition (§4.4);
 *   its traffic is dropped and counted, it is never paged.
 */
export type HostState = 'dormant' | 'paging' | 'active' | 'inactive';

export interface TrackedHost extends ReplayState, WakeWindow {
  readonly id: string;
  slot: number;
  heapPos: number;
  state: HostState;
  /** The area it registered in (or `~custom`) and the ports it is paged on. */
  area: string;
  ports: readonly string[];
  /** The port and family its REGISTER came in on (PAGEs go in that family). */
  port: string;
  family: 4 | 6;
  mode: number;
  wake: number;
  addresses: readonly Uint8Array[];
  /** Correspondents allowed to wake it (RFC 3154 §4.27); null: any. */
  correspondents: readonly PagingPrefix[] | null;
  /** When the registration ends (dormant → inactive; active → forgotten). */
  expiresAt: number;
  /** The one timer of the entry: expiry, the next PAGE, or when an inactive host is forgotten. */
  deadline: number;
  /** PAGEs sent in the current wake-up, and the agent counter of its first. */
  pagesSent: number;
  firstPageCounter: number;
  /** When the last PAGE of the host went out (status); -1 never. */
  lastPageAt: number;
}

export class HostTable {
  private readonly slots: (TrackedHost | null)[] = [];
  private readonly free: number[] = [];
  private readonly byId = new Map<string, TrackedHost>();
  private readonly byAddress = new Map<string, TrackedHost>();
  /** Hosts that asked to be woken by wide casts (§4.3), by the port they registered on. */
  private readonly wakeByPort = new Map<string, Set<TrackedHost>>();
  private readonly heap = new ExpiryHeap(16, {
    key: (s) => this.slots[s]!.deadline,
    heapPos: (s) => this.slots[s]?.heapPos ?? -1,
    setHeapPos: (s, i) => { this.slots[s]!.heapPos = i; },
  });

  get size(): number {
    return this.byId.size;
  }

  get(id: string): TrackedHost | undefined {
    return this.byId.get(id);
  }

  byDestination(address: Uint8Array): TrackedHost | undefined {
    return this.byAddress.get(formatHex(address));
  }

  /** An address registered by another host: a REGISTER must not take it over. */
  addressOwner(address: Uint8Array): TrackedHost | undefined {
    return this.byAddress.get(formatHex(address));
  }

  wakeable(port: string): Iterable<TrackedHost> {
    return this.wakeByPort.get(port) ?? [];
  }

  add(h: Omit<TrackedHost, 'slot' | 'heapPos'>): TrackedHost {
    const slot = this.free.pop() ?? this.slots.length;
    const host: TrackedHost = { ...h, slot, heapPos: -1 };
    this.slots[slot] = host;
    this.byId.set(host.id, host);
    this.index(host);
    this.heap.push(slot);
    return host;
  }

  /** Re-index after its addresses, port or wake filter changed (a refresh). */
  update(host: TrackedHost, change: Partial<Pick<TrackedHost, 'addresses' | 'port' | 'wake'>>): void {
    this.unindex(host);
    Object.assign(host, change);
    this.index(host);
  }

  setDeadline(host: TrackedHost, at: Instant | number): void {
    host.deadline = at;
    this.heap.update(host.slot);
  }

  remove(host: TrackedHost): void {
    this.unindex(host);
    this.heap.remove(host.slot);
    this.byId.delete(host.id);
    this.slots[host.slot] = null;
    this.free.push(host.slot);
  }

  /** The earliest timer, or null. */
  nextDeadline(): number | null {
    const s = this.heap.peek();
    return s < 0 ? null : this.slots[s]!.deadline;
  }

  /** The host whose timer is due at `now`, or null. */
  due(now: Instant): TrackedHost | null {
    const s = this.heap.peek();
    return s >= 0 && this.slots[s]!.deadline <= now ? this.slots[s]! : null;
  }

  *all(): Iterable<TrackedHost> {
    yield* this.byId.values();
  }

  private index(h: TrackedHost): void {
    for (const a of h.addresses) this.byAddress.set(formatHex(a), h);
    if (h.wake !== 0) {
      const set = this.wakeByPort.get(h.port) ?? new Set();
      set.add(h);
      this.wakeByPort.set(h.port, set);
    }
  }

  private unindex(h: TrackedHost): void {
    for (const a of h.addresses) {
      const k = formatHex(a);
      if (this.byAddress.get(k) === h) this.byAddress.delete(k);
    }
    const set = this.wakeByPort.get(h.port);
    if (set?.delete(h) && set.size === 0) this.wakeByPort.delete(h.port);
  }
}
