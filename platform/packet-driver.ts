import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import type { SubscriberConfig } from '../src/config/schema';
import { dhcpFilter } from './bpf';
import type { Driver, DriverContext, ReloadVerdict } from './driver';
import { LinkLocalWatch } from './link-local-watch';
import { linkInfo, type LinkInfo } from './links';
import { LL_STATUS_AT, loadNative, NAME_BYTES, type NativeBinding } from './native';
import {
  ETH_P_ALL, ETH_P_IP, ETH_P_IPV6, PACKET_ADD_MEMBERSHIP, PACKET_MR_MULTICAST, SOCKADDR_LL_BYTES, SOL_PACKET,
  htons, int32, packetMreq, setReceiveBuffer, sockaddrLl, tpStatus,
} from './packet-socket';
import { packetStatistics } from './native/meminfo';
import { SendQueue } from './send-queue';
import { isUdpTo, pagingFrame, pagingPorts, readHostDatagram } from './paging-frame';

/**
 * The subscriber side of the relay: one AF_PACKET socket per subscriber port. A port
 * is unnumbered and its clients have no address yet, so the relay works at the link
 * layer: it receives each DHCP frame with its ingress port and source MAC (which
 * raw-socket's AF_INET sockets cannot report), and it sends replies to the client's
 * MAC directly, with no ARP or ND (RFC 2131 §4.1). A BPF filter keeps everything but
 * DHCP in the kernel.
 */
/** sll_pkttype of a frame the host sends (linux/if_packet.h). */
const PACKET_OUTGOING = 4;
/** All_DHCP_Relay_Agents_and_Servers ff02::1:2 (RFC 8415 §7.1) as an Ethernet group (RFC 2464 §7). */
const ALL_DHCP_RELAYS_MAC = new Uint8Array([0x33, 0x33, 0x00, 0x01, 0x00, 0x02]);






/** Receive buffer per port socket (SO_RCVBUFFORCE, else SO_RCVBUF up to rmem_max). */
export const PACKET_RCVBUF_BYTES = 4 << 20;
/**
 * Frames read per readiness callback. A flood of requests on a port is read a batch at a
 * time, and the event loop turns to the other ready sockets (the server replies on the
 * UDP sockets) in between, instead of draining the port first: replies are not starved.
 */
export const PACKET_READ_BUDGET = 64;

interface PortSocket {
  readonly port: string;
  readonly link: LinkInfo;
  readonly fd: number;
  /** Reply frames of the current turn, sent with one sendmmsg (see SendQueue). */
  readonly queue: SendQueue<string>;
  /** sockaddr_ll of this port for IPv4 and IPv6 frames, without the MAC (copied into each send). */
  readonly to4: Uint8Array;
  readonly to6: Uint8Array;
  /**
   * PACKET_STATISTICS, summed (reading resets it): `seen` is tp_packets — every frame
   * the DHCP filter passed, which the kernel reports including the dropped ones — and
   * `drops` is tp_drops, the frames it could not queue (receive buffer full). Frames the
   * filter rejects are in neither. `read`: frames gleand read from the socket. So
   * seen = read + drops + what is still queued.
   */
  drops: number;
  seen: number;
  read: number;
  /** The paging port its filter passes (a port of a paging area), or null: DHCP only. */
  pagingPort: number | null;
}

export class PacketDriver implements Driver {
  readonly name = 'packet';
  readonly actionKinds = ['link-send', 'paging-send'] as const;
  private native!: NativeBinding;
  private ctx!: DriverContext;
  private readonly sockets = new Map<string, PortSocket>();
  private readonly counters = { received: 0, sent: 0, sendErrors: 0, recvErrors: 0, missingDevices: 0 };
  /** Paging datagrams read (`received`), undecodable (`malformed`), sent, and sends with no source address on the port. */
  private readonly paging = { received: 0, malformed: 0, sent: 0, noSource: 0 };
  private config!: Config;
  /** A port's link-local as the watch last reported it (its `link` at open until then): the IPv6 source of paging sends. */
  private readonly linkLocalNow = new Map<string, Uint8Array | null>();
  /** A port's link-local after it opened (DAD ended, added, gone): the `link` event again. */
  private readonly linkLocals = new LinkLocalWatch(
    (port, link) => {
      this.linkLocalNow.set(port, link.linkLocal);
      this.ctx.emit({ kind: 'link', port, up: link.up, mac: link.mac, linkLocal: link.linkLocal });
    },
    (error) => this.ctx.log('warn', 'packet', 'address monitor unavailable: a link-local that is tentative at start waits for a reload', { error }),
  );

