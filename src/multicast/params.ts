/**
 * The protocol variables of RFC 3376 §8 (RFC 3810 §9), from the `multicast` section, and
 * the values derived from them. All durations in ms.
 */
import type { MulticastConfig } from '../config/schema';

export interface Params {
  /** Robustness Variable (§8.1). */
  readonly rv: number;
  /** Query Interval (§8.2). */
  readonly qiMs: number;
  /** Query Response Interval (§8.3). */
  readonly qriMs: number;
  /** Last Member Query Interval (§8.8). */
  readonly lmqiMs: number;
}

export const paramsOf = (c: MulticastConfig): Params => ({
  rv: c.robustness,
  qiMs: c.query_interval * 1000,
  qriMs: c.query_response_interval * 100,
  lmqiMs: c.last_member_query_interval * 100,
});

/** Group Membership Interval (§8.4): RV × QI + QRI. */
export const gmiMs = (p: Params): number => p.rv * p.qiMs + p.qriMs;
/** Other Querier Present Interval (§8.5): RV × QI + QRI / 2. */
export const oqpiMs = (p: Params): number => p.rv * p.qiMs + p.qriMs / 2;
/** Startup Query Interval (§8.6): QI / 4; Startup Query Count (§8.7): RV. */
export const sqiMs = (p: Params): number => Math.floor(p.qiMs / 4);
/** Last Member Query Count (§8.9): RV; Last Member Query Time (§8.14): LMQI × LMQC. */
export const lmqc = (p: Params): number => p.rv;
export const lmqtMs = (p: Params): number => p.lmqiMs * p.rv;
/** Older Version Querier Present Timeout (§8.12): RV × QI + QRI. */
export const ovqpiMs = (p: Params): number => p.rv * p.qiMs + p.qriMs;
/** Older Host Present Interval (§8.13): RV × QI + QRI. */
export const ohpiMs = (p: Params): number => p.rv * p.qiMs + p.qriMs;
