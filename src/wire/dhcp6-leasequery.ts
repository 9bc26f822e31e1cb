/**
 * DHCPv6 Leasequery messages (RFC 5007) and Bulk Leasequery messages (RFC 5460): the
 * query a requestor builds, and a checked view of what a server answers. The options
 * themselves (44 LQ_QUERY, 45 CLIENT_DATA, 46 CLT_TIME, 47 LQ_RELAY_DATA,
 * 48 LQ_CLIENT_LINK, 53 RELAY_ID) are rows of the one descriptor table in
 * `dhcp6-options.ts`; this module only composes them. Used by the UDP client (RFC 5007)
 * and the bulk client over TCP (RFC 5460), whose DATA messages carry the same
 * CLIENT_DATA.
 *
 * LEASEQUERY (RFC 5007 §4.1.2):
 *    msg-type 14 | transaction-id | CLIENTID (the requestor's DUID) | LQ_QUERY [| ORO]
 *
 * OPTION_LQ_QUERY (RFC 5007 §4.1.2.1):
 *     0                   1                   2                   3
 *     0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |       OPTION_LQ_QUERY (44)    |         option-len            |
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |   query-type  |                                               |
 *    +-+-+-+-+-+-+-+-+                                               |
 *    |                         link-address (16)                     |
 *    |               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *    |               |                                               .
 *    +-+-+-+-+-+-+-+-+                                               .
 *    .                       query-options                           .
 *    +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * LEASEQUERY-REPLY 15 (RFC 5007 §4.1.2), LEASEQUERY-DATA 17 and LEASEQUERY-DONE 16
 * (RFC 5460 §5.2; PROTOCOLS.md: some public tables swap 16 and 17):
 *    msg-type | transaction-id | SERVERID, CLIENTID, STATUS_CODE?, CLIENT_DATA?,
 *    LQ_RELAY_DATA? (over UDP beside CLIENT_DATA), LQ_CLIENT_LINK?
 * CLIENT_DATA (§4.1.2.2): CLIENTID, IAADDR*, IAPREFIX*, CLT_TIME, and over TCP
 * (RFC 5460 §5.4.2, as real servers do) LQ_RELAY_DATA inside it.
 *
 * Nothing here throws on what a server sent: `readLeasequeryAnswer` returns a typed
 * refusal naming what was wrong (CONVENTIONS 3).
 */
import {
  DHCP6_OPTION, DHCP6_QUERY_TYPE, DHCP6_STATUS, filterDhcp6Options, findDhcp6Option, type Dhcp6Option,
} from './dhcp6-options';
import type { Dhcp6Message, Dhcp6RelayMessage } from './dhcp6';

const find = findDhcp6Option;

/** RFC 5007 §4.2 (14, 15), RFC 5460 §5.2 (16 DONE, 17 DATA). */
export const DHCP6_LEASEQUERY_TYPE = { LEASEQUERY: 14, LEASEQUERY_REPLY: 15, LEASEQUERY_DONE: 16, LEASEQUERY_DATA: 17 } as const;

/** A transaction id is 24 bits (RFC 8415 §8). */
export const DHCP6_XID_MASK = 0xffffff;

/** The unspecified link-address: "the server determines the link" (RFC 5007 §4.1.2.1). */
export const LINK_UNSPECIFIED = new Uint8Array(16);

/** What a LEASEQUERY asks (RFC 5007 §4.1.2.1, RFC 5460 §5.3). */
export type Lq6Query =
  /** QUERY_BY_ADDRESS: an address (or one inside a delegated prefix). */
  | { readonly by: 'address'; readonly address: Uint8Array; readonly linkAddress: Uint8Array }
  /** QUERY_BY_CLIENTID: the client's DUID. */
  | { readonly by: 'client-id'; readonly duid: Uint8Array; readonly linkAddress: Uint8Array }
  /** QUERY_BY_RELAY_ID (bulk): every binding a relay with this DUID relayed. */
  | { readonly by: 'relay-id'; readonly duid: Uint8Array; readonly linkAddress: Uint8Array }
  /** QUERY_BY_LINK_ADDRESS (bulk). */
  | { readonly by: 'link-address'; readonly linkAddress: Uint8Array }
  /** QUERY_BY_REMOTE_ID (bulk): RFC 4649 enterprise number + remote-id. */
  | { readonly by: 'remote-id'; readonly enterpriseNumber: number; readonly remoteId: Uint8Array; readonly linkAddress: Uint8Array };

