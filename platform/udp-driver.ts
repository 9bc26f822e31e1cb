import * as dgram from 'node:dgram';
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../src/wire/address';
import type { Driver, DriverContext } from './driver';

type Family = 4 | 6;
const PORT: Record<Family, number> = { 4: 67, 6: 547 };

/**
 * The server side of the relay: ordinary UDP sockets on the DHCP server ports
 * (67 for DHCPv4, 547 for DHCPv6), as RFC 2131 §4.1 and RFC 8415 §19 expect a relay
 * to use. Client broadcasts also reach the v4 sockets (they are addressed to port 67
 * too); they arrive on the subscriber ports' packet sockets with their MAC and port,
 * so here they are ignored.
 *
 * Per family there is one wildcard socket (0.0.0.0:67, [::]:547), and one more per
 * configured `source4` / `source6` bound to that address and the same port:
 *
 * - A relayed message leaves by its upstream's source socket, so the kernel gives it
 *   that source address; without `source4`/`source6` it leaves by the wildcard socket
 *   and the kernel chooses (route `src`, else the output device's primary address;
 *   RFC 6724 for IPv6).
 * - Binding the only socket to source4 would lose DHCPv4 replies: servers answer to
 *   giaddr:67 (RFC 2131 §4.1), which is a subscriber gateway, not source4. The
 *   wildcard socket keeps receiving those. DHCPv6 servers answer a RELAY-FORW to its
 *   source address (RFC 8415 §19.2), which the source6 socket receives: the kernel
 *   hands a unicast datagram to the most specific bound socket. Both are read.
 * - Two sockets on one port need SO_REUSEADDR on both (`reuseAddr`). It also lets
 *   another process that sets it (ISC dhcrelay does) share the port silently and take
 *   some of our replies, so it is set only while a source socket is configured: without
 *   one, a port held by another relay still fails the start loudly. A reload that
 *   first configures a source reopens the wildcard socket with it (a few microseconds
 *   without a socket on the port).
 *
 * Only opened when some port relays: in passive mode another relay owns these ports.
 */
