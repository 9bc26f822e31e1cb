import type { Binding } from '../bindings/binding';
import { givenBack4 } from '../bindings/glean4';
import { givenBack6 } from '../bindings/glean6';
import type { Dhcp4Message, Dhcp6Message } from '../wire';
import { bytesEqual } from '../wire/address';
import type { SubscriberPort } from './ports';

/**
 * DHCP snooping's check of a client's RELEASE and DECLINE (Cisco "ip dhcp snooping":
 * on an untrusted port, a DHCPRELEASE or DHCPDECLINE whose binding is on another port
 * or another MAC is dropped). The server believes any of them — it ends or abandons
 * the lease named (RFC 2131 §4.3.3–§4.3.4, RFC 8415 §18.3.7–§18.3.8) — so relaying a
 * forged one for a neighbour's address would make the server hand that address out
 * again while gleand still routes it to the neighbour.
 *
 * Judged against the binding of each address given back: it must be on this port, and
 * on an untrusted port from the MAC the frame came from (a trusted port has a relay
 * below it, whose MAC every frame carries); for DHCPv6 the DUID must be the binding's
 * too. An address gleand holds no binding for is the server's to judge, as before.
 */
export type FindBinding = (family: 4 | 6, address: Uint8Array, prefixLength: number) => Binding | null;

/** The binding of another client that this DHCPRELEASE / DHCPDECLINE names, or null. */
export function foreignRelease4(port: SubscriberPort, m: Dhcp4Message, frameMac: Uint8Array, find: FindBinding): Binding | null {
  const address = givenBack4(m);
  const b = address ? find(4, address, 32) : null;
  return b && !ownedBy(b, port, frameMac, null) ? b : null;
}

/** The first binding of another client that this RELEASE / DECLINE names, or null. */
export function foreignRelease6(port: SubscriberPort, m: Dhcp6Message, frameMac: Uint8Array, find: FindBinding): Binding | null {
  const given = givenBack6(m);
  if (!given) return null;
  for (const l of given.leases) {
    const b = find(6, l.address, l.prefixLength);
    if (b && !ownedBy(b, port, frameMac, given.duid)) return b;
  }
  return null;
}

function ownedBy(b: Binding, port: SubscriberPort, frameMac: Uint8Array, duid: Uint8Array | null): boolean {
  if (b.port !== port.cfg.name) return false;
  if (!port.cfg.trusted && b.mac && !bytesEqual(b.mac, frameMac)) return false;
  if (duid && b.clientId && !bytesEqual(b.clientId, duid)) return false;
  return true;
}
