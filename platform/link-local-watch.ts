/**
 * Keeps each open port's link-local current after the port opened, so the `link` event
 * says when it becomes usable. A port's link-local is often still tentative when gleand
 * starts (the device just came up: RFC 4862 §5.4, DAD takes DupAddrDetectTransmits ×
 * RetransTimer, 1 s by default) or does not exist yet (no carrier); the kernel announces
 * the end of DAD with an RTM_NEWADDR whose flags lost IFA_F_TENTATIVE, a failed DAD with
 * IFA_F_DADFAILED, a removal with RTM_DELADDR. Any of them for a watched device is only a
 * trigger: the device's address list is read again (`linkInfo`, which never returns a
 * tentative or failed address) and a changed link-local is reported. Without this the MLD
 * router (RFC 3810 §5.1.14: queries from the link-local) and the relay's IPv6 source would
 * wait for the next reload.
 */
import { RTM, RTNLGRP } from './netlink/constants';
import { decodeAddr } from './netlink/addr';
import { RtnlMonitor } from './netlink/monitor';
import { isOsError } from './netlink/socket';
import { bytesEqual } from '../src/wire/address';
import { linkInfo, readInet6, type LinkInfo } from './links';

const AF_INET6 = 10;

interface Watched {
  readonly port: string;
  link: LinkInfo;
}

export class LinkLocalWatch {
  private monitor: RtnlMonitor | null = null;
  private failed = false;
  /** By ifindex: one per open port, so bounded by the configuration. */
  private readonly watched = new Map<number, Watched>();
  /**
   * Watched ports to read again, all in one turn with one read of the address table: at
   * boot every port's DAD ends within the same second, and a read per notification would
   * cost ports × addresses.
   */
  private readonly pending = new Set<number>();
  private flush: NodeJS.Immediate | null = null;
  readonly counters = {
    /** Link-locals that came, changed or went after the port opened (each one a `link` event). */
    changes: 0,
    /** Notifications lost (ENOBUFS): every watched port was read again. */
    overruns: 0,
  };

  constructor(
    private readonly changed: (port: string, link: LinkInfo) => void,
    private readonly unavailable: (code: string) => void,
  ) {}

  /**
   * Watches a port from the `link` it was opened with. The monitor is open before the
   * port is read again (in this turn's flush), so a DAD that ended in between is seen by
   * one or the other.
   */
  watch(port: string, link: LinkInfo): void {
    this.open();
    this.watched.set(link.ifindex, { port, link });
    this.schedule(link.ifindex);
  }

  unwatch(port: string): void {
    for (const [ifindex, w] of this.watched) if (w.port === port) this.watched.delete(ifindex);
  }

  close(): void {
    this.monitor?.close();
    this.monitor = null;
    this.watched.clear();
    this.pending.clear();
    if (this.flush) clearImmediate(this.flush);
    this.flush = null;
  }

  private open(): void {
    if (this.monitor || this.failed) return;
    const m = RtnlMonitor.open([RTNLGRP.IPV6_IFADDR], {
      onMessage: (msg) => {
        if (msg.type !== RTM.NEWADDR && msg.type !== RTM.DELADDR) return;
        const a = decodeAddr(msg);
        if (a.ok && a.value.family === AF_INET6) this.schedule(a.value.index);
      },
      onOverrun: () => {
        this.counters.overruns++;
        for (const ifindex of this.watched.keys()) this.schedule(ifindex);
      },
    }, { ref: false, rcvbufBytes: 256 << 10 });
    if (isOsError(m)) {
      // Then a link-local that was tentative at open waits for the next reload, as before.
      this.failed = true;
      this.unavailable(m.code);
      return;
    }
    this.monitor = m;
  }

  private schedule(ifindex: number): void {
    if (!this.watched.has(ifindex)) return;
    this.pending.add(ifindex);
    this.flush ??= setImmediate(() => {
      this.flush = null;
      const inet6 = readInet6();
      for (const i of this.pending) this.recheck(i, inet6);
      this.pending.clear();
    });
  }

  private recheck(ifindex: number, inet6: string | null): void {
    const w = this.watched.get(ifindex);
    if (!w) return;
    const now = linkInfo(w.link.device, inet6);
    // The device went away or is another one now: the reload that follows reopens the port.
    if (!now || now.ifindex !== ifindex || bytesEqual(now.linkLocal, w.link.linkLocal)) return;
    w.link = now;
    this.counters.changes++;
    this.changed(w.port, now);
  }
}
