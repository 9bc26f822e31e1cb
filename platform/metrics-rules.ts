/**
 * How the `status` document maps to Prometheus metrics (platform/metrics-walk.ts reads
 * these tables). The walk is generic: a new module's `status()` appears in `gleand
 * metrics` without being listed here, its per-port map labelled `port`, its `...4`/`...6`
 * fields labelled `family`, its drop maps labelled `reason`, its numbers counted as
 * `_total` counters. This file is the one place to say otherwise: a field that is a level
 * rather than a count goes in GAUGE_KEYS, a map keyed by data in LABEL_MAPS, a field that
 * repeats another module's in SKIP_PATHS, and a better help text in HELP.
 *
 * Paths are dotted status paths with `*` for a key of a label map (`modules.dhcp.ports.*.relayed4`).
 */

/** Maps whose keys are data, not field names: the key becomes this label. Matched on the last segment(s). */
export const LABEL_MAPS: readonly (readonly [pattern: string, label: string])[] = [
  ['modules.*.ports', 'port'],
  ['modules.*.servers', 'server'],
  ['dropped', 'reason'],
  ['drops', 'reason'],
  ['refused', 'reason'],
  ['refusedQueries', 'reason'],
  ['errors', 'reason'],
  ['answers', 'type'],
  ['unexpectedType', 'type'],
  ['unclaimed', 'socket'],
  ['lastReconcile', 'change'],
  ['reconciled', 'change'],
];

/**
 * Label-map containers left out of the metric name: the label already says it
 * (`gleand_dhcp_relayed_total{port="lan1"}`, not `gleand_dhcp_ports_relayed_total`).
 */
export const UNNAMED_MAPS: ReadonlySet<string> = new Set(['ports', 'servers']);

/** Another path holds the same figures (the relay module repeats the binding table's). */
export const SKIP_PATHS: ReadonlySet<string> = new Set([
  'pid', 'ports', 'lastReload', 'configFile', 'version',
  'modules.dhcp.table', 'modules.dhcp.kernel', 'modules.dhcp.bindings',
  // the sum of gleand_bindings{port,family,kind,source}, which metrics-driver.ts counts
  'modules.bindings.bindings',
  'drivers.on-demand.group',
  'drivers.identity',
  // configuration echoed back, not a measurement
  'control.maxConnections', 'control.requestTimeoutMs',
]);

/** Array elements: the fields that name the element become labels. */
export const ARRAY_LABELS: Readonly<Record<string, readonly string[]>> = {
  'drivers.kernel.sockets': ['socket'],
  // one row per entry kind (or kind_class: routes_host, routes_pd) and family
  'drivers.kernel.entries': ['kind', 'family'],
  'drivers.udp.sockets': ['address', 'port'],
  'drivers.packet.ports': ['port', 'device'],
  'drivers.passive.kernelDrops': ['device', 'family'],
};
/** An element field that is an index, not a measurement. */
export const ARRAY_SKIP_FIELDS: ReadonlySet<string> = new Set(['ifindex']);

/**
 * Fields that are levels (may go down) rather than counts since start: exported as
 * gauges. Anything else numeric is a counter (`_total`). A field name, or a path
 * (with `*`) where the name alone would also catch a counter.
 */
export const GAUGE_KEYS: ReadonlySet<string> = new Set([
  'modules.leasequery.onDemand.held', 'drivers.tcp.open',
  'bindings', 'size', 'peers', 'inFlight', 'negativeCache', 'heldBytes', 'upInFlight', 'upNegativeCache',
  'outstanding', 'queued', 'connections', 'lines', 'compactedTo', 'sockets', 'uptimeMs', 'rssBytes',
  'configGeneration', 'retryInMs', 'startedMsAgo', 'durationMs', 'recoveringForS', 'rcvbufBytes',
  'expiresInMs', 'pollIntervalMs', 'nextPollInMs', 'groups', 'sources', 'members', 'entries', 'listening',
  'drivers.kernel.entries.desired', 'drivers.kernel.entries.installed', 'lastReconcileMsAgo', 'readBackMsAgo',
]);
/** Every numeric field under these is a gauge (the figures of the last run, not running totals). */
export const GAUGE_MAPS: ReadonlySet<string> = new Set(['lastReconcile', 'backoff']);

/** Help text by metric name; a metric not listed is described by its status path. */
export const HELP: Readonly<Record<string, string>> = {
  gleand_dhcp_relayed_total: 'Client messages relayed to the servers (RELAY-FORW, or with giaddr and option 82).',
  gleand_dhcp_replies_total: 'Server replies relayed back to the clients on the port.',
  gleand_dhcp_gleaned_total: 'Leases gleaned from server replies into the binding table.',
  gleand_dhcp_released_total: 'Bindings ended by a client RELEASE or DECLINE.',
  gleand_dhcp_dropped_total: 'DHCP messages dropped on the port, by reason.',
  gleand_dhcp_bindings: 'Bindings on the port now.',
  gleand_bindings: 'Bindings in the table now, by port, family, kind (address or prefix) and source (glean, leasequery, static).',
  gleand_socket_kernel_drops_total: 'Packets the kernel dropped on one of gleand\'s sockets before gleand read them.',
  gleand_kernel_applied_total: 'Kernel entry changes (routes, neighbours, verify-set elements) applied.',
  gleand_kernel_failed_total: 'Kernel entry changes the kernel refused.',
  gleand_kernel_reconciles_total: 'Reconciliations of the kernel state (dump, diff, apply) run.',
  gleand_kernel_repairs_total: 'Reconciliations that found and repaired a difference.',
  gleand_kernel_last_reconcile: 'Entries the last reconciliation changed, by change.',
  gleand_kernel_reconciled_total: 'Entries reconciliations changed (added, removed, replaced), summed over every reconciliation.',
  gleand_kernel_last_reconcile_age_seconds: 'Seconds since the last reconciliation finished.',
  gleand_kernel_read_back_age_seconds: 'Seconds since the kernel was last read back for the entry kind read back longest ago.',
  gleand_kernel_entries_desired: 'Kernel entries the core wants, by kind (routes_host, routes_pd, and every other kind of the entry registry: neighbours, verifies, mroutes, diverts) and family.',
  gleand_kernel_entries_installed: 'Kernel entries in the kernel as gleand knows them (the last read-back, moved by every change applied since), by kind and family.',
  gleand_uptime_seconds: 'Seconds since the daemon started.',
  gleand_rss_bytes: 'Resident set size of the daemon.',
  gleand_info: 'Version of the running daemon (value 1).',
};