const QUERY_TYPE: Record<Lq6Query['by'], number> = {
  address: DHCP6_QUERY_TYPE.BY_ADDRESS,
  'client-id': DHCP6_QUERY_TYPE.BY_CLIENTID,
  'relay-id': DHCP6_QUERY_TYPE.BY_RELAY_ID,
  'link-address': DHCP6_QUERY_TYPE.BY_LINK_ADDRESS,
  'remote-id': DHCP6_QUERY_TYPE.BY_REMOTE_ID,
};

function queryOptions(q: Lq6Query): Dhcp6Option[] {
  switch (q.by) {
    // RFC 5007 §4.1.2.1: the address in an IAADDR, lifetimes zero.
    case 'address': return [{ kind: 'iaAddr', address: q.address, preferredLifetime: 0, validLifetime: 0, options: [] }];
    case 'client-id': return [{ kind: 'clientId', duid: q.duid }];
    case 'relay-id': return [{ kind: 'relayId', duid: q.duid }];
    case 'link-address': return [];
    case 'remote-id': return [{ kind: 'remoteId', enterpriseNumber: q.enterpriseNumber, remoteId: q.remoteId }];
  }
}

/**
 * A LEASEQUERY (RFC 5007 §4.1.2): the requestor's DUID in CLIENTID (servers discard a
 * query without one — ISC dhcpd does), no SERVERID (ISC dhcpd discards a query with
 * one), LQ_QUERY, and an ORO asking for the relay data and client links (RFC 5007
 * §4.1.2.1: "the requestor SHOULD include an ORO" for what it wants returned).
 */
export function buildLeasequery6(q: Lq6Query, transactionId: number, requestorDuid: Uint8Array): Dhcp6Message {
  return {
    kind: 'client',
    msgType: DHCP6_LEASEQUERY_TYPE.LEASEQUERY,
    transactionId: transactionId & DHCP6_XID_MASK,
    options: [
      { kind: 'clientId', duid: requestorDuid },
      {
        kind: 'lqQuery', queryType: QUERY_TYPE[q.by], linkAddress: q.linkAddress,
        options: [...queryOptions(q), { kind: 'oro', codes: [DHCP6_OPTION.LQ_RELAY_DATA, DHCP6_OPTION.LQ_CLIENT_LINK] }],
      },
    ],
  };
}

/** One relay envelope of the stored relay message, as far as a requestor reads it. */
export interface Lq6RelayHop {
  readonly hopCount: number;
  readonly linkAddress: Uint8Array;
  /** The address the relay received the message from: for the first relay, the client's (RFC 8415 §9). */
  readonly peerAddress: Uint8Array;
  readonly interfaceId: Uint8Array | null;
  readonly remoteId: { readonly enterpriseNumber: number; readonly remoteId: Uint8Array } | null;
  readonly relayId: Uint8Array | null;
  /** RFC 6939 §4 Client Link-Layer Address, as the first relay saw it. */
  readonly clientLinkLayer: { readonly type: number; readonly address: Uint8Array } | null;
}

/**
 * OPTION_LQ_RELAY_DATA (RFC 5007 §4.1.2.4): `peerAddress` is the relay agent the server
 * received the message from; `hops` are the stored RELAY-FORW envelopes outermost first
 * (the client's own message is left out by the server), so the last hop is the relay
 * nearest the client — gleand itself when it relayed the client.
 */
