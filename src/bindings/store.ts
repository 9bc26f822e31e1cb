import type { Instant } from '../time';
import type { Binding, BindingSource } from './binding';

/**
 * Column storage for bindings: one slot per binding, fields in typed arrays
 * (struct of arrays). A binding costs ~90 bytes of columns and no JS object, so
 * 200k bindings stay in the tens of megabytes. `Binding` objects are materialised
 * only when a caller reads one.
 *
 * Identifiers are kept as one-byte (latin1) strings: V8 stores them compactly and
 * the table shares one string between all bindings of the same client / port.
 */

const F_V6 = 1;
const F_PREFIX = 2;
const F_MAC = 4;
const F_LL = 8;
const F_IAID = 16;
const F_LIVE = 32;
const SRC_SHIFT = 6;
const SOURCES: readonly BindingSource[] = ['glean', 'leasequery', 'static'];

export class BindingStore {
  cap = 0;
  addr = new Uint8Array(0); // 16 bytes per slot (v4 uses the first 4)
  plen = new Uint8Array(0);
  flags = new Uint8Array(0);
  mac = new Uint8Array(0); // 6 per slot
  /** Interface id (low 64 bits) of the fe80::/64 link-local; see validate.ts. */
  ll = new Uint8Array(0); // 8 per slot
  iaid = new Uint32Array(0);
  /** Infinity stands for "infinite" so the expiry heap needs no special case. */
  validUntil = new Float64Array(0);
  updatedAt = new Float64Array(0);
  port = new Uint16Array(0);
  /** Intrusive lists: all bindings of a port (doubly linked), of a MAC, of a client id. */
  portNext = new Int32Array(0);
  portPrev = new Int32Array(0);
  macNext = new Int32Array(0);
  cidNext = new Int32Array(0);
  clientId: (string | undefined)[] = [];
  circuitId: (string | undefined)[] = [];
  remoteId: (string | undefined)[] = [];
  private freeHead = -1;
  private used = 0;

  constructor(
    capacity: number,
    /** Columns grow in steps of 1.5× but never past this (the table's global bound). */
    public maxCapacity: number,
  ) {
    this.grow(Math.min(capacity, maxCapacity));
  }

  /** Slots handed out so far (live or on the free list): every live slot is below it. */
  get slots(): number {
    return this.used;
  }

  isLive(s: number): boolean {
    return (this.flags[s]! & F_LIVE) !== 0;
  }
  isV6(s: number): boolean {
    return (this.flags[s]! & F_V6) !== 0;
  }
  hasMac(s: number): boolean {
    return (this.flags[s]! & F_MAC) !== 0;
  }
  source(s: number): BindingSource {
    return SOURCES[this.flags[s]! >> SRC_SHIFT]!;
  }

  alloc(): number {
    if (this.freeHead < 0) {
      if (this.used === this.cap) this.grow(Math.max(this.used + 1, Math.min(this.maxCapacity, Math.ceil(this.cap * 1.5))));
      return this.used++;
    }
    const s = this.freeHead;
    this.freeHead = this.portNext[s]!;
    return s;
  }

  free(s: number): void {
    this.flags[s] = 0;
    this.clientId[s] = this.circuitId[s] = this.remoteId[s] = undefined;
    this.portNext[s] = this.freeHead;
    this.freeHead = s;
  }

  /** Store the fields of `b` (already validated) into slot `s`. */
  write(s: number, b: Binding, portId: number, ids: { clientId?: string; circuitId?: string; remoteId?: string }): void {
    const v6 = b.family === 6;
    let f = F_LIVE | (v6 ? F_V6 : 0) | (b.kind === 'prefix' ? F_PREFIX : 0);
    f |= SOURCES.indexOf(b.source) << SRC_SHIFT;
    this.addr.fill(0, s * 16, s * 16 + 16);
    this.addr.set(b.address, s * 16);
    this.plen[s] = b.prefixLength;
    if (b.mac) {
      f |= F_MAC;
      this.mac.set(b.mac, s * 6);
    }
    if (b.linkLocal) {
      f |= F_LL;
      this.ll.set(b.linkLocal.subarray(8, 16), s * 8);
    }
    if (b.iaid !== undefined) {
      f |= F_IAID;
      this.iaid[s] = b.iaid;
    }
    this.flags[s] = f;
    this.validUntil[s] = b.validUntil === null ? Infinity : b.validUntil;
    this.updatedAt[s] = b.updatedAt;
    this.port[s] = portId;
    this.clientId[s] = ids.clientId;
    this.circuitId[s] = ids.circuitId;
    this.remoteId[s] = ids.remoteId;
  }

  /** Materialise slot `s` (fresh arrays: the caller may keep them). */
  read(s: number, portName: string): Binding {
    const f = this.flags[s]!;
    const v6 = (f & F_V6) !== 0;
    let linkLocal: Uint8Array | null = null;
    if (f & F_LL) {
      linkLocal = new Uint8Array(16);
      linkLocal[0] = 0xfe;
      linkLocal[1] = 0x80;
      linkLocal.set(this.ll.subarray(s * 8, s * 8 + 8), 8);
    }
    const vu = this.validUntil[s]!;
    const b: Binding = {
      family: v6 ? 6 : 4,
      kind: f & F_PREFIX ? 'prefix' : 'address',
      address: this.addr.slice(s * 16, s * 16 + (v6 ? 16 : 4)),
      prefixLength: this.plen[s]!,
      port: portName,
      mac: f & F_MAC ? this.mac.slice(s * 6, s * 6 + 6) : null,
      clientId: latin1Bytes(this.clientId[s]),
      ...(f & F_IAID ? { iaid: this.iaid[s]! } : {}),
      circuitId: latin1Bytes(this.circuitId[s]),
      remoteId: latin1Bytes(this.remoteId[s]),
      linkLocal,
      validUntil: vu === Infinity ? null : (vu as Instant),
      source: SOURCES[f >> SRC_SHIFT]!,
      updatedAt: this.updatedAt[s]! as Instant,
    };
    return b;
  }

  private grow(cap: number): void {
    const g8 = (a: Uint8Array, per: number) => {
      const n = new Uint8Array(cap * per);
      n.set(a);
      return n;
    };
    const gi = (a: Int32Array) => {
      const n = new Int32Array(cap);
      n.set(a);
      return n;
    };
    const gf = (a: Float64Array) => {
      const n = new Float64Array(cap);
      n.set(a);
      return n;
    };
    this.addr = g8(this.addr, 16);
    this.plen = g8(this.plen, 1);
    this.flags = g8(this.flags, 1);
    this.mac = g8(this.mac, 6);
    this.ll = g8(this.ll, 8);
    const iaid = new Uint32Array(cap);
    iaid.set(this.iaid);
    this.iaid = iaid;
    const port = new Uint16Array(cap);
    port.set(this.port);
    this.port = port;
    this.validUntil = gf(this.validUntil);
    this.updatedAt = gf(this.updatedAt);
    this.portNext = gi(this.portNext);
    this.portPrev = gi(this.portPrev);
    this.macNext = gi(this.macNext);
    this.cidNext = gi(this.cidNext);
    this.cap = cap;
    this.onGrow?.(cap);
  }

  /** Set by the owner to resize structures that are indexed by slot. */
  onGrow: ((cap: number) => void) | undefined;
}

export function bytesLatin1(b: Uint8Array | null): string | undefined {
  if (b === null) return undefined;
  // One call, so V8 builds a flat one-byte string (`+=` would build a rope).
  return String.fromCharCode(...b);
}

export function latin1Bytes(s: string | undefined): Uint8Array | null {
  if (s === undefined) return null;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
