/**
 * A socket's kernel drop counter: SO_MEMINFO's SK_MEMINFO_DROPS (sk->sk_drops), the
 * datagrams the kernel discarded for this socket — a full receive buffer, a socket
 * filter's verdict, a netlink overrun — which the reader never sees. It only grows
 * (it is not reset by reading).
 */
import type { NativeBinding } from './index';

/** Indexes in the u32 array of SO_MEMINFO (include/uapi/linux/sock_diag.h). */
export const SK_MEMINFO_RCVBUF = 1;
export const SK_MEMINFO_DROPS = 8;

/** SO_MEMINFO as u32 values (host order), or null when the kernel refused. */
export function socketMeminfo(native: NativeBinding, fd: number): Uint32Array | null {
  const info = native.getsockopt(fd, native.constants.SOL_SOCKET, native.constants.SO_MEMINFO, 64);
  if (typeof info === 'number' || info.byteLength < (SK_MEMINFO_DROPS + 1) * 4) return null;
  return new Uint32Array(info.buffer.slice(info.byteOffset, info.byteOffset + (info.byteLength & ~3)));
}

/** sk_drops of the socket, or null when SO_MEMINFO is unavailable. */
export function socketDrops(native: NativeBinding, fd: number): number | null {
  return socketMeminfo(native, fd)?.[SK_MEMINFO_DROPS] ?? null;
}

/**
 * A packet socket's PACKET_STATISTICS (`struct tpacket_stats`, host order): `seen` is
 * tp_packets, every frame the socket's filter passed, `drops` tp_drops, those the kernel
 * dropped for a full buffer. Reading resets both, so callers sum them. Null when the
 * kernel refused.
 */
export function packetStatistics(native: NativeBinding, fd: number): { seen: number; drops: number } | null {
  const k = native.constants;
  const st = native.getsockopt(fd, k.SOL_PACKET, k.PACKET_STATISTICS, 8);
  if (typeof st === 'number' || st.byteLength < 8) return null;
  const v = new Uint32Array(st.buffer.slice(st.byteOffset, st.byteOffset + 8));
  return { seen: v[0]!, drops: v[1]! };
}
