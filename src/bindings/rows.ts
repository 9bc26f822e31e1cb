import { formatIPv6, formatMac } from '../wire/address';
import type { Instant } from '../time';
import { keyOf, type Binding } from './binding';

const hex = (b: Uint8Array | null) => (b ? formatMac(b) : null); // colon-separated octets, any length

/** `gleand bindings --json`: one stable row per binding (keys only ever added). */
export function bindingRow(b: Binding, now: Instant): Record<string, unknown> {
  return {
    binding: keyOf(b),
    family: b.family,
    kind: b.kind,
    port: b.port,
    mac: b.mac ? formatMac(b.mac) : null,
    clientId: hex(b.clientId),
    ...(b.iaid !== undefined ? { iaid: b.iaid } : {}),
    circuitId: hex(b.circuitId),
    remoteId: hex(b.remoteId),
    via: b.linkLocal ? formatIPv6(b.linkLocal) : null,
    expiresInS: b.validUntil === null ? null : Math.max(0, Math.round((b.validUntil - now) / 1000)),
    source: b.source,
  };
}

/** The fields of a binding's log line. */
export function describe(b: Binding): Record<string, string | number> {
  return {
    binding: keyOf(b),
    port: b.port,
    mac: b.mac ? formatMac(b.mac) : '-',
    ...(b.linkLocal ? { via: formatIPv6(b.linkLocal) } : {}),
    source: b.source,
  };
}
