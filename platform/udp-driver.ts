import * as dgram from 'node:dgram';
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../src/wire/address';
import type { Driver, DriverContext } from './driver';

/**
 * The server side of the relay: ordinary UDP sockets on the DHCP server ports
 * (67 for DHCPv4, 547 for DHCPv6), as RFC 2131 §4.1 and RFC 8415 §19 expect a relay
 * to use. The kernel routes and addresses these; replies come back to giaddr:67 and to
 * our source:547. Client broadcasts also reach the v4 socket (they are addressed to
 * port 67 too); they arrive on the subscriber ports' packet sockets with their MAC and
 * port, so here they are ignored.
 *
 * Only opened when some port relays: in passive mode another relay owns these ports.
 */
export class UdpDriver implements Driver {
  readonly name = 'udp';
  readonly actionKinds = ['udp-send'] as const;
  private v4: dgram.Socket | null = null;
  private v6: dgram.Socket | null = null;
  private ctx!: DriverContext;
  private devices = new Map<string, string>();
  private readonly counters = { received4: 0, received6: 0, sent: 0, sendErrors: 0 };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  async reconfigure(config: Config): Promise<void> {
    this.devices = new Map(config.upstreams.map((u) => [u.name, u.device]));
    const relaying = config.subscribers.filter((s) => s.mode === 'relay');
    if (relaying.some((s) => s.relay_v4) && !this.v4) this.v4 = await this.open('udp4', 67);
    if (relaying.some((s) => s.relay_v6) && !this.v6) this.v6 = await this.open('udp6', 547);
  }

  private open(type: 'udp4' | 'udp6', port: number): Promise<dgram.Socket> {
    const sock = dgram.createSocket({ type, reuseAddr: false, ipv6Only: type === 'udp6' });
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ port, address: type === 'udp4' ? '0.0.0.0' : '::' }, () => {
        sock.off('error', reject);
        sock.on('error', (e) => this.ctx.log('error', 'udp', `socket error: ${e.message}`, { port }, `udp:${port}`));
        sock.on('message', (msg, rinfo) => this.receive(type === 'udp4' ? 4 : 6, msg, rinfo));
        if (type === 'udp4') sock.setBroadcast(true);
        resolve(sock);
      });
    });
  }

  private receive(family: 4 | 6, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (family === 4 && rinfo.port === 68) return; // a client broadcast: the packet driver has it
    const source = family === 4 ? parseIPv4(rinfo.address) : parseIPv6(rinfo.address.split('%')[0]!);
    if (!source) return;
    if (family === 4) this.counters.received4++;
    else this.counters.received6++;
    this.ctx.emit({
      kind: 'udp', family, source, sourcePort: rinfo.port, destinationPort: family === 4 ? 67 : 547,
      payload: new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), passive: false,
    });
  }

  execute(a: Action): void {
    if (a.kind !== 'udp-send') return;
    const sock = a.family === 4 ? this.v4 : this.v6;
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
    this.v4?.close();
    this.v6?.close();
    this.v4 = this.v6 = null;
  }

  status(): Record<string, unknown> {
    return { ...this.counters, v4: this.v4 !== null, v6: this.v6 !== null };
  }
}
