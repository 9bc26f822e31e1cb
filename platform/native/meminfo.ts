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
