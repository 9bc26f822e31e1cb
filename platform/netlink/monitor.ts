/**
 * Multicast notifications (RTNLGRP_*). The monitor socket deliberately does not set
 * NETLINK_NO_ENOBUFS: when the kernel drops notifications the socket reports ENOBUFS,
 * which becomes `onOverrun` so the owner re-dumps (CONVENTIONS 11). Nothing in here
 * can take the process down; a lost notification is an event.
 */
import { NETLINK_ROUTE } from './constants';
import { splitMessages, type NlMessage } from './message';
import { ENOBUFS, NetlinkSocket, isOsError, errnoName, type OsError } from './socket';
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NLMSG_HDRLEN, type DecodeError } from './wire';

export interface MonitorHandlers {
  onMessage(m: NlMessage): void;
  /** Notifications were lost; state must be re-read with a dump. */
  onOverrun(): void;
  /** A datagram that did not frame, or another receive errno. */
  onError?(e: { readonly errno: number; readonly code: string } | DecodeError): void;
}

export interface MonitorOptions {
  /** Netlink protocol; default NETLINK_ROUTE (nfnetlink's notifications work the same way). */
  readonly protocol?: number;
  /** SO_RCVBUF(FORCE); default 4 MiB. */
  readonly rcvbufBytes?: number;
  /** Keep the process alive while open; default true. */
  readonly ref?: boolean;
  /**
   * Whether a netlink portid is the owner's own (its request sockets'): a datagram whose
   * every message carries such a portid is dropped from its headers alone, before any
   * message is framed — during a restore nearly every notification is gleand's own
   * change, one per entry installed, and framing them was garbage for nothing.
   */
  readonly ownPortId?: (portId: number) => boolean;
}

/** u32 at `off` in `order` (netlink headers are host-endian), without a DataView: it runs for every notification. */
function u32(b: Uint8Array, off: number, order: ByteOrder): number {
  return order === 'le'
    ? (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0
    : ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/** True when every message of a well-formed datagram has an own portid (nlmsghdr: len, type, flags, seq, pid). */
export function allOwn(g: Uint8Array, own: (portId: number) => boolean, order: ByteOrder = HOST_ORDER): boolean {
  let off = 0;
  while (off < g.length) {
    if (g.length - off < NLMSG_HDRLEN) return false;
    const len = u32(g, off, order);
    if (len < NLMSG_HDRLEN || len > g.length - off || !own(u32(g, off + 12, order))) return false;
    off += (len + 3) & ~3;
  }
  return off > 0;
}

export class RtnlMonitor {
  overruns = 0;
  private constructor(private readonly sock: NetlinkSocket) {}

  static open(groups: readonly number[], h: MonitorHandlers, opts: MonitorOptions = {}): RtnlMonitor | OsError {
    const sock = NetlinkSocket.open(
      { protocol: opts.protocol ?? NETLINK_ROUTE, groups, rcvbufBytes: opts.rcvbufBytes ?? 4 * 1024 * 1024 },
      (errno, grams) => {
        if (errno === ENOBUFS) {
          mon.overruns++;
          return h.onOverrun();
        }
        if (errno !== 0) return h.onError?.({ errno, code: errnoName(errno) });
        const own = opts.ownPortId;
        for (const g of grams) {
          if (own !== undefined && allOwn(g, own)) continue;
          const { messages, error } = splitMessages(g);
          for (const m of messages) h.onMessage(m);
          if (error !== null) h.onError?.(error);
        }
      },
    );
    if (isOsError(sock)) return sock;
    const mon = new RtnlMonitor(sock);
    sock.ref(opts.ref ?? true);
    return mon;
  }

  ref(on: boolean): void {
    this.sock.ref(on);
  }

  /** Notifications the kernel dropped for this socket (SO_MEMINFO; each overrun loses some). */
  kernelDrops(): number | null {
    return this.sock.kernelDrops();
  }

  close(): void {
    this.sock.close();
  }
}
