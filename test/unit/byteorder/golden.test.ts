/**
 * The big-endian proof (issue 10 item 3): every codec that writes host-order kernel
 * structures, asked for each byte order, against golden bytes from an independent
 * oracle, oracle.c beside this file, which fills the same structures through the
 * kernel's UAPI headers and macros:
 * - little-endian: built with this machine's cc (x86-64) and run natively;
 * - big-endian: built with Debian's mips-linux-gnu-gcc -static against the MIPS UAPI
 *   headers (linux-libc-dev-mips-cross) and run under qemu-mips-static
 *   (qemu-user-static; called explicitly, no binfmt).
 * Both are built here at test time in a temporary directory. A missing toolchain fails
 * the test with what to install: it never skips.
 *
 * Decoders too: the oracle's bytes of each order, decoded with that order, give the
 * values back.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { int32, type ByteOrder } from '../../../platform/byte-order';
import { decodeMfc } from '../../../platform/kernel/mroutes';
import { allOwn } from '../../../platform/netlink/monitor';
import { dhcpFilter, dropFromPort } from '../../../platform/bpf';
import { igmpMldFilter, upcallFilter } from '../../../platform/multicast-bpf';
import { decodeIgmpmsg, decodeMrt6msg, mf6cctl, mfcctl, mif6ctl, vifctl } from '../../../platform/multicast-mrt';
import {
  AF, NLM_F, NLMSG, RT_SCOPE, RTM, RTN,
  NLMSG_HDRLEN, decodeError, decodeNeigh, decodeRoute, encodeMessage, encodeNeigh, encodeRoute, isEncodeError, ndmsg, numberBatch,
  rtmsg, splitMessages, writeFrameHeader,
  type EncodeError, type NlHeader,
} from '../../../platform/netlink/index';
import {
  decodeElementList, elementListMessage, encodeBatch, ifindexKey, parseAllowSetName, toVerifyElement, verifyElementKey,
  NFT_MSG, type ElementKey,
} from '../../../platform/nft/index';
import { ETH_P_IPV6, PACKET_MR_MULTICAST, packetMreq, sockaddrLl, tpStatus } from '../../../platform/packet-socket';
import { SOCKADDR_IN_BYTES, sockaddrBytes, sockaddrNl, sockaddrNlPid, writeSockaddr } from '../../../platform/sockaddr';

// The values oracle.c fills in (keep in step with its #defines).
const SEQ = 0x01020304;
const PID = 0x05060708;
const IFINDEX = 0x01020304;
const VIFI = 0x0102;
const PIFI = 0x0304;
const PARENT = 0x0102;
const MAC = Uint8Array.of(0x02, 0x00, 0x5e, 0x10, 0x20, 0x30);
const V4_DST = Uint8Array.of(192, 0, 2, 0);
const V4_SRC = Uint8Array.of(192, 0, 2, 1);
const V4_GROUP = Uint8Array.of(232, 1, 2, 3);
const V6_ADDR = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const V6_PREFIX = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0);
const V6_GROUP = Uint8Array.of(0xff, 0x3e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x01);
const PORT = 0x0a0b;
const OIF = 0x0a0b0c0d;
const OIF2 = 0x41424344;
/** AF_PACKET is 17 on every Linux arch (include/linux/socket.h); the addon's constant on this host. */
const AF_PACKET = 17;
/** AF_INET, AF_INET6 and AF_NETLINK: 2, 10 and 16 on every Linux arch (include/linux/socket.h), as the addon gives them. */
const INET = { constants: { AF_INET: 2, AF_INET6: 10 } };
const AF_NETLINK = 16;

const ROUTE_HEADER: NlHeader = { type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.EXCL | NLM_F.ACK, seq: SEQ, pid: PID };
const NEIGH_HEADER: NlHeader = { type: RTM.NEWNEIGH, flags: NLM_F.REQUEST | NLM_F.CREATE | NLM_F.REPLACE, seq: SEQ, pid: PID };

function route() {
  const m = rtmsg.blank();
  Object.assign(m, {
    family: AF.INET, dstLen: 24, table: 0, protocol: 0x99, scope: RT_SCOPE.LINK, type: RTN.UNICAST, flags: 0x31323334,
    dst: V4_DST, oif: 0x0a0b0c0d, priority: 0x11121314, tableId: 0x21222324,
  });
  return m;
}

function neigh() {
  const m = ndmsg.blank();
  Object.assign(m, { family: AF.INET6, ifindex: IFINDEX, state: 0x0182, flags: 0x12, type: 0x34, dst: V6_ADDR, lladdr: MAC, protocol: 0x99 });
  return m;
}

