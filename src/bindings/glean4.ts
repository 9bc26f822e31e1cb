import type { Instant } from '../time';
import {
  DHCP4_OPTION, clientHardwareAddress, getDhcp4Option, getDhcp4OptionBytes, getRelayAgentInformation,
  type Dhcp4Message,
} from '../wire';
import { bytesEqual } from '../wire/address';
import type { BindingFields } from './binding';
import { leaseEnd, type Glean } from './glean';

/**
 * DHCPv4 gleaning (seed 003 §1; RFC 4388 §1): what a relayed message says about the
 * binding of its client. Only the server's DHCPACK creates or refreshes a binding —
 * one seen on RENEW or REBIND counts exactly like one on REQUEST; DHCPNAK, and the
 * client's own DHCPRELEASE / DHCPDECLINE, end it.
 */
const DHCPDECLINE = 4;
const DHCPACK = 5;
const DHCPNAK = 6;
const DHCPRELEASE = 7;

const isZero = (a: Uint8Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
};
const ethernetMac = (m: Dhcp4Message): Uint8Array | null =>
  m.htype === 1 && m.hlen === 6 ? clientHardwareAddress(m) : null;
const typeOf = (m: Dhcp4Message): number | null => {
  const t = getDhcp4Option(m, DHCP4_OPTION.MESSAGE_TYPE);
  return t && t.ok ? t.value.code : null;
};

/** A server reply (as relayed to `port`, or observed passively). */
export function gleanReply4(port: string, m: Dhcp4Message, now: Instant): Glean[] {
  const type = typeOf(m);
  const mac = ethernetMac(m);
  if (type === DHCPNAK) return mac ? [{ op: 'forget-client', family: 4, port, mac }] : [];
  if (type !== DHCPACK || isZero(m.yiaddr)) return []; // an ACK to DHCPINFORM has no yiaddr
  const lease = getDhcp4Option(m, DHCP4_OPTION.LEASE_TIME);
  // RFC 2131 §4.3.1: an ACK to a REQUEST carries the lease time; without it we cannot
  // say when the binding ends, so we do not guess.
  if (!lease || !lease.ok) return [];
  const info = getRelayAgentInformation(m);
  const subs = info && info.ok ? info.value : [];
  const circuit = subs.find((s) => s.kind === 'circuitId');
  const remote = subs.find((s) => s.kind === 'remoteId');
  const fields: BindingFields = {
    family: 4,
    kind: 'address',
    address: m.yiaddr,
    prefixLength: 32,
    port,
    mac,
    clientId: getDhcp4OptionBytes(m, DHCP4_OPTION.CLIENT_ID) ?? null,
    circuitId: circuit && circuit.kind === 'circuitId' ? circuit.circuitId : null,
    remoteId: remote && remote.kind === 'remoteId' ? remote.remoteId : null,
    linkLocal: null,
    validUntil: leaseEnd(now, lease.value),
    source: 'glean',
  };
  return [{ op: 'upsert', fields }];
}

/**
 * The address a client gives back: DHCPRELEASE names it in ciaddr (RFC 2131 §4.4.6),
 * DHCPDECLINE in the Requested IP Address option 50 (RFC 2131 §4.4.1, table 5). Null for any
 * other message, or when the field is missing.
 */
export function givenBack4(m: Dhcp4Message): Uint8Array | null {
  const type = typeOf(m);
  if (type === DHCPRELEASE) return isZero(m.ciaddr) ? null : m.ciaddr;
  if (type === DHCPDECLINE) {
    const requested = getDhcp4Option(m, DHCP4_OPTION.REQUESTED_IP);
    return requested && requested.ok ? requested.value : null;
  }
  return null;
}

/**
 * A client message on `port`: DHCPRELEASE (ciaddr) and DHCPDECLINE (option 50) end a
 * binding. `frameMac` is the Ethernet source of the frame that carried it: chaddr is
 * just a field the sender fills in, so a removal is only believed when the frame came
 * from the chaddr it names (what DHCP snooping's MAC verification checks), and the
 * binding must belong to that MAC (apply.ts).
 */
export function gleanRequest4(port: string, m: Dhcp4Message, frameMac: Uint8Array): Glean[] {
  const mac = ethernetMac(m);
  if (!mac || !bytesEqual(mac, frameMac)) return [];
  const address = givenBack4(m);
  return address ? [{ op: 'remove', family: 4, address, prefixLength: 32, port, mac }] : [];
}
