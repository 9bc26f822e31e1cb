import { inSubnets } from '../bindings/subnet';
import type { PortMap, SubscriberPort } from '../relay/ports';
import { formatHex } from '../wire/address';
import { queryFamily, type QueryBy } from './message';

/**
 * Which ports a query is made for, and so which giaddr it carries and which servers it
 * goes to (RFC 4388 §6.2: giaddr is the requester's address, the answer's return
 * address; the query goes to the servers configured for that relay agent).
 *
 * - Only ports where gleand itself relays DHCPv4 with a giaddr: the answers come back
 *   to giaddr:67, which gleand reads only there (on a passive port ISC dhcrelay owns
 *   that socket and forwards answers with option 82 down to the subscriber).
 * - **ciaddr restriction** (seed 003 §7, RFC 4388 §6.2: "a local subnet of the interface
 *   specified for the client"): a query by IP is made only for ports whose `subnet4`
 *   holds the address; a port without `subnet4` never lets an address be queried.
 * - The candidate ports must share one upstream and one giaddr, or the question is
 *   ambiguous and the asker must name the port.
 */
export type Targets =
  | { readonly ok: true; readonly ports: readonly SubscriberPort[] }
  | { readonly ok: false; readonly reason: 'no-such-port' | 'port-not-relaying' | 'outside-subnets' | 'ambiguous' | 'no-server'; readonly detail: string };

export function resolvePorts(ports: PortMap, q: QueryBy, portName: string | null): Targets {
  return queryFamily(q) === 6 ? resolvePorts6(ports, q, portName) : resolvePorts4(ports, q, portName);
}

/** DHCPv6 servers a leasequery can go to: unicast ones (RFC 5007 §4.1.1; a multicast answer would come from anyone). */
export const unicastServers6 = (p: SubscriberPort): Uint8Array[] => p.upstream.dhcpv6_server.filter((a) => a[0] !== 0xff);

/**
 * The same rules for DHCPv6 (RFC 5007): ports where gleand relays DHCPv6 itself (its
 * Interface-ID is what a server's stored relay data names); by address, only ports
 * whose `subnet6` holds it (the ciaddr restriction carried over); one upstream, which
 * has a unicast `dhcpv6_server`.
 */
function resolvePorts6(ports: PortMap, q: QueryBy, portName: string | null): Targets {
  const relaying = (p: SubscriberPort) => p.cfg.relay_v6 && p.cfg.mode === 'relay';
  let candidates: SubscriberPort[];
  if (portName !== null) {
    const p = ports.port(portName);
    if (!p) return { ok: false, reason: 'no-such-port', detail: `no subscriber port '${portName}'` };
    if (!relaying(p)) return { ok: false, reason: 'port-not-relaying', detail: `port '${portName}' does not relay DHCPv6 itself (passive or relay_v6 off)` };
    candidates = [p];
  } else {
    candidates = [...ports.subscribers.values()].filter(relaying);
  }
  if (q.by === 'ip') {
    candidates = candidates.filter((p) => p.cfg.subnet6.length > 0 && inSubnets(p.cfg.subnet6, 6, q.address, 128));
    if (candidates.length === 0) {
      return { ok: false, reason: 'outside-subnets', detail: 'the address is inside no subnet6 of a port that relays DHCPv6' };
    }
  }
  if (candidates.length === 0) return { ok: false, reason: 'port-not-relaying', detail: 'no port relays DHCPv6' };
  const upstreams = new Set(candidates.map((p) => p.upstream.name));
  if (upstreams.size > 1) {
    return { ok: false, reason: 'ambiguous', detail: `ports ${candidates.map((p) => p.cfg.name).join(', ')} use different upstreams: name one with -p` };
  }
  if (unicastServers6(candidates[0]!).length === 0) {
    return { ok: false, reason: 'no-server', detail: `upstream '${candidates[0]!.upstream.name}' has no unicast dhcpv6_server` };
  }
  return { ok: true, ports: candidates };
}

function resolvePorts4(ports: PortMap, q: QueryBy, portName: string | null): Targets {
  const relaying = (p: SubscriberPort) => p.cfg.relay_v4 && p.cfg.mode === 'relay' && p.cfg.giaddr !== undefined;
  let candidates: SubscriberPort[];
  if (portName !== null) {
    const p = ports.port(portName);
    if (!p) return { ok: false, reason: 'no-such-port', detail: `no subscriber port '${portName}'` };
    if (!relaying(p)) return { ok: false, reason: 'port-not-relaying', detail: `port '${portName}' does not relay DHCPv4 itself (passive, relay_v4 off, or no giaddr)` };
    candidates = [p];
  } else {
    candidates = [...ports.subscribers.values()].filter(relaying);
  }
  if (q.by === 'ip') {
    candidates = candidates.filter((p) => p.cfg.subnet4.length > 0 && inSubnets(p.cfg.subnet4, 4, q.address, 32));
    if (candidates.length === 0) {
      return { ok: false, reason: 'outside-subnets', detail: 'the address is inside no subnet4 of a port that relays DHCPv4 (ciaddr restriction)' };
    }
  }
  if (candidates.length === 0) return { ok: false, reason: 'port-not-relaying', detail: 'no port relays DHCPv4 with a giaddr' };
  const groups = new Set(candidates.map((p) => `${p.upstream.name} ${formatHex(p.cfg.giaddr!)}`));
  if (groups.size > 1) {
    return { ok: false, reason: 'ambiguous', detail: `ports ${candidates.map((p) => p.cfg.name).join(', ')} use different upstreams or giaddrs: name one with -p` };
  }
  if (candidates[0]!.upstream.dhcpv4_server.length === 0) {
    return { ok: false, reason: 'no-server', detail: `upstream '${candidates[0]!.upstream.name}' has no dhcpv4_server` };
  }
  return { ok: true, ports: candidates };
}
