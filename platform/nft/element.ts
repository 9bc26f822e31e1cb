/**
 * Set elements of the verify sets: keys as bytes, the messages that add, delete, flush
 * and dump them, the set listing, and the decoders for the kernel's answers (which
 * never throw).
 *
 * The allow sets (names.ts) are plain hash sets of `iface_index . ether_addr .
 * ipv{4,6}_addr`. Each component of a concatenation takes a whole number of 4-byte
 * registers; in a set without `flags interval` nft leaves the ifindex in host order
 * (no byteorder expression in the rule, `nft --debug=netlink`), so the key carries it
 * host order too:
 *
 *    0               4                               12                16 (v4) / 28 (v6)
 *   +---------------+-------------------------------+-----------------+
 *   | ifindex (host)| ether saddr (6) | 0 0         | ip saddr (4/16) |
 *   +---------------+-------------------------------+-----------------+
 *   NFTA_SET_ELEM_KEY only. In allow4 / allow6 the address is the source itself; in a
 *   prefix-length set allow6_<n> it is the prefix (host bits zero), which the rule
 *   compares with the source masked to n bits: a /56 is one element.
 *
 * `ports` is a plain `iface_index` set: its key is the ifindex in host order (4 bytes).
 *
 * Element list message (NFT_MSG_NEWSETELEM / DELSETELEM / dump replies):
 *   nfgenmsg(NFPROTO_INET) · TABLE(str) · SET(str) · ELEMENTS{ LIST_ELEM{ KEY{VALUE} } … }
 * Set message (NFT_MSG_NEWSET, answers to a GETSET dump):
 *   nfgenmsg(NFPROTO_INET) · TABLE(str) · NAME(str) · FLAGS(be32) · KEY_TYPE · KEY_LEN(be32) …
 *
 * Host order here: the ifindex in the keys and every nlattr header; the rest (flags,
 * lengths, object types, counters) is big-endian on every host. The functions take the
 * ByteOrder (platform/byte-order.ts), the host's by default.
 */
import { NLM_F, NLA_TYPE_MASK } from '../netlink/constants';
import type { NlMessage } from '../netlink/message';
import { HOST_ORDER, type ByteOrder } from '../byte-order';
import { NLA_HDRLEN, NLMSG_HDRLEN, align4, fail, ok, splitAttrs, view, type Decoded, type RawAttr } from '../netlink/wire';
import {
  NFPROTO, NFTA_COUNTER, NFTA_DATA, NFTA_LIST_ELEM, NFTA_OBJ, NFTA_SET, NFTA_SET_ELEM, NFTA_SET_ELEM_LIST, NFT_MSG,
  NFT_OBJECT, NFT_SET_ELEM_FLAG, nftType,
} from './constants';
import {
  NFGENMSG_LEN, attrEncodingLength, be32Attr, nestAttr, strAttr,
  type NfAttr, type NfMessage,
} from './message';
import { addressBits, allowSetName, type AllowSet } from './names';

/** A verify entry with the device resolved to its ifindex: exactly what one element holds. */
export interface VerifyElement {
  readonly family: 4 | 6;
  readonly ifindex: number;
  readonly mac: Uint8Array;
  readonly prefix: Uint8Array;
  readonly prefixLength: number;
}

/** One element's key material; keyEnd null for a non-interval set (all of gleand's). */
export interface ElementKey {
  readonly key: Uint8Array;
  readonly keyEnd: Uint8Array | null;
}

/** A verify element's set and key. */
export interface AllowElementKey extends ElementKey {
  /** allow4, allow6, or allow4_<n> / allow6_<n> for a prefix of length n. */
  readonly set: string;
}

export const MAC_LEN = 6;
/** ifindex register + MAC in two registers. */
const ADDR_AT = 12;
export const keyLength = (family: 4 | 6): number => ADDR_AT + (family === 4 ? 4 : 16);

