import {
  bool, hexBytes, ipv4, ipv6, oneOf, prefix, str, uint,
  type ValueType,
} from './types';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6, type Prefix } from '../wire/address';

/**
 * The option schema: one table per UCI section type (CONVENTIONS 12). It is the
 * single source of the defaults, the parser's type checks, the typed config the
 * modules read, and the README's option reference (`src/config/doc.ts`).
 */
export interface OptionSpec<T> {
  readonly type: ValueType<T extends readonly (infer E)[] ? E : T>;
  /** `list NAME VALUE` (repeatable) instead of `option NAME VALUE`. */
  readonly list: boolean;
  /** `undefined` means "no default": the option is unset unless the file sets it. */
  readonly default: T | undefined;
  readonly required: boolean;
  readonly doc: string;
  /**
   * Set when the feature behind this option is not built yet: the option is accepted
   * (so a file written for a later release still loads) but does nothing. The text
   * names the feature and the issue that builds it. `check-config` and the daemon warn
   * when a file sets such an option, and the README marks it. A section's `planned`
   * applies to every option of the section (see `plannedOf`).
   */
  readonly planned?: string;
}

/** `P` records whether the option always has a value (a default, or required). */
type Spec<T, P extends boolean = boolean> = OptionSpec<T> & { readonly present: P };

function option<T>(type: ValueType<T>, def: undefined, doc: string): Spec<T, false>;
function option<T>(type: ValueType<T>, def: T, doc: string): Spec<T, true>;
function option<T>(type: ValueType<T>, def: T | undefined, doc: string): Spec<T> {
  return { type: type as Spec<T>['type'], list: false, default: def, required: false, doc, present: def !== undefined };
}
function required<T>(type: ValueType<T>, doc: string): Spec<T, true> {
  return { type: type as Spec<T>['type'], list: false, default: undefined, required: true, doc, present: true };
}
function list<E>(type: ValueType<E>, def: E[], doc: string): Spec<E[], true> {
  return { type: type as Spec<E[]>['type'], list: true, default: def, required: false, doc, present: true };
}

