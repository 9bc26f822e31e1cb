import type { Glean } from '../bindings/glean';
import { gleanReply4 } from '../bindings/glean4';
import { gleanReply6 } from '../bindings/glean6';
import type { Instant } from '../time';
import { DHCP4_OPTION, getDhcp4Option, type Dhcp4Message, type Dhcp6Message } from '../wire';
import { bytesEqual, parseIPv6 } from '../wire/address';

/**
 * DHCP traffic that does not need the relay: which client requests gleand relays, and
 * the renewals it reads from server replies that cross the router instead.
 *
 * A relay agent handles what a client broadcasts (RFC 2131 §4.1: BOOTREQUESTs to the
 * limited broadcast) or multicasts to All_DHCP_Relay_Agents_and_Servers (RFC 8415 §19,
 * §7.1). A client that knows its server unicasts to it: a DHCPv4 client in RENEWING
 * state (RFC 2131 §4.3.2, §4.4.5), a DHCPv6 client the server gave its Server Unicast
 * option (RFC 8415 §18.2.10, §21.12). The kernel forwards that like any packet from a
 * verified source, and the server answers the client directly; relaying a copy as well
 * made the server see each renewal twice. So the relay leaves it to the kernel, and the
 * binding is extended from the server's reply as it leaves the subscriber port (the
 * port's packet socket sees the frames the router sends out of it).
 */

const LIMITED_BROADCAST = Uint8Array.of(255, 255, 255, 255);
const UNSPECIFIED4 = new Uint8Array(4);
const ALL_DHCP_RELAY_AGENTS_AND_SERVERS = parseIPv6('ff02::1:2')!;
const DHCPACK = 5;
const REPLY = 7;

/** RFC 2131 §4.1: a client's broadcast BOOTREQUEST is the relay's; a unicast is not. */
export const relaysRequest4 = (destination: Uint8Array): boolean => bytesEqual(destination, LIMITED_BROADCAST);

/**
 * RFC 8415 §19: a relay forwards what clients send to ff02::1:2. It also forwards a
 * unicast sent from a link-local source to an address beyond the link: a router must
 * not forward that (RFC 4291 §2.5.6), so the relay is the only way it reaches a server,
 * and it cannot arrive twice. ISC dhclient -6 sends its Server Unicast renewals so (its
 * socket is bound to the link-local).
 */
export function relaysRequest6(source: Uint8Array, destination: Uint8Array): boolean {
  if (bytesEqual(destination, ALL_DHCP_RELAY_AGENTS_AND_SERVERS)) return true;
  return isLinkLocal6(source) && !isLinkLocal6(destination) && destination[0] !== 0xff;
}

/** fe80::/10 (RFC 4291 §2.5.6). */
const isLinkLocal6 = (a: Uint8Array): boolean => a[0] === 0xfe && (a[1]! & 0xc0) === 0x80;

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