export class UdpDriver implements Driver {
  readonly name = 'udp';
  readonly actionKinds = ['udp-send'] as const;
  private readonly wildcard: Record<Family, dgram.Socket | null> = { 4: null, 6: null };
  /** Whether each wildcard socket was opened with SO_REUSEADDR. */
  private readonly wildcardShared: Record<Family, boolean> = { 4: false, 6: false };
  /** Sockets bound to a configured source address, keyed by `family/address`. */
  private readonly bound = new Map<string, dgram.Socket>();
  /** Upstream name → its source socket key per family (only when configured). */
  private sourceOf = new Map<string, Partial<Record<Family, string>>>();
  private ctx!: DriverContext;
  private devices = new Map<string, string>();
  private readonly counters = { received4: 0, received6: 0, sent: 0, sendErrors: 0, sourceBindErrors: 0 };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    this.devices = new Map(config.upstreams.map((u) => [u.name, u.device]));
    const relaying = config.subscribers.filter((s) => s.mode === 'relay');
    const wanted: Record<Family, boolean> = { 4: relaying.some((s) => s.relay_v4), 6: relaying.some((s) => s.relay_v6) };
    for (const f of [4, 6] as const) {
      const shared = wanted[f] && config.upstreams.some((u) => (f === 4 ? u.source4 : u.source6) !== undefined);
      if (this.wildcard[f] && shared && !this.wildcardShared[f]) {
        this.wildcard[f]!.close(); // reopened below with SO_REUSEADDR
        this.wildcard[f] = null;
      }
      if (wanted[f] && !this.wildcard[f]) {
        this.wildcard[f] = await this.open(f, f === 4 ? '0.0.0.0' : '::', shared);
        this.wildcardShared[f] = shared;
      }
    }
    // Source sockets follow the config: open the new ones, close the ones no longer named.
    const sourceOf = new Map<string, Partial<Record<Family, string>>>();
    const keep = new Set<string>();
    for (const u of config.upstreams) {
      const entry: Partial<Record<Family, string>> = {};
      const sources: [Family, Uint8Array | undefined][] = [[4, u.source4], [6, u.source6]];
      for (const [f, addr] of sources) {
        if (!wanted[f] || addr === undefined) continue;
        const address = f === 4 ? formatIPv4(addr) : formatIPv6(addr);
        const key = `${f}/${address}`;
        keep.add(key);
        if (!this.bound.has(key)) {
          const sock = await this.open(f, address, true).catch((e: NodeJS.ErrnoException) => {
            this.counters.sourceBindErrors++;
            const hint = e.code === 'EADDRNOTAVAIL' ? ': no interface of this host has that address' : '';
            this.ctx.log('error', 'udp',
              `cannot bind source${f} ${address} port ${PORT[f]} (${e.code ?? e.message})${hint}; ` +
              `relayed DHCPv${f} of upstream '${u.name}' leaves from the kernel's choice of source instead`,
              { upstream: u.name, source: address });
            return null;
          });
          if (sock) this.bound.set(key, sock);
        }
        if (this.bound.has(key)) entry[f] = key;
      }
      sourceOf.set(u.name, entry);
    }
    for (const [key, sock] of this.bound) {
      if (!keep.has(key)) { sock.close(); this.bound.delete(key); }
    }
    this.sourceOf = sourceOf;
  }

  private open(family: Family, address: string, reuseAddr: boolean): Promise<dgram.Socket> {
    const port = PORT[family];
    const sock = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6', reuseAddr, ipv6Only: family === 6 });
    return new Promise((resolve, reject) => {
      sock.once('error', (e) => {
        try { sock.close(); } catch { /* never bound: nothing to close */ }
        reject(e);
      });
      sock.bind({ port, address }, () => {
        sock.removeAllListeners('error');
        sock.on('error', (e) => this.ctx.log('error', 'udp', `socket error: ${e.message}`, { address, port }, `udp:${address}:${port}`));
        sock.on('message', (msg, rinfo) => this.receive(family, msg, rinfo));
        if (family === 4) sock.setBroadcast(true);
        resolve(sock);
      });
    });
  }

  private receive(family: Family, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (family === 4 && rinfo.port === 68) return; // a client broadcast: the packet driver has it
    const source = family === 4 ? parseIPv4(rinfo.address) : parseIPv6(rinfo.address.split('%')[0]!);
    if (!source) return;
    if (family === 4) this.counters.received4++;
    else this.counters.received6++;
    this.ctx.emit({
      kind: 'udp', family, source, sourcePort: rinfo.port, destinationPort: PORT[family],
      payload: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), passive: false,
    });
  }

  /** The upstream's source socket when one is configured and bound, else the wildcard one. */
  private socketFor(family: Family, upstream: string): dgram.Socket | null {
    const key = this.sourceOf.get(upstream)?.[family];
    return (key !== undefined ? this.bound.get(key) : undefined) ?? this.wildcard[family];
  }

  execute(a: Action): void {
    if (a.kind !== 'udp-send') return;
    const sock = this.socketFor(a.family, a.upstream);
    if (!sock) return;
    let address = a.family === 4 ? formatIPv4(a.destination) : formatIPv6(a.destination);
    // A multicast destination (All_DHCP_Servers) leaves by the upstream's device.
    if (a.family === 6 && a.destination[0] === 0xff) address += `%${this.devices.get(a.upstream) ?? ''}`;
    sock.send(a.payload, a.destinationPort, address, (e) => {
      if (!e) { this.counters.sent++; return; }
      this.counters.sendErrors++;
      this.ctx.log('warn', 'udp', `send failed: ${e.message}`, { to: address }, `udpsend:${address}`);
    });
  }

  async stop(): Promise<void> {
    for (const f of [4, 6] as const) { this.wildcard[f]?.close(); this.wildcard[f] = null; }
    for (const sock of this.bound.values()) sock.close();
    this.bound.clear();
  }

  status(): Record<string, unknown> {
    return {
      ...this.counters, v4: this.wildcard[4] !== null, v6: this.wildcard[6] !== null,
      sources: [...this.bound.keys()].map((k) => k.slice(2)),
    };
  }
}