  async start(config: Config, ctx: DriverContext): Promise<void> {
    const n = loadNative();
    if (n instanceof Error) throw n;
    this.native = n;
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<ReloadVerdict> {
    this.config = config;
    const wanted = new Map(config.subscribers.map((s) => [s.name, s]));
    const changed: string[] = [];
    for (const [name, s] of this.sockets) {
      const cfg = wanted.get(name);
      if (!cfg || cfg.device !== s.link.device) {
        this.closePort(name);
        changed.push(name);
      }
    }
    for (const s of config.subscribers) {
      if (this.sockets.has(s.name)) continue;
      this.openPort(s);
      if (!changed.includes(s.name)) changed.push(s.name);
    }
    // A port that joined or left a paging area, or a new paging port: its filter is
    // replaced in place (SO_ATTACH_FILTER swaps the program; the socket stays).
    for (const s of this.sockets.values()) {
      const want = this.pagingPortOf(s.port);
      if (want === s.pagingPort) continue;
      const rc = this.native.attachFilter(s.fd, dhcpFilter(want));
      if (rc < 0) this.ctx.log('error', 'packet', 'SO_ATTACH_FILTER failed', { port: s.port, errno: -rc });
      else s.pagingPort = want;
    }
    return changed.length ? { verdict: 'reinstalled', detail: `ports ${changed.join(' ')}` } : { verdict: 'in-place' };
  }

  private openPort(s: SubscriberConfig): void {
    const link = linkInfo(s.device);
    if (!link) {
      this.counters.missingDevices++;
      this.ctx.log('warn', 'packet', 'device not found; port idle until the next reload', { port: s.name, device: s.device });
      return;
    }
    const n = this.native;
    const k = n.constants;
    const fd = n.open(k.AF_PACKET, k.SOCK_DGRAM, htons(ETH_P_ALL));
    const fail = (op: string, rc: number) => {
      this.ctx.log('error', 'packet', `${op} failed`, { port: s.name, errno: -rc });
      if (fd >= 0) n.close(fd);
    };
    if (fd < 0) return fail('socket', fd);
    // The filter goes on before bind, so no unfiltered frame is ever queued.
    const pagingPort = this.pagingPortOf(s.name);
    let rc = n.attachFilter(fd, dhcpFilter(pagingPort));
    if (rc < 0) return fail('SO_ATTACH_FILTER', rc);
    rc = n.bind(fd, sockaddrLl(n, ETH_P_ALL, link.ifindex));
    if (rc < 0) return fail('bind', rc);
    rc = n.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, packetMreq(link.ifindex, PACKET_MR_MULTICAST, ALL_DHCP_RELAYS_MAC));
    if (rc < 0) return fail('PACKET_ADD_MEMBERSHIP', rc);
    // Each frame's tp_status: whether its UDP checksum is filled in yet (see checksumState).
    rc = n.setsockopt(fd, SOL_PACKET, k.PACKET_AUXDATA, int32(1));
    if (rc < 0) return fail('PACKET_AUXDATA', rc);
    setReceiveBuffer(n, fd, PACKET_RCVBUF_BYTES);
    rc = n.startRecv(fd, (errno, data, lengths, names) => this.receive(s.name, errno, data, lengths, names), PACKET_READ_BUDGET);
    if (rc < 0) return fail('startRecv', rc);
    const queue = new SendQueue<string>(n, fd, SOCKADDR_LL_BYTES, (count) => { this.counters.sent += count; },
      (errno, port) => this.sendFailed(port, errno));
    this.sockets.set(s.name, {
      port: s.name, link, fd, drops: 0, seen: 0, read: 0, queue, pagingPort,
      to4: sockaddrLl(n, ETH_P_IP, link.ifindex, new Uint8Array(6)), to6: sockaddrLl(n, ETH_P_IPV6, link.ifindex, new Uint8Array(6)),
    });
    this.ctx.emit({ kind: 'link', port: s.name, up: link.up, mac: link.mac, linkLocal: link.linkLocal });
    this.linkLocals.watch(s.name, link);
  }

  /** The paging port on a port of a paging area (paging on), else null. */
  private pagingPortOf(port: string): number | null {
    return pagingPorts(this.config).has(port) ? this.config.paging.port : null;
  }

