import {
  errResult, okResult, unwrapRelays, type DecodeResult, type Dhcp4Message, type Dhcp6Message, type Dhcp6RelayMessage,
} from '../wire';
import { bytesEqual } from '../wire/address';
import { echoedCircuitId } from './dhcp4';
import type { PortMap, SubscriberPort } from './ports';

/**
 * Passive mode: which subscriber port another relay's reply belongs to.
 *
 * ISC dhcrelay puts the interface name in circuit-id (`-a`), so a reply's echoed
 * circuit-id is matched against the port's circuit_id and its device name; without
 * option 82 the giaddr must name exactly one passive port. dhcrelay's DHCPv6
 * Interface-ID is an opaque index of its own, so v6 matches the link-address against
 * the port's `link_address`; where ports share one (a subnet across ports), the port
 * is the one where the client was seen: `seenOn` asks the peer cache, which the
 * subscriber packet sockets fill in passive mode too.
 */
const passive = (p: SubscriberPort) => p.cfg.mode === 'passive';
const text = (b: Uint8Array) => String.fromCharCode(...b);

export function passivePort4(ports: PortMap, m: Dhcp4Message): SubscriberPort | null {
  if (m.op !== 2) return null;
  const candidates = [...ports.subscribers.values()].filter((p) => passive(p) && p.cfg.relay_v4);
  const circuit = echoedCircuitId(m);
  if (circuit) {
    return candidates.find((p) => bytesEqual(p.circuitId, circuit) || p.cfg.device === text(circuit)) ?? null;
  }
  const byGiaddr = candidates.filter((p) => p.cfg.giaddr && bytesEqual(p.cfg.giaddr, m.giaddr));
  return byGiaddr.length === 1 ? byGiaddr[0]! : null;
}

/**
 * The passive port of an observed RELAY-REPL, with the outermost envelope and the
 * message inside all envelopes. `inner` is a decode result: a message that does not
 * decode still names its port (the envelope does), so the caller can count the glean
 * that could not happen. Null when no port matches or an envelope has no RELAY_MSG.
 */
export function passivePort6(ports: PortMap, m: Dhcp6Message, seenOn: (port: string, peer: Uint8Array) => boolean):
  { port: SubscriberPort; relay: Dhcp6RelayMessage; inner: DecodeResult<Dhcp6Message> } | null {
  if (m.kind !== 'relay' || m.msgType !== 13) return null;
  const { relays, inner, error } = unwrapRelays(m);
  const relay = relays[0];
  if (!relay || (!inner && !error)) return null;
  const candidates = [...ports.subscribers.values()].filter((p) => passive(p) && p.cfg.relay_v6);
  const byLink = candidates.filter((p) => p.cfg.link_address && bytesEqual(p.cfg.link_address, relay.linkAddress));
  const pool = byLink.length > 0 ? byLink : candidates;
  const seen = pool.filter((p) => seenOn(p.cfg.name, relay.peerAddress));
  const port = pool.length === 1 ? pool[0] : seen.length === 1 ? seen[0] : undefined;
  return port ? { port, relay, inner: inner ? okResult(inner) : errResult(error!) } : null;
}
