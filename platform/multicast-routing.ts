/**
 * The kernel's multicast routing sockets, one per family: an IPPROTO_IGMP raw socket
 * with MRT_INIT (IPv4) and an IPPROTO_ICMPV6 raw socket with MRT6_INIT (IPv6). Whoever
 * holds one owns the namespace's multicast forwarding: only one may exist per namespace
 * (a second MRT_INIT gets EADDRINUSE), every VIF and MFC entry belongs to it, and closing
 * it flushes them all (so after a restart gleand installs everything again; the
 * subscribers' membership is re-learnt by the startup queries, RFC 3376 §7.6.1).
 *
 * It keeps one VIF / MIF per device gleand forwards between (the subscriber ports and the
 * multicast upstream; 32 per family at most), adds and deletes MFC entries by device
 * name, and hands the kernel's upcalls (no entry for a packet: NOCACHE) to a listener.
 * Shared by the kernel applier of `mroutes` (which installs the entries) and the
 * multicast driver (which turns upcalls into `mroute-miss` events).
 */
import { linkInfo } from './links';
import { MAX_VIFS, MRT, decodeIgmpmsg, decodeMrt6msg, mf6cctl, mfcctl, mif6ctl, vifctl, type Upcall } from './multicast-mrt';
import { upcallFilter } from './multicast-bpf';
import { loadNative, type NativeBinding } from './native';
import { int32 } from './byte-order';

const IPPROTO_IGMP = 2;
const IPPROTO_ICMPV6 = 58;
/** Upcalls read per readiness callback: a burst of new channels does not hold the loop. */
const UPCALL_BUDGET = 64;

interface Vif {
  readonly vifi: number;
  readonly ifindex: number;
}

interface FamilySocket {
  readonly family: 4 | 6;
  readonly fd: number;
  readonly vifs: Map<string, Vif>;
}

export type UpcallListener = (u: Upcall, device: string | null) => void;

/** errno number → name for the few the multicast routing socket returns. */
const ERRNO: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 17: 'EEXIST', 19: 'ENODEV', 22: 'EINVAL', 98: 'EADDRINUSE', 105: 'ENOBUFS', 92: 'ENOPROTOOPT',
};
export const errnoName = (rc: number): string => ERRNO[-rc] ?? `errno ${-rc}`;

export class MulticastRouting {
  private native: NativeBinding | null = null;
  private readonly sockets = new Map<4 | 6, FamilySocket>();
  private listener: UpcallListener | null = null;
  readonly counters = {
    upcalls: 0, upcallsNocache: 0, upcallsWrongvif: 0, upcallsUnknown: 0, upcallReadErrors: 0,
    vifsAdded: 0, vifsRemoved: 0, vifErrors: 0, vifsFull: 0,
  };

  /** Where upcalls go (the multicast driver); null: counted and dropped. */
  onUpcall(l: UpcallListener | null): void {
    this.listener = l;
  }

  /** Both families' sockets are held (after a partial failure `open` is called again). */
  get isOpen(): boolean {
    return this.sockets.size === 2;
  }

  /**
   * Open both families' sockets (a family already open is kept). Throws when a socket
   * cannot be had, naming why: EADDRINUSE when another multicast router (pimd, smcroute,
   * igmpproxy) holds the namespace's.
   */
  open(): void {
    const n = this.native ?? loadNative();
    if (n instanceof Error) throw n;
    this.native = n;
    for (const family of [4, 6] as const) {
      if (this.sockets.has(family)) continue;
      const k = n.constants;
      const fd = n.open(family === 4 ? k.AF_INET : k.AF_INET6, k.SOCK_RAW, family === 4 ? IPPROTO_IGMP : IPPROTO_ICMPV6);
      if (fd < 0) throw new Error(`multicast routing socket (IPv${family}): ${errnoName(fd)}`);
      const fail = (what: string, rc: number) => {
        n.close(fd);
        throw new Error(`${what} (IPv${family}): ${errnoName(rc)}`);
      };
      let rc = n.attachFilter(fd, upcallFilter(family));
      if (rc < 0) fail('SO_ATTACH_FILTER', rc);
      rc = n.setsockopt(fd, family === 4 ? k.IPPROTO_IP : k.IPPROTO_IPV6, MRT.INIT, int32(1));
      if (rc < 0) fail(family === 4 ? 'MRT_INIT' : 'MRT6_INIT', rc);
      const s: FamilySocket = { family, fd, vifs: new Map() };
      rc = n.startRecv(fd, (errno, data, lengths) => this.receive(s, errno, data, lengths), UPCALL_BUDGET);
      if (rc < 0) fail('startRecv', rc);
      n.ref(fd, false);
      this.sockets.set(family, s);
    }
  }

  /** Close both sockets: the kernel flushes every VIF and MFC entry (MRT_DONE is implied). */
  close(): void {
    for (const s of this.sockets.values()) this.native!.close(s.fd);
    this.sockets.clear();
  }

  /**
   * Make the VIF tables hold exactly `devices` (those that exist): a device that went is
   * deleted (with it the kernel drops it from every entry), a new one gets the lowest
   * free slot. Returns the devices that could not get a VIF, with why.
   */
  syncVifs(devices: readonly string[]): string[] {
    const problems: string[] = [];
    for (const s of this.sockets.values()) {
      for (const [device, vif] of s.vifs) {
        const info = linkInfo(device);
        if (devices.includes(device) && info?.ifindex === vif.ifindex) continue;
        this.delVif(s, device, vif);
      }
      for (const device of devices) {
        if (s.vifs.has(device)) continue;
        const why = this.addVif(s, device);
        if (why) problems.push(`${device} (IPv${s.family}): ${why}`);
      }
    }
    return problems;
  }

