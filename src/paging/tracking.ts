import { ExpiryHeap } from '../bindings/expiry-heap';
import type { Instant } from '../time';
import { formatHex, parseHex } from '../wire/address';
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
  /**
   * Its addresses as hex text (4 or 16 octets): the very strings that key the address
   * index, so an address costs one string per host, not a string and a byte array.
   */
  addresses: readonly string[];
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

/**
 * The entry as a class with every field set in one order in the constructor: V8 then
 * gives all entries one hidden class with in-object fields. An object made by spreading
 * an init object (`{ ...init, slot }`) lands in dictionary mode: 881 bytes a host
 * instead of 233 (measured, test/bench/paging.ts), at a million hosts 0.6 GB.
 */
class Entry implements TrackedHost {
  readonly id: string;
  slot: number;
  heapPos = -1;
  state: HostState;
  area: string;
  ports: readonly string[];
  port: string;
  family: 4 | 6;
  mode: number;
  wake: number;
  addresses: readonly string[];
  correspondents: readonly PagingPrefix[] | null;
  expiresAt: number;
  deadline: number;
  pagesSent: number;
  firstPageCounter: number;
  lastPageAt: number;
  replayHi: number;
  replayLo: number;
  replayBits: number;
  wakeWindowStart: number;
  wakeCount: number;

  constructor(h: NewHost, slot: number) {
    this.id = h.id;
    this.slot = slot;
    this.state = h.state;
    this.area = h.area;
    this.ports = h.ports;
    this.port = h.port;
    this.family = h.family;
    this.mode = h.mode;
    this.wake = h.wake;
    this.addresses = h.addresses;
    this.correspondents = h.correspondents;
    this.expiresAt = h.expiresAt;
    this.deadline = h.deadline;
    this.pagesSent = h.pagesSent;
    this.firstPageCounter = h.firstPageCounter;
    this.lastPageAt = h.lastPageAt;
    this.replayHi = h.replayHi;
    this.replayLo = h.replayLo;
    this.replayBits = h.replayBits;
    this.wakeWindowStart = h.wakeWindowStart;
    this.wakeCount = h.wakeCount;
  }
}

export type NewHost = Omit<TrackedHost, 'slot' | 'heapPos'>;

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

  wakeable(port: string): Iterable<TrackedHost> {
    return this.wakeByPort.get(port) ?? [];
  }

  add(h: NewHost): TrackedHost {
    const slot = this.free.pop() ?? this.slots.length;
    const host: TrackedHost = new Entry(h, slot);
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
    for (const a of h.addresses) this.byAddress.set(a, h);
    if (h.wake !== 0) {
      const set = this.wakeByPort.get(h.port) ?? new Set();
      set.add(h);
      this.wakeByPort.set(h.port, set);
    }
  }

  private unindex(h: TrackedHost): void {
    for (const a of h.addresses) if (this.byAddress.get(a) === h) this.byAddress.delete(a);
    const set = this.wakeByPort.get(h.port);
    if (set?.delete(h) && set.size === 0) this.wakeByPort.delete(h.port);
  }
}

/** An address of `TrackedHost.addresses` as octets again (for a binding lookup, a divert entry). */
export const addressBytes = (hex: string): Uint8Array => parseHex(hex)!;
