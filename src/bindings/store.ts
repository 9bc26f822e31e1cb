import type { Instant } from '../time';
import type { Binding, BindingSource, KernelFacts } from './binding';
import type { HeapSlots } from './expiry-heap';
import { ByteInterner } from './interner';
import { FNV_OFFSET, fnv1a, mix32 } from './slot-hash';

/**
 * Column storage for bindings: one slot per binding, fields in typed arrays
 * (struct of arrays), no JS object per binding. `Binding` objects are materialised
 * only when a caller reads one.
 *
 * Columns live in pages of 4,096 slots, one ArrayBuffer each (86 bytes a slot,
 * 344 KiB a page). The table grows a page at a time and never copies or frees a
 * column: no slack beyond the last page, and no freed buffers left to fragment the
 * allocator during a burst. Only the first page starts small and doubles, so a small
 * table stays small.
 *
 * Identifiers (client id / DUID, circuit id, remote id) are interned: a slot holds a
 * 4-byte id into one `ByteInterner`, so a client's bindings share its DUID and a
 * port's bindings share its circuit id.
 */

const F_V6 = 1;
const F_PREFIX = 2;
const F_MAC = 4;
const F_LL = 8;
const F_IAID = 16;
const F_LIVE = 32;
const SRC_SHIFT = 6;
const SOURCES: readonly BindingSource[] = ['glean', 'leasequery', 'static'];

const PAGE_BITS = 12;
const PAGE = 1 << PAGE_BITS;
const MASK = PAGE - 1;

/** The intrusive lists a slot is on (`link(s, list)`): port (doubly linked), MAC, client id. */
export const PORT_NEXT = 0;
export const PORT_PREV = 1;
export const MAC_NEXT = 2;
export const CID_NEXT = 3;
const LINKS = 4;

/** Identifier kinds (`id(s, kind)`); -1 = absent. */
export const CLIENT_ID = 0;
const CIRCUIT_ID = 1;
const REMOTE_ID = 2;
const IDS = 3;

/** Bytes of columns per slot (the sum of the views below). */
export const SLOT_BYTES = 8 + 8 + 4 * LINKS + 4 * IDS + 4 + 4 + 2 + 16 + 8 + 6 + 1 + 1;

/** The columns of `n` slots, as views into one buffer (8-byte fields first, for alignment). */
class Page {
  /** Infinity stands for "infinite" so the expiry heap needs no special case. */
  readonly validUntil: Float64Array;
  readonly updatedAt: Float64Array;
  readonly links: Int32Array;
  readonly ids: Int32Array;
  /** Position in the expiry heap, -1 when not in it. */
  readonly heapPos: Int32Array;
  readonly iaid: Uint32Array;
  readonly port: Uint16Array;
  /** 16 bytes per slot (v4 uses the first 4). */
  readonly addr: Uint8Array;
  /** Interface id (low 64 bits) of the fe80::/64 link-local; see validate.ts. */
  readonly ll: Uint8Array;
  readonly mac: Uint8Array;
  readonly plen: Uint8Array;
  readonly flags: Uint8Array;

  constructor(readonly n: number) {
    const buf = new ArrayBuffer(n * SLOT_BYTES);
    let at = 0;
    const take = <T>(make: (b: ArrayBuffer, at: number, len: number) => T, per: number, size: number): T => {
      const v = make(buf, at, n * per);
      at += n * per * size;
      return v;
    };
    this.validUntil = take((b, o, l) => new Float64Array(b, o, l), 1, 8);
    this.updatedAt = take((b, o, l) => new Float64Array(b, o, l), 1, 8);
    this.links = take((b, o, l) => new Int32Array(b, o, l), LINKS, 4);
    this.ids = take((b, o, l) => new Int32Array(b, o, l), IDS, 4);
    this.heapPos = take((b, o, l) => new Int32Array(b, o, l), 1, 4);
    this.iaid = take((b, o, l) => new Uint32Array(b, o, l), 1, 4);
    this.port = take((b, o, l) => new Uint16Array(b, o, l), 1, 2);
    this.addr = take((b, o, l) => new Uint8Array(b, o, l), 16, 1);
    this.ll = take((b, o, l) => new Uint8Array(b, o, l), 8, 1);
    this.mac = take((b, o, l) => new Uint8Array(b, o, l), 6, 1);
    this.plen = take((b, o, l) => new Uint8Array(b, o, l), 1, 1);
    this.flags = take((b, o, l) => new Uint8Array(b, o, l), 1, 1);
    this.heapPos.fill(-1);
  }

  /** A page of `n` slots holding this one's contents (only the first page grows). */
  grownTo(n: number): Page {
    const p = new Page(n);
    for (const k of ['validUntil', 'updatedAt', 'links', 'ids', 'heapPos', 'iaid', 'port', 'addr', 'll', 'mac', 'plen', 'flags'] as const) {
      (p[k] as Uint8Array).set(this[k] as Uint8Array);
    }
    return p;
  }
}

export class BindingStore implements HeapSlots {
  cap = 0;
  private pages: Page[] = [];
  /** Client ids, circuit ids and remote ids of every slot. */
  readonly ids = new ByteInterner();
  private freeHead = -1;
  private used = 0;

