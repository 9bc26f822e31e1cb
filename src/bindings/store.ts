import type { Instant } from '../time';
import type { Binding, BindingFields, BindingSource, KernelFacts } from './binding';
import type { HeapSlots } from './expiry-heap';
import { ByteInterner } from './interner';
import { FNV_OFFSET, fnv1a, mix32 } from './slot-hash';

/**
 * Column storage for bindings: one slot per binding, fields in typed arrays
 * (struct of arrays), no JS object per binding. `Binding` objects are materialised
 * only when a caller reads one.
 *
 * Columns live in pages of 4,096 slots, one ArrayBuffer each. A page holds one
 * family: an IPv4 page keeps 4 address bytes a slot and no link-local or IAID
 * (56 bytes a slot), an IPv6 page 16 address bytes, the link-local's interface id
 * and the IAID (80 bytes a slot). A slot's family never changes (it is part of the
 * key), so each family allocates from its own pages and free list. The table grows
 * a page at a time and never copies or frees a column: no slack beyond each
 * family's last page, and no freed buffers left to fragment the allocator during a
 * burst. Only a family's first page starts small and doubles, so a small table
 * stays small.
 *
 * Times are on the core's monotonic clock, whose origin is the process start (restored
 * bindings may predate it). `validUntil` keeps its milliseconds in 48 bits (a `Uint32`
 * and an `Int16` column, ±4,000 years): a lease ends exactly when the server said
 * (RFC 2131 §3.3, RFC 8415 §7.7), and leasequery answers and the expiry sweep agree
 * with it to the millisecond. `updatedAt` is only reported, so it is whole seconds,
 * rounded down (`Int32`, ±68 years).
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

/** `validUntil` (ms, 48 bits signed) of an infinite lease; finite times are clamped below it. */
const INFINITE = 2 ** 47 - 1;
const MIN_MS = -(2 ** 47);
const HI = 2 ** 32;
const MAX_SEC = 0x7fffffff;

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

/** Bytes of columns per slot of each family (the sum of the views below). */
const COMMON_BYTES = 4 + 4 + 4 * LINKS + 4 * IDS + 4 + 2 + 2 + 6 + 1 + 1;
export const SLOT_BYTES_V4 = COMMON_BYTES + 4;
export const SLOT_BYTES_V6 = COMMON_BYTES + 16 + 4 + 8;

const toSec = (ms: number): number => Math.max(-MAX_SEC, Math.min(MAX_SEC, Math.floor(ms / 1000)));

/** The columns of `n` slots of one family, as views into one buffer (4-byte fields first, for alignment). */
class Page {
  /** Low 32 bits of `validUntil` in ms (the high 16 in `validHi`); INFINITE stands for "infinite". */
  readonly validLo: Uint32Array;
  /** Whole seconds. */
  readonly updatedAt: Int32Array;
  readonly links: Int32Array;
  readonly ids: Int32Array;
  /** Position in the expiry heap, -1 when not in it. */
  readonly heapPos: Int32Array;
  /** IPv6 only (RFC 8415 §12): an IPv4 page has none. */
  readonly iaid: Uint32Array;
  readonly validHi: Int16Array;
  readonly port: Uint16Array;
  /** 4 bytes a slot on an IPv4 page, 16 on an IPv6 page. */
  readonly addr: Uint8Array;
  /** Interface id (low 64 bits) of the fe80::/64 link-local; see validate.ts. IPv6 only. */
  readonly ll: Uint8Array;
  readonly mac: Uint8Array;
  readonly plen: Uint8Array;
  readonly flags: Uint8Array;
  readonly bytes: number;

  constructor(
    readonly v6: boolean,
    readonly n: number,
  ) {
    this.bytes = n * (v6 ? SLOT_BYTES_V6 : SLOT_BYTES_V4);
    const buf = new ArrayBuffer(this.bytes);
    let at = 0;
    const take = <T>(make: (b: ArrayBuffer, at: number, len: number) => T, per: number, size: number): T => {
      const v = make(buf, at, n * per);
      at += n * per * size;
      return v;
    };
    const a = v6 ? 16 : 4;
    this.validLo = take((b, o, l) => new Uint32Array(b, o, l), 1, 4);
    this.updatedAt = take((b, o, l) => new Int32Array(b, o, l), 1, 4);
    this.links = take((b, o, l) => new Int32Array(b, o, l), LINKS, 4);
    this.ids = take((b, o, l) => new Int32Array(b, o, l), IDS, 4);
    this.heapPos = take((b, o, l) => new Int32Array(b, o, l), 1, 4);
    this.iaid = take((b, o, l) => new Uint32Array(b, o, l), v6 ? 1 : 0, 4);
    this.validHi = take((b, o, l) => new Int16Array(b, o, l), 1, 2);
    this.port = take((b, o, l) => new Uint16Array(b, o, l), 1, 2);
    this.addr = take((b, o, l) => new Uint8Array(b, o, l), a, 1);
    this.ll = take((b, o, l) => new Uint8Array(b, o, l), v6 ? 8 : 0, 1);
    this.mac = take((b, o, l) => new Uint8Array(b, o, l), 6, 1);
    this.plen = take((b, o, l) => new Uint8Array(b, o, l), 1, 1);
    this.flags = take((b, o, l) => new Uint8Array(b, o, l), 1, 1);
    this.heapPos.fill(-1);
  }