export interface Lq6RelayData {
  readonly peerAddress: Uint8Array;
  readonly hops: readonly Lq6RelayHop[];
}

export interface Lq6Lease {
  readonly kind: 'address' | 'prefix';
  readonly address: Uint8Array;
  /** 128 for an address. */
  readonly prefixLength: number;
  /** Seconds; 0xffffffff = infinity (RFC 8415 §7.7). */
  readonly preferredLifetime: number;
  readonly validLifetime: number;
}

/** OPTION_CLIENT_DATA (RFC 5007 §4.1.2.2). */
export interface Lq6ClientData {
  readonly clientId: Uint8Array | null;
  readonly leases: readonly Lq6Lease[];
  /**
   * OPTION_CLT_TIME (RFC 5007 §4.1.2.3): seconds since the client's last transaction.
   * ISC dhcpd 4.4 sends an absolute Unix time instead (PROTOCOLS.md): see `cltIsAbsolute`.
   */
  readonly cltTime: number | null;
  /** Inside CLIENT_DATA over TCP (RFC 5460); over UDP the reply's top-level one applies. */
  readonly relayData: Lq6RelayData | null;
}

export interface Lq6Answer {
  readonly msgType: number;
  readonly transactionId: number;
  /** STATUS_CODE at the top level; absent means Success (RFC 8415 §21.13). */
  readonly status: number;
  readonly statusMessage: string;
  readonly serverId: Uint8Array | null;
  /** The requestor's DUID, echoed. */
  readonly clientId: Uint8Array | null;
  readonly clientData: Lq6ClientData | null;
  /** Top-level LQ_RELAY_DATA (UDP, RFC 5007 §4.1.2.4). */
  readonly relayData: Lq6RelayData | null;
  /** LQ_CLIENT_LINK (RFC 5007 §4.1.2.5): the client has bindings on these links; no CLIENT_DATA then. */
  readonly clientLinks: readonly Uint8Array[] | null;
}

export type Lq6Refusal =
  | 'not-an-answer' | 'several-client-data' | 'relay-data-not-relay-forw' | 'several-status-codes';

export type Lq6Read = { readonly ok: true; readonly answer: Lq6Answer } | { readonly ok: false; readonly reason: Lq6Refusal };

/**
 * A CLT_TIME this large cannot be "seconds since the last transaction" of a live lease
 * (2^30 s is 34 years): it is an absolute Unix time, as ISC dhcpd 4.4 sends. It then
 * says nothing comparable with another server's relative one.
 */
export const CLT_ABSOLUTE_THRESHOLD = 2 ** 30;
export const cltIsAbsolute = (clt: number): boolean => clt >= CLT_ABSOLUTE_THRESHOLD;

function readHop(m: Dhcp6RelayMessage): Lq6RelayHop {
  const iid = find(m.options, 'interfaceId');
  const rid = find(m.options, 'remoteId');
  const rel = find(m.options, 'relayId');
  const ll = find(m.options, 'clientLinklayerAddr');
  return {
    hopCount: m.hopCount, linkAddress: m.linkAddress, peerAddress: m.peerAddress,
    interfaceId: iid?.interfaceId ?? null,
    remoteId: rid ? { enterpriseNumber: rid.enterpriseNumber, remoteId: rid.remoteId } : null,
    relayId: rel?.duid ?? null,
    clientLinkLayer: ll ? { type: ll.linkLayerType, address: ll.linkLayerAddress } : null,
  };
}

/** LQ_RELAY_DATA's stored message must be a RELAY-FORW; the envelopes it nests, outermost first. */
export function readRelayData(o: Extract<Dhcp6Option, { kind: 'lqRelayData' }>): Lq6RelayData | null {
  const hops: Lq6RelayHop[] = [];
  let cur: Dhcp6Message | null | undefined = o.relayMessage;
  while (cur && cur.kind === 'relay') {
    if (cur.msgType !== 12) return null;
    hops.push(readHop(cur));
    const inner: Extract<Dhcp6Option, { kind: 'relayMsg' }> | undefined = find(cur.options, 'relayMsg');
    // A RELAY_MSG holding the client's message itself is not "relay data": stop there.
    cur = inner?.message?.kind === 'relay' ? inner.message : null;
  }
  return hops.length > 0 ? { peerAddress: o.peerAddress, hops } : null;
}

