/**
 * Real bytes from nft 1.0.6 on Linux 6.18, captured in a scratch namespace where veth0
 * had ifindex 3 and the table was loaded from rulesetScript('gleand', { prefixSets:
 * [v6 /56] }), with `strace -e trace=sendmsg -e write=3 nft …` (what nft sends) and
 * `strace -e trace=recvmsg -e read=3 nft list sets inet` (what the kernel answers).
 * The reading of each capture (nf_tables.h numbering) is written beside it.
 */

/** Hex with spaces/newlines → bytes. */
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/**
 * `nft add element inet gleand allow4 '{ "veth0" . 02:00:00:00:00:0a . 10.1.0.10 }'`
 * BATCH_BEGIN (20 bytes, seq 0, res_id htons(10)); NEWSETELEM nlmsg_len=84,
 * NLM_F_REQUEST|NLM_F_CREATE (0x0401), seq 1, nfgen_family 1 (inet): TABLE "gleand",
 * SET "allow4", SET_ID (0x4) 00000002 at 0x40 — nft always adds it, gleand does not (it
 * only matters for a set created in the same batch) — ELEMENTS{ LIST_ELEM{ KEY{ VALUE
 * 03000000 (ifindex, host order: a plain hash set has no byteorder conversion)
 * 020000000a00 0000 (MAC + 2 pad) 0a01000a } } } (no KEY_END); BATCH_END seq 2.
 */
export const NFT_ADD_V4 = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 54 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 34 00 00
 08 00 04 00 00 00 00 02  20 00 03 80 1c 00 01 80
 18 00 01 80 14 00 01 00  03 00 00 00 02 00 00 00
 00 0a 00 00 0a 01 00 0a  14 00 00 00 11 00 01 00
 02 00 00 00 00 00 00 00  00 00 00 0a`);

/**
 * `nft delete element inet gleand allow4 '{ "veth0" . 02:00:00:00:00:0a . 10.1.0.10 }'`
 * DELSETELEM (0x0a0e) nlmsg_len=76, NLM_F_REQUEST, no SET_ID, the same ELEMENTS nest.
 */
export const NFT_DEL_V4 = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 4c 00 00 00  0e 0a 01 00 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 34 00 00
 20 00 03 80 1c 00 01 80  18 00 01 80 14 00 01 00
 03 00 00 00 02 00 00 00  00 0a 00 00 0a 01 00 0a
 14 00 00 00 11 00 01 00  02 00 00 00 00 00 00 00
 00 00 00 0a`);

/**
 * `nft add element inet gleand allow6_56 '{ "veth0" . 02:00:00:00:00:0a . 2001:db8:200:: }'`
 * — a delegated /56 in its prefix-length set: NEWSETELEM nlmsg_len=100, SET "allow6_56"
 * (nla_len 14), SET_ID 00000004 at 0x44, KEY 03000000 020000000a000000
 * 20010db8 02000000 00000000 00000000 (the prefix itself; the rule masks the source).
 */
