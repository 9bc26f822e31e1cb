import * as os from 'node:os';
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { parseIPv4 } from '../src/wire/address';
import type { Driver, DriverContext, ReloadVerdict } from './driver';
import { upstreamDevice } from './kernel/mroutes';
import { linkInfo, type LinkInfo } from './links';
import { igmpMldFilter } from './multicast-bpf';
import { hasZeroSource, multicastMac, withSource } from './multicast-frame';
import type { Upcall } from './multicast-mrt';
import type { MulticastRouting } from './multicast-routing';
import { loadNative, NAME_BYTES, type NativeBinding } from './native';
import {
  ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, PACKET_ADD_MEMBERSHIP, PACKET_MR_ALLMULTI, SOCKADDR_LL_BYTES, SOL_PACKET,
  htons, packetMreq, setReceiveBuffer, sockaddrLl,
} from './packet-socket';
import { packetStatistics } from './native/meminfo';
import { SendQueue } from './send-queue';

/**
 * The multicast router's link layer: IGMP and MLD in and out of every subscriber port and
 * the multicast upstream, and the kernel's upcalls as `mroute-miss` events.
 *
 * Receive: a packet socket of its own per device (AF_PACKET, SOCK_DGRAM, ETH_P_ALL) with
 * a filter that passes only IGMP and MLD (multicast-bpf.ts). Not the multicast routing
 * socket: that one gives neither the Ethernet source (the `multicast` event's `mac`) nor,
 * for IPv6, the IPv6 and Hop-by-Hop headers (the core checks the Router Alert and the
 * link-local source, RFC 3810 §5), and the upstream is not a subscriber port. Not the
 * relay's packet sockets either: their filter is DHCP's, the upstream has none, and a
 * report flood then costs the relay nothing (each socket has its own receive buffer and
 * read budget, and the kernel counts each one's drops). The socket joins all multicast
 * (PACKET_MR_ALLMULTI): reports go to 224.0.0.22 / ff02::16 or, in v1/v2, to the group.
 *
 * Send: the same socket, to the MAC derived from the IP destination; an all-zero source
 * is the device's address (see multicast-frame.ts).
 */
/** Receive buffer per device: a report burst of a few hundred hosts, not a flood. */
const RCVBUF_BYTES = 256 << 10;
/** Reports read per readiness callback, so a flooded port does not starve the others. */
export const MULTICAST_READ_BUDGET = 32;


interface Member {
  /** Section name: a subscriber port, or the upstream section for the upstream device. */
  readonly port: string;
  readonly upstream: boolean;
}

interface DeviceSocket {
  readonly link: LinkInfo;
  readonly member: Member;
  readonly fd: number;
  readonly queue: SendQueue<string>;
  /** Frames read; PACKET_STATISTICS (seen, drops) summed, as the relay's ports count them. */
  read: number;
  seen: number;
  drops: number;
  igmp: number;
  mld: number;
  sent: number;
}

/** The device of every member of the multicast router, under the config. */
function members(config: Config): Map<string, Member> {
  const out = new Map<string, Member>();
  if (!config.multicast.enabled) return out;
  for (const s of config.subscribers) out.set(s.device, { port: s.name, upstream: false });
  const up = upstreamDevice(config);
  if (up && config.multicast.upstream) out.set(up, { port: config.multicast.upstream, upstream: true });
  return out;
}

export class MulticastDriver implements Driver {
  readonly name = 'multicast';
  readonly actionKinds = ['multicast-send'] as const;
  private native!: NativeBinding;
  private ctx!: DriverContext;
  private readonly sockets = new Map<string, DeviceSocket>();
  private readonly counters = {
    received: 0, sent: 0, sendErrors: 0, recvErrors: 0, missingDevices: 0,
    /** `multicast-send` for a port without a socket (multicast off there, device missing). */
    noSocket: 0,
    /** Sends whose IP destination is not a group: no MAC to derive (the core never builds one). */
    notMulticast: 0,
    /** Zero sources filled in with the device's address, and those left zero (no address). */
    sourceFilled: 0, noSourceAddress: 0,
    /** Upcalls turned into `mroute-miss`, and those on a VIF no configured device has. */
    misses: 0, missesUnknownVif: 0,
  };

