/** Per-port, per-family counters of the router (`gleand status`), every one incremented somewhere. */
import type { GmpDrop } from './family';

export interface RouterCounters {
  received: { queries: number; reports: number; oldReports: number; leaves: number };
  sent: { generalQueries: number; groupQueries: number; sourceQueries: number };
  dropped: Partial<Record<GmpDrop | 'rate-limit', number>>;
  /** RFC 4604 §3.1: MODE_IS_EXCLUDE / CHANGE_TO_EXCLUDE_MODE records for SSM groups, ignored. */
  ssmExcludeIgnored: number;
  /** RFC 4604 §3.5: IGMPv1/v2 / MLDv1 reports for SSM groups, ignored. */
  ssmOldReportIgnored: number;
  /** RFC 4604 §3.7: IGMPv2 Leave / MLDv1 Done for SSM groups, ignored. */
  ssmLeaveIgnored: number;
  /** Records or older reports for groups outside the SSM range under `asm_policy drop`. */
  asmDropped: number;
  /** Records of a type outside 1–6 (RFC 3376 §4.2.12: ignored). */
  unknownRecord: number;
  /** Records or reports for link-scope groups (224.0.0.0/24, ff0x scope ≤ 2): never routed. */
  linkScopeIgnored: number;
  /** Records BLOCK / TO_EX sources ignored in older-version compatibility mode (RFC 3376 §7.3.2). */
  compatIgnored: number;
  /** Bounds: groups refused at `max_groups`, sources refused at `max_sources`. */
  groupLimit: number;
  sourceLimit: number;
  /** Querier election (RFC 3376 §6.6.2): times another router won, and won with IGMPv1/v2 / MLDv1 (RFC 4604 §3.6). */
  querierLost: number;
  olderQuerier: number;
  /** RFC 3376 §6.6.2: times the port was left without an address of its own (no giaddr / no link-local yet) and deferred the querier role. */
  querierDeferred: number;
  /** RFC 3376 §7.3.1 / RFC 3810 §8.3.1: times an older-version query moved the port into an older compatibility mode (any-source groups only). */
  olderQuerierMode: number;
}

export const newRouterCounters = (): RouterCounters => ({
  received: { queries: 0, reports: 0, oldReports: 0, leaves: 0 },
  sent: { generalQueries: 0, groupQueries: 0, sourceQueries: 0 },
  dropped: {},
  ssmExcludeIgnored: 0, ssmOldReportIgnored: 0, ssmLeaveIgnored: 0, asmDropped: 0, unknownRecord: 0, linkScopeIgnored: 0,
  compatIgnored: 0, groupLimit: 0, sourceLimit: 0, querierLost: 0, olderQuerier: 0, querierDeferred: 0, olderQuerierMode: 0,
});
