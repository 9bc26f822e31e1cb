import type { Prefix } from '../config/types';

/**
 * Whether a leased address or delegated prefix lies wholly inside one of a port's
 * subnets of its family. An empty list is no restriction (the operator did not say).
 * A prefix shorter than the subnet is outside it: it would cover addresses the port
 * does not own.
 */
export function inSubnets(subnets: readonly Prefix[], family: 4 | 6, address: Uint8Array, prefixLength: number): boolean {
  let any = false;
  for (const s of subnets) {
    if (s.family !== family) continue;
    any = true;
    if (prefixLength >= s.length && samePrefix(s.address, address, s.length)) return true;
  }
  return !any;
}

function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  const whole = bits >> 3;
  for (let i = 0; i < whole; i++) if (a[i] !== b[i]) return false;
  const rest = bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[whole]! & mask) === (b[whole]! & mask);
}
