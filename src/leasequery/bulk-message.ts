/**
 * The bulk client's reading of the reply stream (RFC 5460 §7.3) over the shared
 * DHCPv6 leasequery codec (`src/wire/dhcp6-leasequery.ts`): which of REPLY / DATA /
 * DONE a framed message is, its status, and the lease it carries with the stored relay
 * facts gleand needs (port, next hop, MAC). Nothing read here is trusted yet (see
 * `bulk-accept.ts`).
 */
import {
  buildLeasequery6, dhcp6Message, dhcp6StatusName, DHCP6_LEASEQUERY_TYPE, readLeasequeryAnswer, type Lq6Query,
} from '../wire';

/** The bulk query types (RFC 5460 §5.3): by relay id, link address, remote id. */
export type BulkQueryBy = Extract<Lq6Query, { by: 'relay-id' | 'link-address' | 'remote-id' }>;

/** A LEASEQUERY's bytes (RFC 5460 §7.2), with our DUID as the requestor's CLIENTID. */
export function buildBulkQuery(q: BulkQueryBy, transactionId: number, requestorDuid: Uint8Array): Uint8Array {
  return dhcp6Message.encode(buildLeasequery6(q, transactionId, requestorDuid)).slice();
}

/** Where the server says the client sat: the innermost stored RELAY-FORW (RFC 5007 §4.1.2.4). */
export interface StoredRelay {
  /** peer-address of the relay nearest the client: the client's link-local (RFC 8415 §9.3). */
  readonly peerAddress: Uint8Array;
  readonly interfaceId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  readonly relayId: Uint8Array | null;
  /** RFC 6939 Client Link-Layer Address when Ethernet (hardware type 1). */
  readonly mac: Uint8Array | null;
}

/** One lease (PROTOCOLS.md: real servers send one lease per CLIENT_DATA). */
export interface BulkLease {
  readonly duid: Uint8Array;
  readonly kind: 'address' | 'prefix';
  readonly address: Uint8Array;
  readonly prefixLength: number;
  /** Seconds, already reduced by the time since the last transaction (PROTOCOLS.md). */
  readonly validLifetime: number;
  /** OPTION_CLT_TIME (RFC 5007 §4.1.2.3); null when absent. */
  readonly cltS: number | null;
  readonly relay: StoredRelay | null;
}

export type BulkReply =
  | {
      readonly kind: 'reply' | 'data' | 'done';
      readonly transactionId: number;
      /** Non-zero: an error status, by name (RFC 5460 §7.3). */
      readonly error: string | null;
      readonly statusMessage: string;
      /** OPTION_CLIENT_DATA present (a DATA without one MUST be discarded, RFC 5460 §7.3). */
      readonly clientData: boolean;
      readonly leases: readonly BulkLease[];
      /** OPTION_LQ_CLIENT_LINK present: MUST NOT appear in bulk replies (RFC 5460 §7.3). */
      readonly clientLink: boolean;
    }
  /** Any other message type on the connection (a LEASEQUERY from the server, 1–13, unknown). */
  | { readonly kind: 'unexpected'; readonly msgType: number }
  | { readonly kind: 'malformed'; readonly reason: string };

const { LEASEQUERY_REPLY, LEASEQUERY_DATA, LEASEQUERY_DONE } = DHCP6_LEASEQUERY_TYPE;
const KIND: Record<number, 'reply' | 'data' | 'done'> = { [LEASEQUERY_REPLY]: 'reply', [LEASEQUERY_DATA]: 'data', [LEASEQUERY_DONE]: 'done' };

/** Classify one framed message. Never throws. */
export function readBulkReply(bytes: Uint8Array): BulkReply {
  const d = dhcp6Message.decode(bytes);
  if (!d.ok) return { kind: 'malformed', reason: `${d.error.field}: ${d.error.reason}` };
  const kind = KIND[d.value.msgType];
  if (!kind) return { kind: 'unexpected', msgType: d.value.msgType };
  const r = readLeasequeryAnswer(d.value);
  if (!r.ok) return { kind: 'malformed', reason: r.reason };
  const a = r.answer;
  const cd = a.clientData;
  let leases: BulkLease[] = [];
  if (cd) {
    if (!cd.clientId) return { kind: 'malformed', reason: 'CLIENT_DATA without CLIENTID' };
    // The relay nearest the client is the last stored envelope: gleand, when it relayed.
    const hop = cd.relayData?.hops[cd.relayData.hops.length - 1];
    const relay: StoredRelay | null = hop ? {
      peerAddress: hop.peerAddress, interfaceId: hop.interfaceId, remoteId: hop.remoteId?.remoteId ?? null, relayId: hop.relayId,
      mac: hop.clientLinkLayer && hop.clientLinkLayer.type === 1 && hop.clientLinkLayer.address.length === 6 ? hop.clientLinkLayer.address : null,
    } : null;
    leases = cd.leases.map((l) => ({
      duid: cd.clientId!, kind: l.kind, address: l.address, prefixLength: l.prefixLength, validLifetime: l.validLifetime,
      cltS: cd.cltTime, relay,
    }));
  }
  return {
    kind, transactionId: a.transactionId, error: a.status === 0 ? null : dhcp6StatusName(a.status), statusMessage: a.statusMessage,
    clientData: cd !== null, leases, clientLink: a.clientLinks !== null,
  };
}
