import type { Instant } from '../time';
import { findDhcp6Option, type Dhcp6Message, type Dhcp6Option } from '../wire';
import type { BindingFields } from './binding';
import { leaseEnd, type Glean } from './glean';

/**
 * DHCPv6 gleaning: a REPLY (RFC 8415 §18.3) relayed to a client carries its IA_NA
 * addresses and IA_PD prefixes with their lifetimes. valid-lifetime > 0 adds or
 * refreshes — whether it answers a REQUEST, RENEW, REBIND or a rapid-commit SOLICIT —
 * and 0 removes (RFC 8415 §18.2.10.1). An ADVERTISE promises nothing and is ignored.
 */
const REPLY = 7;
const RELEASE = 8;
const DECLINE = 9;

export interface Glean6Context {
  readonly port: string;
  /**
   * The client's link-local: RELAY-REPL peer-address, next hop of a delegated prefix.
   * Null when the peer-address is not link-local (RFC 8415 §19.1.1 copies whatever
   * source the client used): the leases are still gleaned, without a next hop.
   */
  readonly linkLocal: Uint8Array | null;
  /** The client's MAC, when the relay has seen it. */
  readonly mac: Uint8Array | null;
  readonly circuitId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
}

export function gleanReply6(ctx: Glean6Context, inner: Dhcp6Message, now: Instant): Glean[] {
  if (inner.kind !== 'client' || inner.msgType !== REPLY) return [];
  const client = findDhcp6Option(inner.options, 'clientId');
  if (!client) return [];
  const out: Glean[] = [];
  for (const ia of inner.options) {
    if (ia.kind !== 'iaNa' && ia.kind !== 'iaPd') continue;
    for (const o of ia.options) {
      const lease = leaseOf(o);
      if (!lease) continue;
      if (lease.validLifetime === 0) {
        out.push({ op: 'remove', family: 6, address: lease.address, prefixLength: lease.prefixLength, port: ctx.port, clientId: client.duid });
        continue;
      }
      const fields: BindingFields = {
        family: 6,
        kind: o.kind === 'iaAddr' ? 'address' : 'prefix',
        address: lease.address,
        prefixLength: lease.prefixLength,
        port: ctx.port,
        mac: ctx.mac,
        clientId: client.duid,
        iaid: ia.iaid,
        circuitId: ctx.circuitId,
        remoteId: ctx.remoteId,
        linkLocal: ctx.linkLocal,
        validUntil: leaseEnd(now, lease.validLifetime),
        source: 'glean',
      };
      out.push({ op: 'upsert', fields });
    }
  }
  return out;
}

/**
 * What a client's RELEASE or DECLINE gives back (RFC 8415 §18.2.6, §18.2.7): its DUID
 * and the addresses and prefixes of its IAs. Null for any other message, or without a
 * Client Identifier.
 */
export function givenBack6(m: Dhcp6Message): { duid: Uint8Array; leases: { address: Uint8Array; prefixLength: number }[] } | null {
  if (m.kind !== 'client' || (m.msgType !== RELEASE && m.msgType !== DECLINE)) return null;
  const client = findDhcp6Option(m.options, 'clientId');
  if (!client) return null;
  const leases: { address: Uint8Array; prefixLength: number }[] = [];
  for (const ia of m.options) {
    if (ia.kind !== 'iaNa' && ia.kind !== 'iaPd') continue;
    for (const o of ia.options) {
      const lease = leaseOf(o);
      if (lease) leases.push({ address: lease.address, prefixLength: lease.prefixLength });
    }
  }
  return { duid: client.duid, leases };
}

/**
 * A client's RELEASE or DECLINE ends the leases it names. A DUID is readable by anyone
 * on a shared link, so the removal also names `frameMac`, the Ethernet source of the
 * frame: only the client whose frames the binding was learnt from (its MAC) can end it
 * (apply.ts).
 */
export function gleanRequest6(port: string, m: Dhcp6Message, frameMac: Uint8Array): Glean[] {
  const given = givenBack6(m);
  if (!given) return [];
  return given.leases.map((l) => ({
    op: 'remove' as const, family: 6 as const, address: l.address, prefixLength: l.prefixLength, port, mac: frameMac, clientId: given.duid,
  }));
}

function leaseOf(o: Dhcp6Option): { address: Uint8Array; prefixLength: number; validLifetime: number } | null {
  if (o.kind === 'iaAddr') return { address: o.address, prefixLength: 128, validLifetime: o.validLifetime };
  if (o.kind === 'iaPrefix') return { address: o.prefix, prefixLength: o.prefixLength, validLifetime: o.validLifetime };
  return null;
}
