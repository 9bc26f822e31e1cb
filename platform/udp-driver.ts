import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import * as os from 'node:os';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../src/wire/address';
import { dropAll, dropFromPort } from './bpf';
import type { Driver, DriverContext } from './driver';
import { linkInfo } from './links';
import { loadNative, NAME_BYTES, type NativeBinding } from './native';
import { SK_MEMINFO_DROPS, SK_MEMINFO_RCVBUF, socketMeminfo } from './native/meminfo';
import { int32 } from './byte-order';
import { SOCKADDR_IN_BYTES, sockaddrBytes, writeSockaddr } from './sockaddr';
import { SendQueue } from './send-queue';

type Family = 4 | 6;
/** paging-host.ts builds its sockaddrs with it too. */
export { sockaddrBytes } from './sockaddr';
const PORT: Record<Family, number> = { 4: 67, 6: 547 };
/** RFC 8415 §7.2: the client port, where a DHCPv6 leasequery's answer comes back. */
const DHCP6_CLIENT_PORT = 546;
/** Receive buffer asked of the kernel (SO_RCVBUFFORCE, else SO_RCVBUF up to rmem_max). */
export const UDP_RCVBUF_BYTES = 4 << 20;
/** Datagrams read per readiness callback: the packet sockets' flood cannot starve the replies. */
export const UDP_READ_BUDGET = 64;

interface UdpSocket {
  readonly key: string;
  readonly family: Family;
  readonly address: string;
  readonly port: number;
  readonly fd: number;
  /** Whether datagrams are read from it (the v4 send-only wildcard drops all in the kernel). */
  receives: boolean;
  /** Datagrams read from it (with `drops`, all the kernel queued or discarded for it). */
  read: number;
  /** Datagrams of the current turn, sent with one sendmmsg (see SendQueue); tagged with the destination. */
  readonly queue: SendQueue<Uint8Array>;
}

/**
 * The server side of the relay: UDP sockets on the DHCP server ports (67 for DHCPv4,
 * 547 for DHCPv6), as RFC 2131 §4.1 and RFC 8415 §19 expect a relay to use, opened
 * through our addon so that they are read in batches, sized, filtered and watched.
 *
 * Receive only what the socket is for. Servers answer a DHCPv4 relay at giaddr:67
 * (RFC 2131 §4.1), so the v4 replies are read from one socket per giaddr, bound to it:
 * the kernel never delivers a client's broadcast (255.255.255.255:67, which the
 * subscriber ports' packet sockets already see with their MAC and port) to a socket
 * bound to a unicast address. A socket bound to 0.0.0.0:67 received every one of those
 * broadcasts, filled its buffer with them and lost the servers' OFFERs behind them
 * (measured in `npm run bench`, README). The wildcard v4 socket stays for sending
 * only, so the kernel still chooses the source (route `src`, else the output device's
 * primary address), with a BPF program that drops everything it would receive; if a
 * giaddr is not an address of this router (EADDRNOTAVAIL), the wildcard socket reads
 * instead, with a filter that drops datagrams from port 68 (clients).
 * DHCPv6 clients multicast to ff02::1:2, a group only the packet sockets join, so the
 * v6 wildcard socket [::]:547 receives RELAY-REPL and nothing from clients.
 *
 * With `source4` / `source6` a socket is bound to that address and port and relayed
 * messages of that upstream leave by it (the source address servers' ACLs name);
 * DHCPv6 replies come back to it (RFC 8415 §19.2), the kernel handing a unicast
 * datagram to the most specific bound socket. Several sockets on one port need
 * SO_REUSEADDR, which would also let another relay (ISC dhcrelay sets it) share the
 * port silently and take some of our replies: so the wildcard port is first probed
 * with a socket without it, and a port another process holds fails the start loudly.
 *
 * Receive buffers are sized (UDP_RCVBUF_BYTES) and the kernel's per-socket drop count
 * (SO_MEMINFO) is in `status` as `drops`. Reads take at most UDP_READ_BUDGET datagrams
 * per wake-up, sends are synchronous sendto(2) (EAGAIN counts as a send error).
 *
 * Only opened when some port relays: in passive mode another relay owns these ports.
 */
