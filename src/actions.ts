import type { Binding } from './bindings/binding';
import type { KernelDelta } from './kernel/entries';

/**
 * Everything the core asks the platform to do. Actions are data: tests assert
 * the exact list a module returns for an event at an instant (CONVENTIONS 9).
 */
export type LogLevel = 'debug' | 'info' | 'notice' | 'warn' | 'error';
export type LogFields = Readonly<Record<string, string | number | boolean>>;

export type Action =
  /**
   * Transmit an IP packet (header included) out of a subscriber port to a link-layer
   * destination. Addressing the client's MAC directly is what lets a relay answer a
   * client that has no address yet without ARP or ND (RFC 2131 §4.1).
   */
  | {
      readonly kind: 'link-send';
      readonly port: string;
      readonly family: 4 | 6;
      readonly destinationMac: Uint8Array;
      readonly bytes: Uint8Array;
    }
  /**
   * Transmit an IGMP or MLD packet (IP header included, with Router Alert, TTL / Hop
   * Limit 1 and every checksum filled in: RFC 3376 §4, RFC 3810 §5) out of a subscriber
   * port (`upstream` false) or the multicast proxy's upstream port (`upstream` true; RFC
   * 4605). The link-layer destination is derived from the IP destination (RFC 1112 §6.4,
   * RFC 2464 §7).
   */
  | {
      readonly kind: 'multicast-send';
      readonly family: 4 | 6;
      readonly port: string;
      readonly upstream: boolean;
      readonly bytes: Uint8Array;
    }
  /**
   * Send a paging message (src/paging/PROTOCOL.md) out of subscriber port `port` from
   * the paging port to `destinationPort`: wide cast (255.255.255.255, ff02::1) for
   * AREA_ADVERT and PAGE, unicast to the host for REGISTER_ACK.
   */
  | {
      readonly kind: 'paging-send';
      readonly port: string;
      readonly family: 4 | 6;
      readonly destination: Uint8Array;
      readonly destinationPort: number;
      readonly payload: Uint8Array;
      /**
       * A unicast's link-layer destination: the Ethernet source of the frame it answers
       * (the host is awake and just sent it; no ARP or ND, as for DHCP replies, RFC 2131
       * §4.1). Absent for a wide cast, whose MAC follows from the destination.
       */
      readonly destinationMac?: Uint8Array;
    }
  /** Send a UDP payload toward the servers from the relay's server-side socket. */
  | {
      readonly kind: 'udp-send';
      readonly family: 4 | 6;
      /** The upstream section whose device a multicast destination leaves by. */
      readonly upstream: string;
      readonly destination: Uint8Array;
      readonly destinationPort: number;
      /**
       * The local port to send from; absent: the server port (67 / 547). A DHCPv6
       * leasequery leaves from 546, where the answer comes back (RFC 5007 requestor).
       */
      readonly sourcePort?: number;
      readonly payload: Uint8Array;
    }
  /**
   * Open a TCP connection to a server (bulk leasequery, RFC 5460 §7.1), from the
   * upstream's `source6` when set; `conn` names it in the `tcp` events that follow.
   */
  | {
      readonly kind: 'tcp-connect';
      readonly conn: number;
      readonly upstream: string;
      readonly family: 4 | 6;
      readonly destination: Uint8Array;
      readonly destinationPort: number;
    }
  /** Write bytes on a connection, in order. */
  | { readonly kind: 'tcp-send'; readonly conn: number; readonly bytes: Uint8Array }
  /** Close a connection (or abandon a connection attempt); no `tcp` event follows. */
  | { readonly kind: 'tcp-close'; readonly conn: number }
  /** Desired kernel state changed: the platform applies it and reconciles periodically. */
  | { readonly kind: 'kernel'; readonly delta: KernelDelta }
  /**
   * A binding was stored (`put`) or ended (`delete`): the platform appends it to the
   * snapshot journal in RAM, which a restarted gleand reads back.
   */
  | { readonly kind: 'journal'; readonly op: 'put' | 'delete'; readonly binding: Binding }
  /**
   * The answer to a `leasequery` event (`gleand query`), for the control request with
   * the same id. JSON-safe.
   */
  | { readonly kind: 'query-result'; readonly id: number; readonly result: Record<string, unknown> }
  /**
   * A log line. `key` groups lines that hostile input can trigger, so the platform can
   * rate-limit them per key without the core knowing about wall-clock budgets.
   */
  | {
      readonly kind: 'log';
      readonly level: LogLevel;
      readonly subsystem: string;
      readonly message: string;
      readonly fields?: LogFields;
      readonly key?: string;
    };

export const log = (
  level: LogLevel,
  subsystem: string,
  message: string,
  fields?: LogFields,
  key?: string,
): Action => ({ kind: 'log', level, subsystem, message, ...(fields ? { fields } : {}), ...(key ? { key } : {}) });
