/**
 * DHCPv6 Bulk Leasequery messages (RFC 5460 §5, RFC 5007 §4.1): the LEASEQUERY a
 * requestor sends, and what it reads from LEASEQUERY-REPLY / -DATA / -DONE. Pure
 * functions over the wire codec; nothing read here is trusted yet (see `bulk-accept.ts`).
 */
import {
  DHCP6_QUERY_TYPE, DHCP6_STATUS, dhcp6Message, findDhcp6Option, type Dhcp6Message, type Dhcp6Option,
} from '../wire';

/** RFC 5007 §4.2, RFC 5460 §5.1 (PROTOCOLS.md: several public tables swap 16 and 17). */
export const LEASEQUERY = 14;
export const LEASEQUERY_REPLY = 15;
export const LEASEQUERY_DONE = 16;
export const LEASEQUERY_DATA = 17;

const UNSPECIFIED = new Uint8Array(16);

/** What a bulk query asks for (RFC 5460 §5.3). */
export type BulkQueryBy =
  /** QUERY_BY_RELAY_ID: every binding made through this relay DUID; link-address :: = all links. */
  | { readonly by: 'relay-id'; readonly relayId: Uint8Array; readonly linkAddress?: Uint8Array }
  /** QUERY_BY_LINK_ADDRESS: the bindings of the link a RELAY-FORW link-address named. */
  | { readonly by: 'link-address'; readonly linkAddress: Uint8Array }
  /** QUERY_BY_REMOTE_ID: the bindings whose relay sent this Remote-ID (RFC 4649). */
  | { readonly by: 'remote-id'; readonly enterpriseNumber: number; readonly remoteId: Uint8Array; readonly linkAddress?: Uint8Array };

/**
 * A LEASEQUERY (RFC 5007 §4.1.1 / RFC 5460 §7.2): msg-type 14, a transaction id, the
 * requestor's Client Identifier (RFC 5007 §4.1.1: MUST; a relay uses its own DUID, and
 * PROTOCOLS.md records a server closing the connection when it is missing) and
 * OPTION_LQ_QUERY with the query type and the options it needs.
 */
export function buildBulkQuery(q: BulkQueryBy, transactionId: number, requestorDuid: Uint8Array): Uint8Array {
  let queryType: number;
  const queryOptions: Dhcp6Option[] = [];
  switch (q.by) {
    case 'relay-id':
      queryType = DHCP6_QUERY_TYPE.BY_RELAY_ID;
      queryOptions.push({ kind: 'relayId', duid: q.relayId });
      break;
    case 'link-address':
      queryType = DHCP6_QUERY_TYPE.BY_LINK_ADDRESS;
      break;
    case 'remote-id':
      queryType = DHCP6_QUERY_TYPE.BY_REMOTE_ID;
      queryOptions.push({ kind: 'remoteId', enterpriseNumber: q.enterpriseNumber, remoteId: q.remoteId });
      break;
  }
  const m: Dhcp6Message = {
    kind: 'client', msgType: LEASEQUERY, transactionId: transactionId & 0xffffff,
    options: [
      { kind: 'clientId', duid: requestorDuid },
      { kind: 'lqQuery', queryType, linkAddress: q.linkAddress ?? UNSPECIFIED, options: queryOptions },
    ],
  };
  return dhcp6Message.encode(m).slice();
}

/** Where the server says the client sat: the RELAY-FORW it stored (RFC 5007 §4.1.2.4). */
export interface StoredRelay {
  /** peer-address of the innermost stored RELAY-FORW: the client's link-local (RFC 8415 §9.3). */
  readonly peerAddress: Uint8Array;
  readonly linkAddress: Uint8Array;
  readonly interfaceId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  readonly relayId: Uint8Array | null;
  /** RFC 6939 Client Link-Layer Address, Ethernet only. */
  readonly mac: Uint8Array | null;
}

/** One lease of a CLIENT_DATA (PROTOCOLS.md: real servers send one lease per CLIENT_DATA). */
export interface BulkLease {
  readonly duid: Uint8Array;
  readonly kind: 'address' | 'prefix';
  readonly address: Uint8Array;
  readonly prefixLength: number;
  /** Seconds, already reduced by the time since the last transaction (PROTOCOLS.md). */
  readonly validLifetime: number;
  /** OPTION_CLT_TIME, seconds since the client's last transaction (RFC 5007 §4.1.2.3); null when absent. */
  readonly cltS: number | null;
  readonly relay: StoredRelay | null;
}

