import type { Instant } from '../time';
import type { BindingFields } from './binding';

/** Why `upsert` refused a binding; each reason has its own counter. */
export type RejectReason =
  | 'invalid' // malformed field (lengths, host bits, address scope)
  | 'expired' // validUntil is not in the future
  | 'static' // a glean/leasequery tried to overwrite a configured static binding
  | 'port-full' // the port is at its caller-given limit
  | 'table-full'; // the table is at its global limit

/** The longest DHCPv4 option / DUID we keep (RFC 2132 §2: option data ≤ 255 octets). */
export const MAX_ID_LENGTH = 255;
/** Ports are interned into a 16-bit index. */
export const MAX_PORTS = 0xffff;

/**
 * Structural checks before anything is stored. Bad input is counted, not thrown
 * (CONVENTIONS 10). Returns a human-readable detail, or null when acceptable.
 */
export function invalidDetail(b: BindingFields): string | null {
  const bytes = b.family === 4 ? 4 : b.family === 6 ? 16 : 0;
  if (bytes === 0) return 'family';
  if (!(b.address instanceof Uint8Array) || b.address.length !== bytes) return 'address length';
  const max = bytes * 8;
  if (!Number.isInteger(b.prefixLength) || b.prefixLength < 1 || b.prefixLength > max) return 'prefix length';
  if (b.kind === 'address' && b.prefixLength !== max) return 'address binding must be a host length';
  if (b.kind !== 'address' && b.kind !== 'prefix') return 'kind';
  if (!hostBitsZero(b.address, b.prefixLength)) return 'host bits set';
  if (!unicastScope(b.family, b.address)) return 'not a global unicast address';
  if (typeof b.port !== 'string' || b.port.length === 0) return 'port';
  if (b.mac !== null && (b.mac.length !== 6 || (b.mac[0]! & 1) !== 0)) return 'mac';
  for (const id of [b.clientId, b.circuitId, b.remoteId]) {
    if (id !== null && (id.length === 0 || id.length > MAX_ID_LENGTH)) return 'identifier length';
  }
  // The IAID is DHCPv6's (RFC 8415 §12); an IPv4 binding has none (the table keeps no room for one).
  if (b.iaid !== undefined && (b.family !== 6 || !(Number.isInteger(b.iaid) && b.iaid >= 0 && b.iaid <= 0xffffffff))) return 'iaid';
  if (b.linkLocal !== null && (b.family !== 6 || !isLinkLocal64(b.linkLocal))) return 'link-local';
  if (b.validUntil !== null && !Number.isFinite(b.validUntil)) return 'validUntil';
  return null;
}

export function rejectReason(b: BindingFields, now: Instant): RejectReason | null {
  if (invalidDetail(b) !== null) return 'invalid';
  if (b.validUntil !== null && b.validUntil <= now) return 'expired';
  return null;
}

function hostBitsZero(addr: Uint8Array, length: number): boolean {
  for (let bit = length; bit < addr.length * 8; bit++) {
    if (addr[bit >> 3]! & (0x80 >> (bit & 7))) return false;
  }
  return true;
}

/**
 * A lease is never for 0/8, loopback, multicast, broadcast (v4) or ::, ::1,
 * link-local, multicast (v6). Keeping these out also keeps kernel entry keys derived
 * from leases disjoint from the link-local ones (see kernel/derive.ts).
 */
function unicastScope(family: 4 | 6, a: Uint8Array): boolean {
  if (family === 4) return a[0] !== 0 && a[0] !== 127 && a[0]! < 224;
  if (a[0] === 0xff) return false;
  if (a[0] === 0xfe && (a[1]! & 0xc0) === 0x80) return false;
  let high = 0;
  for (let i = 0; i < 15; i++) high |= a[i]!;
  return high !== 0 || a[15]! > 1;
}

/**
 * RFC 4291 §2.5.6: fe80::/10 followed by 54 zero bits, so only the interface id
 * (the low 64 bits) varies. The table stores just those 8 bytes.
 */
export function isLinkLocal64(a: Uint8Array): boolean {
  if (a.length !== 16 || a[0] !== 0xfe || a[1] !== 0x80) return false;
  for (let i = 2; i < 8; i++) if (a[i] !== 0) return false;
  return true;
}
