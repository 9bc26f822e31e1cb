import { describe, expect, it } from 'vitest';
import { NLM_F } from '../../../platform/netlink/constants';
import { splitMessages } from '../../../platform/netlink/message';
import {
  NFT_MSG, NFT_SET_FLAG, allowSetName, decodeCounterObject, decodeElementList, decodeSet, dumpSetMessage, dumpSetsMessage,
  elementEncodingLength, elementListMessage, encodeBatch, encodeNfMessage, flushSetMessage, getCounterMessage, ifindexKey, isTableName,
  messageEncodingLength, nftType, parseAllowSetName, prefixMask, prefixSetsScript, rulesetScript, toVerifyElement,
  verifyElementKey, type AllowSet, type VerifyElement,
} from '../../../platform/nft';
import {
  KERNEL_COUNTER, KERNEL_DUMP_TAIL, KERNEL_DUMP_V4, KERNEL_DUMP_V6_PD, KERNEL_SETS, NFT_ADD_PORT, NFT_ADD_V4,
  NFT_ADD_V6_LL, NFT_ADD_V6_PD, NFT_DEL_V4, NFT_GETSET_DUMP, hex, withoutSetId,
} from './golden';
import { prng } from '../prng';

/**
 * The captures (golden.ts) come from nft and the kernel of an x86-64 host: their
 * host-order fields (nlmsghdr, nlattr headers, the ifindex in a key) are little-endian.
 * Every codec call here names that order, so the file holds on a big-endian host too;
 * test/unit/byteorder/ proves both orders against the kernel's headers.
 */
const LE = 'le' as const;
const mac = hex('02000000000a');
const v4: VerifyElement = { family: 4, ifindex: 3, mac, prefix: hex('0a01000a'), prefixLength: 32 };
const pd: VerifyElement = { family: 6, ifindex: 3, mac, prefix: hex('20010db8020000000000000000000000'), prefixLength: 56 };
const pdDumped: VerifyElement = { ...pd, prefix: hex('20010db8010000000000000000000000') };
const ll: VerifyElement = { family: 6, ifindex: 3, mac, prefix: hex('fe80000000000000000000000000000a'), prefixLength: 128 };

const keyOf = (e: VerifyElement) => {
  const k = verifyElementKey(e, LE);
  if (typeof k === 'string') throw new Error(k);
  return k;
};
const setOf = (name: string | null): AllowSet => {
  const s = parseAllowSetName(name ?? '');
  if (s === null) throw new Error(`not an allow set: ${String(name)}`);
  return s;
};
const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Our batch of one element message, as nft would have numbered it. */
const ours = (msg: number, flags: number, e: VerifyElement): string => {
  const k = keyOf(e);
  return hexOf(encodeBatch([elementListMessage(msg, flags, 'gleand', k.set, [k]).message], 0, LE));
};

