/**
 * The link-layer address of each IPv6 client seen on a port, learnt from the frames
 * that carried its DHCPv6 messages. RELAY-REPL names the client only by its
 * link-local `peer-address` (RFC 8415 §9.3); this is how the relay addresses the
 * reply frame without Neighbor Discovery, and how a gleaned binding gets its MAC.
 *
 * Bounded (CONVENTIONS 10): least recently seen entries go first. A Map iterates in
 * insertion order, so delete-then-set keeps the oldest entry first.
 */
export class PeerCache {
  private readonly entries = new Map<string, Uint8Array>();
  evicted = 0;

  constructor(private readonly capacity: number) {}

  private static key(port: string, address: Uint8Array): string {
    let k = `${port}|`;
    for (const b of address) k += String.fromCharCode(b);
    return k;
  }

  learn(port: string, address: Uint8Array, mac: Uint8Array): void {
    const key = PeerCache.key(port, address);
    this.entries.delete(key);
    this.entries.set(key, mac.slice());
    if (this.entries.size > this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
      this.evicted++;
    }
  }

  lookup(port: string, address: Uint8Array): Uint8Array | null {
    return this.entries.get(PeerCache.key(port, address)) ?? null;
  }

  get size(): number {
    return this.entries.size;
  }
}
