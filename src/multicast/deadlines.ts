/**
 * The routers' next deadlines in an indexed min-heap (the binding table's,
 * src/bindings/expiry-heap.ts): the module's `nextDeadline` is the heap's top and `poll`
 * visits only the routers that are due, so neither walks every port. A router's entry is
 * refreshed after the module touched it (a report, a poll, a reload, an address).
 */
import { ExpiryHeap } from '../bindings/expiry-heap';
import type { Instant } from '../time';
import type { RouterPort } from './router';

export class RouterDeadlines {
  private readonly routers: (RouterPort | undefined)[] = [];
  /** Creation order of each slot's router: due routers run in it (ports in configuration order, IGMP before MLD). */
  private readonly seq: number[] = [];
  private readonly keys: number[] = [];
  private readonly pos: number[] = [];
  private readonly free: number[] = [];
  private readonly slots = new Map<RouterPort, number>();
  private next = 0;
  private readonly heap = new ExpiryHeap(16, {
    key: (s) => this.keys[s]!,
    heapPos: (s) => this.pos[s]!,
    setHeapPos: (s, i) => { this.pos[s] = i; },
  });

  add(r: RouterPort): void {
    if (this.slots.has(r)) return;
    const s = this.free.pop() ?? this.routers.length;
    this.routers[s] = r;
    this.seq[s] = this.next++;
    this.keys[s] = 0;
    this.pos[s] = -1;
    this.slots.set(r, s);
    this.refresh(r);
  }

  remove(r: RouterPort): void {
    const s = this.slots.get(r);
    if (s === undefined) return;
    this.heap.remove(s);
    this.slots.delete(r);
    this.routers[s] = undefined;
    this.free.push(s);
  }

  clear(): void {
    for (const r of [...this.slots.keys()]) this.remove(r);
  }

  /** Re-read the router's deadline (after anything that may have changed it). */
  refresh(r: RouterPort): void {
    const s = this.slots.get(r);
    if (s === undefined) return;
    const d = r.nextDeadline();
    if (d === null) { this.heap.remove(s); return; }
    this.keys[s] = d;
    if (this.heap.has(s)) this.heap.update(s);
    else this.heap.push(s);
  }

  nextDeadline(): Instant | null {
    const s = this.heap.peek();
    return s < 0 ? null : (this.keys[s]! as Instant);
  }

  /** The routers due by `now`, taken out of the heap (the caller refreshes them), in creation order. */
  due(now: Instant): RouterPort[] {
    const slots: number[] = [];
    for (let s = this.heap.peek(); s >= 0 && this.keys[s]! <= now; s = this.heap.peek()) {
      this.heap.remove(s);
      slots.push(s);
    }
    return slots.sort((a, b) => this.seq[a]! - this.seq[b]!).map((s) => this.routers[s]!);
  }

  /** Creation order, to run touched routers in the order `due` would. */
  order(r: RouterPort): number {
    const s = this.slots.get(r);
    return s === undefined ? -1 : this.seq[s]!;
  }
}