describe('nft codec against bytes from nft 1.0.6', () => {
  it('DELSETELEM batch is byte-identical to nft delete element', () => {
    expect(ours(NFT_MSG.DELSETELEM, NLM_F.REQUEST, v4)).toBe(hexOf(NFT_DEL_V4));
  });

  it('NEWSETELEM of a /32 goes to allow4 and equals nft add element (less nft SET_ID)', () => {
    expect(keyOf(v4).set).toBe('allow4');
    expect(ours(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, v4)).toBe(hexOf(withoutSetId(NFT_ADD_V4, 20, 0x40)));
  });

  it('a link-local /128 goes to allow6, a delegated /56 to allow6_56 as one key', () => {
    expect(keyOf(ll).set).toBe('allow6');
    expect(ours(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, ll)).toBe(hexOf(withoutSetId(NFT_ADD_V6_LL, 20, 0x40)));
    expect(keyOf(pd).set).toBe('allow6_56');
    expect(keyOf(pd).keyEnd).toBeNull();
    expect(ours(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, pd)).toBe(hexOf(withoutSetId(NFT_ADD_V6_PD, 20, 0x44)));
  });

  it('ports element carries the ifindex in host order', () => {
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, 'gleand', 'ports', [ifindexKey(3, LE)]);
    const want = withoutSetId(NFT_ADD_PORT, 20, 0x40);
    expect(hexOf(encodeBatch([m.message], 0, LE))).toBe(hexOf(want));
  });

  it('decodes nft\'s own element messages back to the element, the set naming the length', () => {
    for (const [bytes, type, want] of [
      [NFT_ADD_V4, NFT_MSG.NEWSETELEM, v4], [NFT_DEL_V4, NFT_MSG.DELSETELEM, v4],
      [NFT_ADD_V6_PD, NFT_MSG.NEWSETELEM, pd], [NFT_ADD_V6_LL, NFT_MSG.NEWSETELEM, ll],
    ] as const) {
      const { messages, error } = splitMessages(bytes, LE);
      expect(error).toBeNull();
      expect(messages.map((m) => m.type)).toEqual([0x10, nftType(type), 0x11]);
      const list = decodeElementList(messages[1]!, LE);
      expect(list.ok).toBe(true);
      if (!list.ok) return;
      expect(list.value.table).toBe('gleand');
      expect(list.value.elements).toHaveLength(1);
      expect(toVerifyElement(setOf(list.value.set), list.value.elements[0]!, 0, LE)).toEqual({ ok: true, value: want });
    }
  });

  it('decodes the kernel\'s dump answers (no NLA_F_NESTED) and the empty tail', () => {
    const d4 = decodeElementList(splitMessages(KERNEL_DUMP_V4, LE).messages[0]!, LE);
    expect(d4.ok && d4.value.elements.map((e) => toVerifyElement(setOf(d4.value.set), e, 0, LE))).toEqual([{ ok: true, value: v4 }]);
    const d6 = decodeElementList(splitMessages(KERNEL_DUMP_V6_PD, LE).messages[0]!, LE);
    expect(d6.ok && d6.value.set).toBe('allow6_56');
    expect(d6.ok && d6.value.elements.map((e) => toVerifyElement(setOf(d6.value.set), e, 0, LE))).toEqual([{ ok: true, value: pdDumped }]);
    const b = splitMessages(KERNEL_DUMP_TAIL, LE);
    expect(b.messages.map((m) => m.type)).toEqual([nftType(NFT_MSG.NEWSETELEM), 3]);
    const tail = decodeElementList(b.messages[0]!, LE);
    expect(tail.ok && tail.value.elements).toEqual([]);
  });

  it('GETSET dump request: nft\'s header, restricted to our table and family', () => {
    const nft = splitMessages(NFT_GETSET_DUMP, LE).messages[0]!;
    const mine = encodeNfMessage(dumpSetsMessage('gleand'), 0, LE);
    const m = splitMessages(mine, LE).messages[0]!;
    expect([m.type, m.flags]).toEqual([nft.type, nft.flags]); // 0x0a0a, REQUEST|DUMP
    expect(hexOf(mine.subarray(16))).toBe('01000000' + '0b000100676c65616e640000'); // inet, V0, TABLE "gleand"
  });

  it('decodes the kernel\'s set list: names, flags, key lengths', () => {
    const { messages, error } = splitMessages(KERNEL_SETS, LE);
    expect(error).toBeNull();
    const sets = messages.map((m) => decodeSet(m, LE)).map((d) => (d.ok ? [d.value.table, d.value.name, d.value.flags, d.value.keyLength] : d.error));
    expect(sets).toEqual([
      ['gleand', 'ports', 0, 4], ['gleand', 'allow4', 0, 16], ['gleand', 'allow6', 0, 28], ['gleand', 'allow6_56', 0, 28],
      ['gleand', '__set0', NFT_SET_FLAG.ANONYMOUS | NFT_SET_FLAG.CONSTANT | NFT_SET_FLAG.INTERVAL, 16],
      ['gleand', '__set1', NFT_SET_FLAG.ANONYMOUS | NFT_SET_FLAG.CONSTANT, 1],
    ]);
    const allow = messages.map((m) => decodeSet(m, LE)).flatMap((d) => (d.ok && d.value.name !== null ? [parseAllowSetName(d.value.name)] : []));
    expect(allow.filter((x) => x !== null)).toEqual([{ family: 4, prefixLength: 32 }, { family: 6, prefixLength: 128 }, { family: 6, prefixLength: 56 }]);
  });

  it('decodes the kernel\'s counter object', () => {
    const m = splitMessages(KERNEL_COUNTER, LE).messages[0]!;
    expect(m.type).toBe(nftType(NFT_MSG.NEWOBJ));
    expect(decodeCounterObject(m, LE)).toEqual({ ok: true, value: { name: 'verify_drop', packets: 3n, bytes: 84n } });
  });
});