export class UdpDriver implements Driver {
  readonly name = 'udp';
  readonly actionKinds = ['udp-send'] as const;
  private native!: NativeBinding;
  private readonly sockets = new Map<string, UdpSocket>();
  /** Upstream name → the key of its sending socket per family. */
  private sendOf = new Map<string, Partial<Record<Family, string>>>();
  /** Upstream name → the key of its DHCPv6 leasequery socket (port 546). */
  private leasequerySendOf = new Map<string, string>();
  private ctx!: DriverContext;
  private devices = new Map<string, string>();
  private mcastIf = 0;
  private readonly counters = {
    received4: 0, received6: 0, sent: 0, sendErrors: 0, sourceBindErrors: 0, giaddrBindErrors: 0, leasequeryBindErrors: 0, recvErrors: 0,
  };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    const n = loadNative();
    if (n instanceof Error) throw n;
    this.native = n;
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    this.devices = new Map(config.upstreams.map((u) => [u.name, u.device]));
    const relaying = config.subscribers.filter((s) => s.mode === 'relay');
    const wanted: Record<Family, boolean> = { 4: relaying.some((s) => s.relay_v4), 6: relaying.some((s) => s.relay_v6) };
    const keep = new Set<string>();
    const sendOf = new Map<string, Partial<Record<Family, string>>>();
    for (const f of [4, 6] as const) {
      if (!wanted[f]) continue;
      const wildcard = this.ensure(f, f === 4 ? '0.0.0.0' : '::', 'wildcard');
      keep.add(wildcard.key);
      let wildcardReads = f === 6;
      if (f === 4) {
        const giaddrs = new Set(relaying.filter((s) => s.relay_v4 && s.giaddr).map((s) => formatIPv4(s.giaddr!)));
        for (const g of giaddrs) {
          const sock = this.tryEnsure(4, g, 'giaddr');
          if (sock) keep.add(sock.key);
          else wildcardReads = true;
        }
      }
      this.setReceiving(wildcard, wildcardReads);
      for (const u of config.upstreams) {
        const addr = f === 4 ? u.source4 : u.source6;
        const entry = sendOf.get(u.name) ?? {};
        entry[f] = wildcard.key;
        if (addr !== undefined) {
          const sock = this.tryEnsure(f, f === 4 ? formatIPv4(addr) : formatIPv6(addr), 'source', u.name);
          if (sock) { keep.add(sock.key); entry[f] = sock.key; }
        }
        sendOf.set(u.name, entry);
      }
    }
    this.sendOf = sendOf;
    this.leasequerySendOf = this.leasequerySockets(config, wanted[6], keep);
    for (const [key, s] of this.sockets) {
      if (!keep.has(key)) { s.queue.close(); this.native.close(s.fd); this.sockets.delete(key); }
    }
  }

  /**
   * DHCPv6 leasequery (RFC 5007) leaves from port 546 of the upstream's source address
   * (or the wildcard) and its answers come back there: ISC dhcpd answers a LEASEQUERY
   * at port 546 whatever port it came from (PROTOCOLS.md). One socket per source, read
   * like the others; a port 546 another process holds (a DHCPv6 client on the router)
   * is logged and leaves v6 leasequery without answers, never the relay without sockets.
   */
  private leasequerySockets(config: Config, relays6: boolean, keep: Set<string>): Map<string, string> {
    const out = new Map<string, string>();
    if (!relays6 || !config.leasequery.enabled || !config.leasequery.v6) return out;
    for (const u of config.upstreams) {
      const address = u.source6 !== undefined ? formatIPv6(u.source6) : '::';
      const key = `6/${address}#${DHCP6_CLIENT_PORT}`;
      let sock = this.sockets.get(key);
      if (!sock) {
        try {
          sock = this.open(6, address, DHCP6_CLIENT_PORT);
          this.sockets.set(key, sock);
        } catch (e) {
          this.counters.leasequeryBindErrors++;
          this.ctx.log('error', 'udp', `cannot bind ${address} port ${DHCP6_CLIENT_PORT} (${(e as Error).message}); ` +
            'DHCPv6 leasequery answers cannot be received', { upstream: u.name });
          continue;
        }
      }
      keep.add(key);
      out.set(u.name, key);
    }
    return out;
  }


  /** The socket bound to address:port of the family, opened (and read) if new; throws on failure. */
  private ensure(family: Family, address: string, role: 'wildcard' | 'giaddr' | 'source'): UdpSocket {
    const key = `${family}/${address}`;
    const have = this.sockets.get(key);
    if (have) return have;
    if (role === 'wildcard') this.probeFree(family, address);
    const sock = this.open(family, address);
    this.sockets.set(key, sock);
    return sock;
  }

  /** `ensure` for a giaddr or source address: a failure is logged and counted, not fatal. */
  private tryEnsure(family: Family, address: string, role: 'giaddr' | 'source', upstream?: string): UdpSocket | null {
    try {
      return this.ensure(family, address, role);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      const hint = code === 'EADDRNOTAVAIL' ? ': no interface of this host has that address' : '';
      if (role === 'source') {
        this.counters.sourceBindErrors++;
        this.ctx.log('error', 'udp',
          `cannot bind source${family} ${address} port ${PORT[family]} (${code})${hint}; ` +
          `relayed DHCPv${family} of upstream '${upstream}' leaves from the kernel's choice of source instead`,
          { upstream: upstream ?? '', source: address });
      } else {
        this.counters.giaddrBindErrors++;
        this.ctx.log('warn', 'udp',
          `cannot bind giaddr ${address} port 67 (${code})${hint}; replies to it are read from the wildcard socket, ` +
          'which then filters out client broadcasts in the kernel', { giaddr: address });
      }
      return null;
    }
  }

  /** A port another process holds fails here, before SO_REUSEADDR could share it silently. */
  private probeFree(family: Family, address: string): void {
    const n = this.native;
    const fd = n.open(family === 4 ? n.constants.AF_INET : n.constants.AF_INET6, n.constants.SOCK_DGRAM, 0);
    if (fd < 0) throw errnoError('socket', -fd);
    try {
      if (family === 6) this.setInt(fd, n.constants.IPPROTO_IPV6, n.constants.IPV6_V6ONLY, 1);
      const rc = n.bind(fd, sockaddr(n, family, address, PORT[family]));
      if (rc < 0) throw errnoError(`bind ${address} port ${PORT[family]}`, -rc);
    } finally {
      n.close(fd);
    }
  }

  private open(family: Family, address: string, port = PORT[family]): UdpSocket {
    const n = this.native;
    const k = n.constants;
    const fd = n.open(family === 4 ? k.AF_INET : k.AF_INET6, k.SOCK_DGRAM, 0);
    if (fd < 0) throw errnoError('socket', -fd);
    const fail = (op: string, rc: number): never => { n.close(fd); throw errnoError(op, -rc); };
    let rc = this.setInt(fd, k.SOL_SOCKET, k.SO_REUSEADDR, 1);
    if (rc < 0) fail('SO_REUSEADDR', rc);
    if (family === 6) {
      rc = this.setInt(fd, k.IPPROTO_IPV6, k.IPV6_V6ONLY, 1);
      if (rc < 0) fail('IPV6_V6ONLY', rc);
    } else {
      rc = this.setInt(fd, k.SOL_SOCKET, k.SO_BROADCAST, 1);
      if (rc < 0) fail('SO_BROADCAST', rc);
    }
    // FORCE needs CAP_NET_ADMIN (the daemon runs as root); without it the kernel caps at rmem_max.
    if (this.setInt(fd, k.SOL_SOCKET, k.SO_RCVBUFFORCE, UDP_RCVBUF_BYTES) < 0) this.setInt(fd, k.SOL_SOCKET, k.SO_RCVBUF, UDP_RCVBUF_BYTES);
    if (this.setInt(fd, k.SOL_SOCKET, k.SO_SNDBUFFORCE, UDP_RCVBUF_BYTES) < 0) this.setInt(fd, k.SOL_SOCKET, k.SO_SNDBUF, UDP_RCVBUF_BYTES);
    rc = n.bind(fd, sockaddr(n, family, address, port));
    if (rc < 0) fail(`bind ${address} port ${port}`, rc);
    const queue = new SendQueue<Uint8Array>(n, fd, SOCKADDR_IN_BYTES[family], (count) => { this.counters.sent += count; },
      (errno, to) => this.sendFailed(family, to, errno));
    const sock: UdpSocket = { key: port === PORT[family] ? `${family}/${address}` : `${family}/${address}#${port}`, family, address, port, fd, receives: true, read: 0, queue };
    rc = n.startRecv(fd, (errno, data, lengths, names) => this.receive(sock, errno, data, lengths, names), UDP_READ_BUDGET);
    if (rc < 0) fail('startRecv', rc);
    return sock;
  }

  /**
   * The v4 wildcard socket only sends while every giaddr has its own socket: a filter
   * then drops all it would receive. Otherwise it reads, and the filter drops only
   * datagrams from port 68 (client broadcasts, which the packet sockets handle).
   */
  private setReceiving(sock: UdpSocket, on: boolean): void {
    if (sock.family !== 4) return;
    const rc = this.native.attachFilter(sock.fd, on ? dropFromPort(68) : dropAll());
    if (rc < 0) this.ctx.log('error', 'udp', 'SO_ATTACH_FILTER failed on the wildcard socket', { errno: -rc });
    sock.receives = on;
  }

  private setInt(fd: number, level: number, name: number, value: number): number {
    return this.native.setsockopt(fd, level, name, int32(value));
  }

  private receive(sock: UdpSocket, errno: number, data: Buffer | null, lengths: Uint32Array | null, names: Buffer | null): void {
    if (errno !== 0 || !data || !lengths || !names) {
      this.counters.recvErrors++;
      this.ctx.log('warn', 'udp', 'receive error', { address: sock.address, errno }, `udp:recv:${sock.key}`);
      return;
    }
    sock.read += lengths.length;
    // Views on the batch's buffers (fresh for each batch, never reused by the addon):
    // no Buffer.subarray and no copy with its own ArrayBuffer per datagram.
    const nameBuffer = names.buffer;
    const nameBase = names.byteOffset;
    const dataBuffer = data.buffer;
    const dataBase = data.byteOffset;
    let off = 0;
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const payload = new Uint8Array(dataBuffer, dataBase + off, len);
      off += len;
      const at = i * NAME_BYTES;
      const sourcePort = (names[at + 2]! << 8) | names[at + 3]!;
      if (sock.family === 4 && sourcePort === 68) continue; // a client broadcast: the packet driver has it
      // sockaddr_in: address at 4..8; sockaddr_in6: address at 8..24 (the scope id is dropped, as before)
      const source = sock.family === 4 ? new Uint8Array(nameBuffer, nameBase + at + 4, 4) : new Uint8Array(nameBuffer, nameBase + at + 8, 16);
      if (sock.family === 4) this.counters.received4++;
      else this.counters.received6++;
      this.ctx.emit({ kind: 'udp', family: sock.family, source, sourcePort, destinationPort: sock.port, payload, passive: false });
    }
  }

  execute(a: Action): void {
    if (a.kind !== 'udp-send') return;
    const key = a.sourcePort === DHCP6_CLIENT_PORT && a.family === 6 ? this.leasequerySendOf.get(a.upstream) : this.sendOf.get(a.upstream)?.[a.family];
    const sock = key !== undefined ? this.sockets.get(key) : undefined;
    if (!sock) return;
    const n = this.native;
    let scope = 0;
    // A multicast destination (All_DHCP_Servers) leaves by the upstream's device.
    if (a.family === 6 && a.destination[0] === 0xff) {
      scope = linkInfo(this.devices.get(a.upstream) ?? '')?.ifindex ?? 0;
      if (scope !== this.mcastIf) {
        // The option applies when the datagram is sent: what is queued goes out under the old one first.
        sock.queue.flush();
        this.setInt(sock.fd, n.constants.IPPROTO_IPV6, n.constants.IPV6_MULTICAST_IF, scope);
        this.mcastIf = scope;
      }
    }
    const { family, destination, destinationPort } = a;
    sock.queue.push(a.payload, (names, at) => writeSockaddr(names, at, n, family, destination, destinationPort, scope), destination);
  }

  private sendFailed(family: Family, destination: Uint8Array, errno: number): void {
    this.counters.sendErrors++;
    const to = family === 4 ? formatIPv4(destination) : formatIPv6(destination);
    this.ctx.log('warn', 'udp', `send failed: errno ${errno}`, { to }, `udpsend:${to}`);
  }

  async stop(): Promise<void> {
    for (const s of this.sockets.values()) { s.queue.close(); this.native.close(s.fd); }
    this.sockets.clear();
  }

  status(): Record<string, unknown> {
    const sockets = [...this.sockets.values()].map((s) => {
      const mem = socketMeminfo(this.native, s.fd);
      return { address: s.address, port: s.port, receives: s.receives, read: s.read,
        rcvbufBytes: mem?.[SK_MEMINFO_RCVBUF] ?? null, drops: mem?.[SK_MEMINFO_DROPS] ?? null };
    });
    return {
      ...this.counters,
      v4: this.sockets.has('4/0.0.0.0'), v6: this.sockets.has('6/::'),
      sources: [...new Set([...this.sendOf.values()].flatMap((e) => Object.values(e)))]
        .filter((k) => k !== '4/0.0.0.0' && k !== '6/::').map((k) => k.slice(2)),
      drops: sockets.filter((s) => s.receives).reduce((sum, s) => sum + (s.drops ?? 0), 0),
      sockets,
    };
  }
}

export function errnoError(op: string, errno: number): NodeJS.ErrnoException {
  const code = Object.entries(os.constants.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
  const e = new Error(`${op}: ${code}`) as NodeJS.ErrnoException;
  e.code = code;
  e.errno = errno;
  return e;
}

function sockaddr(n: NativeBinding, family: Family, address: string, port: number): Uint8Array {
  const bytes = family === 4 ? parseIPv4(address) : parseIPv6(address);
  if (!bytes) throw errnoError(`address ${address}`, os.constants.errno.EINVAL);
  return sockaddrBytes(n, family, bytes, port, 0);
}
