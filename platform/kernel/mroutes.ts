import type { Config } from '../../src/config/config';
import type { BatchOp } from '../../src/kernel/diff';
import type { MrouteEntry } from '../../src/kernel/mroute';
import { MROUTE } from '../../src/kernel/mroute';
import { formatAddress } from '../../src/wire/address';
import { NETLINK_ROUTE, RTA, RTM, encodeBody, rtmsg, type Rtnl } from '../netlink';
import {
  NLMSG_HDRLEN, bytes, decodeBody, ipAddr, ok, u32, type AttrRow, type Attributed, type Decoded, type FieldRow, type MessageSpec,
} from '../netlink/wire';
import { HOST_ORDER, littleEndian, type ByteOrder } from '../byte-order';
import { MulticastRouting } from '../multicast-routing';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';

/** RTNL_FAMILY_IPMR / RTNL_FAMILY_IP6MR: the rtm_family of a multicast routing dump (`ip mroute`). */
const RTNL_FAMILY = { 4: 128, 6: 129 } as const;
/** rtm_flags of an unresolved entry: the kernel's queue of packets waiting for an upcall's answer. */
const RTNH_F_UNRESOLVED = 32;
/** Deleting what is already gone is success for a reconciler. */
const GONE = new Set(['ENOENT']);

/** The devices gleand forwards between: the subscriber ports and the multicast upstream. */
export function multicastDevices(config: Config): string[] {
  if (!config.multicast.enabled) return [];
  const devices = config.subscribers.map((s) => s.device);
  const up = upstreamDevice(config);
  if (up && !devices.includes(up)) devices.push(up);
  return devices;
}

export function upstreamDevice(config: Config): string | null {
  const name = config.multicast.upstream;
  return name === undefined ? null : config.upstreams.find((u) => u.name === name)?.device ?? null;
}

/**
 * An RTM_NEWROUTE of a multicast routing dump: struct rtmsg and the attributes ipmr /
 * ip6mr fill in (mr_fill_mroute). Not the unicast route spec: there RTA_EXPIRES is a
 * 32-bit timer, here an 8-byte last-use, so it stays a raw attribute.
 */
interface MfcMessage extends Attributed {
  family: number; flags: number; src?: Uint8Array; dst?: Uint8Array; iif?: number; multipath?: Uint8Array; stats?: Uint8Array;
}
const mfcmsg: MessageSpec<MfcMessage> = {
  name: 'rtmsg (mroute)',
  headerLength: 12,
  fields: [
    { key: 'family', offset: 0, kind: 'u8' },
    { key: 'flags', offset: 8, kind: 'u32' },
  ] as const satisfies readonly FieldRow<MfcMessage>[],
  attrs: [
    { type: RTA.SRC, key: 'src', codec: ipAddr },
    { type: RTA.DST, key: 'dst', codec: ipAddr },
    { type: RTA.IIF, key: 'iif', codec: u32 },
    { type: RTA.MULTIPATH, key: 'multipath', codec: bytes },
    { type: RTA.MFC_STATS, key: 'stats', codec: bytes },
  ] as const satisfies readonly AttrRow<MfcMessage>[],
  blank: () => ({ family: 0, flags: 0, unknownAttrs: [] }),
};

/** RTA_MULTIPATH of a multicast route: one struct rtnexthop per output VIF (ifindex). */
function nexthopIfindexes(b: Uint8Array | undefined, order: ByteOrder): number[] {
  const out: number[] = [];
  if (!b) return out;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = littleEndian(order);
  // struct rtnexthop { unsigned short rtnh_len; unsigned char rtnh_flags, rtnh_hops; int rtnh_ifindex; }
  // (linux/rtnetlink.h): rtnh_len and rtnh_ifindex are host order.
  for (let at = 0; at + 8 <= b.length;) {
    const len = v.getUint16(at, le);
    if (len < 8) break;
    out.push(v.getInt32(at + 4, le));
    at += (len + 3) & ~3;
  }
  return out;
}