describe('allow set names', () => {
  it('host lengths use allow4 / allow6, every other length its own set, and back', () => {
    expect(allowSetName(4, 32)).toBe('allow4');
    expect(allowSetName(6, 128)).toBe('allow6');
    for (const family of [4, 6] as const) {
      for (let len = 0; len <= (family === 4 ? 32 : 128); len++) {
        expect(parseAllowSetName(allowSetName(family, len))).toEqual({ family, prefixLength: len });
      }
    }
    for (const bad of ['allow4_32', 'allow6_128', 'allow4_33', 'allow6_056', 'allow6_', 'allow5_8', 'ports', 'allow6_56x', '__set0']) {
      expect(parseAllowSetName(bad)).toBeNull();
    }
  });

  it('masks as nft writes them', () => {
    expect(prefixMask(6, 56)).toBe('ffff:ffff:ffff:ff00::');
    expect(prefixMask(6, 0)).toBe('::');
    expect(prefixMask(6, 127)).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe');
    expect(prefixMask(4, 29)).toBe('255.255.255.248');
    expect(prefixMask(4, 0)).toBe('0.0.0.0');
  });
});

describe('element keys', () => {
  it('key is ifindex (host order) . MAC + pad . prefix, in the set of its length', () => {
    const k = keyOf({ ...v4, prefix: hex('0a010000'), prefixLength: 22 });
    expect(k.set).toBe('allow4_22');
    expect(hexOf(k.key)).toBe('03000000' + '02000000000a0000' + '0a010000');
    expect(k.keyEnd).toBeNull();
    expect(keyOf({ ...v4, prefix: hex('00000000'), prefixLength: 0 }).set).toBe('allow4_0');
  });

  it('rejects what cannot be an element', () => {
    expect(verifyElementKey({ ...v4, prefixLength: 24 }, LE)).toMatch(/host bits/);
    expect(verifyElementKey({ ...pd, prefixLength: 38 }, LE)).toMatch(/host bits/);
    expect(verifyElementKey({ ...v4, prefixLength: 33 }, LE)).toMatch(/out of range/);
    expect(verifyElementKey({ ...v4, mac: hex('0200') }, LE)).toMatch(/MAC/);
    expect(verifyElementKey({ ...v4, prefix: pd.prefix }, LE)).toMatch(/IPv4 prefix is 16 bytes/);
    expect(verifyElementKey({ ...v4, ifindex: 0 }, LE)).toMatch(/ifindex/);
    expect(verifyElementKey({ ...v4, ifindex: 2 ** 32 }, LE)).toMatch(/ifindex/);
  });

  it('round trips every prefix length through its set', () => {
    const r = prng(7);
    for (const family of [4, 6] as const) {
      const bits = family === 4 ? 32 : 128;
      for (let len = 0; len <= bits; len++) {
        const prefix = new Uint8Array(bits / 8).map(() => Math.floor(r() * 256));
        for (let bit = len; bit < bits; bit++) prefix[bit >> 3] = prefix[bit >> 3]! & ~(0x80 >> (bit & 7));
        const e: VerifyElement = { family, ifindex: 0x01020304, mac, prefix, prefixLength: len };
        const k = keyOf(e);
        expect(toVerifyElement(setOf(k.set), { key: k.key, keyEnd: null, flags: 0, unknownAttrs: [] }, 0, LE)).toEqual({ ok: true, value: e });
      }
    }
  });

  it('round trips many elements through one message, offsets pointing at each element', () => {
    const elems: VerifyElement[] = [];
    for (let i = 0; i < 40; i++) {
      elems.push({ family: 6, ifindex: 1000 + i, mac: hex(`02000000${(i % 256).toString(16).padStart(2, '0')}01`), prefix: hex(`20010db8${i.toString(16).padStart(4, '0')}00000000000000000000`), prefixLength: 48 });
    }
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6_48', elems.map(keyOf));
    const bytes = encodeNfMessage(m.message, 7, LE);
    expect(bytes.length).toBe(messageEncodingLength(m.message));
    const dv = new DataView(bytes.buffer);
    for (const off of m.elementOffsets) expect(dv.getUint16(off + 2, true) & 0x3fff).toBe(1); // NFTA_LIST_ELEM
    // Each element's length as counted (not built) is what it takes in the message.
    for (let i = 0; i < elems.length; i++) {
      const next = i + 1 < elems.length ? m.elementOffsets[i + 1]! : bytes.length;
      expect(elementEncodingLength(keyOf(elems[i]!))).toBe(next - m.elementOffsets[i]!);
    }
    // And for keys of any length, with or without a key end (interval sets).
    for (let n = 1; n <= 9; n++) {
      for (const end of [null, new Uint8Array(n + 2)]) {
        const k = { key: new Uint8Array(n), keyEnd: end };
        const one = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'ports', [k]);
        expect(elementEncodingLength(k)).toBe(messageEncodingLength(one.message) - one.elementOffsets[0]!);
      }
    }
    const list = decodeElementList(splitMessages(bytes, LE).messages[0]!, LE);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    expect(list.value.elements.map((e) => toVerifyElement(setOf(list.value.set), e, 0, LE))).toEqual(elems.map((value) => ({ ok: true, value })));
  });

  it('does not take an element with a foreign layout for one of ours', () => {
    const base = keyOf(v4);
    const raw = (key: Uint8Array | null, keyEnd: Uint8Array | null = null, flags = 0) => ({ key, keyEnd, flags, unknownAttrs: [] });
    const s4 = setOf('allow4');
    expect(toVerifyElement(s4, raw(null), 0, LE).ok).toBe(false);
    expect(toVerifyElement(setOf('allow6'), raw(base.key), 0, LE).ok).toBe(false); // v4 key in a v6 set
    expect(toVerifyElement(s4, raw(base.key, base.key), 0, LE).ok).toBe(false); // a range (the old interval layout)
    expect(toVerifyElement(s4, raw(base.key, null, 1), 0, LE).ok).toBe(false); // interval end flag
    const padded = base.key.slice();
    padded[10] = 1;
    expect(toVerifyElement(s4, raw(padded), 0, LE).ok).toBe(false);
    expect(toVerifyElement(setOf('allow4_24'), raw(base.key), 0, LE)).toMatchObject({ ok: false, error: { reason: 'host bits set in a /24 prefix' } });
    expect(toVerifyElement(s4, raw(base.key), 0, LE)).toEqual({ ok: true, value: v4 });
  });
});

