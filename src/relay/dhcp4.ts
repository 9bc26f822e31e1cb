import {
  BOOTREPLY, BOOTREQUEST, DHCP4_FLAG_BROADCAST, DHCP4_OPTION, clientHardwareAddress, getDhcp4Option, getDhcp4OptionBytes,
  encodeDhcp4OptionBody, getRelayAgentInformation, insertRelayAgentInformation, insertRelayAgentInformationBodyBytes,
  stripRelayAgentInformation,
  stripRelayAgentInformationInto, strippedLength, type Dhcp4Message, type Option82Edit, type RelayAgentSubOption,
} from '../wire';
import { poolCopy } from '../wire/pool';
import { bytesEqual } from '../wire/address';
import { drop, pass, type Verdict } from './drop';
import type { PortMap, SubscriberPort } from './ports';

/**
 * DHCPv4 relay agent rules (RFC 2131 §4.1, RFC 1542 §4, RFC 3046). Pure functions
 * over decoded messages: the module around them does I/O by returning actions.
 */

const isZero = (a: Uint8Array): boolean => {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
};
/** Whether the options field (or an overloaded area) has option `code`: no body is built. */
const hasOption = (m: Dhcp4Message, code: number): boolean => getDhcp4OptionBytes(m, code) !== undefined;
/** RFC 2131 §2: hops is octet 3, giaddr octets 24–27. */
const HOPS_OFFSET = 3;
const GIADDR_OFFSET = 24;
const BROADCAST_MAC = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
const LIMITED_BROADCAST = new Uint8Array([255, 255, 255, 255]);

/** The message type (option 53), or null for BOOTP. */
export const messageType = (m: Dhcp4Message): number | null => {
  const t = getDhcp4Option(m, DHCP4_OPTION.MESSAGE_TYPE);
  return t && t.ok ? t.value.code : null;
};

/** What relaying a client message changes (RFC 2131 §4.1, RFC 1542 §4.1.1, RFC 3046 §2.1). */
interface RequestEdit {
  readonly hops: number;
  readonly giaddr: Uint8Array;
  /** Whether to add option 82: not when an inner (trusted) relay already added one. */
  readonly add82: boolean;
}

function requestEdit(port: SubscriberPort, m: Dhcp4Message): Verdict<RequestEdit> {
  if (m.op !== BOOTREQUEST) return drop('wrong-direction');
  const has82 = hasOption(m, DHCP4_OPTION.RELAY_AGENT_INFO);
  // RFC 3046 §2.1: option 82 (or a giaddr) from below an untrusted circuit is a spoof.
  if (!port.cfg.trusted && has82) return drop('untrusted-option82');
  if (!port.cfg.trusted && !isZero(m.giaddr)) return drop('untrusted-giaddr');
  // RFC 1542 §4.1.1: discard when hops reaches the configured maximum.
  if (m.hops >= port.cfg.max_hops) return drop('hops');
  return pass({
    hops: m.hops + 1,
    // RFC 1542 §4.1.1: a relay fills giaddr only when it is zero (an inner relay set it).
    giaddr: isZero(m.giaddr) ? port.cfg.giaddr! : m.giaddr,
    // RFC 3046 §2.1.1: a relay must not add a second option 82.
    add82: !has82,
  });
}

/**
 * A client message arriving on a subscriber port → the message to forward to the
 * servers: giaddr set, hops counted, option 82 added (RFC 3046 §2.1).
 */
export function relayRequest4(port: SubscriberPort, m: Dhcp4Message, relayId: Uint8Array | null): Verdict<Dhcp4Message> {
  const e = requestEdit(port, m);
  if (!e.ok) return e;
  const out: Dhcp4Message = { ...m, hops: e.value.hops, giaddr: e.value.giaddr };
  return pass(e.value.add82 ? insertRelayAgentInformation(out, agentInformation(port, relayId), KEEP_SIZE) : out);
}

/**
 * `relayRequest4` as the bytes to send, made from the bytes `m` was decoded from: the
 * message is forwarded as received with hops, giaddr and option 82 changed in place
 * (RFC 3046 §2.0), not re-encoded field by field.
 */
export function relayRequest4Bytes(port: SubscriberPort, m: Dhcp4Message, bytes: Uint8Array, relayId: Uint8Array | null): Verdict<Uint8Array> {
  const e = requestEdit(port, m);
  if (!e.ok) return e;
  const out = e.value.add82 ? insertRelayAgentInformationBodyBytes(bytes, m, agentInformationBody(port, relayId), KEEP_SIZE) : poolCopy(bytes);
  out[HOPS_OFFSET] = e.value.hops;
  out.set(e.value.giaddr, GIADDR_OFFSET);
  return pass(out);
}

const KEEP_SIZE: Option82Edit = { keepSize: true };