/**
 * RTA_MFC_STATS: struct rta_mfc_stats { __u64 mfcs_packets, mfcs_bytes, mfcs_wrong_if; }
 * (linux/rtnetlink.h), host order, 24 bytes on mips o32 as on x86-64. The kernel puts it
 * with nla_put_64bit(..., RTA_PAD): on an arch without efficient unaligned access (mips)
 * a zero-length RTA_PAD comes first when the value would not be 8-byte aligned
 * (include/net/netlink.h, nla_need_padding_for_64bit); that is an attribute of its own,
 * which decodeBody keeps among the unknown ones, so the value is still this attribute's.
 */
function mfcStats(a: Uint8Array | undefined, order: ByteOrder): MfcStats | null {
  if (!a || a.length < 24) return null;
  const v = new DataView(a.buffer, a.byteOffset, 24);
  const le = littleEndian(order);
  return { packets: Number(v.getBigUint64(0, le)), bytes: Number(v.getBigUint64(8, le)), wrongIf: Number(v.getBigUint64(16, le)) };
}

export interface MfcStats { packets: number; bytes: number; wrongIf: number }

/** One entry of a multicast routing dump, as far as gleand reads it. */
export interface MfcDumped {
  /** RTNL_FAMILY_IPMR (128) or RTNL_FAMILY_IP6MR (129). */
  family: number;
  flags: number;
  src?: Uint8Array;
  dst?: Uint8Array;
  iif?: number;
  /** The output VIFs' ifindexes (RTA_MULTIPATH). */
  oifs: number[];
  stats: MfcStats | null;
}

/**
 * An RTM_NEWROUTE payload of a multicast routing dump (ipmr_fill_mroute / mr_fill_mroute),
 * its host-order fields read in `order`: the dump comes from this machine's kernel, so the
 * daemon reads it in the host's; the golden test asks for each.
 */
export function decodeMfc(payload: Uint8Array, order: ByteOrder = HOST_ORDER): Decoded<MfcDumped> {
  const d = decodeBody(mfcmsg, payload, NLMSG_HDRLEN, order);
  if (!d.ok) return d;
  const m = d.value;
  return ok({
    family: m.family, flags: m.flags, src: m.src, dst: m.dst, iif: m.iif,
    oifs: nexthopIfindexes(m.multipath, order), stats: mfcStats(m.stats, order),
  });
}

/**
 * Multicast forwarding entries (MFC), RFC 4605 §4.2: the router forwards a channel (S, G)
 * from the upstream device to the subscriber ports whose members want it. Installed
 * through the multicast routing socket (multicast-routing.ts), read back from the kernel
 * by an RTM_GETROUTE dump of RTNL_FAMILY_IPMR / IP6MR — what `ip mroute show` prints — so
 * a reconcile and `gleand mroutes` see the kernel's entries, not gleand's memory.
 *
 * Every MFC entry of the namespace is gleand's: the socket that owns them is. Nobody else
 * can change them while gleand holds it, so no notification concerns this kind; the
 * periodic reconcile still compares. `multicast.enabled` off: no socket, no entries.
 */
export class MrouteApplier implements Applier<'mroutes'> {
  readonly kind = 'mroutes';
  readonly queryKey = 'mroutes';
  readonly monitor = { protocol: NETLINK_ROUTE, groups: [] as number[] };
  /** Kernel counters of each entry of the last dump, by key, for `gleand mroutes`. */
  private stats = new Map<string, { packets: number; bytes: number; wrongIf: number }>();
  private vifProblems: string[] = [];
  /** Why the routing sockets could not be had (EADDRINUSE: another multicast router holds them); retried at every dump. */
  private openError: string | null = null;
  private devices: string[] = [];
  private readonly counters = { mfcAdded: 0, mfcRemoved: 0, mfcErrors: 0 };

  constructor(private readonly rtnl: Rtnl, readonly routing: MulticastRouting = new MulticastRouting()) {}

  tag(config: Config): string {
    return config.multicast.enabled ? `multicast upstream ${upstreamDevice(config) ?? '-'}` : 'multicast off';
  }

  /**
   * Open the routing sockets when `multicast.enabled`. A failure does not fail the start of
   * the kernel driver (the relay must run even where pimd owns multicast routing): it is
   * kept, shown in status, refused entries carry it, and every reconcile tries again.
   */
  async start(ctx: ApplierContext): Promise<void> {
    this.devices = multicastDevices(ctx.config);
    if (!ctx.config.multicast.enabled) {
      this.routing.close();
      this.openError = null;
      return;
    }
    this.ensureOpen();
  }