describe('other messages', () => {
  it('flush, dump and counter requests', () => {
    const flush = encodeNfMessage(flushSetMessage('gleand', 'ports'), 1, LE);
    expect(Buffer.from(flush).toString('hex')).toBe(
      '2c000000' + '0e0a' + '0100' + '01000000' + '00000000' + '01000000' + '0b000100676c65616e640000' + '0a000200706f727473000000',
    );
    const dump = dumpSetMessage('gleand', 'allow4');
    expect(dump.type).toBe(0x0a0d);
    expect(dump.flags & NLM_F.DUMP).toBe(NLM_F.DUMP);
    const get = encodeNfMessage(getCounterMessage('gleand', 'verify_drop'), 1, LE);
    expect(Buffer.from(get.subarray(4, 6)).toString('hex')).toBe('130a'); // GETOBJ
    expect(Buffer.from(get.subarray(-8)).toString('hex')).toBe('0800030000000001'); // NFTA_OBJ_TYPE counter, be32
  });
});

describe('decoders never throw on hostile bytes', () => {
  const rng = prng;

  const decodeAll = (bytes: Uint8Array): void => {
    const { messages } = splitMessages(bytes, LE);
    for (const m of messages) {
      const l = decodeElementList(m, LE);
      if (l.ok) for (const e of l.value.elements) { toVerifyElement(setOf('allow4_24'), e, 0, LE); toVerifyElement(setOf('allow6'), e, 0, LE); }
      decodeCounterObject(m, LE);
      decodeSet(m, LE);
    }
  };

  it('every truncation and every single-byte corruption of the captures', () => {
    for (const golden of [KERNEL_DUMP_V6_PD, KERNEL_DUMP_TAIL, KERNEL_COUNTER, KERNEL_SETS, NFT_ADD_V6_PD, NFT_DEL_V4]) {
      for (let n = 0; n <= golden.length; n++) {
        const b = golden.slice(0, n);
        if (n >= 4) new DataView(b.buffer).setUint32(0, Math.min(n, new DataView(golden.buffer).getUint32(0, true)), true);
        expect(() => decodeAll(b)).not.toThrow();
      }
      for (let i = 0; i < golden.length; i++) {
        for (const x of [0x00, 0xff, 0x04, 0x80]) {
          const b = golden.slice();
          b[i] = x;
          expect(() => decodeAll(b)).not.toThrow();
        }
      }
    }
  });

  it('random bytes behind a valid header', () => {
    const r = rng(42);
    for (let i = 0; i < 3000; i++) {
      const len = 20 + Math.floor(r() * 200);
      const b = new Uint8Array(len);
      for (let j = 0; j < len; j++) b[j] = Math.floor(r() * 256);
      const dv = new DataView(b.buffer);
      dv.setUint32(0, len, true);
      dv.setUint16(4, nftType([NFT_MSG.NEWSETELEM, NFT_MSG.NEWOBJ, NFT_MSG.NEWSET][Math.floor(r() * 3)]!), true);
      expect(() => decodeAll(b)).not.toThrow();
    }
  });

  it('a length beyond the data is an error naming the offset', () => {
    const b = KERNEL_DUMP_V6_PD.slice();
    new DataView(b.buffer).setUint16(0x34, 0x200, true); // LIST_ELEM claims 512 bytes
    const r = decodeElementList(splitMessages(b, LE).messages[0]!, LE);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.offset).toBe(0x34);
  });
});