/** The set and key of a verify element, or why it cannot be one. */
export function verifyElementKey(e: VerifyElement, order: ByteOrder = HOST_ORDER): AllowElementKey | string {
  const alen = e.family === 4 ? 4 : 16;
  if (!Number.isInteger(e.ifindex) || e.ifindex <= 0 || e.ifindex > 0xffffffff) return `ifindex ${e.ifindex} out of range`;
  if (e.mac.length !== MAC_LEN) return `MAC is ${e.mac.length} bytes, needs ${MAC_LEN}`;
  if (e.prefix.length !== alen) return `IPv${e.family} prefix is ${e.prefix.length} bytes, needs ${alen}`;
  if (!Number.isInteger(e.prefixLength) || e.prefixLength < 0 || e.prefixLength > alen * 8) {
    return `prefix length ${e.prefixLength} out of range for IPv${e.family}`;
  }
  if (!hostBitsClear(e.prefix, e.prefixLength)) return `host bits set in prefix /${e.prefixLength}`;
  const key = new Uint8Array(ADDR_AT + alen);
  // Byte by byte in the given order: a DataView per element (one per verify entry installed) was ~1% of a bulk restore.
  const x = e.ifindex;
  const le = order === 'le';
  for (let i = 0; i < 4; i++) key[le ? i : 3 - i] = (x >>> (8 * i)) & 0xff;
  key.set(e.mac, 4);
  key.set(e.prefix, ADDR_AT);
  return { set: allowSetName(e.family, e.prefixLength), key, keyEnd: null };
}

function hostBitsClear(addr: Uint8Array, prefixLength: number): boolean {
  for (let bit = prefixLength; bit < addr.length * 8; bit++) {
    if ((addr[bit >> 3]! & (0x80 >> (bit & 7))) !== 0) return false;
  }
  return true;
}

/** Key of a `type iface_index` element (host order: no byteorder conversion in plain sets). */
export function ifindexKey(ifindex: number, order: ByteOrder = HOST_ORDER): ElementKey {
  const key = new Uint8Array(4);
  view(key).setUint32(0, ifindex >>> 0, order === 'le');
  return { key, keyEnd: null };
}

const dataNest = (type: number, value: Uint8Array): NfAttr => nestAttr(type, [{ type: NFTA_DATA.VALUE, data: value }]);

function elementAttr(k: ElementKey): NfAttr {
  const inner = [dataNest(NFTA_SET_ELEM.KEY, k.key)];
  if (k.keyEnd !== null) inner.push(dataNest(NFTA_SET_ELEM.KEY_END, k.keyEnd));
  return nestAttr(NFTA_LIST_ELEM, inner);
}

/** Bytes of a KEY / KEY_END nest holding one NFTA_DATA_VALUE attribute of `value`. */
const dataNestLength = (value: Uint8Array): number => NLA_HDRLEN + align4(NLA_HDRLEN + value.length);

/**
 * Bytes one element adds to a message (for chunking under the u16 nest length): the
 * LIST_ELEM nest of `elementAttr`, counted without building it (once per element
 * planned: building the tree to measure it was ~2% of a bulk restore's CPU).
 */
export const elementEncodingLength = (k: ElementKey): number =>
  NLA_HDRLEN + dataNestLength(k.key) + (k.keyEnd !== null ? dataNestLength(k.keyEnd) : 0);

/** The largest ELEMENTS nest: nla_len is a u16. */
export const MAX_ELEMENTS_NEST = 0xffff;

export interface ElementListMessage {
  readonly message: NfMessage;
  /** Offset of each element's LIST_ELEM attribute from the start of the nlmsghdr (to
   *  map NLMSGERR_ATTR_OFFS of an extended ACK back to the element that failed). */
  readonly elementOffsets: readonly number[];
}

/** NEWSETELEM / DELSETELEM for elements of table.set (inet family). */
export function elementListMessage(msg: number, flags: number, table: string, set: string, keys: readonly ElementKey[]): ElementListMessage {
  const head = [strAttr(NFTA_SET_ELEM_LIST.TABLE, table), strAttr(NFTA_SET_ELEM_LIST.SET, set)];
  const elems = keys.map(elementAttr);
  let at = NLMSG_HDRLEN + NFGENMSG_LEN;
  for (const a of head) at += attrEncodingLength(a);
  at += 4; // ELEMENTS nest header
  const elementOffsets: number[] = [];
  for (const e of elems) {
    elementOffsets.push(at);
    at += attrEncodingLength(e);
  }
  return {
    message: { type: nftType(msg), flags, family: NFPROTO.INET, attrs: [...head, nestAttr(NFTA_SET_ELEM_LIST.ELEMENTS, elems)] },
    elementOffsets,
  };
}