export const NFT_ADD_V6_PD = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 64 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0e 00 02 00  61 6c 6c 6f 77 36 5f 35
 36 00 00 00 08 00 04 00  00 00 00 04 2c 00 03 80
 28 00 01 80 24 00 01 80  20 00 01 00 03 00 00 00
 02 00 00 00 00 0a 00 00  20 01 0d b8 02 00 00 00
 00 00 00 00 00 00 00 00  14 00 00 00 11 00 01 00
 02 00 00 00 00 00 00 00  00 00 00 0a`);

/**
 * `nft add element inet gleand allow6 '{ "veth0" . 02:00:00:00:00:0a . fe80::a }'`
 * — a client's link-local, an exact /128: NEWSETELEM nlmsg_len=96, SET "allow6", SET_ID 3 at 0x40.
 */
export const NFT_ADD_V6_LL = hex(`
 14 00 00 00 10 00 01 00  00 00 00 00 00 00 00 00
 00 00 00 0a 60 00 00 00  0c 0a 01 04 01 00 00 00
 00 00 00 00 01 00 00 00  0b 00 01 00 67 6c 65 61
 6e 64 00 00 0b 00 02 00  61 6c 6c 6f 77 36 00 00
 08 00 04 00 00 00 00 03  2c 00 03 80 28 00 01 80
 24 00 01 80 20 00 01 00  03 00 00 00 02 00 00 00
 00 0a 00 00 fe 80 00 00  00 00 00 00 00 00 00 00
 00 00 00 0a 14 00 00 00  11 00 01 00 02 00 00 00
 00 00 00 00 00 00 00 0a`);

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

/** What nft sends for `nft list sets inet`: GETSET (0x0a0a), NLM_F_REQUEST|NLM_F_DUMP (0x0301), inet, no attributes. */
export const NFT_GETSET_DUMP = hex(`
 14 00 00 00 0a 0a 01 03  00 00 00 00 00 00 00 00
 00 00 00 00`);

/**
 * The kernel's answer to that dump (one datagram, 6 NEWSET messages, NLM_F_MULTI, no
 * NLA_F_NESTED on nests), each: TABLE "gleand", NAME, HANDLE (0x10, be64), [FLAGS (0x3)],
 * KEY_TYPE (0x4), KEY_LEN (0x5), USERDATA (0xd), DESC (0x9), 0x13 (a string naming the
 * backend), 0x14 (a be32 count). In order:
 *   ports      handle 2, no FLAGS, KEY_TYPE 0x14 (iface_index), KEY_LEN 4
 *   allow4     handle 3, no FLAGS, KEY_TYPE 0x14247, KEY_LEN 16
 *   allow6     handle 4, no FLAGS, KEY_TYPE 0x14248, KEY_LEN 28
 *   allow6_56  handle 7, no FLAGS, KEY_TYPE 0x14248, KEY_LEN 28
 *   __set0     handle 12, FLAGS 7 (anonymous|constant|interval), KEY_LEN 16 (the rule's { ::, fe80::/10 })
 *   __set1     handle 13, FLAGS 3 (anonymous|constant), KEY_LEN 1 (the icmpv6 types)
 */
export const KERNEL_SETS = hex(`
 78 00 00 00 09 0a 02 00  00 00 00 00 e5 05 00 00
 01 00 00 08 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0a 00 02 00 70 6f 72 74  73 00 00 00 0c 00 10 00
 00 00 00 00 00 00 00 02  08 00 04 00 00 00 00 14
 08 00 05 00 00 00 00 04  0a 00 0d 00 00 04 01 00
 00 00 00 00 04 00 09 00  17 00 13 00 30 78 66 66
 66 66 66 66 66 66 38 32  35 30 37 66 34 30 00 00
 08 00 14 00 00 00 00 01  80 00 00 00 09 0a 02 00
 00 00 00 00 e5 05 00 00  01 00 00 08 0b 00 01 00
 67 6c 65 61 6e 64 00 00  0b 00 02 00 61 6c 6c 6f
 77 34 00 00 0c 00 10 00  00 00 00 00 00 00 00 03
 08 00 04 00 00 01 42 47  08 00 05 00 00 00 00 10
 14 00 0d 00 00 04 00 00  00 00 03 08 00 04 0d 00
 00 00 01 00 04 00 09 00  17 00 13 00 30 78 66 66
 66 66 66 66 66 66 38 32  35 30 37 66 34 30 00 00
 08 00 14 00 00 00 00 01  80 00 00 00 09 0a 02 00
 00 00 00 00 e5 05 00 00  01 00 00 08 0b 00 01 00
 67 6c 65 61 6e 64 00 00  0b 00 02 00 61 6c 6c 6f
 77 36 00 00 0c 00 10 00  00 00 00 00 00 00 00 04
 08 00 04 00 00 01 42 48  08 00 05 00 00 00 00 1c
 14 00 0d 00 00 04 00 00  00 00 03 08 00 04 0d 00
 00 00 01 00 04 00 09 00  17 00 13 00 30 78 66 66
 66 66 66 66 66 66 38 32  35 30 37 66 34 30 00 00
 08 00 14 00 00 00 00 01  84 00 00 00 09 0a 02 00
 00 00 00 00 e5 05 00 00  01 00 00 08 0b 00 01 00
 67 6c 65 61 6e 64 00 00  0e 00 02 00 61 6c 6c 6f
 77 36 5f 35 36 00 00 00  0c 00 10 00 00 00 00 00
 00 00 00 07 08 00 04 00  00 01 42 48 08 00 05 00
 00 00 00 1c 14 00 0d 00  00 04 00 00 00 00 03 08
 00 04 0d 00 00 00 01 00  04 00 09 00 17 00 13 00
 30 78 66 66 66 66 66 66  66 66 38 32 35 30 37 66
 34 30 00 00 08 00 14 00  00 00 00 01 a4 00 00 00
 09 0a 02 00 00 00 00 00  e5 05 00 00 01 00 00 08
 0b 00 01 00 67 6c 65 61  6e 64 00 00 0b 00 02 00
 5f 5f 73 65 74 30 00 00  0c 00 10 00 00 00 00 00
 00 00 00 0c 08 00 03 00  00 00 00 07 08 00 04 00
 00 00 00 08 08 00 05 00  00 00 00 10 26 00 0d 00
 00 04 02 00 00 00 02 04  01 00 00 00 03 14 00 04
 07 00 00 00 01 0c 00 04  0d 00 00 00 01 04 08 00
 00 00 00 00 0c 00 09 00  08 00 01 00 00 00 00 04
 17 00 13 00 30 78 66 66  66 66 66 66 66 66 38 32
 35 30 38 30 65 30 00 00  08 00 14 00 00 00 00 02
 9c 00 00 00 09 0a 02 00  00 00 00 00 e5 05 00 00
 01 00 00 08 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0b 00 02 00 5f 5f 73 65  74 31 00 00 0c 00 10 00
 00 00 00 00 00 00 00 0d  08 00 03 00 00 00 00 03
 08 00 04 00 00 00 00 1d  08 00 05 00 00 00 00 01
 20 00 0d 00 00 04 02 00  00 00 03 14 00 04 07 00
 00 00 01 0c 00 04 0e 00  00 00 01 04 01 00 00 00
 0c 00 09 00 08 00 01 00  00 00 00 05 17 00 13 00
 30 78 66 66 66 66 66 66  66 66 38 32 35 30 38 30
 32 30 00 00 08 00 14 00  00 00 00 05`);

/** The kernel's answer to `nft list set inet gleand allow4`: one element, KEY only. */
export const KERNEL_DUMP_V4 = hex(`
 4c 00 00 00 0c 0a 02 00  00 00 00 00 e5 05 00 00
 01 00 00 08 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0b 00 02 00 61 6c 6c 6f  77 34 00 00 20 00 03 00
 1c 00 01 00 18 00 01 00  14 00 01 00 03 00 00 00
 02 00 00 00 00 0a 00 00  0a 01 00 0a`);

/**
 * The kernel's answer to `nft list set inet gleand allow6_56` holding
 * "veth0" . 02:00:00:00:00:0a . 2001:db8:100:: — nlmsg_len=92, NEWSETELEM (0x0a0c),
 * NLM_F_MULTI, res_id htons(8) (generation): TABLE, SET "allow6_56", ELEMENTS
 * nla_len 44 { LIST_ELEM { KEY { VALUE 03000000 020000000a000000 20010db8 01000000 … } } }.
 */
export const KERNEL_DUMP_V6_PD = hex(`
 5c 00 00 00 0c 0a 02 00  00 00 00 00 e5 05 00 00
 01 00 00 08 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0e 00 02 00 61 6c 6c 6f  77 36 5f 35 36 00 00 00
 2c 00 03 00 28 00 01 00  24 00 01 00 20 00 01 00
 03 00 00 00 02 00 00 00  00 0a 00 00 20 01 0d b8
 01 00 00 00 00 00 00 00  00 00 00 00`);

/** The datagram after it: an empty element list (ELEMENTS nla_len=4), then NLMSG_DONE. */
export const KERNEL_DUMP_TAIL = hex(`
 34 00 00 00 0c 0a 02 00  00 00 00 00 e5 05 00 00
 01 00 00 08 0b 00 01 00  67 6c 65 61 6e 64 00 00
 0e 00 02 00 61 6c 6c 6f  77 36 5f 35 36 00 00 00
 04 00 03 00 14 00 00 00  03 00 02 00 00 00 00 00
 e5 05 00 00 00 00 00 00`);

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


