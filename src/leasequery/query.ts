import type { Instant } from '../time';
import { dhcp4MessageType, type Lq6Answer } from '../wire';
import { formatAddress, formatHex, formatIPv4, formatMac } from '../wire/address';
import type { AskedFor } from './accept';
import type { LeaseAnswer, QueryBy } from './message';
import { describeAnswer6 } from './message6';

/** A server's answer of either family, as read (nothing in it trusted yet). */
export type AnyAnswer =
  | { readonly family: 4; readonly xid: number; readonly v4: LeaseAnswer }
  | { readonly family: 6; readonly xid: number; readonly v6: Lq6Answer };

/** Where one server stands on one query. */
export type ServerOutcome = 'pending' | 'answered' | 'dropped';

export interface ServerSlot {
  readonly address: Uint8Array;
  outcome: ServerOutcome;
  answer: AnyAnswer | null;
}

/** One question in flight: the same xid to every server of the port's upstream (RFC 4388 §6.2). */
export interface Query {
  readonly id: number;
  readonly key: string;
  readonly asked: AskedFor;
  readonly family: 4 | 6;
  readonly upstream: string;
  readonly xid: number;
  /** The encoded DHCPLEASEQUERY / LEASEQUERY, sent and resent as is. */
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
    case 'ip': return `ip ${formatAddress(q.address.length === 16 ? 6 : 4, q.address)}`;
    case 'duid': return `duid ${formatHex(q.duid)}`;
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
    server: formatAddress(q.family, s.address),
    outcome: s.outcome,
    ...(s.answer ? (s.answer.family === 4 ? describeAnswer(s.answer.v4) : describeAnswer6(s.answer.v6)) : {}),
  }));
}
