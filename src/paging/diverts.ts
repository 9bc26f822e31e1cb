import type { Action } from '../actions';
import { DIVERT, type DivertEntry, type WakeWatch } from '../kernel/divert';
import { PAGING_WAKE } from '../wire/paging';
import { emptyDelta, type KernelDelta } from '../kernel/entries';
import { addressBytes, type HostTable, type TrackedHost } from './tracking';

/**
 * Live kernel deltas of the divert (src/kernel/divert.ts): the addresses of every host
 * that is not active are diverted to gleand (RFC 3154 §5.1 DMA). After an event the
 * module names the hosts it may have touched; only those are compared with what was
 * last handed to the kernel, so a REGISTER costs O(its addresses), not O(hosts) at a
 * million hosts (§4.2). A full pass runs on a reload and on turning paging off.
 *
 * Memory: the address strings of the diverted hosts are the table's own (no copy).
 */
export class DivertDeltas {
  /** Host id → the addresses (hex, as in the host table) the kernel was last told to divert. */
  private last = new Map<string, readonly string[]>();
  /** Host id → the wake watches (`wakeKey`) it was last counted in: a dormant host with Wake bits (§4.3). */
  private lastWake = new Map<string, readonly string[]>();
  /** Wake watch key → how many dormant hosts ask for it; the kernel has the watch while > 0. */
  private watchers = new Map<string, number>();

  /** The `kernel` action for the change of hosts `ids` (gone from the table: nothing diverted), or none. */
  update(table: HostTable, ids: Iterable<string>): Action[] {
    const add: DivertEntry[] = [];
    const remove: DivertEntry[] = [];
    for (const id of ids) {
      const h = table.get(id);
      this.updateWake(id, h, add, remove);
      const now = h && h.state !== 'active' ? h.addresses : [];
      const before = this.last.get(id) ?? [];
      if (now === before) continue;
      for (const a of now) if (!before.includes(a)) add.push(entry(a));
      for (const a of before) if (!now.includes(a)) remove.push(entry(a));
      if (now.length) this.last.set(id, now);
      else this.last.delete(id);
    }
    return deltaAction(add, remove);
  }

  /**
   * §4.3: a dormant host whose Wake bits ask for broadcast / multicast traffic needs the
   * kernel to copy that traffic toward its port; the watch of (kind, port) is added with
   * its first such host and removed with its last (a count per watch, O(1) per host).
   */
  private updateWake(id: string, h: TrackedHost | undefined, add: DivertEntry[], remove: DivertEntry[]): void {
    const now = h && h.state === 'dormant' ? wakeKeys(h) : [];
    const before = this.lastWake.get(id) ?? [];
    if (now.length === before.length && now.every((k, i) => k === before[i])) return;
    for (const k of before) {
      const n = (this.watchers.get(k) ?? 0) - 1;
      if (n > 0) this.watchers.set(k, n);
      else {
        this.watchers.delete(k);
        if (!now.includes(k)) remove.push(watchOf(k));
      }
    }
    for (const k of now) {
      const n = (this.watchers.get(k) ?? 0) + 1;
      this.watchers.set(k, n);
      if (n === 1 && !before.includes(k)) add.push(watchOf(k));
    }
    if (now.length) this.lastWake.set(id, now);
    else this.lastWake.delete(id);
  }

  /** The wake watches the kernel must have now (for the module's full desired state). */
  watches(): WakeWatch[] {
    return [...this.watchers.keys()].map(watchOf);
  }

  /** `update` over every host in the table and every host diverted before (a reload). */
  updateAll(table: HostTable): Action[] {
    const ids = new Set(this.last.keys());
    for (const h of table.all()) ids.add(h.id);
    return this.update(table, ids);
  }

  /** Paging off: every divert goes. */
  clear(): Action[] {
    const remove: DivertEntry[] = [...this.last.values()].flat().map(entry);
    for (const k of this.watchers.keys()) remove.push(watchOf(k));
    this.last.clear();
    this.lastWake.clear();
    this.watchers.clear();
    return deltaAction([], remove);
  }
}

const WAKE_KINDS = [[PAGING_WAKE.BROADCAST, 'broadcast'], [PAGING_WAKE.MULTICAST, 'multicast']] as const;

/** `broadcast port` / `multicast port` for each Wake bit of a host (on the port it registered from). */
function wakeKeys(h: TrackedHost): string[] {
  const keys: string[] = [];
  for (const [bit, name] of WAKE_KINDS) if ((h.wake & bit) !== 0) keys.push(`${name} ${h.port}`);
  return keys;
}

function watchOf(key: string): WakeWatch {
  const space = key.indexOf(' ');
  return { wake: key.slice(0, space) as WakeWatch['wake'], port: key.slice(space + 1) };
}

const entry = (hex: string): DivertEntry => {
  const address = addressBytes(hex);
  return { family: address.length === 4 ? 4 : 6, address };
};

function deltaAction(add: DivertEntry[], remove: DivertEntry[]): Action[] {
  if (!add.length && !remove.length) return [];
  const delta: KernelDelta = { ...emptyDelta(), [DIVERT.kind]: { add, remove, replace: [] } };
  return [{ kind: 'kernel', delta }];
}