function body(b: Uint8Array | EncodeError): Uint8Array {
  if (isEncodeError(b)) throw new Error(`encode: ${JSON.stringify(b)}`);
  return b;
}

/** The nf_tables batch: ports (ifindex key), allow4 /32 and allow6_56 (concatenated keys). */
function nftKeys(order: ByteOrder): (ElementKey & { set: string })[] {
  const verify = (family: 4 | 6, prefix: Uint8Array, prefixLength: number) => {
    const k = verifyElementKey({ family, ifindex: IFINDEX, mac: MAC, prefix, prefixLength }, order);
    if (typeof k === 'string') throw new Error(k);
    return k;
  };
  return [{ set: 'ports', ...ifindexKey(IFINDEX, order) }, verify(4, V4_SRC, 32), verify(6, V6_PREFIX, 56)];
}

function nftBatch(order: ByteOrder): Uint8Array {
  const msgs = nftKeys(order).map((k) =>
    elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE | NLM_F.ACK, 'gleand', k.set, [k]).message);
  return encodeBatch(msgs, SEQ, order);
}

/**
 * rtnl.ts's batch: each body encoded behind room for its header, the header's len, type
 * and flags written over it (flags as a caller gives them: no REQUEST, an ACK that only
 * the last keeps), then the whole batch numbered for one sendmsg.
 */
function rtmBatch(order: ByteOrder): Uint8Array {
  const b = body(encodeRoute(route(), order));
  const one = NLMSG_HDRLEN + b.length; // a multiple of 4: no padding between the two
  const frames = new Uint8Array(2 * one);
  const dv = new DataView(frames.buffer);
  for (const at of [0, one]) {
    frames.set(b, at + NLMSG_HDRLEN);
    writeFrameHeader(dv, at, one, RTM.NEWROUTE, NLM_F.CREATE | NLM_F.EXCL | NLM_F.ACK, order);
  }
  numberBatch(frames, 2, SEQ, order);
  return frames;
}

/** Every encoder case: the oracle's case name → gleand's bytes in `order`. */
const ENCODERS: Record<string, (order: ByteOrder) => Uint8Array> = {
  rtm_newroute: (o) => encodeMessage(ROUTE_HEADER, body(encodeRoute(route(), o)), o),
  rtm_newneigh: (o) => encodeMessage(NEIGH_HEADER, body(encodeNeigh(neigh(), o)), o),
  rtm_batch: rtmBatch,
  nft_batch: nftBatch,
  sockaddr_ll: (o) => sockaddrLl({ constants: { AF_PACKET } }, ETH_P_IPV6, IFINDEX, MAC, o),
  packet_mreq: (o) => packetMreq(IFINDEX, PACKET_MR_MULTICAST, MAC, o),
  bpf_dhcp: (o) => dhcpFilter(null, o),
  bpf_igmp_mld: (o) => igmpMldFilter(o),
  bpf_upcall4: (o) => upcallFilter(4, o),
  bpf_drop_from_68: (o) => dropFromPort(68, o),
  vifctl: (o) => vifctl(VIFI, IFINDEX, o),
  mif6ctl: (o) => mif6ctl(VIFI, PIFI, o),
  mfcctl: (o) => mfcctl(V4_SRC, V4_GROUP, PARENT, [1, 31], o),
  mf6cctl: (o) => mf6cctl(V6_ADDR, V6_GROUP, PARENT, [0, 5, 31, 33], o),
  sockaddr_in: (o) => sockaddrBytes(INET, 4, V4_SRC, PORT, 0, o),
  sockaddr_in6: (o) => sockaddrBytes(INET, 6, V6_ADDR, PORT, IFINDEX, o),
  sockaddr_nl_bind: (o) => sockaddrNl(AF_NETLINK, o),
  sockopt_int: (o) => int32(0x01020304, o),
};

// ---------------------------------------------------------------------------------
// The oracle, built and run for both orders

interface Oracle { readonly endian: string; readonly cases: ReadonlyMap<string, Uint8Array> }