  constructor(
    capacity: number,
    /** The first page never grows past this (the table's global bound). */
    public maxCapacity: number,
  ) {
    this.pages.push(new Page(Math.max(1, Math.min(capacity, maxCapacity, PAGE))));
    this.cap = this.pages[0]!.n;
  }

  /** Bytes of columns and identifiers (for the memory benchmark). */
  get bytes(): number {
    return this.cap * SLOT_BYTES + this.ids.bytes;
  }

  /** Slots handed out so far (live or on the free list): every live slot is below it. */
  get slots(): number {
    return this.used;
  }

  isLive(s: number): boolean {
    return (this.flagsOf(s) & F_LIVE) !== 0;
  }
  isV6(s: number): boolean {
    return (this.flagsOf(s) & F_V6) !== 0;
  }
  hasMac(s: number): boolean {
    return (this.flagsOf(s) & F_MAC) !== 0;
  }
  source(s: number): BindingSource {
    return SOURCES[this.flagsOf(s) >> SRC_SHIFT]!;
  }
  plen(s: number): number {
    return this.pages[s >> PAGE_BITS]!.plen[s & MASK]!;
  }
  port(s: number): number {
    return this.pages[s >> PAGE_BITS]!.port[s & MASK]!;
  }
  validUntil(s: number): number {
    return this.pages[s >> PAGE_BITS]!.validUntil[s & MASK]!;
  }
  /** The expiry heap's key (`HeapSlots`). */
  key(s: number): number {
    return this.validUntil(s);
  }
  link(s: number, list: number): number {
    return this.pages[s >> PAGE_BITS]!.links[(s & MASK) * LINKS + list]!;
  }
  setLink(s: number, list: number, to: number): void {
    this.pages[s >> PAGE_BITS]!.links[(s & MASK) * LINKS + list] = to;
  }
  /** Interned id of the slot's client id (`CLIENT_ID`), or -1. */
  id(s: number, kind: number): number {
    return this.pages[s >> PAGE_BITS]!.ids[(s & MASK) * IDS + kind]!;
  }
  heapPos(s: number): number {
    return this.pages[s >> PAGE_BITS]!.heapPos[s & MASK]!;
  }
  setHeapPos(s: number, i: number): void {
    this.pages[s >> PAGE_BITS]!.heapPos[s & MASK] = i;
  }

  /** Hash of the key (family, prefix length, address) of slot `s`, as `keyHash` computes it. */
  slotKeyHash(s: number): number {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    return keyHash((p.flags[i]! & F_V6) !== 0, p.plen[i]!, p.addr, i * 16);
  }

  /** Whether slot `s` holds this key; `addr` is 16 bytes, zero-padded for v4. */
  keyEquals(s: number, v6: boolean, plen: number, addr: Uint8Array): boolean {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    if (((p.flags[i]! & F_V6) !== 0) !== v6 || p.plen[i] !== plen) return false;
    const a = p.addr;
    for (let k = 0, at = i * 16; k < 16; k++) if (a[at + k] !== addr[k]) return false;
    return true;
  }

  slotMacHash(s: number): number {
    return macHash(this.pages[s >> PAGE_BITS]!.mac, (s & MASK) * 6);
  }

  /** Whether slot `s` has the MAC at `bytes[at..at+6]`. */
  macEquals(s: number, bytes: Uint8Array, at: number): boolean {
    const m = this.pages[s >> PAGE_BITS]!.mac;
    const o = (s & MASK) * 6;
    for (let k = 0; k < 6; k++) if (m[o + k] !== bytes[at + k]) return false;
    return true;
  }

  /** The MAC of slot `s` as a view (valid until the slot is written). */
  macView(s: number): Uint8Array {
    const o = (s & MASK) * 6;
    return this.pages[s >> PAGE_BITS]!.mac.subarray(o, o + 6);
  }

  alloc(): number {
    if (this.freeHead < 0) {
      if (this.used === this.cap) this.grow();
      return this.used++;
    }
    const s = this.freeHead;
    this.freeHead = this.link(s, PORT_NEXT);
    return s;
  }

  free(s: number): void {
    this.releaseIds(s);
    this.pages[s >> PAGE_BITS]!.flags[s & MASK] = 0;
    this.setLink(s, PORT_NEXT, this.freeHead);
    this.freeHead = s;
  }

