import type { BindingFields } from '../bindings/binding';
import { leaseEnd } from '../bindings/glean';
import { inSubnets } from '../bindings/subnet';
import type { PortMap, SubscriberPort } from '../relay/ports';
import type { Instant } from '../time';
import { bytesEqual, hostBitsZero } from '../wire/address';
import type { Lq6Answer, Lq6Lease, Lq6RelayHop } from '../wire';
import type { AskedFor, Refusal } from './accept';

/**
 * Is an active DHCPv6 LEASEQUERY-REPLY good enough to become bindings? The same
 * discipline as `acceptActive` for RFC 4388 (issue 8's hostile-answer list):
 *
 * - one CLIENT_DATA with the client's DUID and at least one lease with a valid lifetime
 *   (RFC 5007 §4.1.2.2); a lease of lifetime 0 is no lease (RFC 8415 §21.6);
 * - it answers the question: by address, one lease is the address or a delegated prefix
 *   holding it (RFC 5007 §4.3.2); by client id, CLIENT_DATA's CLIENTID is that DUID;
 * - the port comes from the answer: the Interface-ID (RFC 8415 §21.18) of the first relay
 *   in the stored relay data (RFC 5007 §4.1.2.4), which gleand itself put there. A server
 *   that stores no relay data (ISC dhcpd 4.4) leaves only the query: then the port only
 *   when the query was made for exactly one port, as RFC 4388's giaddr of one port;
 * - that port is one the query was made for, and **every** lease lies inside its
 *   `subnet6` (an answer with one lease outside is refused whole);
 * - the MAC is the RFC 6939 client link-layer address the relay stored (Ethernet only);
 *   a query made for a known MAC needs that MAC there. The first relay's peer-address is
 *   the client's link-local when it is one (the next hop of a delegated prefix, RFC 8415 §9.3);
 * - on demand, upstream (`framePort`): the lease must be on the port the frame came in
 *   on. An answer with no stored link-layer address (ISC dhcpd) then takes the frame's
 *   MAC: the server confirmed the address is leased and the port is proven (Interface-ID,
 *   or a subnet of that port alone), so the sender on that port is the client — the
 *   first sender of a leased address on its own port wins (README "Location on demand").
 */
export type Refusal6 = Refusal | 'no-client-id' | 'no-lease' | 'unknown-interface-id';

export type Acceptance6 =
  | { readonly ok: true; readonly fields: readonly BindingFields[]; readonly port: SubscriberPort }
  | { readonly ok: false; readonly reason: Refusal6 };

const refuse = (reason: Refusal6): Acceptance6 => ({ ok: false, reason });

const isLinkLocal = (a: Uint8Array): boolean => a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;

function covers(l: Lq6Lease, address: Uint8Array): boolean {
  return l.kind === 'address' ? bytesEqual(l.address, address) : inSubnets([{ family: 6, address: l.address, length: l.prefixLength }], 6, address, 128);
}

export function acceptActive6(asked: AskedFor, a: Lq6Answer, ports: PortMap, now: Instant): Acceptance6 {
  const cd = a.clientData;
  if (!cd) return refuse('no-lease');
  if (!cd.clientId) return refuse('no-client-id');
  const leases = cd.leases.filter((l) => l.validLifetime > 0);
  if (leases.length === 0) return refuse('no-lease');
  if (leases.some((l) => l.kind === 'prefix' && !hostBitsZero(l.address, l.prefixLength))) return refuse('no-lease');
  const q = asked.query;
  if (q.by === 'ip' && !leases.some((l) => covers(l, q.address))) return refuse('address-mismatch');
  if (q.by === 'duid' && !bytesEqual(q.duid, cd.clientId)) return refuse('client-id-mismatch');
  const hop: Lq6RelayHop | null = (cd.relayData ?? a.relayData)?.hops.at(-1) ?? null;
  let port: SubscriberPort | undefined;
  if (hop?.interfaceId) {
    port = ports.byInterface(hop.interfaceId);
    if (!port) return refuse('unknown-interface-id');
  } else if (asked.ports.length === 1) {
    port = asked.ports[0];
  } else return refuse('no-port');
  if (!port || !asked.ports.includes(port)) return refuse('port-mismatch');
  if (asked.framePort && port.cfg.name !== asked.framePort) return refuse('port-mismatch');
  const subnets = port.cfg.subnet6;
  if (subnets.length === 0 || leases.some((l) => !inSubnets(subnets, 6, l.address, l.prefixLength))) return refuse('outside-subnet');
  const ll = hop?.clientLinkLayer;
  const stored = ll && ll.type === 1 && ll.address.length === 6 ? ll.address : null;
  const mac = stored ?? (asked.framePort ? asked.expectMac : null);
  if (asked.expectMac && !bytesEqual(asked.expectMac, mac)) return refuse('mac-mismatch');
  const linkLocal = hop && isLinkLocal(hop.peerAddress) ? hop.peerAddress : null;
  const fields = leases.map((l): BindingFields => ({
    family: 6,
    kind: l.kind,
    address: l.address,
    prefixLength: l.prefixLength,
    port: port!.cfg.name,
    mac,
    clientId: cd.clientId,
    circuitId: hop?.interfaceId ?? null,
    remoteId: hop?.remoteId?.remoteId ?? null,
    linkLocal,
    // The lifetimes a server returns are what is left of the lease (RFC 5007 §4.1.2.2;
    // ISC dhcpd sends the full lifetimes, so its answers can only overstate): counted
    // from the answer.
    validUntil: leaseEnd(now, l.validLifetime),
    source: 'leasequery',
  }));
  return { ok: true, fields, port };
}