  private ensureOpen(): boolean {
    if (!this.routing.isOpen) {
      try {
        this.routing.open();
        this.openError = null;
      } catch (e) {
        this.openError = (e as Error).message;
        return false;
      }
    }
    this.vifProblems = this.routing.syncVifs(this.devices);
    return true;
  }

  async portsChanged(ctx: ApplierContext): Promise<void> {
    this.devices = multicastDevices(ctx.config);
    if (this.routing.isOpen) this.vifProblems = this.routing.syncVifs(this.devices);
  }

  async dump(ctx: ApplierContext): Promise<MrouteEntry[] | null> {
    if (!ctx.config.multicast.enabled) return [];
    // Not open: nothing of gleand's is in the kernel (closing flushed it); retry the open.
    if (!this.routing.isOpen && !this.ensureOpen()) return [];
    const out: MrouteEntry[] = [];
    const stats = new Map<string, { packets: number; bytes: number; wrongIf: number }>();
    for (const family of [4, 6] as const) {
      const q = rtmsg.blank();
      q.family = RTNL_FAMILY[family];
      const r = await this.rtnl.dump(RTM.GETROUTE, encodeBody(rtmsg, q) as Uint8Array);
      if (!r.ok) return null;
      for (const msg of r.value) {
        if (msg.type !== RTM.NEWROUTE) continue;
        const d = decodeMfc(msg.payload);
        if (!d.ok) continue;
        const m = d.value;
        if (m.family !== RTNL_FAMILY[family] || (m.flags & RTNH_F_UNRESOLVED) || m.iif === undefined || !m.src || !m.dst) continue;
        const iif = this.routing.deviceOfIfindex(family, m.iif);
        if (!iif) continue;
        const oifs = m.oifs.map((i) => this.routing.deviceOfIfindex(family, i));
        const e: MrouteEntry = {
          family, source: m.src, group: m.dst, iif, oifs: [...new Set(oifs.filter((o): o is string => o !== null))].sort(),
        };
        out.push(e);
        if (m.stats) stats.set(MROUTE.key(e), m.stats);
      }
    }
    this.stats = stats;
    return out;
  }

  async apply(op: BatchOp, entries: MrouteEntry[]): Promise<ApplyOutcome> {
    if (!this.routing.isOpen && op !== 'remove') {
      const code = /EADDRINUSE/.test(this.openError ?? '') ? 'EADDRINUSE' : 'ENOTCONN';
      return { applied: 0, failures: entries.map(() => code), noDevice: 0, missed: new Set(entries.keys()) };
    }
    let applied = 0, noDevice = 0;
    const failures: string[] = [];
    const missed = new Set<number>();
    for (const [i, e] of entries.entries()) {
      const err = op === 'remove'
        ? this.routing.delMfc(e.family, e.source, e.group, e.iif)
        : this.routing.addMfc(e.family, e.source, e.group, e.iif, e.oifs);
      if (err !== null) missed.add(i);
      if (err === null || (op === 'remove' && GONE.has(err))) {
        applied++;
        if (op === 'remove') this.counters.mfcRemoved++;
        else this.counters.mfcAdded++;
      } else if (err === 'ENODEV') {
        noDevice++;
      } else {
        this.counters.mfcErrors++;
        failures.push(err);
      }
    }
    return { applied, failures, noDevice, missed };
  }

  /** The socket goes: the kernel flushes every VIF and entry with it. */
  async withdraw(): Promise<void> {
    this.routing.close();
  }

  concerns(): boolean {
    return false;
  }

  row(e: MrouteEntry): Record<string, unknown> {
    const s = this.stats.get(MROUTE.key(e));
    return {
      family: e.family, source: formatAddress(e.family, e.source), group: formatAddress(e.family, e.group),
      iif: e.iif, oifs: e.oifs.join(' '), ...(s ? { packets: s.packets, bytes: s.bytes, wrongIf: s.wrongIf } : {}),
    };
  }

  status(): Record<string, unknown> {
    return { mroutes: { ...this.counters, ...this.routing.counters, open: this.routing.isOpen, openError: this.openError, vifs: this.routing.vifTable(), vifProblems: this.vifProblems } };
  }

  stop(): void {
    this.routing.close();
  }
}
