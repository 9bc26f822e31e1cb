import type { Action } from '../actions';
import { DIVERT, type DivertEntry } from '../kernel/divert';
import { emptyDelta, type KernelDelta } from '../kernel/entries';
import { addressBytes, type HostTable } from './tracking';

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

  /** The `kernel` action for the change of hosts `ids` (gone from the table: nothing diverted), or none. */
  update(table: HostTable, ids: Iterable<string>): Action[] {
    const add: DivertEntry[] = [];
    const remove: DivertEntry[] = [];
    for (const id of ids) {
      const h = table.get(id);
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

  /** `update` over every host in the table and every host diverted before (a reload). */
  updateAll(table: HostTable): Action[] {
    const ids = new Set(this.last.keys());
    for (const h of table.all()) ids.add(h.id);
    return this.update(table, ids);
  }

  /** Paging off: every divert goes. */
  clear(): Action[] {
    const remove = [...this.last.values()].flat().map(entry);
    this.last.clear();
    return deltaAction([], remove);
  }
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
