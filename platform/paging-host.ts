import type { HostAction, HostInput, HostReport, PagingHost, Peer } from '../src/paging/host';
import { monotonicNow } from './clock';
import { linkInfo } from './links';
import { loadNative, NAME_BYTES, type NativeBinding } from './native';
import { int32 } from './packet-socket';
import { errnoError, sockaddrBytes } from './udp-driver';

/** SO_BINDTODEVICE (socket(7)); the addon's constants do not carry it, its value is 25 on every Linux ABI. */
const SO_BINDTODEVICE = 25;
/** Datagrams read per readiness callback: a flood of forged adverts cannot hold the loop. */
const READ_BUDGET = 16;

/**
 * The host's end of the paging protocol (src/paging/PROTOCOL.md §2): one UDP socket on
 * the paging port, bound to one device (SO_BINDTODEVICE) and to the wildcard address, so
 * it hears the agent's wide casts (255.255.255.255, or ff02::1 which every IPv6
 * interface has joined, RFC 4291 §2.7.1) only on the port it sleeps behind, and its
 * unicast REGISTER_ACKs. Opened through the addon as the relay's UDP sockets are.
 */
export class HostSocket {
  receiveErrors = 0;

  private constructor(
    private readonly native: NativeBinding,
    private readonly fd: number,
    readonly family: 4 | 6,
    private readonly ifindex: number,
  ) {}

  static open(device: string, family: 4 | 6, port: number, onDatagram: (payload: Uint8Array, from: Peer) => void): HostSocket {
    const n = loadNative();
    if (n instanceof Error) throw n;
    const link = linkInfo(device);
    if (!link) throw new Error(`no network device ${device}`);
    const k = n.constants;
    const fd = n.open(family === 4 ? k.AF_INET : k.AF_INET6, k.SOCK_DGRAM, 0);
    if (fd < 0) throw errnoError('socket', -fd);
    const fail = (op: string, rc: number): never => { n.close(fd); throw errnoError(op, -rc); };
    const int = (level: number, name: number, v: number) => n.setsockopt(fd, level, name, int32(v));
    let rc = int(k.SOL_SOCKET, k.SO_REUSEADDR, 1);
    if (rc < 0) fail('SO_REUSEADDR', rc);
    rc = family === 6 ? int(k.IPPROTO_IPV6, k.IPV6_V6ONLY, 1) : int(k.SOL_SOCKET, k.SO_BROADCAST, 1);
    if (rc < 0) fail(family === 6 ? 'IPV6_V6ONLY' : 'SO_BROADCAST', rc);
    rc = n.setsockopt(fd, k.SOL_SOCKET, SO_BINDTODEVICE, new TextEncoder().encode(`${device}\0`));
    if (rc < 0) fail(`SO_BINDTODEVICE ${device}`, rc);
    rc = n.bind(fd, sockaddrBytes(n, family, new Uint8Array(family === 4 ? 4 : 16), port, 0));
    if (rc < 0) fail(`bind port ${port}`, rc);
    const s = new HostSocket(n, fd, family, link.ifindex);
    rc = n.startRecv(fd, (errno, data, lengths, names) => {
      if (errno !== 0 || !data || !lengths || !names) { s.receiveErrors++; return; }
      let off = 0;
      for (let i = 0; i < lengths.length; i++) {
        const len = lengths[i]!;
        const at = i * NAME_BYTES;
        // sockaddr_in: port 2..4, address 4..8; sockaddr_in6: port 2..4, address 8..24.
        const address = Uint8Array.from(family === 4 ? names.subarray(at + 4, at + 8) : names.subarray(at + 8, at + 24));
        onDatagram(Uint8Array.from(data.subarray(off, off + len)), { address, port: (names[at + 2]! << 8) | names[at + 3]! });
        off += len;
      }
    }, READ_BUDGET);
    if (rc < 0) fail('startRecv', rc);
    return s;
  }

  /** To the agent; a link-local IPv6 agent is reached through this device (its scope). → bytes sent | -errno */
  send(to: Peer, payload: Uint8Array): number {
    const scope = this.family === 6 && to.address[0] === 0xfe && (to.address[1]! & 0xc0) === 0x80 ? this.ifindex : 0;
    return this.native.sendto(this.fd, payload, sockaddrBytes(this.native, this.family, to.address, to.port, scope));
  }

  close(): void {
    this.native.close(this.fd);
  }
}

/**
 * Drives a `PagingHost` with real time: datagrams and the caller's wishes in, the
 * machine's deadline as one timer, its actions applied in order. Reports go to
 * `onReport`, which is awaited before the next action: on `awake` the caller lifts the
 * host's sleep (e.g. `--on-page` removes an nft drop rule) before the PAGE_RESPONSE
 * that follows releases the held packets (src/paging/host.ts).
 */
export class HostRunner {
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  sendErrors = 0;

  constructor(
    private readonly host: PagingHost,
    private readonly socket: HostSocket,
    private readonly onReport: (r: HostReport) => Promise<void> | void,
  ) {}

  input(i: HostInput): Promise<void> {
    return this.apply(() => this.host.handle(i, monotonicNow()));
  }

  datagram(payload: Uint8Array, from: Peer): void {
    void this.input({ kind: 'datagram', payload, from });
  }

  /** Actions are applied one batch after the other: a report's command never overtakes an earlier send. */
  private apply(step: () => HostAction[]): Promise<void> {
    this.chain = this.chain.then(async () => {
      for (const a of step()) {
        if (a.kind === 'report') await this.onReport(a.report);
        else if (this.socket.send(a.to, a.payload) < 0) this.sendErrors++;
      }
      this.schedule();
    });
    return this.chain;
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const d = this.host.nextDeadline();
    if (d === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.apply(() => this.host.poll(monotonicNow()));
    }, Math.max(0, d - monotonicNow()));
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket.close();
  }
}
