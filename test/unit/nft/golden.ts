/**
 * Real bytes from nft 1.0.6 on Linux 6.x, captured in a scratch namespace where veth0
 * had ifindex 3, with `strace -e trace=sendmsg -e write=3 nft …` (what nft sends) and
 * `strace -e trace=recvmsg -e read=3 nft list …` (what the kernel answers). strace's
 * own decoding of each capture is quoted beside it.
 */

/** Hex with spaces/newlines → bytes. */
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/**
 * `nft delete element inet gleand allow4 '{ "veth0" . 02:00:00:00:00:0a . 10.1.0.10/32 }'`
 * strace: [{nlmsg_len=20, NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, seq=0}, {AF_UNSPEC, V0, res_id=htons(10)}],
 *   [{nlmsg_len=100, NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_DELSETELEM, NLM_F_REQUEST, seq=1}, {nfgen_family=1 (inet)},
 *    [{nla_len=11, 0x1} "gleand\0"], [{nla_len=11, 0x2} "allow4\0"], [{nla_len=56, NLA_F_NESTED|0x3}, …]],
 *   [{nlmsg_len=20, NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq=2}, {AF_UNSPEC, V0, res_id=htons(10)}]
 * Key: 00 00 00 03 (ifindex, big-endian) 02 00 00 00 00 0a 00 00 (MAC + 2 pad) 0a 01 00 0a;
 * KEY_END (0x0a) identical: a /32 is the range [a, a].
 */
export const NFT_DEL_V4 = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 64 00 00 00  0e 0a 01 00 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 34 00 00
 38 00 03 80 34 00 01 80  18 00 01 80 14 00 01 00
 00 00 00 03 02 00 00 00  00 0a 00 00 0a 01 00 0a
 18 00 0a 80 14 00 01 00  00 00 00 03 02 00 00 00
 00 0a 00 00 0a 01 00 0a  14 00 00 00 11 00 01 00
 02 00 00 00 00 00 00 00  00 00 00 0a`);

/**
 * `nft add element inet gleand allow4 '{ "veth0" . 02:00:00:00:00:0a . 10.1.0.10/32 }'`
 * strace: NEWSETELEM nlmsg_len=108, NLM_F_REQUEST|NLM_F_CREATE (0x0401), then
 * [{nla_len=8, 0x4}, "\x00\x00\x00\x02"] — NFTA_SET_ELEM_LIST_SET_ID, which nft always
 * adds and gleand does not (it only matters for a set created in the same batch) —
 * then the ELEMENTS nest as in NFT_DEL_V4.
 */
export const NFT_ADD_V4 = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 6c 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 34 00 00
 08 00 04 00 00 00 00 02  38 00 03 80 34 00 01 80
 18 00 01 80 14 00 01 00  00 00 00 03 02 00 00 00
 00 0a 00 00 0a 01 00 0a  18 00 0a 80 14 00 01 00
 00 00 00 03 02 00 00 00  00 0a 00 00 0a 01 00 0a
 14 00 00 00 11 00 01 00  02 00 00 00 00 00 00 00
 00 00 00 0a`);

/**
 * `nft add element inet gleand allow6 '{ "veth0" . 02:00:00:00:00:0a . 2001:db8:100::/56 }'`
 * strace: NEWSETELEM nlmsg_len=132, NLM_F_REQUEST|NLM_F_CREATE, SET_ID=3, ELEMENTS nla_len=80:
 * KEY 00000003 020000000a000000 20010db8 01000000 00000000 00000000,
 * KEY_END … 20010db8 010000ff ffffffff ffffffff (last address of the /56).
 */
export const NFT_ADD_V6 = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 84 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 36 00 00
 08 00 04 00 00 00 00 03  50 00 03 80 4c 00 01 80
 24 00 01 80 20 00 01 00  00 00 00 03 02 00 00 00
 00 0a 00 00 20 01 0d b8  01 00 00 00 00 00 00 00
 00 00 00 00 24 00 0a 80  20 00 01 00 00 00 00 03
 02 00 00 00 00 0a 00 00  20 01 0d b8 01 00 00 ff
 ff ff ff ff ff ff ff ff  14 00 00 00 11 00 01 00
 02 00 00 00 00 00 00 00  00 00 00 0a`);

/**
 * `nft add element inet gleand ports '{ "veth0" }'` (type iface_index, no interval):
 * NEWSETELEM nlmsg_len=72, SET_ID=1, ELEMENTS [LIST_ELEM [KEY [VALUE 03 00 00 00]]] —
 * here the ifindex is host order (little-endian on this machine).
 */
export const NFT_ADD_PORT = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 48 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0a 00 02 00  70 6f 72 74 73 00 00 00
 08 00 04 00 00 00 00 01  14 00 03 80 10 00 01 80
 0c 00 01 80 08 00 01 00  03 00 00 00 14 00 00 00
 11 00 01 00 02 00 00 00  00 00 00 00 00 00 00 0a`);