  private receive(port: string, errno: number, data: Buffer | null, lengths: Uint32Array | null, names: Buffer | null): void {
    if (errno !== 0 || !data || !lengths || !names) {
      this.counters.recvErrors++;
      this.ctx.log('warn', 'packet', 'receive error', { port, errno }, `packet:recv:${port}`);
      return;
    }
    const s = this.sockets.get(port);
    if (s) s.read += lengths.length;
    // Per frame, only what the event needs: views on the batch's buffers (fresh for each
    // batch, never reused by the addon), no Buffer.subarray or DataView per frame.
    const nameBuffer = names.buffer;
    const nameBase = names.byteOffset;
    const dataBuffer = data.buffer;
    const dataBase = data.byteOffset;
    let off = 0;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const at = i * NAME_BYTES;
      const protocol = (names[at + 2]! << 8) | names[at + 3]!;
      const family = protocol === ETH_P_IP ? 4 : protocol === ETH_P_IPV6 ? 6 : 0;
      const from = off;
      off += len;
      if (family === 0 || names[at + 11] !== 6) continue;
      this.counters.received++;
      const bytes = new Uint8Array(dataBuffer, dataBase + from, len);
      const outgoing = names[at + 10] === PACKET_OUTGOING;
      if (s?.pagingPort != null && !outgoing && isUdpTo(family, bytes, s.pagingPort)) {
        this.pagingReceived(port, family, bytes, names.slice(at + 12, at + 18), tpStatus(names, at + LL_STATUS_AT));
        continue;
      }
      // sll_pkttype (byte 10): the filter passes outgoing frames only for server replies.
      this.ctx.emit({
        kind: 'packet', port, family, bytes,
        mac: new Uint8Array(nameBuffer, nameBase + at + 12, 6),
        checksum: this.checksumState(tpStatus(names, at + LL_STATUS_AT)), outgoing,
      });
    }
  }

  /**
   * The kernel's word on the frame's transport checksum (tpacket_auxdata.tp_status). A
   * frame sent by a local stack through a veth, tap or virtio port with tx checksum
   * offload carries only the pseudo-header sum: the "NIC" that would finish it is never
   * reached (TP_STATUS_CSUMNOTREADY). A device that verified it says so (CSUM_VALID).
   */
  private checksumState(status: number): 'check' | 'unfinished' | 'valid' {
    const k = this.native.constants;
    if (status & k.TP_STATUS_CSUMNOTREADY) return 'unfinished';
    if (status & k.TP_STATUS_CSUM_VALID) return 'valid';
    return 'check';
  }

  /** A host's message to the paging port: a `paging` event, or a counted drop (the core never sees a broken frame). */
  private pagingReceived(port: string, family: 4 | 6, bytes: Uint8Array, mac: Uint8Array, status: number): void {
    const d = readHostDatagram(family, bytes, this.checksumState(status));
    if (typeof d === 'string') {
      this.paging.malformed++;
      this.ctx.log('debug', 'packet', 'malformed paging datagram', { port, field: d }, `packet:paging-malformed:${port}`);
      return;
    }
    this.paging.received++;
    this.ctx.emit({ kind: 'paging', port, family, source: d.source, sourcePort: d.sourcePort, mac, payload: d.payload });
  }

  /**
   * `paging-send`: from the port's own address — its giaddr (IPv4), its link-local
   * (IPv6), the addresses the relay and the multicast querier use on the port — and the
   * paging port, out of the port's packet socket.
   */
  private sendPaging(a: Extract<Action, { kind: 'paging-send' }>): void {
    const s = this.sockets.get(a.port);
    if (!s) return;
    const source = a.family === 4
      ? this.config.subscribers.find((c) => c.name === a.port)?.giaddr ?? null
      : (this.linkLocalNow.has(a.port) ? this.linkLocalNow.get(a.port)! : s.link.linkLocal);
    const frame = source ? pagingFrame(a, source, this.config.paging.port) : null;
    if (!frame) {
      this.paging.noSource++;
      this.ctx.log('warn', 'packet', 'paging send without a source address or MAC on the port', { port: a.port, family: a.family },
        `packet:paging-nosource:${a.port}:${a.family}`);
      return;
    }
    this.paging.sent++;
    const to = a.family === 4 ? s.to4 : s.to6;
    s.queue.push(frame.bytes, (names, at) => {
      names.set(to, at);
      names.set(frame.mac, at + 12);
    }, a.port);
  }

  execute(a: Action): void {
    if (a.kind === 'paging-send') return this.sendPaging(a);
    if (a.kind !== 'link-send') return;
    const s = this.sockets.get(a.port);
    if (!s) return;
    const to = a.family === 4 ? s.to4 : s.to6;
    const mac = a.destinationMac;
    s.queue.push(a.bytes, (names, at) => {
      names.set(to, at);
      names.set(mac.subarray(0, 6), at + 12);
    }, a.port);
  }

  private sendFailed(port: string, errno: number): void {
    this.counters.sendErrors++;
    this.ctx.log('warn', 'packet', 'send failed', { port, errno }, `packet:send:${port}`);
  }

  private closePort(name: string): void {
    const s = this.sockets.get(name);
    if (!s) return;
    s.queue.close();
    this.native.close(s.fd);
    this.sockets.delete(name);
    this.linkLocals.unwatch(name);
    this.linkLocalNow.delete(name);
  }

  async stop(): Promise<void> {
    for (const name of [...this.sockets.keys()]) this.closePort(name);
    this.linkLocals.close();
  }

  status(): Record<string, unknown> {
    for (const s of this.sockets.values()) {
      const st = this.native ? packetStatistics(this.native, s.fd) : null;
      if (!st) continue;
      s.seen += st.seen;
      s.drops += st.drops;
    }
    const ports = [...this.sockets.values()].map((s) => ({
      port: s.port, device: s.link.device, ifindex: s.link.ifindex, read: s.read, seen: s.seen, drops: s.drops,
    }));
    return { ...this.counters, paging: { ...this.paging }, linkLocal: this.linkLocals.counters, drops: ports.reduce((sum, p) => sum + p.drops, 0), ports };
  }
}
