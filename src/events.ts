import type { BindingFields, ParsedKey } from './bindings/binding';
import type { Config } from './config/config';
import type { QueryBy } from './leasequery/message';

/**
 * Everything that can happen to the core. The platform translates I/O into these;
 * modules never see a socket, a file or a clock.
 */
export type Event =
  /** Initial load and every accepted reload. Modules diff against their previous config. */
  | { readonly kind: 'config'; readonly config: Config }
  /**
   * The relay's DUID (RFC 8415 §11), from config or stable storage; it arrives once,
   * before any packet. It is the Relay-ID of RFC 5460 §5.4.1 and option 82.12 (RFC 6925).
   */
  | { readonly kind: 'identity'; readonly relayId: Uint8Array }
  /**
   * Bindings read back at start from the snapshot journal of the previous run (after the
   * first config). They are stored as they were, within today's limits and subnets. A
   * large journal comes in chunks, in file order (`more` on all but the last): `ended`
   * names the bindings its delete lines removed, applied before the chunk's `bindings`.
   */
  | {
      readonly kind: 'restore';
      readonly bindings: readonly BindingFields[];
      readonly ended?: readonly ParsedKey[];
      readonly from: string;
      readonly more?: boolean;
    }
  /**
   * `gleand query`: ask the DHCP servers about an address or a client (RFC 4388). The
   * leasequery module answers with one `query-result` action carrying the same `id`,
   * when the servers have answered or `waitMs` has passed.
   */
  | {
      readonly kind: 'leasequery';
      readonly id: number;
      readonly query: QueryBy;
      /** The subscriber port the client is on (`-p`); null: found from the subnets. */
      readonly port: string | null;
      /** A MAC the answer must name (a by-IP query made for a known client); null: none. */
      readonly expectMac: Uint8Array | null;
      readonly waitMs: number;
    }
  /**
   * `gleand recover`: run a bulk leasequery restore now (RFC 5460). The bulk module
   * answers with one `query-result` action carrying the same `id` once the run started.
   */
  | { readonly kind: 'recover'; readonly id: number }
  /**
   * A TCP connection the core asked for (`tcp-connect`) changed: it is up, bytes
   * arrived (a stream chunk: frames may be split across chunks or share one), or it
   * ended (`error` null for an orderly close by the peer). Every byte is the peer's.
   */
  | { readonly kind: 'tcp'; readonly conn: number; readonly what: 'connected' }
  | { readonly kind: 'tcp'; readonly conn: number; readonly what: 'data'; readonly bytes: Uint8Array }
  | { readonly kind: 'tcp'; readonly conn: number; readonly what: 'closed'; readonly error: string | null }
  /**
   * A packet the kernel's on-demand rules copied to gleand (NFLOG) and dropped: `down`,
   * toward an address inside a subscriber subnet that has no route of gleand's (it hit
   * the subnet's blackhole route); `up`, from a subscriber port with a source the verify
   * chain did not accept. `bytes` start at the IP header. `port` and `mac` are the
   * ingress subscriber port and the frame's Ethernet source (`up` only; null `down`).
   * Every byte is attacker-controlled.
   */
  | {
      readonly kind: 'on-demand';
      readonly direction: 'down' | 'up';
      readonly family: 4 | 6;
      readonly port: string | null;
      readonly mac: Uint8Array | null;
      readonly bytes: Uint8Array;
    }
  /**
   * An IGMP message (IPv4 protocol 2, RFC 3376 §4) or an MLD message (ICMPv6 types 130,
   * 131, 132, 143 behind a Hop-by-Hop header, RFC 3810 §5) received on a subscriber port
   * (`upstream` false: `port` is the subscriber section's name) or on the upstream port
   * of the multicast proxy (`upstream` true: `port` is the upstream section's name; RFC
   * 4605). `bytes` start at the IP header; `mac` is the Ethernet source. Every byte is
   * attacker-controlled.
   */
  | {
      readonly kind: 'multicast';
      readonly family: 4 | 6;
      readonly port: string;
      readonly upstream: boolean;
      readonly mac: Uint8Array;
      readonly bytes: Uint8Array;
    }
  /**
   * The kernel's multicast routing had no forwarding entry for a packet from `source` to
   * `group` that arrived on `port` (IGMPMSG_NOCACHE / MRT6MSG_NOCACHE), or the packet
   * arrived on another interface than its entry's (IGMPMSG_WRONGVIF / MRT6MSG_WRONGMIF).
   * `port` and `upstream` as in `multicast`; `port` is null for an interface gleand does
   * not own.
   */
  | {
      readonly kind: 'mroute-miss';
      readonly family: 4 | 6;
      readonly reason: 'nocache' | 'wrongvif';
      readonly source: Uint8Array;
      readonly group: Uint8Array;
      readonly port: string | null;
      readonly upstream: boolean;
    }
  /**
   * A datagram to the paging port (src/paging/PROTOCOL.md) received on subscriber port
   * `port`: REGISTER, DEREGISTER or PAGE_RESPONSE from a host. `mac` is the Ethernet
   * source. Every byte is attacker-controlled.
   */
  | {
      readonly kind: 'paging';
      readonly port: string;
      readonly family: 4 | 6;
      readonly source: Uint8Array;
      readonly sourcePort: number;
      readonly mac: Uint8Array;
      readonly payload: Uint8Array;
    }
  /**
   * A packet toward an address of a dormant host, which the kernel diverted to gleand
   * (and dropped) because the paging module asked for it (`PagingModule.diverted`), or a
   * wide-cast packet on a paging port (`port` set). `bytes` start at the IP header.
   * Every byte is attacker-controlled.
   */
  | { readonly kind: 'dormant'; readonly family: 4 | 6; readonly port: string | null; readonly bytes: Uint8Array }
  /** A port's link came up (or changed): its MAC and, for IPv6, its link-local address. */
  | {
      readonly kind: 'link';
      readonly port: string;
      readonly up: boolean;
      readonly mac: Uint8Array | null;
      readonly linkLocal: Uint8Array | null;
    }
  /**
   * An IP packet received on a subscriber port, seen at the link layer: `bytes` start at
   * the IP header, `mac` is the Ethernet source. Every byte is attacker-controlled.
   */
  | {
      readonly kind: 'packet';
      readonly port: string;
      readonly family: 4 | 6;
      readonly bytes: Uint8Array;
      readonly mac: Uint8Array;
      /**
       * The router sent this frame out of the port (PACKET_OUTGOING): a packet forwarded
       * to a subscriber, e.g. a server's unicast DHCPACK / REPLY to a renewing client.
       * `mac` is then the router's own. Not subscriber input: it crossed the router.
       */
      readonly outgoing: boolean;
      /**
       * The kernel's word on the UDP checksum (PACKET_AUXDATA tp_status): `check` — verify
       * it; `unfinished` — sent through a port with tx checksum offload (veth, tap,
       * virtio), only the pseudo-header sum is there, so it cannot be verified;
       * `valid` — the device already verified it.
       */
      readonly checksum: 'check' | 'unfinished' | 'valid';
    }
  /**
   * A UDP payload received from the server side. `passive` marks traffic observed on a
   * raw socket (another relay's), which gleand must only read, never answer.
   */
  | {
      readonly kind: 'udp';
      readonly family: 4 | 6;
      readonly source: Uint8Array;
      readonly sourcePort: number;
      readonly destinationPort: number;
      readonly payload: Uint8Array;
      readonly passive: boolean;
    };

export type EventKind = Event['kind'];