function readLeases(os: readonly Dhcp6Option[]): Lq6Lease[] {
  const out: Lq6Lease[] = [];
  for (const o of os) {
    if (o.kind === 'iaAddr') {
      out.push({ kind: 'address', address: o.address, prefixLength: 128, preferredLifetime: o.preferredLifetime, validLifetime: o.validLifetime });
    } else if (o.kind === 'iaPrefix') {
      out.push({ kind: 'prefix', address: o.prefix, prefixLength: o.prefixLength, preferredLifetime: o.preferredLifetime, validLifetime: o.validLifetime });
    }
  }
  return out;
}

/** CLIENT_DATA's contents; null when its relay data is not a RELAY-FORW. */
export function readClientData(o: Extract<Dhcp6Option, { kind: 'clientData' }>): Lq6ClientData | null {
  const rd = find(o.options, 'lqRelayData');
  const relayData = rd ? readRelayData(rd) : null;
  if (rd && !relayData) return null;
  return {
    clientId: find(o.options, 'clientId')?.duid ?? null,
    leases: readLeases(o.options),
    cltTime: find(o.options, 'cltTime')?.cltTime ?? null,
    relayData,
  };
}

/**
 * The checked view of a LEASEQUERY-REPLY (or, for the bulk client, LEASEQUERY-DATA /
 * LEASEQUERY-DONE): at most one CLIENT_DATA and one STATUS_CODE (RFC 5007 §4.1.2: a
 * reply describes one client), relay data that is a RELAY-FORW.
 */
export function readLeasequeryAnswer(m: Dhcp6Message): Lq6Read {
  if (m.kind !== 'client' || m.msgType < DHCP6_LEASEQUERY_TYPE.LEASEQUERY_REPLY || m.msgType > DHCP6_LEASEQUERY_TYPE.LEASEQUERY_DATA) {
    return { ok: false, reason: 'not-an-answer' };
  }
  const datas = filterDhcp6Options(m.options, 'clientData');
  if (datas.length > 1) return { ok: false, reason: 'several-client-data' };
  const statuses = filterDhcp6Options(m.options, 'statusCode');
  if (statuses.length > 1) return { ok: false, reason: 'several-status-codes' };
  const clientData = datas[0] ? readClientData(datas[0]) : null;
  if (datas[0] && !clientData) return { ok: false, reason: 'relay-data-not-relay-forw' };
  const rd = findDhcp6Option(m.options, 'lqRelayData');
  const relayData = rd ? readRelayData(rd) : null;
  if (rd && !relayData) return { ok: false, reason: 'relay-data-not-relay-forw' };
  const links = findDhcp6Option(m.options, 'lqClientLink');
  return {
    ok: true,
    answer: {
      msgType: m.msgType,
      transactionId: m.transactionId,
      status: statuses[0]?.statusCode ?? DHCP6_STATUS.Success,
      statusMessage: statuses[0]?.message ?? '',
      serverId: findDhcp6Option(m.options, 'serverId')?.duid ?? null,
      clientId: findDhcp6Option(m.options, 'clientId')?.duid ?? null,
      clientData,
      relayData,
      clientLinks: links?.linkAddresses ?? null,
    },
  };
}

/** Status code names (RFC 8415 §21.13, RFC 5007 §5, RFC 5460 §5.2) for logs and the CLI. */
export function dhcp6StatusName(code: number): string {
  for (const [name, v] of Object.entries(DHCP6_STATUS)) if (v === code) return name;
  return `status-${code}`;
}
