import { DHCP4_LEASEQUERY_TYPE } from '../wire';
import { lq6Rank, lq6Verdict } from './message6';
import type { AnyAnswer } from './query';

/**
 * Several servers answered one query (failover pairs, or servers that each know part
 * of the pool). RFC 4388 §6.7 / seed 003 §6.7, and RFC 5007 §4.3.4 for DHCPv6: the
 * client-last-transaction time (option 91 / OPTION_CLT_TIME, seconds in the past) says
 * which server has the most recent information. So:
 *
 * - among definite answers (v4 LEASEACTIVE and LEASEUNASSIGNED; v6 an active
 *   CLIENT_DATA), the one with the smallest client-last-transaction time wins (an
 *   UNASSIGNED that is more recent than an ACTIVE means the lease ended since); an answer
 *   without one — or with ISC dhcpd's absolute CLT_TIME, which compares with nothing —
 *   ranks after every answer with one, and on a tie an active answer wins (the server
 *   that holds a lease is not contradicted by one that does not say when);
 * - with none, a weak negative (v4 LEASEUNKNOWN, v6 no binding / NotConfigured) if any;
 * - otherwise null (nobody answered with a leasequery answer; v6 error statuses are not
 *   answers about the lease).
 */
export interface Answered {
  readonly server: string;
  readonly answer: AnyAnswer;
}

export type Kind = 'active' | 'unassigned' | 'unknown' | 'error';

const { LEASEUNASSIGNED, LEASEUNKNOWN, LEASEACTIVE } = DHCP4_LEASEQUERY_TYPE;

export function answerKind(a: AnyAnswer): Kind {
  if (a.family === 6) return lq6Verdict(a.v6).verdict;
  switch (a.v4.type) {
    case LEASEACTIVE: return 'active';
    case LEASEUNASSIGNED: return 'unassigned';
    case LEASEUNKNOWN: return 'unknown';
    default: return 'error';
  }
}

const rank = (a: AnyAnswer): number => (a.family === 4 ? a.v4.cltS ?? Number.POSITIVE_INFINITY : lq6Rank(a.v6));
const activeFirst = (a: Answered): number => (answerKind(a.answer) === 'active' ? 0 : 1);

export function reconcile(answers: readonly Answered[]): Answered | null {
  const definite = answers.filter((a) => ['active', 'unassigned'].includes(answerKind(a.answer)));
  if (definite.length > 0) {
    return [...definite].sort((x, y) => rank(x.answer) - rank(y.answer) || activeFirst(x) - activeFirst(y))[0]!;
  }
  return answers.find((a) => answerKind(a.answer) === 'unknown') ?? null;
}
