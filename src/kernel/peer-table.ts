import { FNV_OFFSET, SlotHash, fnv1a, mix32 } from '../bindings/slot-hash';

const F_NEIGHBOURS = 1;
const F_VERIFY = 2;
/** The record is the first variant of its (device, link-local): the one in the index. */
const F_HEAD = 4;

/**
 * The shared link-local records of `DesiredState`, in typed columns: one record per
 * (device, link-local, MAC, port flags) variant, 35 bytes plus 5–10 bytes of index,
 * instead of a Map entry, a key string and an object per IPv6 client.
 *
 * Variants of one (device, link-local) are chained by `next`; only the first is in
 * the index (keyed by device and link-local), and it owns the neighbour entry.
 * Devices are few and kept as small numbers.
 */
export class PeerTable {
  private ll = new Uint8Array(16 * 16);
  private macs = new Float64Array(16);
  private refCount = new Uint32Array(16);
  private nexts = new Int32Array(16);
  private dev = new Uint16Array(16);
  private flags = new Uint8Array(16);
  private used = 0;
  private freeHead = -1;
  private readonly devices: string[] = [];
  private readonly deviceIds = new Map<string, number>();
  private readonly index = new SlotHash(16, (r) => this.hash(this.dev[r]!, this.ll, r * 16));

  /** (device, link-local) pairs held. */
  get size(): number {
    return this.index.size;
  }

  /** Bytes of columns and index (for the memory benchmark). */
  get bytes(): number {
    return this.macs.length * 35 + this.index.bytes;
  }

  /** The first variant of (device, link-local), or -1. */
  find(device: string, linkLocal: Uint8Array): number {
    const d = this.deviceIds.get(device);
    if (d === undefined) return -1;
    return this.index.find(this.hash(d, linkLocal, 0), (r) => this.dev[r] === d && this.sameLinkLocal(r, linkLocal));
  }

  /** A new variant with one reference, on no chain yet. */
  create(device: string, linkLocal: Uint8Array, mac: number, neighbours: boolean, verify: boolean): number {
    const r = this.alloc();
    this.dev[r] = this.deviceId(device);
    this.ll.set(linkLocal.subarray(0, 16), r * 16);
    this.macs[r] = mac;
    this.flags[r] = (neighbours ? F_NEIGHBOURS : 0) | (verify ? F_VERIFY : 0);
    this.refCount[r] = 1;
    this.nexts[r] = -1;
    return r;
  }

  /** Make `r` the first variant of a (device, link-local) that had none. */
  insertHead(r: number): void {
    this.flags[r]! |= F_HEAD;
    this.index.insert(r);
  }

  /** The first variant `r` leaves; `next` (same device and link-local) takes its place, or nothing. */
  removeHead(r: number, next: number): void {
    this.flags[r]! &= ~F_HEAD;
    if (next < 0) this.index.remove(r);
    else {
      this.flags[next]! |= F_HEAD;
      this.index.replace(r, next);
    }
  }

  free(r: number): void {
    this.flags[r] = 0;
    this.refCount[r] = 0;
    this.nexts[r] = this.freeHead;
    this.freeHead = r;
  }

  /** Every first variant (no order promised). */
  *heads(): Generator<number> {
    for (let r = 0; r < this.used; r++) if (this.flags[r]! & F_HEAD) yield r;
  }

  same(r: number, mac: number, neighbours: boolean, verify: boolean): boolean {
    const f = this.flags[r]!;
    return this.macs[r] === mac && ((f & F_NEIGHBOURS) !== 0) === neighbours && ((f & F_VERIFY) !== 0) === verify;
  }

  mac(r: number): number {
    return this.macs[r]!;
  }
  neighbours(r: number): boolean {
    return (this.flags[r]! & F_NEIGHBOURS) !== 0;
  }
  verify(r: number): boolean {
    return (this.flags[r]! & F_VERIFY) !== 0;
  }
  next(r: number): number {
    return this.nexts[r]!;
  }
  setNext(r: number, next: number): void {
    this.nexts[r] = next;
  }
  ref(r: number): void {
    this.refCount[r]!++;
  }
  /** Drop one reference; the references left. */
  unref(r: number): number {
    return --this.refCount[r]!;
  }
  device(r: number): string {
    return this.devices[this.dev[r]!]!;
  }
  /** The link-local as a fresh array (the caller may keep it). */
  linkLocal(r: number): Uint8Array {
    return this.ll.slice(r * 16, r * 16 + 16);
  }

  private sameLinkLocal(r: number, linkLocal: Uint8Array): boolean {
    const a = this.ll;
    for (let i = 0, at = r * 16; i < 16; i++) if (a[at + i] !== linkLocal[i]) return false;
    return true;
  }

  private hash(dev: number, bytes: Uint8Array, at: number): number {
    return mix32(fnv1a(Math.imul(FNV_OFFSET ^ dev, 16777619), bytes, at, at + 16));
  }

  private deviceId(device: string): number {
    let d = this.deviceIds.get(device);
    if (d === undefined) {
      // Device names are few (one per subscriber port, bounded by the config);
      // a name no record uses any more is kept, it costs a few bytes.
      d = this.devices.length;
      this.devices.push(device);
      this.deviceIds.set(device, d);
    }
    return d;
  }

  private alloc(): number {
    if (this.freeHead >= 0) {
      const r = this.freeHead;
      this.freeHead = this.nexts[r]!;
      return r;
    }
    if (this.used === this.macs.length) this.grow(Math.ceil(this.used * 1.5));
    return this.used++;
  }

  private grow(cap: number): void {
    const g = <T extends Uint8Array | Uint16Array | Uint32Array | Int32Array | Float64Array>(a: T, make: (n: number) => T, per = 1): T => {
      const n = make(cap * per);
      n.set(a as never);
      return n;
    };
    this.ll = g(this.ll, (n) => new Uint8Array(n), 16);
    this.macs = g(this.macs, (n) => new Float64Array(n));
    this.refCount = g(this.refCount, (n) => new Uint32Array(n));
    this.nexts = g(this.nexts, (n) => new Int32Array(n));
    this.dev = g(this.dev, (n) => new Uint16Array(n));
    this.flags = g(this.flags, (n) => new Uint8Array(n));
  }
}