  constructor(private readonly routing: MulticastRouting | null = null) {}

  async start(config: Config, ctx: DriverContext): Promise<void> {
    const n = loadNative();
    if (n instanceof Error) throw n;
    this.native = n;
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<ReloadVerdict> {
    const wanted = members(config);
    const changed: string[] = [];
    for (const [device, s] of this.sockets) {
      const m = wanted.get(device);
      if (!m || m.port !== s.member.port || m.upstream !== s.member.upstream) {
        this.close(device);
        changed.push(device);
      }
    }
    for (const [device, m] of wanted) {
      if (this.sockets.has(device)) continue;
      this.open(device, m);
      if (!changed.includes(device)) changed.push(device);
    }
    this.routing?.onUpcall(wanted.size > 0 ? (u, device) => this.upcall(u, device, wanted) : null);
    return changed.length ? { verdict: 'reinstalled', detail: `multicast on ${changed.join(' ')}` } : { verdict: 'in-place' };
  }

  private open(device: string, member: Member): void {
    const link = linkInfo(device);
    if (!link) {
      this.counters.missingDevices++;
      this.ctx.log('warn', 'multicast', 'device not found; no IGMP/MLD there until the next reload', { port: member.port, device });
      return;
    }
    const n = this.native;
    const k = n.constants;
    const fd = n.open(k.AF_PACKET, k.SOCK_DGRAM, htons(ETH_P_ALL));
    const fail = (op: string, rc: number) => {
      this.ctx.log('error', 'multicast', `${op} failed`, { port: member.port, device, errno: -rc });
      if (fd >= 0) n.close(fd);
    };
    if (fd < 0) return fail('socket', fd);
    // The filter goes on before bind, so no unfiltered frame is ever queued.
    let rc = n.attachFilter(fd, igmpMldFilter());
    if (rc < 0) return fail('SO_ATTACH_FILTER', rc);
    rc = n.bind(fd, sockaddrLl(n, ETH_P_ALL, link.ifindex));
    if (rc < 0) return fail('bind', rc);
    rc = n.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, packetMreq(link.ifindex, PACKET_MR_ALLMULTI));
    if (rc < 0) return fail('PACKET_ADD_MEMBERSHIP', rc);
    setReceiveBuffer(n, fd, RCVBUF_BYTES);
    rc = n.startRecv(fd, (errno, data, lengths, names) => this.receive(device, errno, data, lengths, names), MULTICAST_READ_BUDGET);
    if (rc < 0) return fail('startRecv', rc);
    n.ref(fd, false);
    const queue = new SendQueue<string>(n, fd, SOCKADDR_LL_BYTES, (count) => {
      this.counters.sent += count;
      const s = this.sockets.get(device);
      if (s) s.sent += count;
    }, (errno) => this.sendFailed(device, errno));
    this.sockets.set(device, { link, member, fd, queue, read: 0, seen: 0, drops: 0, igmp: 0, mld: 0, sent: 0 });
  }

