import type { BindingFields } from '../bindings/binding';
import { leaseEnd } from '../bindings/glean';
import { inSubnets } from '../bindings/subnet';
import type { PortMap, SubscriberPort } from '../relay/ports';
import type { Instant } from '../time';
import { bytesEqual } from '../wire/address';
import type { LeaseAnswer, QueryBy } from './message';

/**
 * Is a DHCPLEASEACTIVE good enough to become a binding? Everything in it is the
 * server's say-so about someone else's location, and a wrong answer would route a
 * subscriber's addresses to another port and admit its source there. So (RFC 4388 §7,
 * seed 003 §7 — and the hostile-answer list of issue 8):
 *
 * - the answer names the address (ciaddr), an Ethernet MAC (chaddr) and a lease time
 *   (RFC 4388 §6.4.2: no option 51 means no active lease, e.g. a reservation);
 * - it answers the question asked: by IP, ciaddr is the queried address; by MAC, chaddr
 *   is the queried MAC; by client id, option 61 (when returned) is the queried one; and a
 *   by-IP query made for a known MAC needs that MAC in chaddr;
 * - the port comes from the answer, never from the query alone: the stored option 82's
 *   circuit-id names it (RFC 3046 §2.2, as the relay finds a reply's port); without
 *   option 82, the giaddr only when exactly one port uses it (ports share subnets);
 * - that port is one the query was made for, and the address lies inside its `subnet4`.
 */
export type Refusal =
  | 'no-address' | 'no-lease-time' | 'no-mac' | 'address-mismatch' | 'mac-mismatch' | 'client-id-mismatch'
  | 'unknown-circuit' | 'no-port' | 'port-mismatch' | 'outside-subnet';

/** What the module knows about the question when the answer comes. */
export interface AskedFor {
  readonly query: QueryBy;
  /** The ports the query was made for (`-p`, or every port whose subnet4 holds the address). */
  readonly ports: readonly SubscriberPort[];
  /** The MAC the query was triggered for (a by-IP query for a known client); null: none. */
  readonly expectMac: Uint8Array | null;
  /**
   * On demand, upstream: the port the unverified frame came in on (its MAC is
   * `expectMac`). DHCPv6 only (accept6.ts): the answer must put the lease on that port.
   */
  readonly framePort?: string | null;
}

export type Acceptance =
  | { readonly ok: true; readonly fields: BindingFields; readonly port: SubscriberPort }
  | { readonly ok: false; readonly reason: Refusal };

const refuse = (reason: Refusal): Acceptance => ({ ok: false, reason });

export function acceptActive(asked: AskedFor, a: LeaseAnswer, ports: PortMap, now: Instant): Acceptance {
  if (!a.ciaddr) return refuse('no-address');
  if (a.leaseTimeS === null) return refuse('no-lease-time');
  if (!a.mac) return refuse('no-mac');
  const q = asked.query;
  if (q.by === 'ip' && !bytesEqual(q.address, a.ciaddr)) return refuse('address-mismatch');
  if (q.by === 'mac' && !bytesEqual(q.mac, a.mac)) return refuse('mac-mismatch');
  if (asked.expectMac && !bytesEqual(asked.expectMac, a.mac)) return refuse('mac-mismatch');
  if (q.by === 'client-id' && a.clientId && !bytesEqual(q.clientId, a.clientId)) return refuse('client-id-mismatch');
  const found = answerPort(a, ports);
  if (!found.ok) return found;
  const port = found.port;
  if (!asked.ports.includes(port)) return refuse('port-mismatch');
  // ciaddr restriction on the way back too: a port with no subnet4 accepts nothing.
  if (port.cfg.subnet4.length === 0 || !inSubnets(port.cfg.subnet4, 4, a.ciaddr, 32)) return refuse('outside-subnet');
  const fields: BindingFields = {
    family: 4,
    kind: 'address',
    address: a.ciaddr,
    prefixLength: 32,
    port: port.cfg.name,
    mac: a.mac,
    clientId: a.clientId ?? (q.by === 'client-id' ? q.clientId : null),
    circuitId: a.circuitId,
    remoteId: a.remoteId,
    linkLocal: null,
    // Option 51 is the time remaining (RFC 4388 §6.4.2), counted from the answer.
    validUntil: leaseEnd(now, a.leaseTimeS),
    source: 'leasequery',
  };
  return { ok: true, fields, port };
}

/** The port an answer names: its stored circuit-id, else its giaddr when one port alone uses it. */
export function answerPort(a: LeaseAnswer, ports: PortMap): { ok: true; port: SubscriberPort } | { ok: false; reason: Refusal } {
  if (a.circuitId) {
    const port = ports.byCircuit(a.circuitId);
    return port ? { ok: true, port } : refuse('unknown-circuit') as { ok: false; reason: Refusal };
  }
  const byGiaddr = ports.byGateway(a.giaddr);
  return byGiaddr.length === 1 ? { ok: true, port: byGiaddr[0]! } : refuse('no-port') as { ok: false; reason: Refusal };
}
