import { DHCP4_LEASEQUERY_TYPE } from '../wire';
import type { LeaseAnswer } from './message';

/**
 * Several servers answered one query (failover pairs, or servers that each know part
 * of the pool). RFC 4388 §6.7 / seed 003 §6.7: the client-last-transaction-time (option
 * 91, seconds in the past) says which server has the most recent information. So:
 *
 * - among LEASEACTIVE and LEASEUNASSIGNED answers, the one with the smallest option 91
 *   wins (an UNASSIGNED that is more recent than an ACTIVE means the lease ended since);
 *   an answer without option 91 ranks after every answer with one, and on a tie
 *   LEASEACTIVE wins (the server that holds a lease is not contradicted by one that
 *   does not say when);
 * - with neither, LEASEUNKNOWN if any server said so;
 * - otherwise null (nobody answered with a leasequery type).
 */
export interface Answered {
  readonly server: string;
  readonly answer: LeaseAnswer;
}

const { LEASEUNASSIGNED, LEASEUNKNOWN, LEASEACTIVE } = DHCP4_LEASEQUERY_TYPE;

export function reconcile(answers: readonly Answered[]): Answered | null {
  const definite = answers.filter((a) => a.answer.type === LEASEACTIVE || a.answer.type === LEASEUNASSIGNED);
  if (definite.length > 0) {
    return [...definite].sort((x, y) => rank(x) - rank(y) || activeFirst(x) - activeFirst(y))[0]!;
  }
  return answers.find((a) => a.answer.type === LEASEUNKNOWN) ?? null;
}

const rank = (a: Answered): number => a.answer.cltS ?? Number.POSITIVE_INFINITY;
const activeFirst = (a: Answered): number => (a.answer.type === LEASEACTIVE ? 0 : 1);
