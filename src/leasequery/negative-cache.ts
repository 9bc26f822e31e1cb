import { addMs, type Instant } from '../time';

/**
 * The negative cache (seed 003 §6.5, §7; RFC 4388 §6.5, §7): a LEASEUNASSIGNED or
 * LEASEUNKNOWN answer is remembered for `ttlMs`, and the same question is not asked
 * again until it expires, so a spoofing or broken device below the router cannot turn
 * into a leasequery flood. Keys are the query's text (`ip 10.1.0.7`, `mac …`). Bounded
 * (CONVENTIONS 10): when full, the entry that expires first goes.
 */
export interface NegativeEntry {
  /** v4: the message type (11, 12); v6: the answer type (`no-binding`, `NotConfigured`). */
  readonly type: number | string;
  readonly until: Instant;
}

export class NegativeCache {
  private readonly entries = new Map<string, NegativeEntry>();

  constructor(private readonly ttlMs: number, private readonly maxEntries: number) {}

  get size(): number {
    return this.entries.size;
  }

  put(key: string, type: number | string, now: Instant): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evictOne(now);
    this.entries.set(key, { type, until: addMs(now, this.ttlMs) });
  }

  /** The cached answer, or null when none is in force at `now`. */
  get(key: string, now: Instant): NegativeEntry | null {
    const e = this.entries.get(key);
    if (!e) return null;
    if (now >= e.until) {
      this.entries.delete(key);
      return null;
    }
    return e;
  }

  /** A positive answer (or a fresh binding) for the same key ends its negative entry. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  /**
   * Insertion order equals expiry order (one TTL for all, re-puts move to the end), so
   * the first entry is the one that expires first.
   */
  private evictOne(now: Instant): void {
    for (const [k, e] of this.entries) {
      this.entries.delete(k);
      if (now < e.until) return;
    }
  }
}
