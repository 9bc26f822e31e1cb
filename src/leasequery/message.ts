/**
 * DHCPLEASEQUERY messages (RFC 4388 §6.1, seed 003 §6.2) and what gleand reads from the
 * answers (RFC 4388 §6.4.1, seed 003 §6.5). Pure functions over the wire codec.
 */
import {
  BOOTREQUEST, DHCP4_BULK_TYPE, DHCP4_LEASEQUERY_TYPE, DHCP4_OPTION, encodeDhcp4OptionBody, findSubOption, getDhcp4Option,
  getDhcp4OptionBytes, getRelayAgentInformation, type Dhcp4Message, type Dhcp4RawOption, type Dhcp4StatusCode,
  type RelayAgentSubOption,
} from '../wire';

/**
 * What a query asks about: the three forms of RFC 4388 §6.1 (an `ip` of 4 bytes, `mac`,
 * `client-id`), and the two of RFC 5007 §4.1.2.1 (an `ip` of 16 bytes: QUERY_BY_ADDRESS;
 * `duid`: QUERY_BY_CLIENTID).
 */
export type QueryBy =
  | { readonly by: 'ip'; readonly address: Uint8Array }
  /** DHCPv6 QUERY_BY_CLIENTID: the client's DUID (RFC 8415 §11). */
  | { readonly by: 'duid'; readonly duid: Uint8Array }
  | { readonly by: 'mac'; readonly mac: Uint8Array }
  /** The whole option 61 body: type octet and identifier (RFC 2132 §9.14). */
  | { readonly by: 'client-id'; readonly clientId: Uint8Array };

/**
 * Parameter Request List: lease time 51, relay agent information 82 (seed 003 §6.2),
 * client-last-transaction-time 91 (RFC 4388 §6.1), client identifier 61 (RFC 4388
 * §6.4.2: returned only when asked) and, when the query names a client rather than an
 * address, associated-ip 92 (its other addresses, RFC 4388 §6.4.2).
 */
/** DHCPv4 (RFC 4388) or DHCPv6 (RFC 5007). */
export const queryFamily = (q: QueryBy): 4 | 6 => (q.by === 'duid' || (q.by === 'ip' && q.address.length === 16) ? 6 : 4);

export function parameterRequestList(q: QueryBy): number[] {
  const prl: number[] = [DHCP4_OPTION.LEASE_TIME, DHCP4_OPTION.RELAY_AGENT_INFO, DHCP4_OPTION.CLIENT_LAST_TRANSACTION_TIME,
    DHCP4_OPTION.CLIENT_ID];
  if (q.by !== 'ip') prl.push(DHCP4_OPTION.ASSOCIATED_IP);
  return prl;
}

const ZERO4 = new Uint8Array(4);

/**
 * A DHCPLEASEQUERY (RFC 4388 §6.1): giaddr is the requester's own address, the return
 * address of the answer; by IP: ciaddr set, htype/hlen/chaddr zero, no option 61; by MAC:
 * ciaddr zero, htype 1 / hlen 6 / chaddr the MAC, no option 61; by client id: ciaddr and
 * htype/hlen/chaddr zero, option 61 present.
 */
export function buildLeasequery(q: QueryBy, xid: number, giaddr: Uint8Array): Dhcp4Message {
  const chaddr = new Uint8Array(16);
  if (q.by === 'mac') chaddr.set(q.mac);
  const options: Dhcp4RawOption[] = [
    { code: DHCP4_OPTION.MESSAGE_TYPE, data: Uint8Array.of(DHCP4_LEASEQUERY_TYPE.LEASEQUERY) },
    { code: DHCP4_OPTION.PARAMETER_REQUEST_LIST, data: encodeDhcp4OptionBody(DHCP4_OPTION.PARAMETER_REQUEST_LIST, parameterRequestList(q)) },
  ];
  if (q.by === 'client-id') options.push({ code: DHCP4_OPTION.CLIENT_ID, data: q.clientId });
  if (q.by === 'duid') throw new RangeError('a DUID query is DHCPv6 (RFC 5007)');
  return {
    op: BOOTREQUEST,
    htype: q.by === 'mac' ? 1 : 0,
    hlen: q.by === 'mac' ? 6 : 0,
    hops: 0,
    xid: xid >>> 0,
    secs: 0,
    flags: 0,
    ciaddr: q.by === 'ip' ? q.address : ZERO4,
    yiaddr: ZERO4,
    siaddr: ZERO4,
    giaddr,
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    options,
    trailer: new Uint8Array(0),
  };
}

