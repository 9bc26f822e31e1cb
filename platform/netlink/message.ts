/**
 * nlmsghdr framing: split a datagram into messages, build requests, and read the two
 * control messages every request can end in (NLMSG_ERROR, NLMSG_DONE).
 *
 * NLMSG_ERROR payload (struct nlmsgerr, linux/netlink.h):
 *   +---------------------------+
 *   | error (s32, -errno; 0=ACK)|
 *   +---------------------------+
 *   | original nlmsghdr (16)    |  followed by the original payload unless
 *   | [original payload]        |  NLM_F_CAPPED (NETLINK_CAP_ACK)
 *   +---------------------------+
 *   | extended ACK TLVs         |  only if NLM_F_ACK_TLVS
 *   +---------------------------+
 * NLMSG_DONE payload: s32 error (a dump can end with -errno), then TLVs if NLM_F_ACK_TLVS.
 */
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NLM_F, NLMSG, NLMSGERR_ATTR, NLA_TYPE_MASK } from './constants';
import { NLMSG_HDRLEN, align4, fail, ok, splitAttrs, view, type Decoded, type DecodeError } from './wire';

export interface NlHeader {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
}

export interface NlMessage extends NlHeader {
  /** Bytes after the 16-byte header, up to nlmsg_len (a view, not a copy). */
  readonly payload: Uint8Array;
  /** Offset of this message's header in its datagram. */
  readonly offset: number;
}

export interface SplitResult {
  readonly messages: NlMessage[];
  /** Set when the datagram has bytes that are not a whole message; messages before it are kept. */
  readonly error: DecodeError | null;
}

export function splitMessages(dgram: Uint8Array, order: ByteOrder = HOST_ORDER): SplitResult {
  const messages: NlMessage[] = [];
  const v = view(dgram);
  const le = order === 'le';
  let off = 0;
  while (off < dgram.length) {
    const left = dgram.length - off;
    if (left < NLMSG_HDRLEN) return { messages, error: { where: 'nlmsghdr', offset: off, reason: `${left} trailing bytes` } };
    const len = v.getUint32(off, le);
    if (len < NLMSG_HDRLEN || len > left) {
      return { messages, error: { where: 'nlmsghdr', offset: off, reason: `nlmsg_len ${len} with ${left} bytes left` } };
    }
    messages.push({
      type: v.getUint16(off + 4, le),
      flags: v.getUint16(off + 6, le),
      seq: v.getUint32(off + 8, le),
      pid: v.getUint32(off + 12, le),
      payload: dgram.subarray(off + NLMSG_HDRLEN, off + len),
      offset: off,
    });
    off += align4(len);
  }
  return { messages, error: null };
}

export function messageLength(payloadLength: number): number {
  return align4(NLMSG_HDRLEN + payloadLength);
}

/**
 * nlmsg_len, nlmsg_type and nlmsg_flags of a header at `off` (linux/netlink.h: host
 * order), for a body already written behind it; seq and pid are the caller's.
 */
export function writeFrameHeader(v: DataView, off: number, length: number, type: number, flags: number, order: ByteOrder = HOST_ORDER): void {
  const le = order === 'le';
  v.setUint32(off, length, le);
  v.setUint16(off + 4, type, le);
  v.setUint16(off + 6, flags, le);
}

/**
 * Numbers `count` framed messages from `first` (nlmsg_seq), nlmsg_pid 0 (to the kernel),
 * NLM_F_REQUEST on every one and NLM_F_ACK on the last only: a batch sent in one sendmsg,
 * where only failures and the final ACK come back (rtnl.ts).
 */
export function numberBatch(frames: Uint8Array, count: number, first: number, order: ByteOrder = HOST_ORDER): void {
  const dv = view(frames);
  const le = order === 'le';
  for (let k = 0, off = 0; k < count; k++) {
    const flags = dv.getUint16(off + 6, le);
    const ack = k === count - 1 ? NLM_F.ACK : 0;
    dv.setUint16(off + 6, ((flags | NLM_F.REQUEST) & ~NLM_F.ACK) | ack, le);
    dv.setUint32(off + 8, (first + k) >>> 0, le);
    dv.setUint32(off + 12, 0, le);
    off += align4(dv.getUint32(off, le));
  }
}

/** Write header + payload at `off` of `out`; returns the offset after the (padded) message. */
export function writeMessage(out: Uint8Array, off: number, h: NlHeader, payload: Uint8Array, order: ByteOrder = HOST_ORDER): number {
  const v = view(out);
  const le = order === 'le';
  writeFrameHeader(v, off, NLMSG_HDRLEN + payload.length, h.type, h.flags, order);
  v.setUint32(off + 8, h.seq >>> 0, le);
  v.setUint32(off + 12, h.pid >>> 0, le);
  out.set(payload, off + NLMSG_HDRLEN);
  const end = off + messageLength(payload.length);
  out.fill(0, off + NLMSG_HDRLEN + payload.length, end);
  return end;
}

