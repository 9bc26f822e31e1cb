import { NAME_BYTES, type NativeBinding } from './native';

/**
 * Datagrams and bytes a queue holds before it is sent at once (sendmmsg takes up to
 * 1,024). A read batch is 64 datagrams a socket; 64 KiB holds any one UDP datagram
 * (65,507 octets at most), so nothing is too large to queue. Allocated on the first
 * send, so a port that never answers costs nothing.
 */
const QUEUE_DATAGRAMS = 128;
const QUEUE_BYTES = 64 * 1024;

/**
 * Outgoing datagrams of one socket, sent together with one sendmmsg(2) when the
 * JavaScript that produced them is done (a microtask), instead of a sendto(2) each.
 *
 * One read batch of the relay (up to 64 datagrams of a socket) produces as many
 * sends; measured by the relay benchmark, a system call per datagram cost more than
 * the relay's own logic, and each return to user space was a chance for the woken
 * receiver to preempt the daemon. Datagrams are copied into one preallocated buffer
 * with their addresses in fixed slots, so queueing allocates nothing. Order is kept;
 * a full queue is sent at once. Errors are per datagram, as with sendto: `onError`
 * gets the errno and the tag given with the datagram.
 */
const EMPTY = new Uint8Array(0);

export class SendQueue<Tag> {
  private data = EMPTY;
  private readonly lengths = new Uint32Array(QUEUE_DATAGRAMS);
  private readonly names = new Uint8Array(QUEUE_DATAGRAMS * NAME_BYTES);
  private readonly tags: (Tag | undefined)[] = new Array(QUEUE_DATAGRAMS);
  private count = 0;
  private used = 0;
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly native: NativeBinding,
    private readonly fd: number,
    /** Bytes of this socket's sockaddr (sockaddr_ll 20, sockaddr_in 16, sockaddr_in6 28). */
    private readonly nameBytes: number,
    private readonly onSent: (n: number) => void,
    private readonly onError: (errno: number, tag: Tag) => void,
  ) {}

  get pending(): number {
    return this.count;
  }

  /**
   * Queue `bytes`; `writeName(names, at)` writes its sockaddr at `at` (the slot is
   * zeroed first). Sent when the current JavaScript turn ends, or now if full.
   */
  push(bytes: Uint8Array, writeName: (names: Uint8Array, at: number) => void, tag: Tag): void {
    if (this.closed) return;
    if (bytes.length > QUEUE_BYTES) {
      this.onError(90 /* EMSGSIZE */, tag);
      return;
    }
    if (this.data === EMPTY) this.data = new Uint8Array(QUEUE_BYTES);
    if (this.count === QUEUE_DATAGRAMS || this.used + bytes.length > QUEUE_BYTES) this.flush();
    const i = this.count++;
    this.data.set(bytes, this.used);
    this.used += bytes.length;
    this.lengths[i] = bytes.length;
    const at = i * NAME_BYTES;
    this.names.fill(0, at, at + NAME_BYTES);
    writeName(this.names, at);
    this.tags[i] = tag;
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => {
        this.scheduled = false;
        this.flush();
      });
    }
  }

  /** Send everything queued now (before the socket closes, or when full). */
  flush(): void {
    let first = 0;
    let offset = 0;
    while (first < this.count && !this.closed) {
      const n = this.count - first;
      const data = offset === 0 ? this.data : this.data.subarray(offset);
      const rc = this.native.sendBatch(this.fd, data, this.lengths.subarray(first), n,
        this.names.subarray(first * NAME_BYTES), this.nameBytes);
      const sent = rc > 0 ? rc : 0;
      if (sent > 0) this.onSent(sent);
      for (let k = 0; k < sent; k++) offset += this.lengths[first + k]!;
      first += sent;
      if (rc <= 0 && first < this.count) {
        // The datagram at `first` failed: counted and skipped, the rest resubmitted.
        this.onError(rc < 0 ? -rc : 11 /* EAGAIN */, this.tags[first]!);
        offset += this.lengths[first]!;
        first++;
      }
    }
    this.tags.fill(undefined, 0, this.count);
    this.count = 0;
    this.used = 0;
  }

  /** Send what is queued, then refuse more (the socket is about to close). */
  close(): void {
    this.flush();
    this.closed = true;
  }
}
