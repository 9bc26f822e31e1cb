import type { Instant } from '../time';
import { dhcp4MessageType } from '../wire';
import { formatHex, formatIPv4, formatMac } from '../wire/address';
import type { AskedFor } from './accept';
import type { LeaseAnswer, QueryBy } from './message';

/** Where one server stands on one query. */
export type ServerOutcome = 'pending' | 'answered' | 'dropped';

export interface ServerSlot {
  readonly address: Uint8Array;
  outcome: ServerOutcome;
  answer: LeaseAnswer | null;
}

/** One question in flight: the same xid to every server of the port's upstream (RFC 4388 §6.2). */
export interface Query {
  readonly id: number;
  readonly key: string;
  readonly asked: AskedFor;
  readonly upstream: string;
  readonly giaddr: Uint8Array;
  readonly xid: number;
  /** The encoded DHCPLEASEQUERY, sent and resent as is. */
  readonly payload: Uint8Array;
  /** By server key (hex address). */
  readonly servers: Map<string, ServerSlot>;
  /** Control requests waiting for this answer (one query serves every asker of the same key). */
  readonly requesters: number[];
  /** Set for a query started by an unverified source (on demand, upstream): its cache key. */
  readonly upKey: string | null;
  deadline: Instant;
}

/** The text key of a question: the negative cache and in-flight de-duplication use it. */
export function queryKey(q: QueryBy): string {
  switch (q.by) {
    case 'ip': return `ip ${formatIPv4(q.address)}`;
    case 'mac': return `mac ${formatMac(q.mac)}`;
    case 'client-id': return `client-id ${formatHex(q.clientId)}`;
  }
}

const text = (b: Uint8Array | null): string | null =>
  b === null ? null : b.every((x) => x >= 0x20 && x < 0x7f) ? String.fromCharCode(...b) : formatHex(b);

/** One server's answer as `gleand query` prints it (JSON-safe). */
export function describeAnswer(a: LeaseAnswer): Record<string, unknown> {
  return {
    type: dhcp4MessageType(a.type).name,
    code: a.type,
    ciaddr: a.ciaddr ? formatIPv4(a.ciaddr) : null,
    mac: a.mac ? formatMac(a.mac) : null,
    leaseTimeS: a.leaseTimeS,
    cltS: a.cltS,
    clientId: a.clientId ? formatHex(a.clientId) : null,
    circuitId: text(a.circuitId),
    remoteId: text(a.remoteId),
    associated: a.associated.map((x) => formatIPv4(x)),
  };
}

export function describeServers(q: Query): Record<string, unknown>[] {
  return [...q.servers.values()].map((s) => ({
    server: formatIPv4(s.address),
    outcome: s.outcome,
    ...(s.answer ? describeAnswer(s.answer) : {}),
  }));
}
