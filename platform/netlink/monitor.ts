/**
 * Multicast notifications (RTNLGRP_*). The monitor socket deliberately does not set
 * NETLINK_NO_ENOBUFS: when the kernel drops notifications the socket reports ENOBUFS,
 * which becomes `onOverrun` so the owner re-dumps (CONVENTIONS 11). Nothing in here
 * can take the process down; a lost notification is an event.
 */
import { NETLINK_ROUTE } from './constants';
import { splitMessages, type NlMessage } from './message';
import { ENOBUFS, NetlinkSocket, isOsError, errnoName, type OsError } from './socket';
import type { DecodeError } from './wire';

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
        for (const g of grams) {
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