/** A message of the reply stream, classified. */
export type BulkReply =
  | {
      readonly kind: 'reply' | 'data' | 'done';
      readonly transactionId: number;
      /** OPTION_STATUS_CODE; null when absent (= Success, RFC 8415 §21.13). */
      readonly status: { readonly code: number; readonly message: string } | null;
      /** The leases of every OPTION_CLIENT_DATA in it. */
      readonly leases: readonly BulkLease[];
      /** CLIENT_DATA options seen (a DATA without one MUST be discarded, RFC 5460 §7.3). */
      readonly clientData: number;
      /** OPTION_LQ_CLIENT_LINK present: MUST NOT appear in bulk replies (RFC 5460 §7.3). */
      readonly clientLink: boolean;
    }
  /** Any other message type on the connection. */
  | { readonly kind: 'unexpected'; readonly msgType: number }
  | { readonly kind: 'malformed'; readonly reason: string };

const KIND_BY_TYPE: Record<number, 'reply' | 'data' | 'done'> = {
  [LEASEQUERY_REPLY]: 'reply', [LEASEQUERY_DATA]: 'data', [LEASEQUERY_DONE]: 'done',
};

/** Classify one framed message. Never throws; a CLIENT_DATA that is not readable makes the whole message malformed. */
export function readBulkReply(bytes: Uint8Array): BulkReply {
  const d = dhcp6Message.decode(bytes);
  if (!d.ok) return { kind: 'malformed', reason: `${d.error.field}: ${d.error.reason}` };
  const m = d.value;
  const kind = KIND_BY_TYPE[m.msgType];
  if (!kind || m.kind !== 'client') return { kind: 'unexpected', msgType: m.msgType };
  const st = findDhcp6Option(m.options, 'statusCode');
  const leases: BulkLease[] = [];
  let clientData = 0;
  for (const o of m.options) {
    if (o.kind !== 'clientData') continue;
    clientData++;
    const read = readClientData(o.options);
    if (typeof read === 'string') return { kind: 'malformed', reason: read };
    leases.push(...read);
  }
  return {
    kind, transactionId: m.transactionId, status: st ? { code: st.statusCode, message: st.message } : null,
    leases, clientData, clientLink: m.options.some((o) => o.kind === 'lqClientLink'),
  };
}

/**
 * The leases of one OPTION_CLIENT_DATA (RFC 5007 §4.1.2.2): CLIENTID, IAADDR / IAPREFIX
 * (bare, or inside IA_NA / IA_PD), CLT_TIME, LQ_RELAY_DATA. A string says why not.
 */
function readClientData(options: readonly Dhcp6Option[]): BulkLease[] | string {
  const client = findDhcp6Option(options, 'clientId');
  if (!client) return 'CLIENT_DATA without CLIENTID';
  const clt = findDhcp6Option(options, 'cltTime');
  const rd = findDhcp6Option(options, 'lqRelayData');
  const relay = rd ? storedRelay(rd.relayMessage) : null;
  const base = { duid: client.duid, cltS: clt ? clt.cltTime : null, relay };
  const out: BulkLease[] = [];
  const lease = (o: Dhcp6Option): void => {
    if (o.kind === 'iaAddr') out.push({ ...base, kind: 'address', address: o.address, prefixLength: 128, validLifetime: o.validLifetime });
    if (o.kind === 'iaPrefix') out.push({ ...base, kind: 'prefix', address: o.prefix, prefixLength: o.prefixLength, validLifetime: o.validLifetime });
  };
  for (const o of options) {
    if (o.kind === 'iaNa' || o.kind === 'iaPd') o.options.forEach(lease);
    else lease(o);
  }
  return out;
}

/**
 * The relay facts of a stored RELAY-FORW. With several relays in the chain the
 * innermost one is the relay next to the client (RFC 8415 §19.1.2), whose options
 * (Interface-ID, Remote-ID, Relay-ID) name our port; stored messages carry no
 * RELAY_MSG (PROTOCOLS.md), so the chain is followed only where one is present.
 */
function storedRelay(m: Dhcp6Message): StoredRelay | null {
  let relay: Dhcp6Message = m;
  for (let depth = 0; depth < 8; depth++) {
    if (relay.kind !== 'relay') return null;
    const inner = findDhcp6Option(relay.options, 'relayMsg');
    if (!inner || !inner.message || inner.message.kind !== 'relay') break;
    relay = inner.message;
  }
  if (relay.kind !== 'relay') return null;
  const lla = findDhcp6Option(relay.options, 'clientLinklayerAddr');
  return {
    peerAddress: relay.peerAddress,
    linkAddress: relay.linkAddress,
    interfaceId: findDhcp6Option(relay.options, 'interfaceId')?.interfaceId ?? null,
    remoteId: findDhcp6Option(relay.options, 'remoteId')?.remoteId ?? null,
    relayId: findDhcp6Option(relay.options, 'relayId')?.duid ?? null,
    // RFC 6939 §4: link-layer type 1 is Ethernet (IANA hardware types).
    mac: lla && lla.linkLayerType === 1 && lla.linkLayerAddress.length === 6 ? lla.linkLayerAddress : null,
  };
}

export const STATUS_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(DHCP6_STATUS).map(([name, code]) => [code, name]),
);
export const statusName = (code: number): string => STATUS_NAMES[code] ?? `status-${code}`;
