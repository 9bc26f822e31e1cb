import { FNV_OFFSET, SlotHash, fnv1a, mix32 } from '../bindings/slot-hash';

/**
 * MACs learnt from the frames of a port, keyed by (port, `keyBytes` bytes). Keyed by a
 * client's IPv6 address (16 bytes) it is the relay's peer cache: the link-layer address
 * each DHCPv6 client was last seen with. Keyed by address + transaction-id (19 bytes) it
 * holds the relay's open transactions (`transactions.ts`).
 *
 * The peer cache is last-writer-wins, so anyone on the port can rewrite an entry: it no
 * longer decides where a REPLY goes or which MAC a lease is bound to (the transaction
 * does, `transactions.ts`); it names the station for what answers no request of the
 * client (RECONFIGURE, RFC 8415 §18.3.11; a RELAY-REPL for a lower relay, §19.2) and the
 * port of an observed reply in passive mode. `learn` reports a key seen from a second
 * MAC, which the relay counts and logs.
 *
 * Bounded (CONVENTIONS 10): least recently seen entries go first. Entries live in
 * typed columns (port number, key, MAC, last seen, LRU links: 40 bytes for a 16-byte
 * key) plus a 4-byte slot index, grown by doubling up to the bound: ~2.9 MiB at 65,536
 * entries, where a Map of string keys and arrays cost ~580 bytes an entry.
 */
export class PeerCache {
  private addr = new Uint8Array(0);
  /** When each entry was last learnt (the core's monotonic ms). */
  private seen = new Float64Array(0);
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

  constructor(private readonly capacity: number, private readonly keyBytes = 16) {
    this.index = new SlotHash(16, (r) => this.hash(this.ports[r]!, this.addr, r * keyBytes));
    this.grow(Math.min(capacity, 64));
  }

  /**
   * Remember (or refresh) the MAC seen with `key` (an IPv6 address for the peer cache)
   * at `now`. Returns the MAC the entry held before when it was another one (a fresh
   * array), else null.
   */
  learn(port: string, key: Uint8Array, mac: Uint8Array, now = 0): Uint8Array | null {
    const k = this.keyBytes;
    if (this.capacity <= 0 || key.length !== k) return null;
    let r = this.find(port, key);
    let previous: Uint8Array | null = null;
    if (r >= 0) {
      this.unlinkLru(r);
      if (!this.macIs(r, mac)) previous = this.macs.slice(r * 6, r * 6 + 6);
    } else {
      r = this.allocEntry();
      this.ports[r] = this.portId(port);
      this.addr.set(key, r * k);
      this.index.insert(r);
    }
    this.macs.set(mac.subarray(0, 6), r * 6);
    this.seen[r] = now;
    this.pushNewest(r);
    return previous;
  }

  /** The MAC as a fresh array, or null; with `seenSince`, only if learnt at or after it. */
  lookup(port: string, key: Uint8Array, seenSince = -Infinity): Uint8Array | null {
    const r = this.find(port, key);
    return r < 0 || this.seen[r]! < seenSince ? null : this.macs.slice(r * 6, r * 6 + 6);
  }

  get size(): number {
    return this.index.size;
  }

  /** Bytes of columns and index (for the memory benchmark). */
  get bytes(): number {
    return this.ports.length * (this.keyBytes + 24) + this.index.bytes;
  }

  private find(port: string, key: Uint8Array): number {
    const p = this.portIds.get(port);
    if (p === undefined || key.length !== this.keyBytes) return -1;
    return this.index.find(this.hash(p, key, 0), (r) => this.ports[r] === p && this.sameKey(r, key));
  }

  private macIs(r: number, mac: Uint8Array): boolean {
    for (let i = 0; i < 6; i++) if (this.macs[r * 6 + i] !== mac[i]) return false;
    return true;
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

  private sameKey(r: number, key: Uint8Array): boolean {
    const a = this.addr;
    const k = this.keyBytes;
    for (let i = 0, at = r * k; i < k; i++) if (a[at + i] !== key[i]) return false;
    return true;
  }

  private hash(port: number, bytes: Uint8Array, at: number): number {
    return mix32(fnv1a(Math.imul(FNV_OFFSET ^ port, 16777619), bytes, at, at + this.keyBytes));
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
    const g = <T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(a: T, n: T): T => {
      n.set(a as never);
      return n;
    };
    this.addr = g(this.addr, new Uint8Array(cap * this.keyBytes));
    this.seen = g(this.seen, new Float64Array(cap));
    this.macs = g(this.macs, new Uint8Array(cap * 6));
    this.ports = g(this.ports, new Uint16Array(cap));
    this.older = g(this.older, new Int32Array(cap));
    this.newer = g(this.newer, new Int32Array(cap));
  }
}