/**
 * The encoded option 82 body a port adds to every request, made once per port and
 * Relay-ID (a new configuration makes new ports; a new identity a new Relay-ID).
 */
const bodies = new WeakMap<SubscriberPort, { relayId: Uint8Array | null; body: Uint8Array }>();
function agentInformationBody(port: SubscriberPort, relayId: Uint8Array | null): Uint8Array {
  const cached = bodies.get(port);
  if (cached && cached.relayId === relayId) return cached.body;
  const body = encodeDhcp4OptionBody(DHCP4_OPTION.RELAY_AGENT_INFO, agentInformation(port, relayId)).slice();
  bodies.set(port, { relayId, body });
  return body;
}

function agentInformation(port: SubscriberPort, relayId: Uint8Array | null): RelayAgentSubOption[] {
  const subs: RelayAgentSubOption[] = [{ kind: 'circuitId', circuitId: port.circuitId }];
  if (port.remoteId) subs.push({ kind: 'remoteId', remoteId: port.remoteId });
  if (relayId) subs.push({ kind: 'relayId', relayId }); // RFC 6925 §4
  return subs;
}

/** Where a reply goes on the subscriber link (RFC 2131 §4.1, RFC 1542 §5.4). */
export interface Delivery4 {
  readonly port: SubscriberPort;
  readonly destination: Uint8Array;
  readonly destinationMac: Uint8Array;
}

/** The option 82 the server echoed (RFC 3046 §2.2), if any. */
export function echoedCircuitId(m: Dhcp4Message): Uint8Array | null {
  const info = getRelayAgentInformation(m);
  if (!info || !info.ok) return null;
  const c = info.value.find((s) => s.kind === 'circuitId');
  return c && c.kind === 'circuitId' ? c.circuitId : null;
}

/**
 * A server reply arriving at giaddr → the port and the addressing to deliver it.
 * The port comes from the echoed circuit-id; without one, from giaddr when exactly one
 * port uses it (several ports may share a subnet, and then only option 82 can tell).
 */
export function relayReply4(ports: PortMap, m: Dhcp4Message): Verdict<Delivery4> {
  if (m.op !== BOOTREPLY) return drop('wrong-direction');
  const circuit = echoedCircuitId(m);
  let port: SubscriberPort | undefined;
  if (circuit) port = ports.byCircuit(circuit);
  else {
    const candidates = ports.byGateway(m.giaddr);
    port = candidates.length === 1 ? candidates[0] : undefined;
  }
  if (!port || !port.cfg.giaddr || !bytesEqual(port.cfg.giaddr, m.giaddr)) return drop('no-port');
  if (!port.cfg.relay_v4 || port.cfg.mode !== 'relay') return drop('port-disabled');
  // Read from the reply as received: removing option 82 changes none of what addressing reads.
  return pass({ port, ...addressing(m) });
}

/** RFC 3046 §2.2: the relay removes option 82 before relaying to the client, keeping the size. */
const STRIP_82: Option82Edit = { keepSize: true };

/** The server's reply as delivered to the client (option 82 removed). */
export const deliveredReply4 = (m: Dhcp4Message): Dhcp4Message => stripRelayAgentInformation(m, STRIP_82);

/** Octets of the delivered reply, and the writer of it from the bytes `m` was decoded from. */
export const deliveredReply4Length = (m: Dhcp4Message): number => strippedLength(m, STRIP_82);
export const writeDeliveredReply4 = (bytes: Uint8Array, m: Dhcp4Message, out: Uint8Array, at: number): void =>
  stripRelayAgentInformationInto(bytes, m, STRIP_82, out, at);


/**
 * RFC 2131 §4.1 ("If the 'giaddr' field is zero…" read from the relay's side, as
 * RFC 1542 §5.4 has it), in the RFC's order: DHCPNAK is always broadcast; a client
 * with a ciaddr gets unicast there (it can receive unicast, whatever its broadcast
 * flag says); a broadcast-flagged reply is broadcast; otherwise unicast to yiaddr at
 * chaddr — possible without ARP because the frame is addressed to chaddr directly.
 */
function addressing(m: Dhcp4Message): { destination: Uint8Array; destinationMac: Uint8Array } {
  const mac = clientHardwareAddress(m);
  const ethernet = m.htype === 1 && mac.length === 6;
  const nak = messageType(m) === 6;
  if (nak || !ethernet) return { destination: LIMITED_BROADCAST, destinationMac: BROADCAST_MAC };
  if (!isZero(m.ciaddr)) return { destination: m.ciaddr, destinationMac: mac };
  if ((m.flags & DHCP4_FLAG_BROADCAST) !== 0) return { destination: LIMITED_BROADCAST, destinationMac: BROADCAST_MAC };
  if (!isZero(m.yiaddr)) return { destination: m.yiaddr, destinationMac: mac };
  return { destination: LIMITED_BROADCAST, destinationMac: BROADCAST_MAC };
}
