/**
 * DHCPv6 Leasequery as the on-demand client uses it (RFC 5007): the query it sends and
 * the one-line verdict it draws from a server's LEASEQUERY-REPLY. The bytes are built
 * and read by the wire codec (`src/wire/dhcp6-leasequery.ts`), shared with the bulk
 * client.
 */
import {
  DHCP6_STATUS, LINK_UNSPECIFIED, buildLeasequery6, cltIsAbsolute, dhcp6StatusName, type Lq6Answer, type Lq6Query,
} from '../wire';
import { formatHex, formatIPv6, formatMac } from '../wire/address';
import type { QueryBy } from './message';

/** The RFC 5007 §4.1.2.1 query for a `gleand query` question (by address, or by DUID). */
export function lq6Query(q: QueryBy, linkAddress: Uint8Array | null): Lq6Query | null {
  const link = linkAddress ?? LINK_UNSPECIFIED;
  if (q.by === 'ip' && q.address.length === 16) return { by: 'address', address: q.address, linkAddress: link };
  if (q.by === 'duid') return { by: 'client-id', duid: q.duid, linkAddress: link };
  return null;
}

export { buildLeasequery6 };

/**
 * How a reply counts (RFC 5007 §4.3.2, §4.3.3):
 * - Success with CLIENT_DATA holding a lease: **active**;
 * - Success without CLIENT_DATA: the server has **no binding** (a negative answer, like
 *   DHCPLEASEUNKNOWN of RFC 4388);
 * - NotConfigured: the server is not configured for the address / link — ISC dhcpd 4.4
 *   says so for every delegated prefix (PROTOCOLS.md); negative, cached as such;
 * - Success with LQ_CLIENT_LINK instead: the client has bindings on several links and the
 *   query must name one — not an answer about a lease;
 * - any other status (UnknownQueryType — ISC dhcpd for every query by client id —,
 *   MalformedQuery, NotAllowed, UnspecFail): an error of the server, never cached.
 */
export type Lq6Verdict = 'active' | 'unknown' | 'error';

export function lq6Verdict(a: Lq6Answer): { verdict: Lq6Verdict; type: string } {
  if (a.status === DHCP6_STATUS.Success) {
    if (a.clientData && a.clientData.leases.length > 0) return { verdict: 'active', type: 'active' };
    if (a.clientLinks && a.clientLinks.length > 0) return { verdict: 'error', type: 'client-links' };
    return { verdict: 'unknown', type: 'no-binding' };
  }
  if (a.status === DHCP6_STATUS.NotConfigured) return { verdict: 'unknown', type: 'NotConfigured' };
  return { verdict: 'error', type: dhcp6StatusName(a.status) };
}

/**
 * The CLT_TIME rank among servers (RFC 5007 §4.1.2.3: seconds since the client's last
 * transaction; the smallest is the most recent). ISC dhcpd's absolute time cannot be
 * compared with anything: it ranks as unknown.
 */
export function lq6Rank(a: Lq6Answer): number {
  const clt = a.clientData?.cltTime ?? null;
  return clt === null || cltIsAbsolute(clt) ? Number.POSITIVE_INFINITY : clt;
}

const text = (b: Uint8Array | null): string | null =>
  b === null ? null : b.every((x) => x >= 0x20 && x < 0x7f) ? String.fromCharCode(...b) : formatHex(b);

/** One server's v6 answer as `gleand query` prints it (JSON-safe). */
export function describeAnswer6(a: Lq6Answer): Record<string, unknown> {
  const cd = a.clientData;
  const hop = (cd?.relayData ?? a.relayData)?.hops.at(-1) ?? null;
  const clt = cd?.cltTime ?? null;
  const ll = hop?.clientLinkLayer;
  return {
    type: lq6Verdict(a).type,
    status: dhcp6StatusName(a.status),
    statusMessage: a.statusMessage || null,
    leases: (cd?.leases ?? []).map((l) => ({
      lease: `${formatIPv6(l.address)}/${l.prefixLength}`, validS: l.validLifetime, preferredS: l.preferredLifetime,
    })),
    clientId: cd?.clientId ? formatHex(cd.clientId) : null,
    cltS: clt === null || cltIsAbsolute(clt) ? null : clt,
    cltAbsolute: clt !== null && cltIsAbsolute(clt) ? clt : null,
    interfaceId: text(hop?.interfaceId ?? null),
    mac: ll && ll.type === 1 && ll.address.length === 6 ? formatMac(ll.address) : null,
    peerAddress: hop ? formatIPv6(hop.peerAddress) : null,
    clientLinks: a.clientLinks?.map((x) => formatIPv6(x)) ?? null,
  };
}