/**
 * The kernel's dump answer to `nft list set inet gleand allow6` (one datagram):
 * strace: [{nlmsg_len=124, NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_NEWSETELEM, NLM_F_MULTI, seq=0, pid=26335},
 *   {nfgen_family=AF_UNIX (1 = NFPROTO_INET), V0, res_id=htons(21) (generation)}, TABLE "gleand",
 *   SET "allow6", [{nla_len=80, 0x3} …]] — the kernel sets no NLA_F_NESTED on its nests.
 */
export const KERNEL_DUMP_V6 = hex(`
 7c 00 00 00 0c 0a 02 00  00 00 00 00 df 66 00 00
 01 00 00 15 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0b 00 02 00 61 6c 6c 6f  77 36 00 00 50 00 03 00
 4c 00 01 00 24 00 01 00  20 00 01 00 00 00 00 03
 02 00 00 00 00 0a 00 00  20 01 0d b8 01 00 00 00
 00 00 00 00 00 00 00 00  24 00 0a 00 20 00 01 00
 00 00 00 03 02 00 00 00  00 0a 00 00 20 01 0d b8
 01 00 00 ff ff ff ff ff  ff ff ff ff`);

/**
 * The datagram after it: an empty element list (ELEMENTS nla_len=4), then NLMSG_DONE.
 */
export const KERNEL_DUMP_TAIL = hex(`
 30 00 00 00 0c 0a 02 00  00 00 00 00 df 66 00 00
 01 00 00 15 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0b 00 02 00 61 6c 6c 6f  77 36 00 00 04 00 03 00
 14 00 00 00 03 00 02 00  00 00 00 00 df 66 00 00
 00 00 00 00`);

/**
 * The kernel's answer for `nft list counter inet gleand verify_drop` after 3 dropped
 * 28-byte packets (`packets 3 bytes 84`):
 * strace: [{nlmsg_len=104, NFNL_SUBSYS_NFTABLES<<8|NFT_MSG_NEWOBJ, NLM_F_MULTI|NLM_F_APPEND},
 *   {AF_UNIX, V0, res_id=htons(21)}, [{11, 0x1} "gleand"], [{16, 0x2} "verify_drop"],
 *   [{8, 0x3} 00000001 (counter)], [{12, 0x6} handle 1], [{8, 0x5} use 1],
 *   [{28, 0x4} BYTES 0x54, PACKETS 3]]
 */
export const KERNEL_COUNTER = hex(`
 68 00 00 00 12 0a 02 08  00 00 00 00 db 66 00 00
 01 00 00 15 0b 00 01 00  67 6c 65 61 6e 64 00 00
 10 00 02 00 76 65 72 69  66 79 5f 64 72 6f 70 00
 08 00 03 00 00 00 00 01  0c 00 06 00 00 00 00 00
 00 00 00 01 08 00 05 00  00 00 00 01 1c 00 04 00
 0c 00 01 00 00 00 00 00  00 00 00 54 0c 00 02 00
 00 00 00 00 00 00 00 03`);

/** Removes nft's NFTA_SET_ELEM_LIST_SET_ID (8 bytes at `at`) from a captured batch and
 *  fixes the enclosing message length, so it can be compared with gleand's encoding. */
export function withoutSetId(batch: Uint8Array, msgAt: number, at: number): Uint8Array {
  const out = new Uint8Array(batch.length - 8);
  out.set(batch.subarray(0, at));
  out.set(batch.subarray(at + 8), at);
  const dv = new DataView(out.buffer);
  dv.setUint32(msgAt, dv.getUint32(msgAt, true) - 8, true);
  return out;
}