/** DELSETELEM without ELEMENTS: the kernel flushes the set (nft_set_flush). */
export const flushSetMessage = (table: string, set: string): NfMessage => ({
  type: nftType(NFT_MSG.DELSETELEM),
  flags: NLM_F.REQUEST,
  family: NFPROTO.INET,
  attrs: [strAttr(NFTA_SET_ELEM_LIST.TABLE, table), strAttr(NFTA_SET_ELEM_LIST.SET, set)],
});

/** GETSETELEM body for a dump (the client sends it with NLM_F_DUMP). */
export const dumpSetMessage = (table: string, set: string): NfMessage => ({
  type: nftType(NFT_MSG.GETSETELEM),
  flags: NLM_F.REQUEST | NLM_F.DUMP,
  family: NFPROTO.INET,
  attrs: [strAttr(NFTA_SET_ELEM_LIST.TABLE, table), strAttr(NFTA_SET_ELEM_LIST.SET, set)],
});

/** GETOBJ of one named counter (a get, not a dump: one NEWOBJ answers it). */
export const getCounterMessage = (table: string, name: string, reset = false): NfMessage => ({
  type: nftType(reset ? NFT_MSG.GETOBJ_RESET : NFT_MSG.GETOBJ),
  flags: NLM_F.REQUEST,
  family: NFPROTO.INET,
  attrs: [strAttr(NFTA_OBJ.TABLE, table), strAttr(NFTA_OBJ.NAME, name), be32Attr(NFTA_OBJ.TYPE, NFT_OBJECT.COUNTER)],
});

// ---------------------------------------------------------------------------------
// Decoders

export interface RawSetElement {
  readonly key: Uint8Array | null;
  readonly keyEnd: Uint8Array | null;
  /** NFTA_SET_ELEM_FLAGS (NFT_SET_ELEM_INTERVAL_END, CATCHALL), 0 if absent. */
  readonly flags: number;
  /** Attributes we do not interpret (timeout, expressions, userdata). */
  readonly unknownAttrs: RawAttr[];
}

export interface SetElementList {
  readonly family: number;
  readonly table: string | null;
  readonly set: string | null;
  readonly elements: RawSetElement[];
}

const td = new TextDecoder('utf-8', { fatal: false });
const cstr = (b: Uint8Array): string => {
  const nul = b.indexOf(0);
  return td.decode(nul < 0 ? b : b.subarray(0, nul));
};

/** Offset of `inner` (a view into `outer`'s buffer) from `outer`'s start, plus base. */
const at = (base: number, outer: Uint8Array, inner: Uint8Array): number => base + (inner.byteOffset - outer.byteOffset);

function decodeData(where: string, b: Uint8Array, base: number, order: ByteOrder): Decoded<Uint8Array> {
  const attrs = splitAttrs(b, where, base, order);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) if ((a.type & NLA_TYPE_MASK) === NFTA_DATA.VALUE) return ok(a.data.slice());
  return fail(where, base, 'no NFTA_DATA_VALUE');
}

