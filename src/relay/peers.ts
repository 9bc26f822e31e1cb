import { FNV_OFFSET, SlotHash, fnv1a, mix32 } from '../bindings/slot-hash';

/**
 * The link-layer address of each IPv6 client seen on a port, learnt from the frames
 * that carried its DHCPv6 messages. RELAY-REPL names the client only by its
 * link-local `peer-address` (RFC 8415 §9.3); this is how the relay addresses the
 * reply frame without Neighbor Discovery, and how a gleaned binding gets its MAC.
 *
 * Bounded (CONVENTIONS 10): least recently seen entries go first. Entries live in
 * typed columns (port number, address, MAC, LRU links: 32 bytes) plus a 4-byte slot
 * index, grown by doubling up to the bound: ~2.6 MiB at 65,536 entries, where a Map
 * of string keys and arrays cost ~580 bytes an entry.
 */
export class PeerCache {
  private addr = new Uint8Array(0);
  private macs = new Uint8Array(0);
  private ports = new Uint16Array(0);
  /** LRU list, oldest first: `older`/`newer` neighbours, -1 at the ends. */
  private older = new Int32Array(0);
  private newer = new Int32Array(0);
  private oldest = -1;
  private newest = -1;
  private used = 0;
  private readonly portNames: string[] = [];
  private readonly portIds = new Map<string, number>();
  private readonly index: SlotHash;
  evicted = 0;

  constructor(private readonly capacity: number) {
    this.index = new SlotHash(16, (r) => this.hash(this.ports[r]!, this.addr, r * 16));
    this.grow(Math.min(capacity, 64));
  }

  /** Remember (or refresh) the MAC of the client at `address`, a 16-byte IPv6 address. */
  learn(port: string, address: Uint8Array, mac: Uint8Array): void {
    if (this.capacity <= 0 || address.length !== 16) return;
    let r = this.find(port, address);
    if (r >= 0) this.unlinkLru(r);
    else {
      r = this.allocEntry();
      this.ports[r] = this.portId(port);
      this.addr.fill(0, r * 16, r * 16 + 16);
      this.addr.set(address.subarray(0, 16), r * 16);
      this.index.insert(r);
    }
    this.macs.set(mac.subarray(0, 6), r * 6);
    this.pushNewest(r);
  }

  /** The client's MAC as a fresh array, or null. */
  lookup(port: string, address: Uint8Array): Uint8Array | null {
    const r = this.find(port, address);
    return r < 0 ? null : this.macs.slice(r * 6, r * 6 + 6);
  }

  get size(): number {
    return this.index.size;
  }

  /** Bytes of columns and index (for the memory benchmark). */
  get bytes(): number {
    return this.ports.length * 32 + this.index.bytes;
  }

  private find(port: string, address: Uint8Array): number {
    const p = this.portIds.get(port);
    if (p === undefined || address.length !== 16) return -1;
    return this.index.find(this.hash(p, address, 0), (r) => this.ports[r] === p && this.sameAddress(r, address));
  }

  /** A free entry: a new one while under the bound, else the least recently seen. */
  private allocEntry(): number {
    if (this.used < this.capacity) {
      if (this.used === this.ports.length) this.grow(Math.min(this.capacity, this.used * 2));
      return this.used++;
    }
    const r = this.oldest;
    this.index.remove(r);
    this.unlinkLru(r);
    this.evicted++;
    return r;
  }

  private unlinkLru(r: number): void {
    const o = this.older[r]!;
    const n = this.newer[r]!;
    if (o >= 0) this.newer[o] = n;
    else this.oldest = n;
    if (n >= 0) this.older[n] = o;
    else this.newest = o;
  }

  private pushNewest(r: number): void {
    this.older[r] = this.newest;
    this.newer[r] = -1;
    if (this.newest >= 0) this.newer[this.newest] = r;
    else this.oldest = r;
    this.newest = r;
  }

  private sameAddress(r: number, address: Uint8Array): boolean {
    const a = this.addr;
    for (let i = 0, at = r * 16; i < 16; i++) if (a[at + i] !== address[i]) return false;
    return true;
  }

  private hash(port: number, bytes: Uint8Array, at: number): number {
    return mix32(fnv1a(Math.imul(FNV_OFFSET ^ port, 16777619), bytes, at, at + 16));
  }

  private portId(port: string): number {
    let p = this.portIds.get(port);
    if (p === undefined) {
      // Port names come from the configuration: few, and a removed one costs a few bytes.
      p = this.portNames.length;
      this.portNames.push(port);
      this.portIds.set(port, p);
    }
    return p;
  }

  private grow(cap: number): void {
    const g = <T extends Uint8Array | Uint16Array | Int32Array>(a: T, n: T): T => {
      n.set(a as never);
      return n;
    };
    this.addr = g(this.addr, new Uint8Array(cap * 16));
    this.macs = g(this.macs, new Uint8Array(cap * 6));
    this.ports = g(this.ports, new Uint16Array(cap));
    this.older = g(this.older, new Int32Array(cap));
    this.newer = g(this.newer, new Int32Array(cap));
  }
}