describe('ruleset script', () => {
  const s = rulesetScript('gleand');
  const rulesOf = (script: string) => script.split('\n').filter((l) => l.startsWith('add rule'));

  it('has every rule, each after a comment saying why; host sets, then prefixes, then the drop', () => {
    expect(rulesOf(s)).toEqual([
      'add rule inet gleand prerouting iif @relay_ports meta nfproto ipv4 udp dport 67 counter name dhcp_to_relay drop',
      'add rule inet gleand prerouting iif @relay_ports meta nfproto ipv6 udp dport 547 counter name dhcp_to_relay drop',
      'add rule inet gleand prerouting iif @ports jump verify',
      'add rule inet gleand verify meta nfproto ipv4 udp sport 68 udp dport 67 ip daddr 255.255.255.255 accept',
      'add rule inet gleand verify ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept',
      'add rule inet gleand verify ip6 saddr fe80::/10 ip6 daddr ff02::1:2 udp dport 547 accept',
      'add rule inet gleand verify meta iif . ether saddr . ip saddr @allow4 accept',
      'add rule inet gleand verify meta iif . ether saddr . ip6 saddr @allow6 accept',
      'add rule inet gleand verify jump verify_prefix',
      'add rule inet gleand verify jump on_demand_up',
      'add rule inet gleand verify counter name verify_drop drop',
    ]);
    // the on-demand driver's chain: created, never flushed by this script (its rules survive a reload)
    expect(s).toContain('add chain inet gleand on_demand_up');
    expect(s).not.toContain('flush chain inet gleand on_demand_up');
    const lines = s.split('\n');
    for (const r of rulesOf(s)) {
      let i = lines.indexOf(r) - 1;
      while (lines[i]!.startsWith('add rule')) i--;
      expect(lines[i]!.startsWith('#')).toBe(true);
    }
    expect(s).toContain('priority raw');
    // relay-mode ports: their own set (a subset of ports) and their own counter, apart from verify_drop
    expect(s).toContain('add set inet gleand relay_ports { type iface_index; }');
    expect(s).toContain('add counter inet gleand dhcp_to_relay');
    expect(s).not.toContain('fib daddr type local'); // any spoofed source to the router: nothing needs it
    expect(s).toContain('add set inet gleand allow4 { type iface_index . ether_addr . ipv4_addr; }');
    expect(s).toContain('add set inet gleand allow6 { type iface_index . ether_addr . ipv6_addr; }');
    expect(s).not.toMatch(/^add set .*flags interval/m);
    expect(s).toContain('flush chain inet gleand verify_prefix');
    expect(s).not.toContain('delete table');
    expect(rulesetScript('gleand', { recreate: true })).toContain('delete table inet gleand');
  });

  it('re-creates the rules of the prefix-length sets the table has, v4 first, longest first', () => {
    const sets: AllowSet[] = [{ family: 6, prefixLength: 56 }, { family: 4, prefixLength: 29 }, { family: 6, prefixLength: 60 }, { family: 6, prefixLength: 56 }, { family: 6, prefixLength: 128 }];
    const withSets = rulesetScript('gleand', { prefixSets: sets });
    const prefixRules = [
      'add rule inet gleand verify_prefix meta iif . ether saddr . ip saddr & 255.255.255.248 @allow4_29 accept',
      'add rule inet gleand verify_prefix meta iif . ether saddr . ip6 saddr & ffff:ffff:ffff:fff0:: @allow6_60 accept',
      'add rule inet gleand verify_prefix meta iif . ether saddr . ip6 saddr & ffff:ffff:ffff:ff00:: @allow6_56 accept',
    ];
    expect(rulesOf(withSets).filter((r) => r.includes('verify_prefix meta'))).toEqual(prefixRules);
    expect(withSets).toContain('add set inet gleand allow6_56 { type iface_index . ether_addr . ipv6_addr; }');
    expect(withSets).not.toContain('allow6_128');
    // the script that adds a length: sets, then verify_prefix rewritten whole
    const add = prefixSetsScript('gleand', sets).split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(add).toEqual([
      'add set inet gleand allow4_29 { type iface_index . ether_addr . ipv4_addr; }',
      'add set inet gleand allow6_60 { type iface_index . ether_addr . ipv6_addr; }',
      'add set inet gleand allow6_56 { type iface_index . ether_addr . ipv6_addr; }',
      'add chain inet gleand verify_prefix',
      'flush chain inet gleand verify_prefix',
      ...prefixRules,
    ]);
  });

  it('only takes plain identifiers as table names', () => {
    expect(isTableName('gleand')).toBe(true);
    expect(isTableName('gl_2')).toBe(true);
    for (const bad of ['', '2x', 'a b', 'a;flush ruleset', 'x'.repeat(33), 'a"b']) expect(isTableName(bad)).toBe(false);
    expect(() => rulesetScript('a;b')).toThrow();
  });
});

