/**
 * nfnetlink_log (NFLOG): the packets an nftables `log group N` rule copies to user space,
 * read over the existing nfnetlink socket (nft/nfnl.ts; no second netlink stack).
 *
 * Binding a group (linux/netfilter/nfnetlink_log.h), one NFULNL_MSG_CONFIG per step,
 * res_id = the group (big-endian):
 *
 *   NFULA_CFG_CMD   { u8 command }                    BIND (1) / UNBIND (2)
 *   NFULA_CFG_MODE  { be32 copy_range; u8 mode; u8 }   COPY_PACKET (2)
 *   NFULA_CFG_QTHRESH be32                             1: each packet at once
 *
 * Each logged packet is NFULNL_MSG_PACKET, sequence number 0, nfgen_family the packet's
 * (NFPROTO_IPV4 / IPV6), with attributes:
 *
 *   NFULA_PACKET_HDR      { be16 hw_protocol; u8 hook; u8 pad }
 *   NFULA_IFINDEX_INDEV   be32
 *   NFULA_HWADDR          { be16 hw_addrlen; u16 pad; u8 hw_addr[8] }  (the frame's source)
 *   NFULA_PAYLOAD         the packet from its IP header
 *   NFULA_PREFIX          NUL-terminated `log prefix`
 *
 * The decoder never throws: anything short or absent is an error value (CONVENTIONS 3).
 */
import { NLA_TYPE_MASK } from './netlink/constants';
import { splitAttrs, view } from './netlink/wire';
import type { NlMessage } from './netlink/message';
import { be32Attr, type NfAttr, type NfMessage } from './nft/message';
import { NFPROTO } from './nft/constants';

export const NFNL_SUBSYS_ULOG = 4;
export const NFULNL_MSG = { PACKET: 0, CONFIG: 1 } as const;
export const NFULA = {
  PACKET_HDR: 1, MARK: 2, TIMESTAMP: 3, IFINDEX_INDEV: 4, IFINDEX_OUTDEV: 5, IFINDEX_PHYSINDEV: 6, IFINDEX_PHYSOUTDEV: 7,
  HWADDR: 8, PAYLOAD: 9, PREFIX: 10,
} as const;
export const NFULA_CFG = { CMD: 1, MODE: 2, NLBUFSIZ: 3, TIMEOUT: 4, QTHRESH: 5, FLAGS: 6 } as const;
export const NFULNL_CFG_CMD = { BIND: 1, UNBIND: 2 } as const;
export const NFULNL_COPY_PACKET = 2;

const configMessage = (group: number, attrs: NfAttr[]): NfMessage => ({
  type: (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.CONFIG, flags: 0, family: NFPROTO.UNSPEC, resId: group, attrs,
});

export const bindMessage = (group: number): NfMessage => configMessage(group, [{ type: NFULA_CFG.CMD, data: Uint8Array.of(NFULNL_CFG_CMD.BIND) }]);
export const unbindMessage = (group: number): NfMessage => configMessage(group, [{ type: NFULA_CFG.CMD, data: Uint8Array.of(NFULNL_CFG_CMD.UNBIND) }]);

/** Copy whole packets (up to `copyRange` octets), and hand each over at once (threshold 1). */
export function modeMessage(group: number, copyRange: number): NfMessage {
  const mode = new Uint8Array(6);
  view(mode).setUint32(0, copyRange >>> 0, false);
  mode[4] = NFULNL_COPY_PACKET;
  return configMessage(group, [{ type: NFULA_CFG.MODE, data: mode }, be32Attr(NFULA_CFG.QTHRESH, 1)]);
}

export interface LoggedPacket {
  readonly family: 4 | 6;
  readonly indev: number | null;
  /** The output device, for a packet logged on its way out (forward, output, postrouting hooks). */
  readonly outdev: number | null;
  /** The frame's link-layer source, when the device has one of 6 octets. */
  readonly mac: Uint8Array | null;
  readonly prefix: string;
  readonly payload: Uint8Array;
}

export type LoggedResult = { readonly ok: true; readonly value: LoggedPacket } | { readonly ok: false; readonly reason: string };

const td = new TextDecoder();

/** One NFULNL_MSG_PACKET; `ok: false` with a reason for anything else or anything short. */
export function decodeLogged(m: NlMessage): LoggedResult {
  const bad = (reason: string): LoggedResult => ({ ok: false, reason });
  if (m.type !== ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG.PACKET)) return bad(`message type ${m.type}`);
  if (m.payload.length < 4) return bad('no nfgenmsg');
  const nfFamily = m.payload[0];
  const family = nfFamily === NFPROTO.IPV4 ? 4 : nfFamily === NFPROTO.IPV6 ? 6 : null;
  if (family === null) return bad(`family ${nfFamily}`);
  const attrs = splitAttrs(m.payload.subarray(4), 'nflog', 4);
  if (!attrs.ok) return bad(`attributes: ${attrs.error.reason}`);
  let indev: number | null = null;
  let outdev: number | null = null;
  let mac: Uint8Array | null = null;
  let prefix = '';
  let payload: Uint8Array | null = null;
  for (const a of attrs.value) {
    const d = a.data;
    switch (a.type & NLA_TYPE_MASK) {
      case NFULA.IFINDEX_INDEV:
        if (d.length >= 4) indev = view(d).getUint32(0, false);
        break;
      case NFULA.IFINDEX_OUTDEV:
        if (d.length >= 4) outdev = view(d).getUint32(0, false);
        break;
      case NFULA.HWADDR:
        if (d.length >= 4 && view(d).getUint16(0, false) === 6 && d.length >= 10) mac = d.slice(4, 10);
        break;
      case NFULA.PREFIX: {
        const end = d.indexOf(0);
        prefix = td.decode(end < 0 ? d : d.subarray(0, end));
        break;
      }
      case NFULA.PAYLOAD:
        payload = d.slice();
        break;
    }
  }
  if (payload === null) return bad('no payload');
  return { ok: true, value: { family, indev, outdev, mac, prefix, payload } };
}
