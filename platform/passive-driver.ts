import * as raw from 'raw-socket';
import type { Action } from '../src/actions';
import type { Config } from '../src/config/config';
import { parseIPv6 } from '../src/wire/address';
import type { Driver, DriverContext, ReloadVerdict } from './driver';
import { loadNative } from './native';
import { SK_MEMINFO_DROPS } from './native/meminfo';
import { HOST_ORDER } from './byte-order';

/**
 * Passive mode: another relay (ISC dhcrelay) owns the DHCP ports and relays; gleand
 * watches the server replies it receives on the upstream device and gleans from them.
 * raw-socket fits this exactly: receive-only AF_INET/AF_INET6 raw UDP sockets, one per
 * upstream device (SO_BINDTODEVICE through its setOption), with the source address.
 * Raw sockets receive copies: the other relay still gets every packet.
 */
const SOL_SOCKET = 1;
const SO_BINDTODEVICE = 25;
const BUFFER = 65535;

export class PassiveDriver implements Driver {
  readonly name = 'passive';
  readonly actionKinds = [] as const;
  private sockets: { readonly socket: raw.Socket; readonly device: string; readonly family: 4 | 6 }[] = [];
  private ctx!: DriverContext;
  private readonly counters = { observed4: 0, observed6: 0, errors: 0 };

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    await this.reconfigure(config);
  }

  /** Raw sockets are cheap to reopen; a reload always does. */
  async reconfigure(config: Config): Promise<ReloadVerdict> {
    await this.stop();
    const passive = config.subscribers.filter((s) => s.mode === 'passive');
    const devices = new Set(passive.map((s) => config.upstreams.find((u) => u.name === s.upstream)!.device));
    for (const device of devices) {
      if (passive.some((s) => s.relay_v4)) this.open(device, 4);
      if (passive.some((s) => s.relay_v6)) this.open(device, 6);
    }
    return devices.size ? { verdict: 'reinstalled', detail: `observing ${[...devices].join(' ')}` } : { verdict: 'in-place' };
  }

  private open(device: string, family: 4 | 6): void {
    const s = raw.createSocket({
      protocol: raw.Protocol.UDP,
      addressFamily: family === 4 ? raw.AddressFamily.IPv4 : raw.AddressFamily.IPv6,
      bufferSize: BUFFER,
    });
    const name = Buffer.from(`${device}\0`);
    s.setOption(SOL_SOCKET, SO_BINDTODEVICE, name, name.length);
    s.on('error', (e) => {
      this.counters.errors++;
      this.ctx.log('warn', 'passive', `raw socket error: ${e.message}`, { device }, `passive:${device}`);
    });
    s.on('message', (buf, source) => this.receive(family, buf, source));
    this.sockets.push({ socket: s, device, family });
  }

  /** IPv4 raw sockets deliver the IP header; IPv6 ones start at the UDP header. */
  private receive(family: 4 | 6, buf: Buffer, source: string): void {
    const bytes = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    const udpAt = family === 4 ? (bytes[0]! & 0x0f) * 4 : 0;
    if (bytes.length < udpAt + 8) return;
    const sourcePort = (bytes[udpAt]! << 8) | bytes[udpAt + 1]!;
    const destinationPort = (bytes[udpAt + 2]! << 8) | bytes[udpAt + 3]!;
    // Server → relay only: DHCPv4 replies to giaddr:67, DHCPv6 RELAY-REPL to :547.
    if ((family === 4 && (sourcePort !== 67 || destinationPort !== 67)) || (family === 6 && destinationPort !== 547)) return;
    const src = family === 4 ? bytes.slice(12, 16) : parseIPv6(source.split('%')[0]!);
    if (!src) return;
    if (family === 4) this.counters.observed4++;
    else this.counters.observed6++;
    this.ctx.emit({ kind: 'udp', family, source: src, sourcePort, destinationPort, payload: bytes.slice(udpAt + 8), passive: true });
  }

  execute(_a: Action): void {}

  async stop(): Promise<void> {
    for (const s of this.sockets) s.socket.close();
    this.sockets = [];
  }

  status(): Record<string, unknown> {
    const sockets = this.sockets.map((s) => ({ device: s.device, family: s.family, drops: kernelDrops(s.socket) }));
    return { ...this.counters, sockets: this.sockets.length, kernelDrops: sockets };
  }
}

/**
 * sk_drops of a raw socket (SO_MEMINFO, see native/meminfo.ts): copies the kernel could
 * not queue for gleand, which the other relay may still have received. The constants
 * come from the addon (SOL_SOCKET differs on MIPS); null when either is unavailable.
 */
function kernelDrops(s: raw.Socket): number | null {
  const native = loadNative();
  if (native instanceof Error) return null;
  const buf = Buffer.alloc(64);
  try {
    const len = s.getOption(native.constants.SOL_SOCKET, native.constants.SO_MEMINFO, buf, buf.length);
    return len >= (SK_MEMINFO_DROPS + 1) * 4 ? (HOST_ORDER === 'le' ? buf.readUInt32LE(SK_MEMINFO_DROPS * 4) : buf.readUInt32BE(SK_MEMINFO_DROPS * 4)) : null;
  } catch {
    return null;
  }
}
