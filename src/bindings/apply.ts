import type { Instant } from '../time';
import { bytesEqual } from '../wire/address';
import type { Binding, BindingFields } from './binding';
import type { Glean } from './glean';
import type { BindingChange, BindingTable } from './table';

/**
 * Apply what a gleaner read to the table. A removal takes effect only when the
 * binding belongs to the same port and client that asked (a hostile subscriber must
 * not be able to release a neighbour's lease).
 */
export function applyGleans(table: BindingTable, gleans: readonly Glean[], now: Instant): BindingChange[] {
  const changes: BindingChange[] = [];
  for (const g of gleans) {
    switch (g.op) {
      case 'upsert': {
        const r = table.upsert(g.fields, now);
        if (r.kind !== 'rejected') changes.push(r);
        break;
      }
      case 'renew': {
        const b = table.find(g.fields.family, g.fields.address, g.fields.prefixLength);
        if (!b || !renews(b, g.fields)) break;
        // Only the lease end changes: port, MAC, link-local, circuit stay as gleaned.
        const r = table.upsert({ ...b, validUntil: g.fields.validUntil }, now);
        if (r.kind !== 'rejected') changes.push(r);
        break;
      }
      case 'remove': {
        const b = table.find(g.family, g.address, g.prefixLength);
        if (b && owns(b, g)) {
          table.removeAddress(g.family, g.address, g.prefixLength);
          changes.push({ kind: 'removed', binding: b });
        }
        break;
      }
      case 'forget-client':
        for (const b of table.byMac(g.mac)) {
          if (b.family !== g.family || b.port !== g.port || b.source === 'static') continue;
          table.removeAddress(b.family, b.address, b.prefixLength);
          changes.push({ kind: 'removed', binding: b });
        }
        break;
    }
  }
  return changes;
}

function owns(b: Binding, g: Extract<Glean, { op: 'remove' }>): boolean {
  if (b.port !== g.port || b.source === 'static') return false;
  if (g.mac && !bytesEqual(b.mac, g.mac)) return false;
  if (g.clientId && !bytesEqual(b.clientId, g.clientId)) return false;
  return true;
}

/** A renewal seen outside the relay names the binding's own client on its own port. */
function renews(b: Binding, f: BindingFields): boolean {
  if (b.port !== f.port || b.source === 'static' || b.kind !== f.kind) return false;
  if (b.family === 4) return b.mac !== null && f.mac !== null && bytesEqual(b.mac, f.mac);
  return b.clientId !== null && f.clientId !== null && bytesEqual(b.clientId, f.clientId) && b.iaid === f.iaid;
}
