import type { Prefix } from '../wire/address';

/**
 * Is a gleaned lease inside the port's configured subnets (`subnet4` / `subnet6`)?
 *
 * A server can hand out an address from the wrong pool (a misconfigured shared
 * network, a stale reservation); a relay that installed it would route and admit a
 * source that does not belong on this port. So a binding is acceptable only when it
 * lies *entirely* within one subnet of its own family:
 *
 * - an address is a host-length binding (/32, /128) and must fall inside a subnet;
 * - a delegated prefix (RFC 8415 §6.3) must be as long as or longer than the subnet
 *   and share its first `subnet.length` bits — a /56 inside a /40 PD pool is
 *   accepted, a /48 that contains the /56 subnet is not (it reaches past the pool);
 * - bits of `address` past `prefixLength` are ignored (a prefix's host bits say
 *   nothing about where the prefix is);
 * - an empty list for the family means "no restriction" (the option's default);
 *   subnets of the other family never match.
 *
 * Pure: the bindings owner calls it before a binding is stored and counts a refusal
 * as `rejectedSubnet`.
 */
export function inSubnets(
  subnets: readonly Prefix[], family: 4 | 6, address: Uint8Array, prefixLength: number,
): boolean {
  const bits = family === 4 ? 32 : 128;
  if (address.length !== bits / 8 || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
    return false; // malformed input is never inside anything
  }
  // A loop, not filter + some: called for every binding stored (a bulk restore: 100k),
  // where the array and the closure per call were ~4% of the core's allocation.
  let ofFamily = false;
  for (const s of subnets) {
    if (s.family !== family) continue;
    if (s.length <= prefixLength && samePrefix(s.address, address, s.length)) return true;
    ofFamily = true;
  }
  return !ofFamily;
}

/** The first `length` bits of `a` and `b` are equal. */
function samePrefix(a: Uint8Array, b: Uint8Array, length: number): boolean {
  if (a.length !== b.length) return false;
  const whole = length >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return ((a[whole]! ^ b[whole]!) & mask) === 0;
}
