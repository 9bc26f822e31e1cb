import { addMs, type Instant } from '../time';
import type { BindingFields } from './binding';

/**
 * What a gleaner read from one message. Removals name the port and MAC they came
 * from: a client may end only its own binding, never another subscriber's.
 */
export type Glean =
  | { readonly op: 'upsert'; readonly fields: BindingFields }
  | {
      readonly op: 'remove';
      readonly family: 4 | 6;
      readonly address: Uint8Array;
      readonly prefixLength: number;
      readonly port: string;
      /** The MAC (v4) or DUID (v6) that must own the binding. */
      readonly mac?: Uint8Array;
      readonly clientId?: Uint8Array;
    }
  /**
   * A renewal read from a server's unicast reply that did not pass through the relay
   * (it crossed the router on its way to the client): it only extends the lease of the
   * binding it names, and only when that binding is already this client's on this port
   * (v4: the MAC; v6: the DUID and IAID). It never creates, moves or re-labels one.
   */
  | { readonly op: 'renew'; readonly fields: BindingFields }
  /** DHCPNAK: whatever this client held on the port is gone (RFC 2131 §3.2). */
  | { readonly op: 'forget-client'; readonly family: 4 | 6; readonly port: string; readonly mac: Uint8Array };

/** 0xffffffff means infinity in both DHCPv4 (RFC 2131 §3.3) and DHCPv6 (RFC 8415 §7.7). */
const INFINITY = 0xffffffff;

export const leaseEnd = (now: Instant, seconds: number): Instant | null =>
  seconds === INFINITY ? null : addMs(now, seconds * 1000);
