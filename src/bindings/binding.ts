import { formatPrefix, parseIPv4, parseIPv6 } from '../wire/address';
import type { Instant } from '../time';

/** Where a binding was learnt. `static` bindings come from configuration and win. */
export type BindingSource = 'glean' | 'leasequery' | 'static';

/**
 * One leased thing: an IPv4 address, an IPv6 address (IA_NA) or a delegated IPv6
 * prefix (IA_PD), and where its client sits.
 *
 * A binding is *valid while* `now < validUntil` (RFC 2131 §3.1 lease time, RFC 8415
 * §21.6 valid-lifetime); `validUntil === null` is an infinite lease (0xffffffff).
 */
export interface Binding {
  readonly family: 4 | 6;
  readonly kind: 'address' | 'prefix';
  /** 4 or 16 bytes; for a prefix the host bits are zero. */
  readonly address: Uint8Array;
  /** 32 / 128 for addresses; the delegated length for prefixes (RFC 8415 §21.22). */
  readonly prefixLength: number;
  /** Subscriber port name (the UCI `subscriber` section). */
  readonly port: string;
  /**
   * Client hardware address, 6 bytes: DHCPv4 `chaddr` (RFC 2131 §2), or the DHCPv6
   * Client Link-Layer Address (RFC 6939) / the source MAC of the client's frame.
   */
  readonly mac: Uint8Array | null;
  /** DHCPv4 client identifier (RFC 2132 §9.14, option 61) or the DHCPv6 DUID (RFC 8415 §11). */
  readonly clientId: Uint8Array | null;
  /** DHCPv6 IAID of the IA_NA / IA_PD (RFC 8415 §12). */
  readonly iaid?: number;
  /** Relay Agent Information sub-options (RFC 3046 §3.1 / §3.2; RFC 4649 for v6 Remote-ID). */
  readonly circuitId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  /**
   * The IPv6 client's link-local address: the `peer-address` of RELAY-FORW
   * (RFC 8415 §9.3). It is the next hop of a delegated prefix. Always null for v4.
   */
  readonly linkLocal: Uint8Array | null;
  /** Instant the lease ends; `null` is infinite. */
  readonly validUntil: Instant | null;
  readonly source: BindingSource;
  /** Instant of the last upsert that touched this binding. */
  readonly updatedAt: Instant;
}

/**
 * The fields of a binding its kernel entries are derived from (src/kernel/derive.ts):
 * what a reconcile reads of each of 200k bindings, three times (once per entry kind),
 * without the identifiers and times a whole `Binding` copies out of the table.
 */
export type KernelFacts = Pick<Binding, 'family' | 'kind' | 'address' | 'prefixLength' | 'port' | 'mac' | 'linkLocal'>;

/** What a gleaner hands to `BindingTable.upsert`; the table stamps `updatedAt`. */
export type BindingFields = Omit<Binding, 'updatedAt'> & { readonly updatedAt?: Instant };

/**
 * Stable key: the address or prefix in canonical text, `192.0.2.7/32`,
 * `2001:db8:1::/56` (RFC 5952). The family is implied by the text.
 */
export const bindingKey = (family: 4 | 6, address: Uint8Array, prefixLength: number): string =>
  formatPrefix({ family, address, length: prefixLength });

export const keyOf = (b: Pick<Binding, 'family' | 'address' | 'prefixLength'>): string =>
  bindingKey(b.family, b.address, b.prefixLength);

export interface ParsedKey {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly prefixLength: number;
}

/** Inverse of `bindingKey`; `null` on anything that is not `address/length`. */
export function parseBindingKey(key: string): ParsedKey | null {
  const slash = key.indexOf('/');
  if (slash < 0) return null;
  const text = key.slice(0, slash);
  const lenText = key.slice(slash + 1);
  const family: 4 | 6 = text.includes(':') ? 6 : 4;
  const address = family === 4 ? parseIPv4(text) : parseIPv6(text);
  if (!address || !/^\d{1,3}$/.test(lenText)) return null;
  const prefixLength = Number(lenText);
  if (prefixLength > (family === 4 ? 32 : 128)) return null;
  return { family, address, prefixLength };
}