function decodeElement(b: Uint8Array, base: number, order: ByteOrder): Decoded<RawSetElement> {
  const attrs = splitAttrs(b, 'set element', base, order);
  if (!attrs.ok) return attrs;
  let key: Uint8Array | null = null;
  let keyEnd: Uint8Array | null = null;
  let flags = 0;
  const unknownAttrs: RawAttr[] = [];
  for (const a of attrs.value) {
    const t = a.type & NLA_TYPE_MASK;
    const off = at(base, b, a.data);
    if (t === NFTA_SET_ELEM.KEY || t === NFTA_SET_ELEM.KEY_END) {
      const d = decodeData(t === NFTA_SET_ELEM.KEY ? 'NFTA_SET_ELEM_KEY' : 'NFTA_SET_ELEM_KEY_END', a.data, off, order);
      if (!d.ok) return d;
      if (t === NFTA_SET_ELEM.KEY) key = d.value;
      else keyEnd = d.value;
    } else if (t === NFTA_SET_ELEM.FLAGS) {
      if (a.data.length !== 4) return fail('NFTA_SET_ELEM_FLAGS', off, `${a.data.length} bytes, needs 4`);
      flags = view(a.data).getUint32(0, false);
    } else {
      unknownAttrs.push({ type: a.type, data: a.data.slice() });
    }
  }
  return ok({ key, keyEnd, flags, unknownAttrs });
}

