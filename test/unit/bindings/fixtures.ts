import type { BindingFields } from '../../../src/bindings/binding';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';
import { type Instant, instant } from '../../../src/time';

export const v4 = (text: string): Uint8Array => parseIPv4(text)!;
export const v6 = (text: string): Uint8Array => parseIPv6(text)!;
export const mac = (n: number): Uint8Array => Uint8Array.of(0x02, 0, 0, 0, (n >> 8) & 0xff, n & 0xff);

/** An IPv4 lease on `port`, valid until `until` ms. */
export function lease4(addr: string, port: string, m: number | null, until: number | null, extra: Partial<BindingFields> = {}): BindingFields {
  return {
    family: 4,
    kind: 'address',
    address: v4(addr),
    prefixLength: 32,
    port,
    mac: m === null ? null : mac(m),
    clientId: null,
    circuitId: null,
    remoteId: null,
    linkLocal: null,
    validUntil: until === null ? null : instant(until),
    source: 'glean',
    ...extra,
  };
}

/** An IPv6 IA_NA address (/128) or IA_PD prefix. */
export function lease6(addr: string, len: number, port: string, m: number | null, until: number | null, extra: Partial<BindingFields> = {}): BindingFields {
  return {
    family: 6,
    kind: len === 128 ? 'address' : 'prefix',
    address: v6(addr),
    prefixLength: len,
    port,
    mac: m === null ? null : mac(m),
    clientId: null,
    circuitId: null,
    remoteId: null,
    linkLocal: m === null ? null : v6(`fe80::${m.toString(16)}`),
    validUntil: until === null ? null : (until as Instant),
    source: 'glean',
    ...extra,
  };
}

import { prng } from '../prng';
export { prng };