/** Mark one option as not built yet: `foo: planned('feature (issue: …)', option(…))`. */
export function planned<S extends { readonly planned?: string }>(why: string, spec: S): S {
  return { ...spec, planned: why };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SectionSchema = Readonly<Record<string, Spec<any>>>;

/** The typed values of one section: options with a default (or required) are always set. */
export type SectionValues<S extends SectionSchema> = {
  -readonly [K in keyof S]: S[K] extends Spec<infer T, infer P> ? (P extends true ? T : T | undefined) : never;
};

/** `ADDRESS:PORT` of a TCP listener: `192.0.2.1:9100`, `[2001:db8::1]:9100` (RFC 3986 §3.2.2 brackets). */
export interface ListenAddress {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly port: number;
}
const listenAddress: ValueType<ListenAddress> = {
  label: 'address:port',
  parse(raw) {
    const m = /^(?:\[([^\]]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(raw);
    const port = m ? Number(m[3]) : NaN;
    const v6 = m?.[1] !== undefined ? parseIPv6(m[1]) : null;
    const v4 = m?.[2] !== undefined ? parseIPv4(m[2]) : null;
    if (!m || (!v4 && !v6)) return { ok: false, error: `"${raw}" is not ADDRESS:PORT (IPv6 in brackets: [::1]:9100)` };
    if (port < 1 || port > 65535) return { ok: false, error: `port ${port} is outside 1..65535` };
    return { ok: true, value: v4 ? { family: 4, address: v4, port } : { family: 6, address: v6!, port } };
  },
  format: (v) => (v.family === 4 ? `${formatIPv4(v.address)}:${v.port}` : `[${formatIPv6(v.address)}]:${v.port}`),
};

const ssm4: Prefix = { family: 4, address: new Uint8Array([232, 0, 0, 0]), length: 8 };

export const globalSchema = {
  log_level: option(oneOf(['debug', 'info', 'notice', 'warn', 'error'] as const), 'info',
    'Least severe log level written to stdout/stderr (procd forwards both to logd).'),
  control_socket: option(str(107), '/var/run/gleand.sock',
    'Unix socket where `gleand status|bindings|...` talk JSON to the daemon (max 107 bytes, sun_path).'),
  state_dir: option(str(200), '/etc/gleand',
    'Stable storage. gleand writes exactly one file here, once: its relay DUID (`relay-id`).'),
  relay_id: option(hexBytes(130), undefined,
    'Relay DUID (RFC 8415 §11) used as Relay-ID (RFC 5460 §5.4.1); overrides the generated one so a replacement router can keep it.'),
  route_protocol: option(uint(1, 255), 201,
    'Route protocol number gleand tags its routes with, so it finds and reconciles only its own (rtnetlink rtm_protocol).'),
  route_table: option(uint(1, 0xfffffffe), 254,
    'Routing table for host and delegated-prefix routes (254 = main).'),
  reconcile_interval: option(uint(5, 86400), 60,
    'Seconds between periodic kernel-state reconciliations (dump, diff, apply).'),
  max_bindings: option(uint(1, 1_000_000), 200_000,
    'Bound on the binding table across all ports; inserts beyond it are refused and counted.'),
  nft_table: option(str(64), 'gleand',
    'nftables table (family inet) that holds the source-verification sets and chains.'),
  snapshot: option(str(200), '/var/run/gleand/bindings',
    'Journal of the binding table in RAM (tmpfs, never flash), read back when gleand restarts so a restart loses no binding; empty: none. It does not survive a reboot.'),
  nflog_group: option(uint(1, 65535), 4388,
    'NFLOG group (nfnetlink_log) over which the kernel hands gleand the packets that start a leasequery on demand (subscriber `on_demand`); no other listener may bind it.'),
  metrics_listen: option(listenAddress, undefined,
    'Serve `GET /metrics` (Prometheus text format, the same as `gleand metrics`) over HTTP on this ADDRESS:PORT, e.g. `192.0.2.1:9100` or `[2001:db8::1]:9100`. Unset: no listener. Bounded: 4 connections, 8 KiB of request, 5 s per request.'),
  recovery_window: option(uint(0, 86400), 120,
    'Seconds after a start during which gleand keeps every kernel entry of its own it finds while the bindings behind them are recovered; only entries nothing confirmed by then are removed (as FRR zebra -K).'),
} satisfies SectionSchema;

export const upstreamSchema = {
  device: required(str(15), 'Network device toward the DHCP servers.'),
  dhcpv4_server: list(ipv4, [], 'DHCPv4 server a relayed request goes to (repeat for several; RFC 2131 §4.1).'),
  dhcpv6_server: list(ipv6, [],
    'DHCPv6 server or multicast address relayed messages go to; empty means All_DHCP_Servers ff05::1:3 (RFC 8415 §7.1).'),
  source4: option(ipv4, undefined,
    'Source address of relayed DHCPv4 to the servers (e.g. a loopback address the servers\' ACLs name); must be an address of this router. Replies still come to giaddr (RFC 2131 §4.1). Default: the kernel\'s choice for the route to the server (the route\'s `src`, else the primary address of the output device).'),
  source6: option(ipv6, undefined,
    'Source address of relayed DHCPv6 to the servers; RELAY-REPL comes back to it (RFC 8415 §19.2); must be an address of this router. Default: the kernel\'s choice by RFC 6724 source address selection (normally a global address of the output device).'),
} satisfies SectionSchema;

export const subscriberSchema = {
  device: required(str(15), 'Subscriber-facing network device (an unnumbered port).'),
  upstream: required(str(64), 'Name of the `upstream` section this port relays to.'),
  mode: option(oneOf(['relay', 'passive'] as const), 'relay',
    '`relay`: gleand relays and gleans; `passive`: another relay (e.g. ISC dhcrelay) relays, gleand only gleans from the traffic it sees.'),
  relay_v4: option(bool, true, 'Relay (or in passive mode, glean) DHCPv4 on this port.'),
  relay_v6: option(bool, true, 'Relay (or in passive mode, glean) DHCPv6 on this port.'),
  giaddr: option(ipv4, undefined, 'Relay agent address placed in giaddr (RFC 2131 §4.1); required when relay_v4 is on.'),
  link_address: option(ipv6, undefined,
    'link-address of RELAY-FORW (RFC 8415 §19.1.1) that names this link to the server; required when relay_v6 is on.'),
  circuit_id: option(str(255), undefined, 'Agent Circuit ID, option 82 sub-option 1 (RFC 3046 §3.1); default: the port name.'),
  remote_id: option(str(255), undefined, 'Agent Remote ID, option 82 sub-option 2 (RFC 3046 §3.2); unset: not sent.'),
  interface_id: option(str(255), undefined, 'DHCPv6 Interface-ID, option 18 (RFC 8415 §21.18); default: the port name.'),
  remote_id_v6: option(str(255), undefined, 'DHCPv6 Remote-ID opaque part, option 37 (RFC 4649 §3); unset: not sent.'),
  enterprise_number: option(uint(0, 0xffffffff), 32473,
    'Enterprise number of the DHCPv6 Remote-ID (RFC 4649 §3); 32473 is the documentation number of RFC 5612.'),
  // Servers do hand out wrong addresses (a shared-network or reservation mistake); a
  // relay that installed one would route and admit a source foreign to the port.
  subnet4: list(prefix(4), [],
    'IPv4 subnet leased on this port (repeat for several). A gleaned lease outside every one is refused and counted (`rejectedSubnet`); empty: no restriction.'),
  subnet6: list(prefix(6), [],
    'IPv6 subnet leased on this port (repeat for several). IA_NA addresses and delegated prefixes (IA_PD, RFC 8415 §6.3) alike must lie entirely within one, so list the prefix-delegation pool too; a lease outside is refused and counted (`rejectedSubnet`); empty: no restriction.'),
  trusted: option(bool, false,
    'Accept client packets that already carry option 82 or a non-zero giaddr (RFC 3046 §2.1); off: drop and count them.'),
  verify_source: option(bool, true, 'Accept only leased source addresses from the MAC that leased them (source verification). Off: the port is not verified at all (its traffic passes untouched); in relay mode its client DHCP still goes only through gleand.'),
  // Off by default: it sends DHCPLEASEQUERY to the port's servers, which must allow it
  // (ISC dhcpd logs "LEASEQUERY not allowed" for every query without `allow leasequery;`).
  on_demand: option(bool, false,
    'Location on demand (RFC 4388 §1, RFC 5007): a packet toward an address of `subnet4` / `subnet6` that gleand has no binding for, or from a source on this port that source verification does not know, makes gleand ask the servers by IP (DHCPLEASEQUERY / LEASEQUERY by address); an active lease for this port (and, upstream, for the frame\'s MAC) becomes a binding and the packet toward it is delivered. Unknown subnet addresses are blackholed instead of leaking to the default route. IPv4 needs `relay_v4` with `giaddr`, `subnet4` and leasequery `v4`; IPv6 needs `relay_v6`, `subnet6` and leasequery `v6`; both leasequery `enabled`, and the servers must allow leasequery.'),
  max_bindings: option(uint(1, 100_000), 1024, 'Bound on bindings on this port; more are refused and counted.'),
  max_hops: option(uint(1, 32), 8,
    'Drop client messages whose hops / hop-count is at or above this (RFC 1542 §4.1.1, RFC 8415 §19.1.1 HOP_COUNT_LIMIT).'),
  rate_limit: option(uint(1, 100_000), 200, 'DHCP packets per second accepted from this port; excess is dropped and counted.'),
} satisfies SectionSchema;


export const leasequerySchema = {
  enabled: option(bool, true,
    'Leasequery (RFC 4388): answer `gleand query` by asking the servers, and install what an active lease says. Off: `gleand query` is refused and nothing is sent.'),
  v4: option(bool, true, 'DHCPv4 Leasequery (RFC 4388) to every `dhcpv4_server` of the port\'s upstream, from the port\'s `giaddr`.'),
  v6: option(bool, true,
    'DHCPv6 Leasequery (RFC 5007) to every unicast `dhcpv6_server` of the port\'s upstream, from UDP port 546 (where ISC dhcpd answers), with gleand\'s DUID as CLIENTID.'),
  bulk: option(bool, true,
    'Bulk Leasequery: at start when no snapshot brought bindings back (a reboot), and on `gleand recover`, ask every unicast `dhcpv6_server` over TCP 547 (RFC 5460, when `v6`) and every `dhcpv4_server` over TCP 67 (RFC 6926, when `v4`) for every binding made through this relay\'s Relay-ID (then by `bulk_link_address` / `bulk_remote_id`), and install them as they arrive.'),
  timeout: option(uint(1, 60), 5,
    'Seconds before an unanswered query is first retried; each retry waits twice as long, up to once a minute (RFC 4388 §6.3).'),
  max_outstanding: option(uint(1, 10_000), 64,
    'Bound on queries in flight to one server while it answers (RFC 4388 §6.3: "a relatively small number"); more wait in a queue. A server that stopped answering gets one at a time.'),
  bulk_conn_timeout: option(uint(1, 600), 30, 'BULK_LQ_CONN_TIMEOUT, seconds: a connection attempt is abandoned after this (RFC 5460 §5.6, §7.1).'),
  bulk_data_timeout: option(uint(1, 600), 30, 'BULK_LQ_DATA_TIMEOUT, seconds: a query or reply stream blocked this long is abandoned and retried (RFC 5460 §7.2, §7.3).'),
  bulk_max_retry: option(uint(1, 3600), 60, 'BULK_LQ_MAX_RETRY, seconds: retries back off exponentially from 1 s up to this (RFC 5460 §7.1).'),
  bulk_max_conns: option(uint(1, 64), 10, 'BULK_LQ_MAX_CONNS: servers asked at once over TCP (RFC 5460 §5.6).'),
  // The Relay-ID finds only what was relayed with it: bindings made before gleand had its
  // DUID (or through a router it replaced without `relay_id`) are found by place instead.
  bulk_link_address: list(ipv6, [],
    'Bulk leasequery, DHCPv6: after the query by Relay-ID, also ask every unicast `dhcpv6_server` for every binding on this link (QUERY_BY_LINK_ADDRESS, RFC 5460 §5.3), one query at a time per connection; e.g. a subscriber\'s `link_address` (repeat for several). What comes back passes the same checks (Interface-ID of a port, subnets).'),
  bulk_remote_id: list(str(255), [],
    'Bulk leasequery: after the query by Relay-ID, also ask for every binding relayed with this remote-id: DHCPv4 option 82 sub-option 2 (RFC 6926 §6.3, the text a subscriber\'s `remote_id` sends) to every `dhcpv4_server`, and DHCPv6 QUERY_BY_REMOTE_ID (RFC 5460 §5.3, with `bulk_enterprise_number`) to every unicast `dhcpv6_server` (repeat for several).'),
  bulk_enterprise_number: option(uint(0, 0xffffffff), 32473,
    'Enterprise number of the DHCPv6 Remote-ID in the `bulk_remote_id` queries (RFC 4649 §3); the subscribers\' `enterprise_number` default.'),
} satisfies SectionSchema;

export const multicastSchema = {
  enabled: option(bool, false,
    'Act as IGMPv3/MLDv2 router on every subscriber port (RFC 3376 §6, RFC 3810 §7) and as IGMP/MLD proxy host toward `upstream` (RFC 4605).'),
  upstream: option(str(64), undefined,
    'Name of the `upstream` section toward the multicast sources: the union of the ports\' subscriptions is reported there as an SSM-aware host (RFC 4605 §4.1, RFC 4604 §2), and forwarded traffic arrives there.'),
  ssm_range4: list(prefix(4), [ssm4],
    'IPv4 SSM range (RFC 4607 §1, RFC 4604 §2: default 232.0.0.0/8; repeat for several; the list replaces the default). Reports for these groups follow RFC 4604 §3: EXCLUDE records, IGMPv1/v2 reports and Leaves are ignored and counted.'),
  ssm_range6: list(prefix(6), [],
    'IPv6 SSM ranges in addition to FF3x::/96 for every scope x (RFC 4607 §1), which always applies.'),
  asm_policy: option(oneOf(['drop', 'allow'] as const), 'drop',
    'Groups outside the SSM range: `drop` ignores their reports (counted `asmDropped`); `allow` serves them with the whole RFC 3376 §6 state machine (EXCLUDE mode, older-version host compatibility, RFC 3376 §7.3.2).'),
  max_groups: option(uint(1, 4096), 64, 'Bound on groups per subscriber port and family; more are refused and counted (`groupLimit`).'),
  max_sources: option(uint(1, 1024), 64,
    'Bound on sources per group on a port, and on sources learnt from traffic for an any-source group; more are refused and counted (`sourceLimit`).'),
  robustness: option(uint(1, 7), 2, 'Robustness Variable (RFC 3376 §8.1): startup queries, last member queries and report retransmissions.'),
  query_interval: option(uint(1, 31744), 125, 'Query Interval, seconds (RFC 3376 §8.2): between general queries.'),
  query_response_interval: option(uint(1, 3174), 100,
    'Query Response Interval, tenths of a second (RFC 3376 §8.3): the Max Resp Code of general queries; below `query_interval`.'),
  last_member_query_interval: option(uint(1, 255), 10,
    'Last Member Query Interval, tenths of a second (RFC 3376 §8.8): between group(-and-source) specific queries and their Max Resp Code.'),
  report_rate_limit: option(uint(1, 100_000), 100,
    'IGMP / MLD reports, Leaves and Dones per second accepted from one subscriber port (per family); excess is dropped and counted.'),
} satisfies SectionSchema;

// ---- paging (RFC 3154; issue 11; src/paging/PROTOCOL.md) -------------------------------

/**
 * The paging section's options: the core (src/paging/module.ts) and the platform half
 * (the paging datagrams on the area ports' packet sockets, platform/packet-driver.ts; the
 * divert of a dormant host's traffic, platform/kernel/diverts.ts).
 */
export const pagingSchema = {
  enabled: option(bool, false,
    'Dormant-host alerting (RFC 3154): track registered hosts, hold what arrives for a dormant one, page it (L3 PAGE and Wake-on-LAN), deliver in order once it answers. Off (or no `paging` section): nothing is sent, nothing is held.'),
  port: option(uint(1, 65535), 3154,
    'UDP port of the paging protocol, on both sides: gleand listens on it on the areas\' ports and sends adverts and pages to it (not an IANA-assigned port).'),
  key_master: option(hexBytes(64), undefined,
    'Master key (16–64 octets) from which every host without its own `paging_host` key gets HMAC-SHA-256(master, "gleand paging host key " ‖ host id) (RFC 3154 §4.2, §4.20): a host id is then any token the host registers with.'),
  advert_interval: option(uint(1, 3600), 30,
    'Seconds between AREA_ADVERTs on every port of every `paging_area` (RFC 3154 §4.10); a host that misses three re-registers (§4.14).'),
  lifetime_max: option(uint(10, 65535), 3600,
    'Longest registration lifetime granted, seconds; a host not refreshed by then is inactive (RFC 3154 §4.4).'),
  pages_max: option(uint(1, 16), 3,
    'PAGEs sent for one wake-up before the host is marked inactive, its held packets dropped and counted and paging stopped (RFC 3154 §3.1).'),
  page_interval: option(uint(1, 60), 2,
    'Seconds before the second PAGE of a wake-up; each later one waits twice as long (backoff, RFC 3154 §3.1).'),
  area_page_rate: option(uint(1, 10_000), 100,
    'PAGEs per second (and burst) one area may wide cast; more wait for the next token (RFC 3154 §3.1 DoS amplification, §4.23).'),
  wakeups_per_hour: option(uint(1, 3600), 20,
    'Wake-ups (paging sequences) one host may be put through per hour; packets beyond are dropped and counted, not paged (RFC 3154 §3.3 forced battery consumption).'),
  held_per_host: option(uint(1, 64), 8, 'Packets held for one dormant host; more are dropped and counted (RFC 3154 §3.2).'),
  held_total: option(uint(1, 100_000), 4096, 'Packets held across all dormant hosts (RFC 3154 §3.2).'),
  held_total_bytes: option(uint(4096, 64 << 20), 4 << 20, 'Bytes held across all dormant hosts (RFC 3154 §3.2).'),
  max_hosts: option(uint(1, 2_000_000), 100_000,
    'Bound on tracked hosts; registrations beyond it are refused (REGISTER_ACK status 4) and counted (RFC 3154 §4.2).'),
  inactive_hold: option(uint(0, 86400), 600,
    'Seconds an inactive host stays known (its traffic dropped and counted, never paged) before it is forgotten (RFC 3154 §4.4).'),
  wol: option(bool, true,
    'Send a Wake-on-LAN magic packet to the MAC of a host registered in a WoL dormant mode, on its binding\'s port, with each PAGE (RFC 3154 §4.11).'),
} satisfies SectionSchema;

export const pagingAreaSchema = {
  port: list(str(64), [], 'Subscriber section in this paging area (repeat; any mapping, independent of subnets: RFC 3154 §4.12). A port may be in several areas.'),
  key: required(hexBytes(64), 'Area key (16–64 octets) that authenticates this area\'s AREA_ADVERTs (RFC 3154 §4.21); hosts of the area are given it.'),
} satisfies SectionSchema;

export const pagingHostSchema = {
  key: option(hexBytes(64), undefined,
    'The host\'s key (16–64 octets) for HMAC-SHA-256 of its messages and of its PAGEs (RFC 3154 §4.20, §4.22); unset: derived from `key_master`.'),
  area: option(str(64), undefined, 'The only `paging_area` this host may register in; unset: any.'),
  port: list(str(64), [],
    'A customised paging area for this host (RFC 3154 §4.18): it is paged on exactly these subscriber sections, whatever area it names.'),
} satisfies SectionSchema;

export interface SectionKind {
  readonly type: string;
  readonly schema: SectionSchema;
  /** `single`: at most one section of this type; `named`: many, each with a unique name. */
  readonly cardinality: 'single' | 'named';
  readonly doc: string;
  /** The whole section is not built yet (see `OptionSpec.planned`). */
  readonly planned?: string;
}

/** Why an option does nothing yet, or `undefined` when it is built. */
export function plannedOf(kind: SectionKind, option: string): string | undefined {
  return kind.schema[option]?.planned ?? kind.planned;
}

export const SECTION_KINDS: readonly SectionKind[] = [
  { type: 'global', schema: globalSchema, cardinality: 'single', doc: 'Daemon-wide settings.' },
  { type: 'upstream', schema: upstreamSchema, cardinality: 'named',
    doc: 'A port toward the operator\'s DHCP servers. Name the section; subscriber ports refer to it.' },
  { type: 'subscriber', schema: subscriberSchema, cardinality: 'named',
    doc: 'A subscriber-facing port. Name the section; the name is the port name in status and logs.' },
  { type: 'leasequery', schema: leasequerySchema, cardinality: 'single',
    doc: 'Leasequery: asking the DHCP servers what gleand does not know (RFC 4388). Built: DHCPv4 queries by IP, MAC and client id (RFC 4388) and DHCPv6 queries by address and client DUID (RFC 5007) from `gleand query`; DHCPv6 (RFC 5460) and DHCPv4 (RFC 6926) bulk leasequery at start and on `gleand recover`; DHCPv4 and DHCPv6 queries triggered by traffic (location on demand), switched on per port (`on_demand`).' },
  { type: 'multicast', schema: multicastSchema, cardinality: 'single',
    doc: 'IGMPv3/MLDv2 router on the subscriber ports with the SSM rules of RFC 4604 §3, and IGMP/MLD proxy toward one upstream (RFC 4605). Status: `gleand status` (per port and family: querier, counters), `gleand groups`.' },
  { type: 'paging', schema: pagingSchema, cardinality: 'single',
    doc: 'Dormant-host alerting (RFC 3154): gleand as Paging Agent, Tracking Agent and Dormant Monitoring Agent in one (§5), protocol in src/paging/PROTOCOL.md.' },
  { type: 'paging_area', schema: pagingAreaSchema, cardinality: 'named',
    doc: 'A fixed paging area (RFC 3154 §4.18): a set of subscriber ports; the section name is the area id hosts register with.' },
  { type: 'paging_host', schema: pagingHostSchema, cardinality: 'named',
    doc: 'A host with its own key or its own paging area; the section name is its host id.' },
];

export type GlobalConfig = SectionValues<typeof globalSchema>;
export type UpstreamConfig = SectionValues<typeof upstreamSchema> & { readonly name: string };
export type SubscriberConfig = SectionValues<typeof subscriberSchema> & { readonly name: string };
export type LeasequeryConfig = SectionValues<typeof leasequerySchema>;
export type MulticastConfig = SectionValues<typeof multicastSchema>;
export type PagingConfig = SectionValues<typeof pagingSchema>;
export type PagingAreaConfig = SectionValues<typeof pagingAreaSchema> & { readonly name: string };
export type PagingHostConfig = SectionValues<typeof pagingHostSchema> & { readonly name: string };