/** One server's answer, as read (nothing in it is trusted yet: see `accept.ts`). */
export interface LeaseAnswer {
  /** Option 53: 11, 12, 13, or whatever else the server sent (counted, never guessed). */
  readonly type: number;
  readonly xid: number;
  /** The answer's return address: the giaddr of our query, echoed. */
  readonly giaddr: Uint8Array;
  /** The leased address (RFC 4388 §6.4.1: always in ciaddr); null when zero. */
  readonly ciaddr: Uint8Array | null;
  /** chaddr when htype 1 / hlen 6 (Ethernet); null otherwise. */
  readonly mac: Uint8Array | null;
  /** Option 51, seconds remaining; null when absent (RFC 4388 §6.4.2: no active lease). */
  readonly leaseTimeS: number | null;
  /** Option 91, seconds since the client's last transaction (RFC 4388 §6.1); null when absent. */
  readonly cltS: number | null;
  /** Option 61 as returned. */
  readonly clientId: Uint8Array | null;
  /** Option 82 as the server stored it (RFC 4388 §6.4.2); `agentInfo` false when absent. */
  readonly agentInfo: boolean;
  readonly circuitId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  /** Option 92: the client's other addresses (RFC 4388 §6.4.2). */
  readonly associated: readonly Uint8Array[];
  /** Stored option 82 sub-option 12: the relay that relayed the lease (RFC 6925 §4, RFC 6926 §6.2). */
  readonly relayId: Uint8Array | null;
  /** Option 151 (RFC 6926 §6.2.2); null when absent (Success). */
  readonly status: Dhcp4StatusCode | null;
}

const nonZero = (a: Uint8Array): Uint8Array | null => (a.some((x) => x !== 0) ? a : null);
const value = <T>(r: { ok: true; value: T } | { ok: false } | undefined): T | null => (r && r.ok ? r.value : null);

/**
 * The answer's fields; `null` when an option the answer relies on does not decode (the
 * caller counts it as malformed: parse the whole message before acting on it).
 */
export function readAnswer(m: Dhcp4Message): LeaseAnswer | null {
  const type = getDhcp4Option(m, DHCP4_OPTION.MESSAGE_TYPE);
  if (!type || !type.ok) return null;
  const lease = getDhcp4Option(m, DHCP4_OPTION.LEASE_TIME);
  const clt = getDhcp4Option(m, DHCP4_OPTION.CLIENT_LAST_TRANSACTION_TIME);
  const info = getRelayAgentInformation(m);
  const assoc = getDhcp4Option(m, DHCP4_OPTION.ASSOCIATED_IP);
  const status = getDhcp4Option(m, DHCP4_OPTION.STATUS_CODE);
  for (const o of [lease, clt, info, assoc, status]) if (o && !o.ok) return null;
  const subs = value(info) ?? [];
  return {
    type: type.value.code,
    xid: m.xid,
    giaddr: m.giaddr,
    ciaddr: nonZero(m.ciaddr),
    mac: m.htype === 1 && m.hlen === 6 ? m.chaddr.slice(0, 6) : null,
    leaseTimeS: value(lease),
    cltS: value(clt),
    clientId: getDhcp4OptionBytes(m, DHCP4_OPTION.CLIENT_ID) ?? null,
    agentInfo: info !== undefined,
    circuitId: findSubOption(subs, 'circuitId')?.circuitId ?? null,
    remoteId: findSubOption(subs, 'remoteId')?.remoteId ?? null,
    associated: value(assoc) ?? [],
    relayId: findSubOption(subs, 'relayId')?.relayId ?? null,
    status: value(status),
  };
}

/**
 * The DHCPv4 bulk query types gleand asks (RFC 6926 §6.3): every binding relayed by a
 * relay with this Relay Identifier (option 82 sub-option 12, RFC 6925 §4), or carrying
 * this remote-id (sub-option 2, RFC 3046 §3.2).
 */
export type BulkQuery4 =
  | { readonly by: 'relay-id'; readonly duid: Uint8Array }
  | { readonly by: 'remote-id'; readonly remoteId: Uint8Array };

/**
 * A DHCPBULKLEASEQUERY (RFC 6926 §6.1, §7.2): a BOOTREQUEST whose ciaddr, yiaddr and
 * siaddr are zero (a server ends a query with any of them set by DONE MalformedQuery)
 * and whose chaddr and option 61 are empty, so the one identifier in option 82 is the
 * only query type (two make the query malformed). giaddr stays zero: the answers come
 * back on the TCP connection, not to a relay address.
 */
export function buildBulkLeasequery4(q: BulkQuery4, xid: number): Dhcp4Message {
  const sub: RelayAgentSubOption = q.by === 'relay-id' ? { kind: 'relayId', relayId: q.duid } : { kind: 'remoteId', remoteId: q.remoteId };
  const prl = [DHCP4_OPTION.LEASE_TIME, DHCP4_OPTION.RELAY_AGENT_INFO, DHCP4_OPTION.CLIENT_LAST_TRANSACTION_TIME, DHCP4_OPTION.CLIENT_ID];
  return {
    op: BOOTREQUEST, htype: 0, hlen: 0, hops: 0, xid: xid >>> 0, secs: 0, flags: 0,
    ciaddr: ZERO4, yiaddr: ZERO4, siaddr: ZERO4, giaddr: ZERO4,
    chaddr: new Uint8Array(16), sname: new Uint8Array(64), file: new Uint8Array(128),
    options: [
      { code: DHCP4_OPTION.MESSAGE_TYPE, data: Uint8Array.of(DHCP4_BULK_TYPE.BULKLEASEQUERY) },
      { code: DHCP4_OPTION.PARAMETER_REQUEST_LIST, data: encodeDhcp4OptionBody(DHCP4_OPTION.PARAMETER_REQUEST_LIST, prl) },
      { code: DHCP4_OPTION.RELAY_AGENT_INFO, data: encodeDhcp4OptionBody(DHCP4_OPTION.RELAY_AGENT_INFO, [sub]) },
    ],
    trailer: new Uint8Array(0),
  };
}
