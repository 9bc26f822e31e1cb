/**
 * Loader and types for gleand_native (platform/native/gleand_native.c).
 *
 * Every call returns a non-negative result or -errno; nothing throws on an OS error.
 * The bundle has the .node file beside it, so the bundle-relative path is tried first,
 * then the node-gyp output next to this source file (tests, tsx).
 */
import * as path from 'node:path';

/** Called once per batch of datagrams (`errno` 0) or once per error (`data` null). */
export type RecvCallback = (errno: number, data: Buffer | null, lengths: Uint32Array | null, names: Buffer | null) => void;

/** Bytes of each sender-address slot in `names` (sockaddr_ll, sockaddr_in6 fit). */
export const NAME_BYTES = 32;
/**
 * In an AF_PACKET socket's slot: sockaddr_ll in bytes 0..19, then at this offset the
 * frame's `tpacket_auxdata.tp_status` (u32, host order) when PACKET_AUXDATA is on.
 */
export const LL_STATUS_AT = 20;

/** Socket constants as compiled for this architecture (they differ on MIPS). */
export interface NativeConstants {
  readonly AF_INET: number; readonly AF_INET6: number; readonly AF_NETLINK: number; readonly AF_PACKET: number;
  readonly SOCK_RAW: number; readonly SOCK_DGRAM: number;
  readonly SOL_SOCKET: number; readonly SOL_NETLINK: number;
  readonly SO_RCVBUF: number; readonly SO_SNDBUF: number; readonly SO_RCVBUFFORCE: number; readonly SO_SNDBUFFORCE: number;
  readonly IPPROTO_IP: number; readonly IPPROTO_IPV6: number; readonly IPPROTO_UDP: number; readonly IPPROTO_RAW: number;
  readonly SO_REUSEADDR: number; readonly SO_BROADCAST: number; readonly SO_MEMINFO: number;
  readonly IPV6_V6ONLY: number; readonly IPV6_MULTICAST_IF: number;
  readonly SOL_PACKET: number; readonly PACKET_STATISTICS: number;
  readonly PACKET_AUXDATA: number; readonly TP_STATUS_CSUMNOTREADY: number; readonly TP_STATUS_CSUM_VALID: number;
}

export interface NativeBinding {
  readonly constants: NativeConstants;
  /** socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol) → fd | -errno */
  open(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array): number;
  /** → option bytes (at most maxLength) | -errno */
  getsockopt(fd: number, level: number, name: number, maxLength: number): Buffer | number;
  bind(fd: number, sockaddr: Uint8Array): number;
  getsockname(fd: number): Buffer | number;
  /** → bytes sent | -errno; EAGAIN and ENOBUFS are returned, not thrown */
  sendto(fd: number, data: Uint8Array, sockaddr: Uint8Array | null): number;
  /**
   * sendmmsg(2): datagram i is `lengths[i]` bytes of `data` (packed in order) to the
   * sockaddr of `nameBytes` at `names[i * NAME_BYTES]`. → how many were sent before the
   * first failure, or -errno when the first one failed.
   */
  sendBatch(fd: number, data: Uint8Array, lengths: Uint32Array, count: number, names: Uint8Array, nameBytes: number): number;
  /** Attach a classic BPF program (struct sock_filter[] as bytes): SO_ATTACH_FILTER. → 0 | -errno */
  attachFilter(fd: number, program: Uint8Array): number;
  /**
   * Watch fd with a uv_poll_t; datagrams are read with recvmsg until EAGAIN, or at most
   * `budget` per readiness callback (the rest on the next loop iteration, after the other
   * ready sockets). → 0 | -errno
   */
  startRecv(fd: number, cb: RecvCallback, budget?: number): number;
  stopRecv(fd: number): number;
  /** Whether the watcher keeps the event loop alive. */
  ref(fd: number, on: boolean): number;
  /** Stops the watcher, then close(2). */
  close(fd: number): number;
}

export const NATIVE_FILE = 'gleand_native.node';

let cached: NativeBinding | Error | undefined;

/** The addon, or the Error explaining why none of the candidate paths loaded. */
export function loadNative(): NativeBinding | Error {
  if (cached !== undefined) return cached;
  const candidates = [
    path.join(__dirname, NATIVE_FILE),
    path.join(__dirname, '../native/build/Release', NATIVE_FILE),
  ];
  const failures: string[] = [];
  for (const file of candidates) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      cached = require(file) as NativeBinding;
      return cached;
    } catch (e) {
      failures.push(`${file}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  cached = new Error(`gleand_native.node not found (build with node-gyp rebuild -C platform/native):\n  ${failures.join('\n  ')}`);
  return cached;
}
