/**
 * nfnetlink / nf_tables numbers (linux/netfilter/nfnetlink.h, linux/netfilter/nf_tables.h,
 * linux/netfilter.h). The same on every architecture.
 */

/** Netlink protocol number of nfnetlink. */
export const NETLINK_NETFILTER = 12;

/** nfnetlink subsystem ids; a message type is `subsys << 8 | msg`. */
export const NFNL_SUBSYS_NFTABLES = 10;

/** Batch delimiters (NLMSG_MIN_TYPE and the one after it), res_id = subsystem, big-endian. */
export const NFNL_MSG_BATCH_BEGIN = 0x10;
export const NFNL_MSG_BATCH_END = 0x11;

export const NFNETLINK_V0 = 0;

/** nfgen_family values (NFPROTO_*). */
export const NFPROTO = { UNSPEC: 0, INET: 1, IPV4: 2, ARP: 3, NETDEV: 5, BRIDGE: 7, IPV6: 10 } as const;

/** enum nf_tables_msg_types. */
export const NFT_MSG = {
  NEWTABLE: 0, GETTABLE: 1, DELTABLE: 2,
  NEWCHAIN: 3, GETCHAIN: 4, DELCHAIN: 5,
  NEWRULE: 6, GETRULE: 7, DELRULE: 8,
  NEWSET: 9, GETSET: 10, DELSET: 11,
  NEWSETELEM: 12, GETSETELEM: 13, DELSETELEM: 14,
  NEWGEN: 15, GETGEN: 16, TRACE: 17,
  NEWOBJ: 18, GETOBJ: 19, DELOBJ: 20, GETOBJ_RESET: 21,
  /** Linux 6.3+: delete that does not fail with ENOENT. */
  DESTROYSETELEM: 30,
} as const;

/** The full nlmsg_type of an nf_tables message. */
export const nftType = (msg: number): number => (NFNL_SUBSYS_NFTABLES << 8) | msg;

/** enum nft_set_elem_list_attributes. */
export const NFTA_SET_ELEM_LIST = { TABLE: 1, SET: 2, ELEMENTS: 3, SET_ID: 4 } as const;

/** enum nft_list_attributes: every element of a list nest. */
export const NFTA_LIST_ELEM = 1;

/** enum nft_set_elem_attributes. */
export const NFTA_SET_ELEM = {
  KEY: 1, DATA: 2, FLAGS: 3, TIMEOUT: 4, EXPIRATION: 5, USERDATA: 6, EXPR: 7, OBJREF: 8,
  KEY_END: 10, EXPRESSIONS: 11,
} as const;

/** enum nft_set_elem_flags (NFTA_SET_ELEM_FLAGS, big-endian u32). */
export const NFT_SET_ELEM_FLAG = { INTERVAL_END: 0x1, CATCHALL: 0x2 } as const;

/** enum nft_data_attributes. */
export const NFTA_DATA = { VALUE: 1, VERDICT: 2 } as const;

/** enum nft_object_attributes. */
export const NFTA_OBJ = { TABLE: 1, NAME: 2, TYPE: 3, DATA: 4, USE: 5, HANDLE: 6, PAD: 7, USERDATA: 8 } as const;

/** NFT_OBJECT_* (NFTA_OBJ_TYPE, big-endian u32). */
export const NFT_OBJECT = { COUNTER: 1, QUOTA: 2 } as const;

/** enum nft_counter_attributes (big-endian u64 values). */
export const NFTA_COUNTER = { BYTES: 1, PACKETS: 2, PAD: 3 } as const;

/** enum nft_set_attributes (NEWSET / GETSET / DELSET). */
export const NFTA_SET = {
  TABLE: 1, NAME: 2, FLAGS: 3, KEY_TYPE: 4, KEY_LEN: 5, DATA_TYPE: 6, DATA_LEN: 7, POLICY: 8, DESC: 9, ID: 10,
  TIMEOUT: 11, GC_INTERVAL: 12, USERDATA: 13, PAD: 14, OBJ_TYPE: 15, HANDLE: 16, EXPR: 17, EXPRESSIONS: 18,
} as const;

/** enum nft_set_flags (NFTA_SET_FLAGS, big-endian u32). */
export const NFT_SET_FLAG = {
  ANONYMOUS: 0x1, CONSTANT: 0x2, INTERVAL: 0x4, MAP: 0x8, TIMEOUT: 0x10, EVAL: 0x20, OBJECT: 0x40, CONCAT: 0x80, EXPR: 0x100,
} as const;