  /** A page of `n` slots holding this one's contents (only a family's first page grows). */
  grownTo(n: number): Page {
    const p = new Page(this.v6, n);
    for (const k of ['validLo', 'updatedAt', 'links', 'ids', 'heapPos', 'iaid', 'validHi', 'port', 'addr', 'll', 'mac', 'plen', 'flags'] as const) {
      (p[k] as Uint8Array).set(this[k] as Uint8Array);
    }
    return p;
  }
}

/** fe80::/64 and the interface id slot `i` of an IPv6 page keeps (validate.ts). */
function linkLocalOf(p: Page, i: number): Uint8Array {
  const ll = new Uint8Array(16);
  ll[0] = 0xfe;
  ll[1] = 0x80;
  for (let k = 0, at = i * 8; k < 8; k++) ll[8 + k] = p.ll[at + k]!;
  return ll;
}

/** Where a family allocates: its newest page (-1: none yet), the next unused slot there, its free list. */
interface FamilyPages {
  page: number;
  next: number;
  freeHead: number;
}

export class BindingStore implements HeapSlots {
  /** Slots in all pages. */
  cap = 0;
  private pages: Page[] = [];
  /** Client ids, circuit ids and remote ids of every slot. */
  readonly ids = new ByteInterner();
  private readonly fam: [FamilyPages, FamilyPages] = [
    { page: -1, next: 0, freeHead: -1 },
    { page: -1, next: 0, freeHead: -1 },
  ];
  private hi = 0;

  constructor(
    /** Slots of a family's first page. */
    private readonly capacity: number,
    /** The first page never grows past this (the table's global bound). */
    public maxCapacity: number,
  ) {}

  /** Bytes of columns and identifiers (for the memory benchmark). */
  get bytes(): number {
    return this.columnBytes + this.ids.bytes;
  }

  /** Bytes of columns alone. */
  get columnBytes(): number {
    let n = 0;
    for (const p of this.pages) n += p.bytes;
    return n;
  }

  /** Above every slot handed out so far (live or on a free list): every live slot is below it. */
  get slots(): number {
    return this.hi;
  }

