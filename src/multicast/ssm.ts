/**
 * The SSM address range (RFC 4607 §1, RFC 4604 §2: configurable, defaulting to the
 * IANA range): 232.0.0.0/8 for IPv4 unless configured otherwise; for IPv6 FF3x::/96 for
 * every scope x always, plus the configured ranges.
 */
import type { Prefix } from '../wire/address';

export class SsmRange {
  constructor(
    private readonly v4: readonly Prefix[],
    private readonly v6: readonly Prefix[],
  ) {}

  has(group: Uint8Array): boolean {
    if (group.length === 16 && isFf3xSlash96(group)) return true;
    for (const p of group.length === 4 ? this.v4 : this.v6) if (within(p, group)) return true;
    return false;
  }
}

/** FF3x::/96 (RFC 4607 §1, RFC 3306 §6): ff3x:0000:…:0000 then a 32-bit group id. */
function isFf3xSlash96(g: Uint8Array): boolean {
  if (g[0] !== 0xff || g[1]! >> 4 !== 3) return false;
  for (let i = 2; i < 12; i++) if (g[i] !== 0) return false;
  return true;
}

function within(p: Prefix, a: Uint8Array): boolean {
  if (p.address.length !== a.length) return false;
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (p.address[i] !== a[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (p.address[full]! & mask) === (a[full]! & mask);
}
