import * as net from 'node:net';
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { formatIPv4, formatIPv6 } from '../src/wire/address';
import type { Driver, DriverContext } from './driver';

/** Octets of a received chunk handed to the core at a time (~55 bulk leasequery leases of ~145 octets). */
const TCP_SLICE = 8 * 1024;
/**
 * Slices of one connection whose kernel entries may be outstanding at once; no more
 * than this many slices' leases, deltas and held records are alive at a time. One:
 * letting the next slice be decoded while the kernel takes the one before gains no
 * wall time, since the kernel does its netlink and nf_tables work inside gleand's own
 * `sendmsg` (the same thread; the ack is ready when it returns), and 2 or 3 cost
 * ~10% more CPU at 100k (more of the young generation survives a scavenge with the
 * init script's 1 MiB semi-space): README, bulk benchmark.
 */
const SLICES_IN_FLIGHT = 1;

/**
 * TCP connections the core asks for (bulk leasequery, RFC 5460 §7.1), as `tcp` events:
 * `connected`, each chunk as `data` (the core reframes the stream itself), `closed`.
 * A connection leaves from the upstream's `source6`/`source4` when configured, the
 * address the servers' ACLs name. Timeouts are the core's (BULK_LQ_CONN_TIMEOUT,
 * BULK_LQ_DATA_TIMEOUT): this driver only moves bytes.
 */
export class TcpDriver implements Driver {
  readonly name = 'tcp';
  readonly actionKinds = ['tcp-connect', 'tcp-send', 'tcp-close'] as const;
  private ctx!: DriverContext;
  private config!: Config;
  private readonly sockets = new Map<number, net.Socket>();
  private readonly counters = { connects: 0, connected: 0, failed: 0, bytesIn: 0, bytesOut: 0, chunksIn: 0, pausedForKernel: 0 };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    this.config = config;
  }

  async reconfigure(config: Config): Promise<void> {
    this.config = config;
  }

  execute(a: Action): void {
    if (a.kind === 'tcp-connect') this.connect(a);
    else if (a.kind === 'tcp-send') {
      const s = this.sockets.get(a.conn);
      if (!s) return;
      this.counters.bytesOut += a.bytes.length;
      s.write(a.bytes);
    } else if (a.kind === 'tcp-close') {
      const s = this.sockets.get(a.conn);
      this.sockets.delete(a.conn);
      s?.destroy();
    }
  }

  private connect(a: Extract<Action, { kind: 'tcp-connect' }>): void {
    const up = this.config.upstreams.find((u) => u.name === a.upstream);
    const source = a.family === 6 ? up?.source6 : up?.source4;
    const host = a.family === 6 ? formatIPv6(a.destination) : formatIPv4(a.destination);
    this.counters.connects++;
    const s = net.connect({
      host, port: a.destinationPort, family: a.family,
      ...(source ? { localAddress: a.family === 6 ? formatIPv6(source) : formatIPv4(source) } : {}),
    });
    s.setNoDelay(true);
    this.sockets.set(a.conn, s);
    // Only the socket the core still knows reports: after `tcp-close` it says nothing more.
    const mine = () => this.sockets.get(a.conn) === s;
    s.once('connect', () => {
      if (!mine()) return;
      this.counters.connected++;
      this.ctx.emit({ kind: 'tcp', conn: a.conn, what: 'connected' });
    });
    // Read no further while the kernel is behind (a bulk restore streams faster than its
    // entries install): the server's TCP send blocks instead of our memory growing. A
    // chunk is handed over in slices; at most SLICES_IN_FLIGHT of them wait for their
    // kernel entries at once, so what the slices hold until their entries are in
    // (decoded leases, deltas, journal records) stays small enough to die young
    // instead of being promoted by the collector.
    let inFlight = 0;
    /** The rest of a chunk not yet handed over while the window is full. */
    let held: Uint8Array | null = null;
    /** The peer closed while `held` waited: `closed` follows its last octet, not precedes it. */
    let closeWhenFed = false;
    const settled = () => {
      inFlight--;
      if (held === null || inFlight >= SLICES_IN_FLIGHT || !mine()) return;
      const rest = held;
      held = null;
      if (!feed(rest)) return;
      if (closeWhenFed) closed();
      else s.resume();
    };
    const feed = (bytes: Uint8Array): boolean => {
      for (let at = 0; at < bytes.length && mine();) {
        if (inFlight >= SLICES_IN_FLIGHT) {
          this.counters.pausedForKernel++;
          s.pause();
          held = bytes.subarray(at);
          return false;
        }
        const end = Math.min(bytes.length, at + TCP_SLICE);
        const done = this.ctx.emit({ kind: 'tcp', conn: a.conn, what: 'data', bytes: bytes.subarray(at, end) });
        at = end;
        if (done) {
          inFlight++;
          done.then(settled, settled);
        }
      }
      return true;
    };
    s.on('data', (chunk: Buffer) => {
      if (!mine()) return;
      this.counters.bytesIn += chunk.length;
      this.counters.chunksIn++;
      feed(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    });
    let error: string | null = null;
    s.on('error', (e: NodeJS.ErrnoException) => { error = e.code ?? e.message; });
    const closed = () => {
      this.sockets.delete(a.conn);
      if (error) this.counters.failed++;
      this.ctx.emit({ kind: 'tcp', conn: a.conn, what: 'closed', error });
    };
    // The socket closes once its own buffer is empty, even while octets it delivered
    // wait here for the window (a server that sends its last DATA and DONE, then closes,
    // RFC 5460 §7.3): the core must see them before the close, or a complete stream
    // would count as closed mid-stream and be asked again.
    s.once('close', () => {
      if (!mine()) return;
      if (held !== null) closeWhenFed = true;
      else closed();
    });
  }

  async stop(): Promise<void> {
    for (const s of this.sockets.values()) s.destroy();
    this.sockets.clear();
  }

  status(): Record<string, unknown> {
    return { open: this.sockets.size, ...this.counters };
  }
}