/** A NEWSETELEM message (dump reply or notification) → its elements. */
export function decodeElementList(m: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<SetElementList> {
  const p = m.payload;
  const base = m.offset + NLMSG_HDRLEN;
  if (p.length < NFGENMSG_LEN) return fail('nfgenmsg', base, `${p.length} bytes, needs ${NFGENMSG_LEN}`);
  const attrs = splitAttrs(p.subarray(NFGENMSG_LEN), 'set element list', base + NFGENMSG_LEN, order);
  if (!attrs.ok) return attrs;
  let table: string | null = null;
  let set: string | null = null;
  const elements: RawSetElement[] = [];
  for (const a of attrs.value) {
    const t = a.type & NLA_TYPE_MASK;
    if (t === NFTA_SET_ELEM_LIST.TABLE) table = cstr(a.data);
    else if (t === NFTA_SET_ELEM_LIST.SET) set = cstr(a.data);
    else if (t === NFTA_SET_ELEM_LIST.ELEMENTS) {
      const list = splitAttrs(a.data, 'NFTA_SET_ELEM_LIST_ELEMENTS', at(base, p, a.data), order);
      if (!list.ok) return list;
      for (const e of list.value) {
        if ((e.type & NLA_TYPE_MASK) !== NFTA_LIST_ELEM) continue;
        const d = decodeElement(e.data, at(base, p, e.data), order);
        if (!d.ok) return d;
        elements.push(d.value);
      }
    }
  }
  return ok({ family: p[0]!, table, set, elements });
}

/**
 * A dumped element of an allow set → VerifyElement, or why it is not one of ours. The
 * set says the family and prefix length; the key must be a prefix of that length.
 */
export function toVerifyElement(set: AllowSet, e: RawSetElement, offset = 0, order: ByteOrder = HOST_ORDER): Decoded<VerifyElement> {
  const { family, prefixLength } = set;
  const where = `${allowSetName(family, prefixLength)} element`;
  const want = keyLength(family);
  if (e.key === null) return fail(where, offset, 'no key');
  if (e.key.length !== want) return fail(where, offset, `key is ${e.key.length} bytes, IPv${family} needs ${want}`);
  if (e.keyEnd !== null || (e.flags & NFT_SET_ELEM_FLAG.INTERVAL_END) !== 0) return fail(where, offset, 'a range, not a key');
  if (e.key[10] !== 0 || e.key[11] !== 0) return fail(where, offset, 'MAC register padding is not zero');
  const prefix = e.key.slice(ADDR_AT);
  if (prefixLength > addressBits(family) || !hostBitsClear(prefix, prefixLength)) {
    return fail(where, offset, `host bits set in a /${prefixLength} prefix`);
  }
  return ok({ family, ifindex: view(e.key).getUint32(0, order === 'le'), mac: e.key.slice(4, 4 + MAC_LEN), prefix, prefixLength });
}

/** GETSET body for a dump of every set of one table (sent with NLM_F_DUMP). */
export const dumpSetsMessage = (table: string): NfMessage => ({
  type: nftType(NFT_MSG.GETSET),
  flags: NLM_F.REQUEST | NLM_F.DUMP,
  family: NFPROTO.INET,
  attrs: [strAttr(NFTA_SET.TABLE, table)],
});

/** What gleand reads of a set: its name, flags and key length. */
export interface SetInfo {
  readonly table: string | null;
  readonly name: string | null;
  /** NFTA_SET_FLAGS (NFT_SET_INTERVAL, NFT_SET_CONCAT, …), 0 if absent. */
  readonly flags: number;
  readonly keyLength: number | null;
}

/** A NEWSET message (answer to a GETSET dump, or a notification) → its name and shape. */
export function decodeSet(m: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<SetInfo> {
  const p = m.payload;
  const base = m.offset + NLMSG_HDRLEN;
  if (p.length < NFGENMSG_LEN) return fail('nfgenmsg', base, `${p.length} bytes, needs ${NFGENMSG_LEN}`);
  const attrs = splitAttrs(p.subarray(NFGENMSG_LEN), 'set', base + NFGENMSG_LEN, order);
  if (!attrs.ok) return attrs;
  let table: string | null = null;
  let name: string | null = null;
  let flags = 0;
  let keyLength: number | null = null;
  for (const a of attrs.value) {
    const t = a.type & NLA_TYPE_MASK;
    const be32 = (field: string): Decoded<number> => (a.data.length === 4
      ? ok(view(a.data).getUint32(0, false))
      : fail(field, at(base, p, a.data), `${a.data.length} bytes, needs 4`));
    if (t === NFTA_SET.TABLE) table = cstr(a.data);
    else if (t === NFTA_SET.NAME) name = cstr(a.data);
    else if (t === NFTA_SET.FLAGS || t === NFTA_SET.KEY_LEN) {
      const v = be32(t === NFTA_SET.FLAGS ? 'NFTA_SET_FLAGS' : 'NFTA_SET_KEY_LEN');
      if (!v.ok) return v;
      if (t === NFTA_SET.FLAGS) flags = v.value;
      else keyLength = v.value;
    }
  }
  return ok({ table, name, flags, keyLength });
}

export interface CounterValue {
  readonly packets: bigint;
  readonly bytes: bigint;
}

/** A NEWOBJ message of a counter object → its packets and bytes. */
export function decodeCounterObject(m: NlMessage, order: ByteOrder = HOST_ORDER): Decoded<CounterValue & { readonly name: string | null }> {
  const p = m.payload;
  const base = m.offset + NLMSG_HDRLEN;
  if (p.length < NFGENMSG_LEN) return fail('nfgenmsg', base, `${p.length} bytes, needs ${NFGENMSG_LEN}`);
  const attrs = splitAttrs(p.subarray(NFGENMSG_LEN), 'object', base + NFGENMSG_LEN, order);
  if (!attrs.ok) return attrs;
  let name: string | null = null;
  let type: number | null = null;
  let data: RawAttr | null = null;
  for (const a of attrs.value) {
    const t = a.type & NLA_TYPE_MASK;
    if (t === NFTA_OBJ.NAME) name = cstr(a.data);
    else if (t === NFTA_OBJ.TYPE && a.data.length === 4) type = view(a.data).getUint32(0, false);
    else if (t === NFTA_OBJ.DATA) data = a;
  }
  if (type !== NFT_OBJECT.COUNTER) return fail('object', base, `type ${String(type)} is not a counter`);
  if (data === null) return fail('object', base, 'no NFTA_OBJ_DATA');
  const inner = splitAttrs(data.data, 'counter', at(base, p, data.data), order);
  if (!inner.ok) return inner;
  let packets: bigint | null = null;
  let bytes: bigint | null = null;
  for (const a of inner.value) {
    const t = a.type & NLA_TYPE_MASK;
    if ((t === NFTA_COUNTER.PACKETS || t === NFTA_COUNTER.BYTES) && a.data.length !== 8) {
      return fail('counter', at(base, p, a.data), `${a.data.length} bytes, a u64 needs 8`);
    }
    if (t === NFTA_COUNTER.PACKETS) packets = view(a.data).getBigUint64(0, false);
    else if (t === NFTA_COUNTER.BYTES) bytes = view(a.data).getBigUint64(0, false);
  }
  if (packets === null || bytes === null) return fail('counter', base, 'packets or bytes missing');
  return ok({ name, packets, bytes });
}