  /** Store the fields of `b` (already validated) into slot `s`; replaces what a live slot held. */
  write(s: number, b: Binding, portId: number): void {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    // Take the new references before dropping the old: an unchanged id stays put.
    const cid = this.internOrNone(b.clientId);
    const circuit = this.internOrNone(b.circuitId);
    const remote = this.internOrNone(b.remoteId);
    if (p.flags[i]! & F_LIVE) this.releaseIds(s);
    p.ids[i * IDS + CLIENT_ID] = cid;
    p.ids[i * IDS + CIRCUIT_ID] = circuit;
    p.ids[i * IDS + REMOTE_ID] = remote;
    const v6 = b.family === 6;
    let f = F_LIVE | (v6 ? F_V6 : 0) | (b.kind === 'prefix' ? F_PREFIX : 0);
    f |= SOURCES.indexOf(b.source) << SRC_SHIFT;
    p.addr.fill(0, i * 16, i * 16 + 16);
    p.addr.set(b.address, i * 16);
    p.plen[i] = b.prefixLength;
    if (b.mac) {
      f |= F_MAC;
      p.mac.set(b.mac, i * 6);
    }
    if (b.linkLocal) {
      f |= F_LL;
      p.ll.set(b.linkLocal.subarray(8, 16), i * 8);
    }
    if (b.iaid !== undefined) {
      f |= F_IAID;
      p.iaid[i] = b.iaid;
    }
    p.flags[i] = f;
    p.validUntil[i] = b.validUntil === null ? Infinity : b.validUntil;
    p.updatedAt[i] = b.updatedAt;
    p.port[i] = portId;
  }

  /** Materialise slot `s` (fresh arrays: the caller may keep them). */
  read(s: number, portName: string): Binding {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    const f = p.flags[i]!;
    const v6 = (f & F_V6) !== 0;
    let linkLocal: Uint8Array | null = null;
    if (f & F_LL) {
      linkLocal = new Uint8Array(16);
      linkLocal[0] = 0xfe;
      linkLocal[1] = 0x80;
      linkLocal.set(p.ll.subarray(i * 8, i * 8 + 8), 8);
    }
    const vu = p.validUntil[i]!;
    const b: Binding = {
      family: v6 ? 6 : 4,
      kind: f & F_PREFIX ? 'prefix' : 'address',
      address: p.addr.slice(i * 16, i * 16 + (v6 ? 16 : 4)),
      prefixLength: p.plen[i]!,
      port: portName,
      mac: f & F_MAC ? p.mac.slice(i * 6, i * 6 + 6) : null,
      clientId: this.copyId(p.ids[i * IDS + CLIENT_ID]!),
      ...(f & F_IAID ? { iaid: p.iaid[i]! } : {}),
      circuitId: this.copyId(p.ids[i * IDS + CIRCUIT_ID]!),
      remoteId: this.copyId(p.ids[i * IDS + REMOTE_ID]!),
      linkLocal,
      validUntil: vu === Infinity ? null : (vu as Instant),
      source: SOURCES[f >> SRC_SHIFT]!,
      updatedAt: p.updatedAt[i]! as Instant,
    };
    return b;
  }

  /** The kernel-relevant fields of slot `s` (fresh arrays, like `read`). */
  readKernelFacts(s: number, portName: string): KernelFacts {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    const f = p.flags[i]!;
    const v6 = (f & F_V6) !== 0;
    let linkLocal: Uint8Array | null = null;
    if (f & F_LL) {
      linkLocal = new Uint8Array(16);
      linkLocal[0] = 0xfe;
      linkLocal[1] = 0x80;
      linkLocal.set(p.ll.subarray(i * 8, i * 8 + 8), 8);
    }
    return {
      family: v6 ? 6 : 4,
      kind: f & F_PREFIX ? 'prefix' : 'address',
      address: p.addr.slice(i * 16, i * 16 + (v6 ? 16 : 4)),
      prefixLength: p.plen[i]!,
      port: portName,
      mac: f & F_MAC ? p.mac.slice(i * 6, i * 6 + 6) : null,
      linkLocal,
    };
  }

  private flagsOf(s: number): number {
    return this.pages[s >> PAGE_BITS]!.flags[s & MASK]!;
  }

  private internOrNone(bytes: Uint8Array | null): number {
    return bytes === null ? -1 : this.ids.intern(bytes);
  }

  private copyId(id: number): Uint8Array | null {
    return id < 0 ? null : this.ids.copy(id);
  }

  private releaseIds(s: number): void {
    const ids = this.pages[s >> PAGE_BITS]!.ids;
    const at = (s & MASK) * IDS;
    for (let k = 0; k < IDS; k++) {
      const id = ids[at + k]!;
      if (id >= 0) this.ids.release(id);
      ids[at + k] = -1;
    }
  }

  /** One more page; the first page doubles up to a full page instead. */
  private grow(): void {
    if (this.cap < PAGE) {
      const n = Math.min(PAGE, Math.max(this.cap + 1, Math.min(this.maxCapacity, this.cap * 2)));
      this.pages[0] = this.pages[0]!.grownTo(n);
      this.cap = n;
      return;
    }
    this.pages.push(new Page(PAGE));
    this.cap += PAGE;
  }
}

/** Hash of a binding key: family, prefix length, then the 4 or 16 address bytes at `at`. */
export function keyHash(v6: boolean, plen: number, addr: Uint8Array, at: number): number {
  let h = Math.imul(FNV_OFFSET ^ (v6 ? 6 : 4), 16777619);
  h = Math.imul(h ^ plen, 16777619);
  return mix32(fnv1a(h, addr, at, at + (v6 ? 16 : 4)));
}

export function macHash(bytes: Uint8Array, at: number): number {
  return mix32(fnv1a(FNV_OFFSET, bytes, at, at + 6));
}
