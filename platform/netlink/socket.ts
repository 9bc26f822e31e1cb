/**
 * A netlink socket over the native addon: open, bind, options, send, and a receive
 * callback that gets either datagrams or an errno (ENOBUFS after an overrun). Nothing
 * here throws on an OS error; failures are values with the errno and its name.
 */
import { constants as osConstants } from 'node:os';
import { loadNative, type NativeBinding } from '../native/index';
import { socketDrops } from '../native/meminfo';
import { NETLINK_OPT } from './constants';
import { int32 } from '../byte-order';
import { sockaddrNl, sockaddrNlPid } from '../sockaddr';

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `errno ${errno}`;
}

export const ENOBUFS = osConstants.errno.ENOBUFS;
export const EAGAIN = osConstants.errno.EAGAIN;

export interface OsError {
  readonly op: string;
  readonly errno: number;
  readonly code: string;
}

const osError = (op: string, negErrno: number): OsError => ({ op, errno: -negErrno, code: errnoName(-negErrno) });

export interface NetlinkSocketOptions {
  readonly protocol: number;
  /** SO_RCVBUFFORCE (root) with SO_RCVBUF as fallback; the kernel doubles it. */
  readonly rcvbufBytes?: number;
  readonly sndbufBytes?: number;
  /** Only where losing messages is acceptable; a monitor wants the ENOBUFS. */
  readonly noEnobufs?: boolean;
  /** NETLINK_EXT_ACK + NETLINK_CAP_ACK: errors carry a reason, not our request back. */
  readonly extAck?: boolean;
  /** NETLINK_GET_STRICT_CHK: the kernel filters dumps by the request header. */
  readonly strictCheck?: boolean;
  readonly groups?: readonly number[];
  /**
   * Datagrams read per turn of the event loop at most (the rest on the next turn, the
   * socket staying readable). A dump is paced by the reader — the kernel fills the next
   * datagram as one is read — so without a bound one callback pulls a dump of 200k
   * routes whole and holds the loop (the control socket) for all of it.
   */
  readonly recvBudget?: number;
}

/**
 * `recvBudget` of the request sockets (rtnetlink, nfnetlink): a dump datagram holds up
 * to ~32 KiB, a few hundred routes or set elements, so a turn of the loop decodes about
 * a thousand entries at most. At 16 datagrams, a reconcile's dump of 66k nft elements
 * held the loop 20-30 ms per callback unloaded (profiled in test/bench/kernel-live.ts),
 * and a `status` answer waits behind several callbacks (accept, read, write).
 */
export const DUMP_READ_BUDGET = 4;

export type Receiver = (errno: number, datagrams: Uint8Array[]) => void;

export class NetlinkSocket {
  private closed = false;

  private constructor(
    private readonly native: NativeBinding,
    readonly fd: number,
    /** nl_pid the kernel assigned at bind. */
    readonly portId: number,
  ) {}

  static open(opts: NetlinkSocketOptions, receive: Receiver): NetlinkSocket | OsError {
    const native = loadNative();
    if (native instanceof Error) return { op: `load addon: ${native.message}`, errno: 0, code: 'ENOENT' };
    const k = native.constants;
    const fd = native.open(k.AF_NETLINK, k.SOCK_RAW, opts.protocol);
    if (fd < 0) return osError('socket', fd);
    const fail = (op: string, rc: number): OsError => {
      native.close(fd);
      return osError(op, rc);
    };
    const sizes: [number | undefined, number, number, string][] = [
      [opts.rcvbufBytes, k.SO_RCVBUFFORCE, k.SO_RCVBUF, 'SO_RCVBUF'],
      [opts.sndbufBytes, k.SO_SNDBUFFORCE, k.SO_SNDBUF, 'SO_SNDBUF'],
    ];
    for (const [bytes, force, plain, name] of sizes) {
      if (bytes === undefined) continue;
      if (native.setsockopt(fd, k.SOL_SOCKET, force, int32(bytes)) < 0) {
        const rc = native.setsockopt(fd, k.SOL_SOCKET, plain, int32(bytes));
        if (rc < 0) return fail(name, rc);
      }
    }
    const flags: [boolean | undefined, number][] = [
      [opts.noEnobufs, NETLINK_OPT.NO_ENOBUFS],
      [opts.extAck, NETLINK_OPT.EXT_ACK],
      [opts.extAck, NETLINK_OPT.CAP_ACK],
      [opts.strictCheck, NETLINK_OPT.GET_STRICT_CHK],
    ];
    // Older kernels lack some of these; the codec copes without them, so failures are ignored.
    for (const [on, opt] of flags) if (on === true) native.setsockopt(fd, k.SOL_NETLINK, opt, int32(1));
    const rc = native.bind(fd, sockaddrNl(k.AF_NETLINK));
    if (rc < 0) return fail('bind', rc);
    for (const g of opts.groups ?? []) {
      const r = native.setsockopt(fd, k.SOL_NETLINK, NETLINK_OPT.ADD_MEMBERSHIP, int32(g));
      if (r < 0) return fail(`NETLINK_ADD_MEMBERSHIP ${g}`, r);
    }
    const name = native.getsockname(fd);
    if (typeof name === 'number') return fail('getsockname', name);
    const portId = sockaddrNlPid(name);
    if (portId === null) return fail('getsockname', -osConstants.errno.EINVAL);
    const sock = new NetlinkSocket(native, fd, portId);
    const r = native.startRecv(fd, (errno, data, lengths) => {
      if (sock.closed) return;
      const grams: Uint8Array[] = [];
      if (data !== null && lengths !== null) {
        let off = 0;
        for (const len of lengths) {
          grams.push(data.subarray(off, off + len));
          off += len;
        }
      }
      try {
        receive(errno, grams);
      } catch (e) {
        // A bug in a handler must not escape into the addon's poll callback.
        queueMicrotask(() => {
          throw e;
        });
      }
    }, opts.recvBudget);
    if (r < 0) return fail('startRecv', r);
    return sock;
  }

  /** → bytes sent, or the error (EAGAIN/ENOBUFS included) as a value. */
  send(data: Uint8Array): number | OsError {
    if (this.closed) return { op: 'send', errno: osConstants.errno.EBADF, code: 'EBADF' };
    const n = this.native.sendto(this.fd, data, null);
    return n < 0 ? osError('sendto', n) : n;
  }

  /** Whether this socket keeps the process alive. */
  ref(on: boolean): void {
    if (!this.closed) this.native.ref(this.fd, on);
  }

  /** Messages the kernel dropped for this socket (sk_drops: a netlink overrun counts each lost one). */
  kernelDrops(): number | null {
    return this.closed ? null : socketDrops(this.native, this.fd);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.fd);
  }
}

export function isOsError<T>(x: T | OsError): x is OsError {
  return typeof x === 'object' && x !== null && 'op' in x && 'errno' in x && 'code' in x;
}
