/**
 * The structures of Linux multicast routing (linux/mroute.h, linux/mroute6.h) as bytes:
 * what the multicast routing socket takes as socket options (a VIF / MIF per device, an
 * MFC entry per (S, G)) and the upcalls it delivers. Host byte order where the kernel
 * uses host integers (MIPS routers are big-endian: the ByteOrder argument, the host's by
 * default, platform/byte-order.ts); addresses in network order.
 *
 * Sizes and offsets were checked against the C headers on x86-64 (gcc, offsetof):
 * vifctl 16, mfcctl 60 (parent at 8, ttls at 10), mif6ctl 12 (pifi at 4), mf6cctl 92
 * (parent at 56, ifset at 60), igmpmsg 20, mrt6msg 40. None holds a pointer or a long,
 * so they are the same on 32-bit targets.
 */
import { HOST_ORDER, type ByteOrder } from './byte-order';
import { writeSockaddr } from './sockaddr';

/** Socket option numbers, IPPROTO_IP (MRT_*) and IPPROTO_IPV6 (MRT6_*) levels alike. */
export const MRT = { INIT: 200, DONE: 201, ADD_VIF: 202, DEL_VIF: 203, ADD_MFC: 204, DEL_MFC: 205 } as const;
/** MAXVIFS / MAXMIFS: the kernel's VIF table has 32 slots per family. */
export const MAX_VIFS = 32;
/** vifctl.vifc_flags: the VIF is named by ifindex, not by a local address. */
const VIFF_USE_IFINDEX = 0x8;
/** A TTL threshold of 255 in mfcc_ttls means "not an output interface" (ipmr.c). */
const TTL_OFF = 255;
const AF_INET6 = 10;

/**
 * struct vifctl { u16 vifc_vifi; u8 vifc_flags; u8 vifc_threshold; u32 vifc_rate_limit;
 *                 union { in_addr vifc_lcl_addr; int vifc_lcl_ifindex; }; in_addr vifc_rmt_addr; }
 * Threshold 1: a packet leaves the VIF when its TTL is above 1 (ipmr_queue_xmit).
 */
export function vifctl(vifi: number, ifindex: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, vifi, order === 'le');
  b[2] = VIFF_USE_IFINDEX;
  b[3] = 1;
  v.setInt32(8, ifindex, order === 'le');
  return b;
}

/** struct mif6ctl { u16 mif6c_mifi; u8 mif6c_flags; u8 vifc_threshold; u16 mif6c_pifi; u32 vifc_rate_limit; } */
export function mif6ctl(mifi: number, ifindex: number, order: ByteOrder = HOST_ORDER): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  v.setUint16(0, mifi, order === 'le');
  b[3] = 1;
  v.setUint16(4, ifindex, order === 'le');
  return b;
}

/**
 * struct mfcctl { in_addr mfcc_origin; in_addr mfcc_mcastgrp; u16 mfcc_parent;
 *                 u8 mfcc_ttls[32]; u32 pkt_cnt, byte_cnt, wrong_if; int expire; }
 * An output VIF has threshold 1, every other slot 255.
 */
export function mfcctl(source: Uint8Array, group: Uint8Array, parent: number, oifs: readonly number[], order: ByteOrder = HOST_ORDER): Uint8Array {
  const b = new Uint8Array(60);
  b.set(source.subarray(0, 4), 0);
  b.set(group.subarray(0, 4), 4);
  new DataView(b.buffer).setUint16(8, parent, order === 'le');
  b.fill(TTL_OFF, 10, 10 + MAX_VIFS);
  for (const o of oifs) b[10 + o] = 1;
  return b;
}

/** The sockaddr_in6 inside mf6cctl: sin6_family AF_INET6 (10 on every Linux arch, linux/socket.h). */
const INET6 = { constants: { AF_INET: 2, AF_INET6 } };

/**
 * struct mf6cctl { sockaddr_in6 mf6cc_origin; sockaddr_in6 mf6cc_mcastgrp; u16 mf6cc_parent;
 *                  struct if_set { u32 ifs_bits[8]; } mf6cc_ifset; }
 * The kernel gives every MIF set in ifset threshold 1 (ip6mr_mfc_add).
 */
export function mf6cctl(source: Uint8Array, group: Uint8Array, parent: number, oifs: readonly number[], order: ByteOrder = HOST_ORDER): Uint8Array {
  const b = new Uint8Array(92);
  const v = new DataView(b.buffer);
  const le = order === 'le';
  writeSockaddr(b, 0, INET6, 6, source, 0, 0, order);
  writeSockaddr(b, 28, INET6, 6, group, 0, 0, order);
  v.setUint16(56, parent, le);
  for (const o of oifs) {
    // IF_SET: ifs_bits[n / 32] |= 1 << (n % 32), a host-order u32 (so on a big-endian
    // host MIF 0 is the last byte of the word, not the first)
    const word = 60 + 4 * (o >>> 5);
    v.setUint32(word, (v.getUint32(word, le) | (1 << (o & 31))) >>> 0, le);
  }
  return b;
}

/** An upcall of the multicast routing socket: a packet the kernel could not forward. */
export interface Upcall {
  readonly family: 4 | 6;
  readonly reason: 'nocache' | 'wrongvif';
  readonly vif: number;
  readonly source: Uint8Array;
  readonly group: Uint8Array;
}

/** IGMPMSG_* / MRT6MSG_*: 1 NOCACHE, 2 WRONGVIF (WRONGMIF), 3 WHOLEPKT (PIM register, not ours). */
const UPCALL_REASON: Record<number, Upcall['reason']> = { 1: 'nocache', 2: 'wrongvif' };

/**
 * struct igmpmsg { u32 unused1, unused2; u8 im_msgtype; u8 im_mbz; u8 im_vif; u8 im_vif_hi;
 *                  in_addr im_src, im_dst; } — laid over an IPv4 header, im_mbz where the
 * protocol is, so a real IGMP packet on the same raw socket (protocol 2) never reads as one.
 * Null for anything else (an IGMP packet, a PIM register, a short read).
 */
export function decodeIgmpmsg(b: Uint8Array): Upcall | null {
  if (b.length < 20 || b[9] !== 0) return null;
  const reason = UPCALL_REASON[b[8]!];
  if (!reason) return null;
  return { family: 4, reason, vif: b[10]! | (b[11]! << 8), source: b.slice(12, 16), group: b.slice(16, 20) };
}

/**
 * struct mrt6msg { u8 im6_mbz; u8 im6_msgtype; u16 im6_mif; u32 im6_pad;
 *                  in6_addr im6_src, im6_dst; } — on the ICMPv6 raw socket, im6_mbz where
 * the ICMPv6 type is: type 0 is reserved, so no ICMPv6 message reads as one.
 */
export function decodeMrt6msg(b: Uint8Array, order: ByteOrder = HOST_ORDER): Upcall | null {
  if (b.length < 40 || b[0] !== 0) return null;
  const reason = UPCALL_REASON[b[1]!];
  if (!reason) return null;
  const vif = new DataView(b.buffer, b.byteOffset).getUint16(2, order === 'le');
  return { family: 6, reason, vif, source: b.slice(8, 24), group: b.slice(24, 40) };
}

