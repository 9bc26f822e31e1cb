/**
 * Which bulk leasequery leases become bindings, and as what. The stream comes from a
 * configured server over TCP, but every field is still checked: a lease must name one
 * of our ports through the Interface-ID we put in our RELAY-FORW (RFC 8415 §21.18: it
 * is ours, echoed back), must not be another relay's (Relay-ID, RFC 5460 §5.4.1), must
 * be alive, and a delegated prefix needs a link-local next hop. Subnets and limits are
 * the bindings owner's checks, after these.
 */
import type { BindingFields } from '../bindings/binding';
import { leaseEnd } from '../bindings/glean';
import { inSubnets } from '../bindings/subnet';
import type { PortMap } from '../relay/ports';
import { addMs, type Instant } from '../time';
import { DHCP6_INFINITY } from '../wire';
import { bytesEqual } from '../wire/address';
import { answerPort } from './accept';
import type { BulkLease } from './bulk-message';
import type { LeaseAnswer } from './message';

export type BulkRefusal = 'no-relay-data' | 'unknown-port' | 'other-relay' | 'expired' | 'bad-prefix'
  // DHCPv4 (RFC 6926): the answer lacks what a binding needs, or names a place not ours.
  | 'no-address' | 'no-mac' | 'no-lease-time' | 'unknown-circuit' | 'outside-subnet';

export type BulkVerdict =
  | { readonly ok: true; readonly fields: BindingFields }
  | { readonly ok: false; readonly reason: BulkRefusal };

/**
 * Where a client sits, learnt from an earlier lease of it (a binding of the same DUID),
 * for a lease of it that came without relay data.
 */
export interface KnownClient {
  readonly port: string;
  readonly linkLocal: Uint8Array | null;
  readonly mac: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
}

export function acceptBulkLease(
  lease: BulkLease, ports: PortMap, ourRelayId: Uint8Array | null, known: KnownClient | undefined, now: Instant,
): BulkVerdict {
  // PROTOCOLS.md: one lease per CLIENT_DATA, an address and a prefix of one client in
  // separate messages: a lease without relay data is placed by its DUID's other lease.
  const relay = lease.relay;
  let place: KnownClient;
  if (relay) {
    if (relay.relayId && ourRelayId && !bytesEqual(relay.relayId, ourRelayId)) return { ok: false, reason: 'other-relay' };
    const port = relay.interfaceId ? ports.byInterface(relay.interfaceId) : undefined;
    if (!port) return { ok: false, reason: 'unknown-port' };
    const linkLocal = isLinkLocal(relay.peerAddress) ? relay.peerAddress : null;
    place = { port: port.cfg.name, linkLocal, mac: relay.mac ?? (linkLocal ? macFromEui64(linkLocal) : null), remoteId: relay.remoteId };
  } else if (known) place = known;
  else return { ok: false, reason: 'no-relay-data' };
  if (lease.validLifetime === 0) return { ok: false, reason: 'expired' };
  if (lease.kind === 'prefix' && (lease.prefixLength === 0 || lease.prefixLength > 128)) return { ok: false, reason: 'bad-prefix' };
  return {
    ok: true,
    fields: {
      family: 6,
      kind: lease.kind,
      address: lease.address,
      prefixLength: lease.prefixLength,
      port: place.port,
      mac: place.mac,
      clientId: lease.duid,
      circuitId: null,
      remoteId: place.remoteId,
      linkLocal: place.linkLocal,
      // Lifetimes arrive already reduced by the time since the last transaction (PROTOCOLS.md).
      validUntil: lease.validLifetime === DHCP6_INFINITY ? null : addMs(now, lease.validLifetime * 1000),
      source: 'leasequery',
    },
  };
}

/** fe80::/10 (RFC 4291 §2.5.6). */
const isLinkLocal = (a: Uint8Array): boolean => a.length === 16 && a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;

/**
 * The MAC inside a modified EUI-64 interface identifier (RFC 4291 Appendix A: ff:fe in
 * the middle, the universal/local bit inverted); null for any other identifier (RFC
 * 7217 stable privacy addresses, RFC 8981 temporary ones). The stored RELAY-FORW of a
 * relay that sends no Client Link-Layer Address (RFC 6939) has no other MAC in it; Kea
 * reads a client's MAC the same way (its `ipv6-link-local` MAC source).
 */
export function macFromEui64(ll: Uint8Array): Uint8Array | null {
  if (ll[11] !== 0xff || ll[12] !== 0xfe) return null;
  // Byte by byte into a new array: Uint8Array.of is the generic path (~190 B a call).
  const mac = new Uint8Array(6);
  mac[0] = ll[8]! ^ 0x02;
  mac[1] = ll[9]!;
  mac[2] = ll[10]!;
  mac[3] = ll[13]!;
  mac[4] = ll[14]!;
  mac[5] = ll[15]!;
  return mac;
}

/**
 * A DHCPLEASEACTIVE of a DHCPv4 bulk stream (RFC 6926 §6.2, PROTOCOLS.md: ciaddr the
 * lease, chaddr the client, option 51 the time left, option 82 as stored). The port
 * comes from the stored circuit-id (ours, RFC 3046 §2.2: the relay echoes its own), or
 * from giaddr when one port alone uses it; a stored relay-id that is not ours is another
 * relay's client (RFC 6925 §4). As for an RFC 4388 answer (`accept.ts`), the address must
 * lie in the port's `subnet4`, and a port without one accepts nothing.
 */
export function acceptBulkLease4(a: LeaseAnswer, ports: PortMap, ourRelayId: Uint8Array | null, now: Instant): BulkVerdict {
  if (!a.ciaddr) return { ok: false, reason: 'no-address' };
  if (!a.mac) return { ok: false, reason: 'no-mac' };
  if (a.leaseTimeS === null) return { ok: false, reason: 'no-lease-time' };
  if (a.leaseTimeS === 0) return { ok: false, reason: 'expired' };
  if (a.relayId && ourRelayId && !bytesEqual(a.relayId, ourRelayId)) return { ok: false, reason: 'other-relay' };
  const found = answerPort(a, ports);
  if (!found.ok) return { ok: false, reason: found.reason === 'unknown-circuit' ? 'unknown-circuit' : 'unknown-port' };
  const port = found.port;
  if (port.cfg.subnet4.length === 0 || !inSubnets(port.cfg.subnet4, 4, a.ciaddr, 32)) return { ok: false, reason: 'outside-subnet' };
  return {
    ok: true,
    fields: {
      family: 4, kind: 'address', address: a.ciaddr, prefixLength: 32, port: port.cfg.name, mac: a.mac,
      clientId: a.clientId, circuitId: a.circuitId, remoteId: a.remoteId, linkLocal: null,
      // Option 51 is the time left, already reduced by the time since the client's last
      // transaction (RFC 6926 §6.2, PROTOCOLS.md), counted from the message's arrival.
      validUntil: leaseEnd(now, a.leaseTimeS),
      source: 'leasequery',
    },
  };
}
