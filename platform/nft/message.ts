/**
 * nfnetlink messages described as data, and the batch that carries nf_tables changes.
 *
 * Every nfnetlink message is nlmsghdr + nfgenmsg + attributes:
 *
 *   nfgenmsg (4 bytes)                          nlattr (NLA_F_NESTED 0x8000 on nests)
 *   +--------------+-------------+-----------+  +-------------+--------------+
 *   | family (u8)  | version(u8) | res_id    |  | len (u16)   | type (u16)   |
 *   | NFPROTO_*    | NFNETLINK_V0| (be16)    |  +-------------+--------------+
 *   +--------------+-------------+-----------+  | value, padded to 4 bytes   |
 *
 * Changes to nf_tables travel in a batch, one sendmsg, processed as one transaction:
 *
 *   NFNL_MSG_BATCH_BEGIN  family AF_UNSPEC, res_id = htons(NFNL_SUBSYS_NFTABLES)
 *   NFT_MSG_NEWSETELEM …  one or more messages, type (NFNL_SUBSYS_NFTABLES << 8) | msg
 *   NFNL_MSG_BATCH_END    as BEGIN
 *
 * If any message of a batch fails the kernel aborts the whole transaction, yet still
 * sends an ACK (error 0) for every other message that asked for one
 * (net/netfilter/nfnetlink.c, nfnetlink_rcv_batch): a batch succeeded only if *every*
 * reply is 0. Attribute values in nf_tables are big-endian unless the expression says
 * otherwise (set keys carry the register layout, see element.ts).
 *
 * Byte order per field (linux/netlink.h, linux/netfilter/nfnetlink.h): nlmsghdr and the
 * nlattr header (nla_len, nla_type) are host order; nfgenmsg is two u8s and `__be16
 * res_id`, network order on every host. The writers take the ByteOrder of the host
 * fields (platform/byte-order.ts), the host's by default.
 */
import { NLA_F_NESTED } from '../netlink/constants';
import { NLM_F } from '../netlink/constants';
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NLA_HDRLEN, NLMSG_HDRLEN, align4, view } from '../netlink/wire';
import { NFNETLINK_V0, NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END, NFNL_SUBSYS_NFTABLES, NFPROTO } from './constants';

export const NFGENMSG_LEN = 4;

/** An attribute tree: a leaf carries bytes, a nest carries attributes (sent with NLA_F_NESTED). */
export type NfAttr =
  | { readonly type: number; readonly data: Uint8Array }
  | { readonly type: number; readonly nest: readonly NfAttr[] };

/** One nfnetlink message as data; the header length is computed when it is written. */
export interface NfMessage {
  /** Full nlmsg_type: (subsystem << 8) | message. */
  readonly type: number;
  readonly flags: number;
  /** nfgen_family (NFPROTO_*). */
  readonly family: number;
  /** nfgenmsg res_id (host value; written big-endian). */
  readonly resId?: number;
  readonly attrs: readonly NfAttr[];
}

const te = new TextEncoder();

/** NUL-terminated string attribute (NLA_NUL_STRING / NLA_STRING in nf_tables policies). */
export const strAttr = (type: number, s: string): NfAttr => {
  const b = te.encode(s);
  const data = new Uint8Array(b.length + 1);
  data.set(b);
  return { type, data };
};

export const be32Attr = (type: number, x: number): NfAttr => {
  const data = new Uint8Array(4);
  view(data).setUint32(0, x >>> 0, false);
  return { type, data };
};

export const nestAttr = (type: number, nest: readonly NfAttr[]): NfAttr => ({ type, nest });

/** Bytes an attribute takes including its header and padding. */
export function attrEncodingLength(a: NfAttr): number {
  if ('data' in a) return align4(NLA_HDRLEN + a.data.length);
  let n = NLA_HDRLEN;
  for (const c of a.nest) n += attrEncodingLength(c);
  return n;
}

/** Writes one attribute at off (padding zeroed); returns the offset after it. */
export function writeAttrTree(out: Uint8Array, off: number, a: NfAttr, dv: DataView = view(out), order: ByteOrder = HOST_ORDER): number {
  const len = 'data' in a ? NLA_HDRLEN + a.data.length : attrEncodingLength(a);
  dv.setUint16(off, len, order === 'le');
  dv.setUint16(off + 2, 'data' in a ? a.type : a.type | NLA_F_NESTED, order === 'le');
  if ('data' in a) {
    out.set(a.data, off + NLA_HDRLEN);
    const end = off + align4(len);
    out.fill(0, off + len, end);
    return end;
  }
  let at = off + NLA_HDRLEN;
  for (const c of a.nest) at = writeAttrTree(out, at, c, dv, order);
  return at;
}

export function messageEncodingLength(m: NfMessage): number {
  let n = NLMSG_HDRLEN + NFGENMSG_LEN;
  for (const a of m.attrs) n += attrEncodingLength(a);
  return n;
}

/** Writes header + nfgenmsg + attributes at off with the given sequence number. */
export function writeNfMessage(out: Uint8Array, off: number, m: NfMessage, seq: number, dv: DataView = view(out), order: ByteOrder = HOST_ORDER): number {
  const len = messageEncodingLength(m);
  const le = order === 'le';
  dv.setUint32(off, len, le);
  dv.setUint16(off + 4, m.type, le);
  dv.setUint16(off + 6, m.flags, le);
  dv.setUint32(off + 8, seq >>> 0, le);
  dv.setUint32(off + 12, 0, le); // nlmsg_pid 0: the kernel
  dv.setUint8(off + 16, m.family);
  dv.setUint8(off + 17, NFNETLINK_V0);
  dv.setUint16(off + 18, m.resId ?? 0, false); // __be16 res_id on every host
  let at = off + NLMSG_HDRLEN + NFGENMSG_LEN;
  for (const a of m.attrs) at = writeAttrTree(out, at, a, dv, order);
  return at;
}

export function encodeNfMessage(m: NfMessage, seq: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const out = new Uint8Array(messageEncodingLength(m));
  writeNfMessage(out, 0, m, seq, undefined, order);
  return out;
}

/** The batch delimiter: AF_UNSPEC, res_id = NFNL_SUBSYS_NFTABLES (big-endian). */
const batchMark = (type: number): NfMessage => ({
  type,
  flags: NLM_F.REQUEST,
  family: NFPROTO.UNSPEC,
  resId: NFNL_SUBSYS_NFTABLES,
  attrs: [],
});

export const BATCH_OVERHEAD = 2 * (NLMSG_HDRLEN + NFGENMSG_LEN);

export function batchEncodingLength(msgs: readonly NfMessage[]): number {
  let n = BATCH_OVERHEAD;
  for (const m of msgs) n += messageEncodingLength(m);
  return n;
}

/**
 * BEGIN, the messages, END in one buffer; BEGIN gets `firstSeq`, message i gets
 * firstSeq + 1 + i and END firstSeq + 1 + msgs.length (how nft numbers them).
 */
export function encodeBatch(msgs: readonly NfMessage[], firstSeq: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const out = new Uint8Array(batchEncodingLength(msgs));
  const dv = view(out);
  let at = writeNfMessage(out, 0, batchMark(NFNL_MSG_BATCH_BEGIN), firstSeq, dv, order);
  msgs.forEach((m, i) => {
    at = writeNfMessage(out, at, m, firstSeq + 1 + i, dv, order);
  });
  writeNfMessage(out, at, batchMark(NFNL_MSG_BATCH_END), firstSeq + 1 + msgs.length, dv, order);
  return out;
}