  private addVif(s: FamilySocket, device: string): string | null {
    const info = linkInfo(device);
    if (!info) return 'no such device';
    const used = new Set([...s.vifs.values()].map((v) => v.vifi));
    let vifi = 0;
    while (used.has(vifi)) vifi++;
    if (vifi >= MAX_VIFS) {
      this.counters.vifsFull++;
      return `the kernel's ${MAX_VIFS} VIFs are taken`;
    }
    // struct mif6ctl's mif6c_pifi is a __u16 (linux/mroute6.h): a larger ifindex would be
    // cut to another device's, so such a device gets no MIF rather than the wrong one.
    if (s.family === 6 && info.ifindex > 0xffff) {
      this.counters.vifErrors++;
      return `ifindex ${info.ifindex} does not fit mif6ctl's 16-bit mif6c_pifi`;
    }
    const k = this.native!.constants;
    const rc = s.family === 4
      ? this.native!.setsockopt(s.fd, k.IPPROTO_IP, MRT.ADD_VIF, vifctl(vifi, info.ifindex))
      : this.native!.setsockopt(s.fd, k.IPPROTO_IPV6, MRT.ADD_VIF, mif6ctl(vifi, info.ifindex));
    if (rc < 0) {
      this.counters.vifErrors++;
      return errnoName(rc);
    }
    this.counters.vifsAdded++;
    s.vifs.set(device, { vifi, ifindex: info.ifindex });
    return null;
  }

  private delVif(s: FamilySocket, device: string, vif: Vif): void {
    const k = this.native!.constants;
    const b = s.family === 4 ? vifctl(vif.vifi, vif.ifindex) : mif6ctl(vif.vifi, vif.ifindex);
    // ENOENT / EADDRNOTAVAIL: the kernel dropped it already (the device was deleted).
    this.native!.setsockopt(s.fd, s.family === 4 ? k.IPPROTO_IP : k.IPPROTO_IPV6, MRT.DEL_VIF, b);
    this.counters.vifsRemoved++;
    s.vifs.delete(device);
  }

  /** The device of an ifindex that has a VIF of `family`, for reading the kernel's dump. */
  deviceOfIfindex(family: 4 | 6, ifindex: number): string | null {
    for (const [device, v] of this.sockets.get(family)?.vifs ?? []) if (v.ifindex === ifindex) return device;
    return null;
  }

  /**
   * MRT_ADD_MFC / MRT6_ADD_MFC: create or replace the (S, G) entry. 'ENODEV' when a
   * device has no VIF, else an errno name, or null on success.
   */
  addMfc(family: 4 | 6, source: Uint8Array, group: Uint8Array, iif: string, oifs: readonly string[]): string | null {
    return this.mfc(MRT.ADD_MFC, family, source, group, iif, oifs);
  }

  /** MRT_DEL_MFC: the kernel matches (S, G) and the parent VIF. */
  delMfc(family: 4 | 6, source: Uint8Array, group: Uint8Array, iif: string): string | null {
    return this.mfc(MRT.DEL_MFC, family, source, group, iif, []);
  }

  private mfc(op: number, family: 4 | 6, source: Uint8Array, group: Uint8Array, iif: string, oifs: readonly string[]): string | null {
    const s = this.sockets.get(family);
    if (!s) return 'ENOTCONN';
    const parent = s.vifs.get(iif);
    if (!parent) return 'ENODEV';
    const out: number[] = [];
    for (const o of oifs) {
      const v = s.vifs.get(o);
      if (!v) return 'ENODEV';
      if (o !== iif) out.push(v.vifi);
    }
    const k = this.native!.constants;
    const rc = family === 4
      ? this.native!.setsockopt(s.fd, k.IPPROTO_IP, op, mfcctl(source, group, parent.vifi, out))
      : this.native!.setsockopt(s.fd, k.IPPROTO_IPV6, op, mf6cctl(source, group, parent.vifi, out));
    return rc < 0 ? errnoName(rc) : null;
  }

  private receive(s: FamilySocket, errno: number, data: Buffer | null, lengths: Uint32Array | null): void {
    if (errno !== 0 || !data || !lengths) {
      this.counters.upcallReadErrors++;
      return;
    }
    let off = 0;
    for (const len of lengths) {
      const b = new Uint8Array(data.buffer, data.byteOffset + off, len);
      off += len;
      const u = s.family === 4 ? decodeIgmpmsg(b) : decodeMrt6msg(b);
      if (!u) {
        this.counters.upcallsUnknown++;
        continue;
      }
      this.counters.upcalls++;
      if (u.reason === 'nocache') this.counters.upcallsNocache++;
      else this.counters.upcallsWrongvif++;
      let device: string | null = null;
      for (const [d, v] of s.vifs) if (v.vifi === u.vif) device = d;
      this.listener?.(u, device);
    }
  }

  /** VIF tables as `device: vif` per family, for status. */
  vifTable(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const s of this.sockets.values()) out[`ipv${s.family}`] = Object.fromEntries([...s.vifs].map(([d, v]) => [d, v.vifi]));
    return out;
  }
}