export function encodeMessage(h: NlHeader, payload: Uint8Array, order: ByteOrder = HOST_ORDER): Uint8Array {
  const out = new Uint8Array(messageLength(payload.length));
  writeMessage(out, 0, h, payload, order);
  return out;
}

export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's explanation. */
  readonly message?: string;
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute in the request. */
  readonly offset?: number;
  readonly missingType?: number;
}

export interface ErrorMessage {
  /** Positive errno; 0 is an ACK. */
  readonly errno: number;
  /** The header of the request this answers (null if the kernel sent none). */
  readonly request: NlHeader | null;
  readonly extAck: ExtAck;
}

function readExtAck(b: Uint8Array, base: number, order: ByteOrder): Decoded<ExtAck> {
  const attrs = splitAttrs(b, 'nlmsgerr TLVs', base, order);
  if (!attrs.ok) return attrs;
  const ack: { message?: string; offset?: number; missingType?: number } = {};
  for (const a of attrs.value) {
    const t = a.type & NLA_TYPE_MASK;
    const v = view(a.data);
    if (t === NLMSGERR_ATTR.MSG) {
      const nul = a.data.indexOf(0);
      ack.message = Buffer.from(a.data.buffer, a.data.byteOffset, nul < 0 ? a.data.length : nul).toString('utf8');
    } else if (t === NLMSGERR_ATTR.OFFS && a.data.length === 4) {
      ack.offset = v.getUint32(0, order === 'le');
    } else if (t === NLMSGERR_ATTR.MISS_TYPE && a.data.length === 4) {
      ack.missingType = v.getUint32(0, order === 'le');
    }
  }
  return ok(ack);
}

export function decodeError(m: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<ErrorMessage> {
  const p = m.payload;
  if (m.type !== NLMSG.ERROR) return fail('nlmsgerr', m.offset, `type ${m.type} is not NLMSG_ERROR`);
  if (p.length < 4) return fail('nlmsgerr', m.offset + NLMSG_HDRLEN, `${p.length} bytes, error needs 4`);
  const v = view(p);
  const le = order === 'le';
  const errno = -v.getInt32(0, le) | 0; // | 0: no -0 for an ACK
  if (p.length < 4 + NLMSG_HDRLEN) return ok({ errno, request: null, extAck: {} });
  const origLen = v.getUint32(4, le);
  const request: NlHeader = {
    type: v.getUint16(8, le),
    flags: v.getUint16(10, le),
    seq: v.getUint32(12, le),
    pid: v.getUint32(16, le),
  };
  if ((m.flags & NLM_F.ACK_TLVS) === 0) return ok({ errno, request, extAck: {} });
  const tlvAt = 4 + ((m.flags & NLM_F.CAPPED) !== 0 ? NLMSG_HDRLEN : align4(origLen));
  if (tlvAt > p.length) return fail('nlmsgerr', m.offset + NLMSG_HDRLEN + 4, `original length ${origLen} beyond message`);
  const extAck = readExtAck(p.subarray(tlvAt), m.offset + NLMSG_HDRLEN + tlvAt, order);
  if (!extAck.ok) return extAck;
  return ok({ errno, request, extAck: extAck.value });
}

export interface DoneMessage {
  /** Positive errno the dump ended with; 0 for a complete dump. */
  readonly errno: number;
  /** NLM_F_DUMP_INTR: the table changed during the dump; dump again. */
  readonly interrupted: boolean;
  readonly extAck: ExtAck;
}

export function decodeDone(m: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<DoneMessage> {
  if (m.type !== NLMSG.DONE) return fail('nlmsg_done', m.offset, `type ${m.type} is not NLMSG_DONE`);
  const interrupted = (m.flags & NLM_F.DUMP_INTR) !== 0;
  if (m.payload.length < 4) return ok({ errno: 0, interrupted, extAck: {} });
  const errno = -view(m.payload).getInt32(0, order === 'le') | 0;
  if ((m.flags & NLM_F.ACK_TLVS) === 0) return ok({ errno, interrupted, extAck: {} });
  const extAck = readExtAck(m.payload.subarray(4), m.offset + NLMSG_HDRLEN + 4, order);
  if (!extAck.ok) return extAck;
  return ok({ errno, interrupted, extAck: extAck.value });
}
