import type { Glean } from '../bindings/glean';
import { gleanReply4 } from '../bindings/glean4';
import { gleanReply6 } from '../bindings/glean6';
import type { Instant } from '../time';
import { DHCP4_OPTION, getDhcp4Option, type Dhcp4Message, type Dhcp6Message } from '../wire';
import { bytesEqual } from '../wire/address';

/**
 * Renewals read from server replies that cross the router without the relay.
 *
 * A client that knows its server unicasts to it: a DHCPv4 client in RENEWING state
 * (RFC 2131 §4.3.2, §4.4.5), a DHCPv6 client the server gave its Server Unicast option
 * (RFC 8415 §18.2.10, §21.12). On a relay-mode port gleand relays that too (module.ts;
 * the verify chain drops it there), so its answer comes back through the relay. On a
 * passive port the kernel forwards it from a verified source and the server answers
 * the client directly: the binding is extended from that reply as it leaves the
 * subscriber port (the port's packet socket sees the frames the router sends out of it).
 */

const UNSPECIFIED4 = new Uint8Array(4);
const DHCPACK = 5;
const REPLY = 7;

/**
 * A server's DHCPACK leaving `port` for `destination`: the renewal of a RENEWING client
 * (RFC 2131 §4.3.2: the server unicasts the ACK to ciaddr when giaddr is zero, §4.1).
 * It is read only when it is self-consistent — unicast to the very address it leases
 * (yiaddr), ciaddr zero or that address (RFC 2131 Table 3) — and it may only renew the
 * binding of that address whose MAC is chaddr (a `renew` glean, apply.ts).
 */
export function renewals4(port: string, m: Dhcp4Message, destination: Uint8Array, now: Instant): Glean[] {
  if (m.op !== 2) return [];
  const type = getDhcp4Option(m, DHCP4_OPTION.MESSAGE_TYPE);
  if (!type || !type.ok || type.value.code !== DHCPACK) return [];
  if (!bytesEqual(m.yiaddr, destination)) return [];
  if (!bytesEqual(m.ciaddr, UNSPECIFIED4) && !bytesEqual(m.ciaddr, m.yiaddr)) return [];
  return asRenewals(gleanReply4(port, m, now));
}

/**
 * A server's REPLY leaving `port` for a client that renewed by unicast (RFC 8415
 * §18.3.10). Each lease in it may only renew the binding that already belongs to the
 * same DUID and IAID on this port; a valid-lifetime of 0 ends a binding of that DUID
 * (RFC 8415 §18.2.10.1), as it would through the relay.
 */
export function renewals6(port: string, m: Dhcp6Message, now: Instant): Glean[] {
  if (m.kind !== 'client' || m.msgType !== REPLY) return [];
  // No link-local, MAC or relay options are known here: renew keeps the binding's own.
  return asRenewals(gleanReply6({ port, linkLocal: null, mac: null, circuitId: null, remoteId: null }, m, now));
}

const asRenewals = (gleans: readonly Glean[]): Glean[] =>
  gleans.flatMap((g): Glean[] => (g.op === 'upsert' ? [{ op: 'renew', fields: g.fields }] : g.op === 'remove' ? [g] : []));