describe('codec kit', () => {
  it('writes into a buffer pre-filled with 0xa5 at an offset, touching only its own bytes', async () => {
    const { writeNfMessage } = await import('../../../platform/nft');
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6', [keyOf(ll), keyOf(pd)]).message;
    const len = messageEncodingLength(m);
    const out = new Uint8Array(len + 13).fill(0xa5);
    const end = writeNfMessage(out, 7, m, 9, undefined, LE);
    expect(end).toBe(7 + len);
    expect(out.subarray(0, 7).every((b) => b === 0xa5)).toBe(true);
    expect(out.subarray(7 + len).every((b) => b === 0xa5)).toBe(true);
    expect(Buffer.from(out.subarray(7, 7 + len)).equals(Buffer.from(encodeNfMessage(m, 9, LE)))).toBe(true);
    // re-encoding what was decoded gives the same bytes
    const list = decodeElementList(splitMessages(encodeNfMessage(m, 9, LE), LE).messages[0]!, LE);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    const again = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6',
      list.value.elements.map((e) => ({ key: e.key!, keyEnd: e.keyEnd })));
    expect(Buffer.from(encodeNfMessage(again.message, 9, LE)).equals(Buffer.from(encodeNfMessage(m, 9, LE)))).toBe(true);
  });
});
