import type { Action } from './actions';
import type { Event } from './events';
import type { KernelState } from './kernel/entries';
import type { Instant } from './time';

/**
 * What a module takes from the event stream. Broadcast kinds (`config`, `identity`,
 * `link`) reach every module that claims them. Traffic kinds are exclusive: each
 * packet or datagram goes to exactly one module, the one whose claim is the most
 * specific match (a claim that names message types or an IP protocol wins over one
 * that takes the rest of its family). Two equally specific claims on the same
 * traffic are a registration error, so no module ever sees (and counts as a drop)
 * another module's packets.
 */
export type Claim =
  | { readonly kind: 'config' | 'identity' | 'link' | 'restore' | 'leasequery' | 'recover' | 'tcp' | 'on-demand' | 'multicast' | 'mroute-miss' | 'paging' | 'dormant' }
  /** Frames from subscriber ports; `ipProtocol` narrows (2 IGMP, 58 ICMPv6, 17 UDP). */
  | { readonly kind: 'packet'; readonly family: 4 | 6; readonly ipProtocol?: readonly number[] }
  /**
   * Server-side datagrams. `passive` picks observed traffic (another relay's) or our own
   * sockets; `messageTypes` narrows by DHCP message type (RFC 2132 §9.6 option 53 for
   * v4, msg-type for v6).
   */
  | { readonly kind: 'udp'; readonly family: 4 | 6; readonly passive: boolean; readonly messageTypes?: readonly number[] };

/**
 * Control-socket queries the core answers: `bindings` (`gleand bindings`), `journal`
 * (every binding as a snapshot record, for compacting the journal), `binding-count`
 * (how many bindings the table holds: what the journal's compaction threshold is
 * measured against), `groups` (`gleand groups`: the multicast router's per-port group
 * state, JSON-safe rows), `hosts` (`gleand hosts`: the paging agent's tracked hosts,
 * JSON-safe rows, streamed).
 */
export type CoreQuery = 'bindings' | 'journal' | 'binding-count' | 'groups' | 'hosts';
/** The ones the control socket answers (`journal` and `binding-count` are the platform's own). */
const CONTROL_QUERIES: readonly CoreQuery[] = ['bindings', 'groups', 'hosts'];
export const isControlQuery = (q: string): q is CoreQuery => (CONTROL_QUERIES as readonly string[]).includes(q);

/**
 * The shape of every protocol module (ARCHITECTURE "The core is sans-IO").
 * `handle` reacts to an event it claimed, `poll` runs timers that are due,
 * `nextDeadline` says when the platform must call `poll` again (`null`: not until the
 * next event).
 */
export interface Module {
  readonly name: string;
  readonly claims: readonly Claim[];
  handle(event: Event, now: Instant): Action[];
  poll(now: Instant): Action[];
  nextDeadline(): Instant | null;
  /** A JSON-safe snapshot for `gleand status` (`now` for the remaining time of timers). */
  status(now?: Instant): Record<string, unknown>;
  /** The control queries this module answers; each query has exactly one owner. */
  readonly answers?: readonly CoreQuery[];
  query?(what: CoreQuery, now: Instant): unknown;
  /** The kernel entries this module wants in force (the platform reconciles the union). */
  desired?(): KernelState;
}