const SOURCE = path.join(__dirname, 'oracle.c');
const CFLAGS = ['-std=c11', '-D_DEFAULT_SOURCE', '-O1', '-Wall', '-Wextra', '-Werror'];
const dir = mkdtempSync(path.join(tmpdir(), 'gleand-byteorder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs a tool; a missing one fails with the Debian package that brings it. */
function run(file: string, args: string[], pkg: string): string {
  try {
    return execFileSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw new Error(`${file} not found: apt-get install ${pkg} (.ci/run and the lab installer list it)`);
    throw new Error(`${file} ${args.join(' ')} failed: ${err.stderr ?? err.message}`);
  }
}

function parse(out: string): Oracle {
  const cases = new Map<string, Uint8Array>();
  let endian = '';
  for (const line of out.split('\n')) {
    const [what, a, b] = line.split(' ');
    if (what === 'endian') endian = a!;
    else if (what === 'case') cases.set(a!, Uint8Array.from(Buffer.from(b!, 'hex')));
  }
  return { endian, cases };
}

const oracles = new Map<ByteOrder, Oracle>();
beforeAll(() => {
  const le = path.join(dir, 'oracle-le');
  const be = path.join(dir, 'oracle-be');
  run('cc', [...CFLAGS, '-o', le, SOURCE], 'gcc libc6-dev linux-libc-dev');
  run('mips-linux-gnu-gcc', [...CFLAGS, '-static', '-o', be, SOURCE], 'gcc-mips-linux-gnu (g++-mips-linux-gnu brings it, with linux-libc-dev-mips-cross)');
  oracles.set('le', parse(run(le, [], 'gcc')));
  oracles.set('be', parse(run('qemu-mips-static', [be], 'qemu-user-static')));
}, 120_000);

/** Cases the oracle prints for the decoders alone: gleand reads them, never writes them. */
const DECODE_ONLY = ['nlmsgerr', 'igmpmsg', 'mrt6msg', 'sockaddr_nl_name', 'mfc_dump4', 'mfc_dump6', 'tp_status'];
const oracle = (order: ByteOrder): Oracle => oracles.get(order)!;
const golden = (order: ByteOrder, name: string): Uint8Array => {
  const b = oracle(order).cases.get(name);
  if (b === undefined) throw new Error(`oracle printed no case ${name}`);
  return b;
};
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe.each(['le', 'be'] as const)('%s: the oracle', (order) => {
  it(`is a ${order === 'le' ? 'little' : 'big'}-endian build and printed every case`, () => {
    expect(oracle(order).endian).toBe(order);
    for (const name of [...Object.keys(ENCODERS), ...DECODE_ONLY]) expect(oracle(order).cases.has(name), name).toBe(true);
  });
});

describe.each(['le', 'be'] as const)('%s: encoders write the bytes the kernel headers lay out', (order) => {
  it.each(Object.keys(ENCODERS))('%s', (name) => {
    expect(hex(ENCODERS[name]!(order))).toBe(hex(golden(order, name)));
  });

  it('sockaddr_in / sockaddr_in6 written in place into a send batch\'s name slots (the send path\'s form)', () => {
    for (const [family, address, scope] of [[4, V4_SRC, 0], [6, V6_ADDR, IFINDEX]] as const) {
      const slot = SOCKADDR_IN_BYTES[family];
      const names = new Uint8Array(3 * slot);
      writeSockaddr(names, slot, INET, family, address, PORT, scope, order);
      expect(hex(names.subarray(slot, 2 * slot))).toBe(hex(golden(order, family === 4 ? 'sockaddr_in' : 'sockaddr_in6')));
      expect(names.subarray(0, slot).every((b) => b === 0) && names.subarray(2 * slot).every((b) => b === 0)).toBe(true);
    }
  });
});

describe.each(['le', 'be'] as const)('%s: decoders read the oracle\'s bytes back', (order) => {
  const one = (name: string) => {
    const { messages, error } = splitMessages(golden(order, name), order);
    expect(error).toBeNull();
    return messages;
  };

  it('RTM_NEWROUTE: nlmsghdr, rtmsg and the u32 attributes', () => {
    const [m] = one('rtm_newroute');
    expect(m).toMatchObject(ROUTE_HEADER);
    const r = decodeRoute(m!, order);
    expect(r.ok && r.value).toEqual({ ...route(), unknownAttrs: [] });
  });

  it('RTM_NEWNEIGH: ndmsg (s32 ifindex, u16 state) and attributes', () => {
    const [m] = one('rtm_newneigh');
    expect(m).toMatchObject(NEIGH_HEADER);
    const n = decodeNeigh(m!, order);
    expect(n.ok && n.value).toEqual({ ...neigh(), unknownAttrs: [] });
  });

  it('NLMSG_ERROR: s32 error and the request header', () => {
    const [m] = one('nlmsgerr');
    expect(m!.type).toBe(NLMSG.ERROR);
    const e = decodeError(m!, order);
    expect(e.ok && e.value).toEqual({
      errno: 17, // EEXIST, the same number on mips and x86
      request: { type: RTM.NEWROUTE, flags: NLM_F.REQUEST | NLM_F.ACK, seq: SEQ, pid: PID },
      extAck: {},
    });
  });

  it('nf_tables batch: every header, the nests, and the host-order ifindex of each key', () => {
    const msgs = one('nft_batch');
    expect(msgs.map((m) => m.seq)).toEqual([SEQ, SEQ + 1, SEQ + 2, SEQ + 3, SEQ + 4]);
    // nfgenmsg.res_id is __be16 on every host: NFNL_SUBSYS_NFTABLES (10) in BEGIN and END
    expect([msgs[0]!.payload[2], msgs[0]!.payload[3], msgs[4]!.payload[2], msgs[4]!.payload[3]]).toEqual([0, 10, 0, 10]);
    const keys = nftKeys(order);
    for (const [i, k] of keys.entries()) {
      const list = decodeElementList(msgs[i + 1]!, order);
      if (!list.ok) throw new Error(JSON.stringify(list.error));
      expect(list.value.set).toBe(k.set);
      expect(hex(list.value.elements[0]!.key!)).toBe(hex(k.key));
      const set = parseAllowSetName(k.set);
      if (set === null) {
        expect(hex(list.value.elements[0]!.key!)).toBe(hex(ifindexKey(IFINDEX, order).key));
        continue;
      }
      const v = toVerifyElement(set, list.value.elements[0]!, 0, order);
      expect(v.ok && v.value.ifindex).toBe(IFINDEX);
    }
  });

  it('tpacket_auxdata.tp_status in a frame\'s name slot, at an offset', () => {
    const slot = new Uint8Array(32);
    slot.set(golden(order, 'tp_status'), 20); // LL_STATUS_AT
    expect(tpStatus(slot, 20, order)).toBe(0x01020388);
  });

  it('the monitor\'s own-notification filter reads nlmsg_len and nlmsg_pid of each header', () => {
    expect(allOwn(golden(order, 'rtm_newroute'), (pid) => pid === PID, order)).toBe(true);
    expect(allOwn(golden(order, 'rtm_newroute'), (pid) => pid !== PID, order)).toBe(false);
    expect(allOwn(golden(order, 'nft_batch'), (pid) => pid === 0, order)).toBe(true); // five messages, nlmsg_pid 0
  });

  it('sockaddr_nl from getsockname: the u32 nl_pid the kernel assigned', () => {
    expect(sockaddrNlPid(golden(order, 'sockaddr_nl_name'), order)).toBe(PID);
  });

  it.each([[4, 'mfc_dump4', V4_SRC, V4_GROUP], [6, 'mfc_dump6', V6_ADDR, V6_GROUP]] as const)(
    'multicast routing dump (IPv%s): rtnexthop ifindexes and the u64 rta_mfc_stats, past the kernel\'s RTA_PAD', (family, name, src, dst) => {
      const [m] = one(name);
      expect(m!.type).toBe(RTM.NEWROUTE);
      const d = decodeMfc(m!.payload, order);
      expect(d.ok && d.value).toEqual({
        family: family === 4 ? 128 : 129, flags: 0, src, dst, iif: IFINDEX, oifs: [OIF, OIF2],
        stats: { packets: 0x000a0b0c0d0e0f10, bytes: 0x0011121314151617, wrongIf: 0x0001020304050607 },
      });
    });

  it('igmpmsg (bytes only: the same in both orders) and mrt6msg (u16 im6_mif)', () => {
    expect(decodeIgmpmsg(golden(order, 'igmpmsg'))).toEqual({ family: 4, reason: 'wrongvif', vif: 0x0103, source: V4_SRC, group: V4_GROUP });
    expect(decodeMrt6msg(golden(order, 'mrt6msg'), order)).toEqual({ family: 6, reason: 'nocache', vif: VIFI, source: V6_ADDR, group: V6_GROUP });
  });
});

describe('the two orders differ where the kernel says host order, and only there', () => {
  it('every case but the byte-only ones is different bytes big- and little-endian, of the same length', () => {
    for (const name of Object.keys(ENCODERS)) {
      expect(golden('be', name).length, name).toBe(golden('le', name).length);
      expect(hex(golden('be', name)), name).not.toBe(hex(golden('le', name)));
    }
    expect(hex(golden('be', 'igmpmsg'))).toBe(hex(golden('le', 'igmpmsg')));
    // rta_mfc_stats is 24 bytes on mips o32 as on x86-64; only the zero-length RTA_PAD the
    // mips kernel puts before each of the two 64-bit attributes makes its dump longer
    for (const name of ['mfc_dump4', 'mfc_dump6']) expect(golden('be', name).length - golden('le', name).length, name).toBe(8);
  });
});
