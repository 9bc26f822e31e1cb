import {
  DHCP6_OPTION, DHCP6_RELAY_FORW, DHCP6_RELAY_REPL, dhcp6Message, errResult, findDhcp6Option, okResult,
  type DecodeResult, type Dhcp6Message, type Dhcp6Option,
} from '../wire';
import { drop, pass, type Verdict } from './drop';
import type { PortMap, SubscriberPort } from './ports';

/** DHCPv6 relay agent rules (RFC 8415 §19). */

/** Messages only servers send: a subscriber port never legitimately originates them. */
const SERVER_ONLY = new Set([2 /* ADVERTISE */, 7 /* REPLY */, 10 /* RECONFIGURE */, DHCP6_RELAY_REPL,
  15 /* LEASEQUERY-REPLY */, 16 /* LEASEQUERY-DONE */, 17 /* LEASEQUERY-DATA */]);

const UNSPECIFIED = new Uint8Array(16);
/** RFC 6939 §4: link-layer type 1 (Ethernet, IANA hardware type). */
const HTYPE_ETHERNET = 1;

export interface ForwardInput {
  readonly port: SubscriberPort;
  /** The IPv6 source of the client's packet: the peer-address (RFC 8415 §19.1.1). */
  readonly source: Uint8Array;
  readonly mac: Uint8Array;
  /** The UDP payload exactly as received: RELAY_MSG carries it byte for byte. */
  readonly payload: Uint8Array;
  readonly message: Dhcp6Message;
  readonly relayId: Uint8Array | null;
}

/** A message from a subscriber port → the RELAY-FORW to send to the servers (RFC 8415 §19.1). */
export function relayForward6(i: ForwardInput): Verdict<Dhcp6Message> {
  const m = i.message;
  if (SERVER_ONLY.has(m.msgType)) return drop('wrong-direction');
  let hopCount = 0;
  let linkAddress = i.port.cfg.link_address ?? UNSPECIFIED;
  if (m.kind === 'relay') {
    // RFC 8415 §19.1.2: relaying a RELAY-FORW from a relay below us — only a trusted port has one.
    if (!i.port.cfg.trusted) return drop('untrusted-relay');
    if (m.hopCount >= i.port.cfg.max_hops) return drop('hops');
    hopCount = m.hopCount + 1;
    linkAddress = UNSPECIFIED; // §19.1.2: the Interface-ID identifies the link instead
  }
  const options: Dhcp6Option[] = [{ kind: 'interfaceId', interfaceId: i.port.interfaceId }];
  if (i.port.remoteIdV6) {
    options.push({ kind: 'remoteId', enterpriseNumber: i.port.cfg.enterprise_number, remoteId: i.port.remoteIdV6 });
  }
  if (i.relayId) options.push({ kind: 'relayId', duid: i.relayId });
  if (m.kind !== 'relay') {
    options.push({ kind: 'clientLinklayerAddr', linkLayerType: HTYPE_ETHERNET, linkLayerAddress: i.mac });
  }
  // Kept raw so the server sees exactly what the client sent (RFC 8415 §19.1.1).
  options.push({ kind: 'unknown', code: DHCP6_OPTION.RELAY_MSG, data: i.payload });
  return pass({ kind: 'relay', msgType: DHCP6_RELAY_FORW, hopCount, linkAddress, peerAddress: i.source, options });
}

export interface Delivery6 {
  readonly port: SubscriberPort;
  /** The client (or lower relay) the reply goes to, and its UDP port. */
  readonly peerAddress: Uint8Array;
  readonly destinationPort: 546 | 547;
  /** The RELAY_MSG option body exactly as the server sent it (RFC 8415 §19.2). */
  readonly payload: Uint8Array;
  /**
   * The message in it, decoded for gleaning only. When it does not decode the reply
   * is still delivered; the caller counts the glean that could not happen.
   */
  readonly inner: DecodeResult<Dhcp6Message>;
}

/** A RELAY-REPL from a server → the port (by Interface-ID) and the message to deliver (RFC 8415 §19.2). */
export function relayReply6(ports: PortMap, m: Dhcp6Message): Verdict<Delivery6> {
  if (m.kind !== 'relay' || m.msgType !== DHCP6_RELAY_REPL) return drop('wrong-direction');
  const iid = findDhcp6Option(m.options, 'interfaceId');
  const port = iid ? ports.byInterface(iid.interfaceId) : undefined;
  if (!port) return drop('no-port');
  if (!port.cfg.relay_v6 || port.cfg.mode !== 'relay') return drop('port-disabled');
  const relayMsg = findDhcp6Option(m.options, 'relayMsg');
  if (!relayMsg) return drop('malformed');
  // Built options (tests, never the wire decoder) have no bytes: encode those.
  const payload = relayMsg.message === null ? relayMsg.bytes : relayMsg.bytes ?? dhcp6Message.encode(relayMsg.message);
  return pass({
    port,
    peerAddress: m.peerAddress,
    // §19.2: a RELAY-REPL inside goes to the relay below on the server port. Read from
    // the bytes (msg-type is the first octet), so it holds for an undecodable message.
    destinationPort: payload[0] === DHCP6_RELAY_REPL ? 547 : 546,
    payload,
    inner: relayMsg.message ? okResult(relayMsg.message) : errResult(relayMsg.error),
  });
}