  private receive(device: string, errno: number, data: Buffer | null, lengths: Uint32Array | null, names: Buffer | null): void {
    const s = this.sockets.get(device);
    if (!s) return;
    if (errno !== 0 || !data || !lengths || !names) {
      this.counters.recvErrors++;
      this.ctx.log('warn', 'multicast', 'receive error', { device, errno }, `multicast:recv:${device}`);
      return;
    }
    s.read += lengths.length;
    let off = 0;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const name = names.subarray(i * NAME_BYTES, (i + 1) * NAME_BYTES);
      const protocol = (name[2]! << 8) | name[3]!;
      const family = protocol === ETH_P_IP ? 4 : protocol === ETH_P_IPV6 ? 6 : 0;
      const bytes = new Uint8Array(data.buffer, data.byteOffset + off, len);
      off += len;
      if (family === 0 || name[11] !== 6) continue;
      this.counters.received++;
      if (family === 4) s.igmp++;
      else s.mld++;
      this.ctx.emit({ kind: 'multicast', family, port: s.member.port, upstream: s.member.upstream, mac: name.slice(12, 18), bytes });
    }
  }

  private upcall(u: Upcall, device: string | null, wanted: Map<string, Member>): void {
    const m = device ? wanted.get(device) : undefined;
    if (!m) this.counters.missesUnknownVif++;
    this.counters.misses++;
    this.ctx.emit({
      kind: 'mroute-miss', family: u.family, reason: u.reason, source: u.source, group: u.group,
      port: m?.port ?? null, upstream: m?.upstream ?? false,
    });
  }

  execute(a: Action): void {
    if (a.kind !== 'multicast-send') return;
    const s = [...this.sockets.values()].find((x) => x.member.port === a.port && x.member.upstream === a.upstream);
    if (!s) {
      this.counters.noSocket++;
      return;
    }
    const mac = multicastMac(a.family, a.bytes);
    if (!mac) {
      this.counters.notMulticast++;
      this.ctx.log('warn', 'multicast', 'not sent: the destination is not a group', { port: a.port }, `multicast:notgroup:${a.port}`);
      return;
    }
    let bytes = a.bytes;
    if (hasZeroSource(a.family, bytes)) {
      const source = this.addressOf(s.link.device, a.family);
      const filled = source ? withSource(a.family, bytes, source) : null;
      if (filled) {
        this.counters.sourceFilled++;
        bytes = filled;
      } else {
        // RFC 3376 §4.2.13 lets a report come from 0.0.0.0; a query from :: is
        // discarded by hosts (RFC 3810 §5.1.14), so it is counted.
        this.counters.noSourceAddress++;
      }
    }
    const protocol = a.family === 4 ? ETH_P_IP : ETH_P_IPV6;
    const ifindex = s.link.ifindex;
    const to = sockaddrLl(this.native, protocol, ifindex, mac);
    s.queue.push(bytes, (names, at) => names.set(to, at), a.port);
  }

  /** IPv4: the device's primary address; IPv6: its link-local (RFC 3810 §5.1.14). */
  private addressOf(device: string, family: 4 | 6): Uint8Array | null {
    if (family === 6) return linkInfo(device)?.linkLocal ?? null;
    const a = (os.networkInterfaces()[device] ?? []).find((x) => x.family === 'IPv4');
    return a ? parseIPv4(a.address) : null;
  }

  private sendFailed(device: string, errno: number): void {
    this.counters.sendErrors++;
    this.ctx.log('warn', 'multicast', 'send failed', { device, errno }, `multicast:send:${device}`);
  }

  private close(device: string): void {
    const s = this.sockets.get(device);
    if (!s) return;
    s.queue.close();
    this.native.close(s.fd);
    this.sockets.delete(device);
  }

  async stop(): Promise<void> {
    this.routing?.onUpcall(null);
    for (const device of [...this.sockets.keys()]) this.close(device);
  }

  status(): Record<string, unknown> {
    for (const s of this.sockets.values()) {
      const st = this.native ? packetStatistics(this.native, s.fd) : null;
      if (!st) continue;
      s.seen += st.seen;
      s.drops += st.drops;
    }
    const devices = [...this.sockets.values()].map((s) => ({
      port: s.member.port, upstream: s.member.upstream, device: s.link.device,
      read: s.read, seen: s.seen, drops: s.drops, igmp: s.igmp, mld: s.mld, sent: s.sent,
    }));
    return { ...this.counters, devices };
  }
}