  isLive(s: number): boolean {
    return (this.flagsOf(s) & F_LIVE) !== 0;
  }
  isV6(s: number): boolean {
    return this.pages[s >> PAGE_BITS]!.v6;
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
  /** End of the lease in ms, Infinity when infinite. */
  validUntil(s: number): number {
    const p = this.pages[s >> PAGE_BITS]!;
    const v = p.validHi[s & MASK]! * HI + p.validLo[s & MASK]!;
    return v === INFINITE ? Infinity : v;
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
    return keyHash(p.v6, p.plen[i]!, p.addr, i * (p.v6 ? 16 : 4));
  }

  /** Whether slot `s` holds this key; `addr` is the family's 4 or 16 bytes. */
  keyEquals(s: number, v6: boolean, plen: number, addr: Uint8Array): boolean {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    if (p.v6 !== v6 || p.plen[i] !== plen) return false;
    const a = p.addr;
    const n = v6 ? 16 : 4;
    for (let k = 0, at = i * n; k < n; k++) if (a[at + k] !== addr[k]) return false;
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

  /** A free slot on a page of the family. */
  alloc(v6: boolean): number {
    const f = this.fam[v6 ? 1 : 0];
    if (f.freeHead >= 0) {
      const s = f.freeHead;
      f.freeHead = this.link(s, PORT_NEXT);
      return s;
    }
    if (f.page < 0 || f.next === this.pages[f.page]!.n) this.grow(v6, f);
    const s = (f.page << PAGE_BITS) + f.next++;
    if (s >= this.hi) this.hi = s + 1;
    return s;
  }

  free(s: number): void {
    this.releaseIds(s);
    const p = this.pages[s >> PAGE_BITS]!;
    p.flags[s & MASK] = 0;
    const f = this.fam[p.v6 ? 1 : 0];
    this.setLink(s, PORT_NEXT, f.freeHead);
    f.freeHead = s;
  }

  /**
   * Store the fields of `b` (already validated; its family is the slot's), updated at
   * `updatedAt`, into slot `s`; replaces what a live slot held.
   */
  write(s: number, b: BindingFields, portId: number, updatedAt: Instant): void {
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
    const v6 = p.v6;
    let f = F_LIVE | (v6 ? F_V6 : 0) | (b.kind === 'prefix' ? F_PREFIX : 0);
    f |= SOURCES.indexOf(b.source) << SRC_SHIFT;
    p.addr.set(b.address, i * (v6 ? 16 : 4));
    p.plen[i] = b.prefixLength;
    if (b.mac) {
      f |= F_MAC;
      p.mac.set(b.mac, i * 6);
    }
    if (v6 && b.linkLocal) {
      f |= F_LL;
      p.ll.set(b.linkLocal.subarray(8, 16), i * 8);
    }
    if (v6 && b.iaid !== undefined) {
      f |= F_IAID;
      p.iaid[i] = b.iaid;
    }
    p.flags[i] = f;
    // A fraction of a ms rounds up: never expired early.
    const vu = b.validUntil === null ? INFINITE : Math.max(MIN_MS, Math.min(INFINITE - 1, Math.ceil(b.validUntil)));
    const hi = Math.floor(vu / HI);
    p.validHi[i] = hi;
    p.validLo[i] = vu - hi * HI;
    p.updatedAt[i] = toSec(updatedAt);
    p.port[i] = portId;
  }

  /**
   * Materialise slot `s` (fresh arrays: the caller may keep them). One object literal
   * per shape, every field written out: a literal with spreads (`...facts`, a
   * conditional `...{ iaid }`) is built property by property by the runtime, which was
   * ~6% of a bulk restore's CPU (one read per binding stored).
   */
  read(s: number, portName: string): Binding {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    const f = p.flags[i]!;
    const vu = p.validHi[i]! * HI + p.validLo[i]!;
    const v6 = p.v6;
    const n = v6 ? 16 : 4;
    const family = v6 ? 6 : 4;
    const kind = f & F_PREFIX ? 'prefix' : 'address';
    const address = p.addr.slice(i * n, i * n + n);
    const prefixLength = p.plen[i]!;
    const mac = f & F_MAC ? p.mac.slice(i * 6, i * 6 + 6) : null;
    const clientId = this.copyId(p.ids[i * IDS + CLIENT_ID]!);
    const circuitId = this.copyId(p.ids[i * IDS + CIRCUIT_ID]!);
    const remoteId = this.copyId(p.ids[i * IDS + REMOTE_ID]!);
    const linkLocal = f & F_LL ? linkLocalOf(p, i) : null;
    const validUntil = vu === INFINITE ? null : (vu as Instant);
    const source = SOURCES[f >> SRC_SHIFT]!;
    const updatedAt = (p.updatedAt[i]! * 1000) as Instant;
    return f & F_IAID
      ? { family, kind, address, prefixLength, port: portName, mac, linkLocal, clientId, iaid: p.iaid[i]!, circuitId, remoteId, validUntil, source, updatedAt }
      : { family, kind, address, prefixLength, port: portName, mac, linkLocal, clientId, circuitId, remoteId, validUntil, source, updatedAt };
  }

  /** The kernel-relevant fields of slot `s` (fresh arrays, like `read`). */
  readKernelFacts(s: number, portName: string): KernelFacts {
    const p = this.pages[s >> PAGE_BITS]!;
    const i = s & MASK;
    const f = p.flags[i]!;
    const n = p.v6 ? 16 : 4;
    return {
      family: p.v6 ? 6 : 4,
      kind: f & F_PREFIX ? 'prefix' : 'address',
      address: p.addr.slice(i * n, i * n + n),
      prefixLength: p.plen[i]!,
      port: portName,
      mac: f & F_MAC ? p.mac.slice(i * 6, i * 6 + 6) : null,
      linkLocal: f & F_LL ? linkLocalOf(p, i) : null,
    };
  }

  /** 0 for a slot never handed out (past a partly grown first page), like a free one. */
  private flagsOf(s: number): number {
    return this.pages[s >> PAGE_BITS]?.flags[s & MASK] ?? 0;
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

  /** One more page for the family; its first page doubles up to a full page instead. */
  private grow(v6: boolean, f: FamilyPages): void {
    const cur = f.page < 0 ? null : this.pages[f.page]!;
    if (cur && cur.n < PAGE) {
      const n = Math.min(PAGE, Math.max(cur.n + 1, Math.min(this.maxCapacity, cur.n * 2)));
      this.pages[f.page] = cur.grownTo(n);
      this.cap += n - cur.n;
      return;
    }
    const n = cur ? PAGE : Math.max(1, Math.min(this.capacity, this.maxCapacity, PAGE));
    f.page = this.pages.length;
    f.next = 0;
    this.pages.push(new Page(v6, n));
    this.cap += n;
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
