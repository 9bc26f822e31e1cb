import { describe, expect, it } from 'vitest';
import { NLM_F } from '../../../platform/netlink/constants';
import { splitMessages } from '../../../platform/netlink/message';
import { HOST_LE } from '../../../platform/netlink/wire';
import {
  NFT_MSG, decodeCounterObject, decodeElementList, elementListMessage, encodeBatch, encodeNfMessage,
  flushSetMessage, getCounterMessage, ifindexKey, isTableName, messageEncodingLength, nftType,
  prefixLengthOfRange, rulesetScript, toVerifyElement, verifyElementKey, dumpSetMessage,
  type VerifyElement,
} from '../../../platform/nft';
import {
  KERNEL_COUNTER, KERNEL_DUMP_TAIL, KERNEL_DUMP_V6, NFT_ADD_PORT, NFT_ADD_V4, NFT_ADD_V6, NFT_DEL_V4, hex,
  withoutSetId,
} from './golden';
import { prng } from '../prng';

const mac = hex('02000000000a');
const v4: VerifyElement = { family: 4, ifindex: 3, mac, prefix: hex('0a01000a'), prefixLength: 32 };
const v6: VerifyElement = { family: 6, ifindex: 3, mac, prefix: hex('20010db8010000000000000000000000'), prefixLength: 56 };

const keyOf = (e: VerifyElement) => {
  const k = verifyElementKey(e);
  if (typeof k === 'string') throw new Error(k);
  return k;
};

describe('nft codec against bytes from nft 1.0.6', () => {
  it('runs on a little-endian host (the captures are)', () => {
    expect(HOST_LE).toBe(true);
  });

  it('DELSETELEM batch is byte-identical to nft delete element', () => {
    const m = elementListMessage(NFT_MSG.DELSETELEM, NLM_F.REQUEST, 'gleand', 'allow4', [keyOf(v4)]);
    expect(Buffer.from(encodeBatch([m.message], 0)).toString('hex')).toBe(Buffer.from(NFT_DEL_V4).toString('hex'));
  });

  it('NEWSETELEM of a /32 equals nft add element (less nft SET_ID)', () => {
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, 'gleand', 'allow4', [keyOf(v4)]);
    const want = withoutSetId(NFT_ADD_V4, 20, 0x40);
    expect(Buffer.from(encodeBatch([m.message], 0)).toString('hex')).toBe(Buffer.from(want).toString('hex'));
  });

  it('NEWSETELEM of a delegated /56 is one range element equal to nft add element', () => {
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, 'gleand', 'allow6', [keyOf(v6)]);
    const want = withoutSetId(NFT_ADD_V6, 20, 0x40);
    expect(Buffer.from(encodeBatch([m.message], 0)).toString('hex')).toBe(Buffer.from(want).toString('hex'));
  });

  it('ports element carries the ifindex in host order', () => {
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.REQUEST | NLM_F.CREATE, 'gleand', 'ports', [ifindexKey(3)]);
    const want = withoutSetId(NFT_ADD_PORT, 20, 0x40);
    expect(Buffer.from(encodeBatch([m.message], 0)).toString('hex')).toBe(Buffer.from(want).toString('hex'));
  });

  it('decodes nft\'s own add messages back to the element', () => {
    for (const [bytes, family, want] of [[NFT_ADD_V4, 4, v4], [NFT_ADD_V6, 6, v6], [NFT_DEL_V4, 4, v4]] as const) {
      const { messages, error } = splitMessages(bytes);
      expect(error).toBeNull();
      expect(messages.map((m) => m.type)).toEqual([0x10, nftType(bytes === NFT_DEL_V4 ? NFT_MSG.DELSETELEM : NFT_MSG.NEWSETELEM), 0x11]);
      const list = decodeElementList(messages[1]!);
      expect(list.ok).toBe(true);
      if (!list.ok) return;
      expect(list.value.table).toBe('gleand');
      expect(list.value.elements).toHaveLength(1);
      expect(toVerifyElement(family, list.value.elements[0]!)).toEqual({ ok: true, value: want });
    }
  });

  it('decodes the kernel\'s dump answer (no NLA_F_NESTED) and its empty tail', () => {
    const a = splitMessages(KERNEL_DUMP_V6);
    const list = decodeElementList(a.messages[0]!);
    expect(list.ok && list.value.set).toBe('allow6');
    expect(list.ok && list.value.elements.map((e) => toVerifyElement(6, e))).toEqual([{ ok: true, value: v6 }]);
    const b = splitMessages(KERNEL_DUMP_TAIL);
    expect(b.messages.map((m) => m.type)).toEqual([nftType(NFT_MSG.NEWSETELEM), 3]);
    const tail = decodeElementList(b.messages[0]!);
    expect(tail.ok && tail.value.elements).toEqual([]);
  });

  it('decodes the kernel\'s counter object', () => {
    const m = splitMessages(KERNEL_COUNTER).messages[0]!;
    expect(m.type).toBe(nftType(NFT_MSG.NEWOBJ));
    expect(decodeCounterObject(m)).toEqual({ ok: true, value: { name: 'verify_drop', packets: 3n, bytes: 84n } });
  });
});

describe('element keys', () => {
  it('prefix ranges: key is the first address, key end the last', () => {
    const k = keyOf({ ...v4, prefix: hex('0a010000'), prefixLength: 22 });
    expect(Buffer.from(k.key).toString('hex')).toBe('00000003' + '02000000000a0000' + '0a010000');
    expect(Buffer.from(k.keyEnd!).toString('hex')).toBe('00000003' + '02000000000a0000' + '0a0103ff');
    const all = keyOf({ ...v4, prefix: hex('00000000'), prefixLength: 0 });
    expect(Buffer.from(all.keyEnd!.subarray(12)).toString('hex')).toBe('ffffffff');
  });

  it('rejects what cannot be an element', () => {
    expect(verifyElementKey({ ...v4, prefixLength: 24 })).toMatch(/host bits/);
    expect(verifyElementKey({ ...v4, prefixLength: 33 })).toMatch(/out of range/);
    expect(verifyElementKey({ ...v4, mac: hex('0200') })).toMatch(/MAC/);
    expect(verifyElementKey({ ...v4, prefix: v6.prefix })).toMatch(/IPv4 prefix is 16 bytes/);
    expect(verifyElementKey({ ...v4, ifindex: 0 })).toMatch(/ifindex/);
    expect(verifyElementKey({ ...v4, ifindex: 2 ** 32 })).toMatch(/ifindex/);
  });

  it('prefixLengthOfRange over every IPv4 length, and non-prefix ranges', () => {
    for (let len = 0; len <= 32; len++) {
      const k = keyOf({ ...v4, prefix: hex('00000000'), prefixLength: len });
      expect(prefixLengthOfRange(k.key.subarray(12), k.keyEnd!.subarray(12))).toBe(len);
    }
    for (let len = 0; len <= 128; len++) {
      const k = keyOf({ ...v6, prefix: new Uint8Array(16), prefixLength: len });
      expect(prefixLengthOfRange(k.key.subarray(12), k.keyEnd!.subarray(12))).toBe(len);
    }
    expect(prefixLengthOfRange(hex('0a000001'), hex('0a000002'))).toBeNull(); // .1-.2
    expect(prefixLengthOfRange(hex('0a000000'), hex('0a000002'))).toBeNull(); // .0-.2
    expect(prefixLengthOfRange(hex('0a000002'), hex('0a000001'))).toBeNull(); // reversed
    expect(prefixLengthOfRange(hex('0a000000'), hex('0a0000'))).toBeNull();
  });

  it('round trips many elements through one message, offsets pointing at each element', () => {
    const elems: VerifyElement[] = [];
    for (let i = 0; i < 40; i++) {
      elems.push({ family: 6, ifindex: 1000 + i, mac: hex(`02000000${(i % 256).toString(16).padStart(2, '0')}01`), prefix: hex(`20010db8${i.toString(16).padStart(4, '0')}00000000000000000000`), prefixLength: 48 });
    }
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6', elems.map(keyOf));
    const bytes = encodeNfMessage(m.message, 7);
    expect(bytes.length).toBe(messageEncodingLength(m.message));
    const dv = new DataView(bytes.buffer);
    for (const off of m.elementOffsets) expect(dv.getUint16(off + 2, true) & 0x3fff).toBe(1); // NFTA_LIST_ELEM
    const list = decodeElementList(splitMessages(bytes).messages[0]!);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    expect(list.value.elements.map((e) => toVerifyElement(6, e))).toEqual(elems.map((value) => ({ ok: true, value })));
  });

  it('does not take an element with a foreign layout for one of ours', () => {
    const base = keyOf(v4);
    const raw = (key: Uint8Array | null, keyEnd: Uint8Array | null) => ({ key, keyEnd, flags: 0, unknownAttrs: [] });
    expect(toVerifyElement(4, raw(null, null)).ok).toBe(false);
    expect(toVerifyElement(6, raw(base.key, base.keyEnd)).ok).toBe(false); // v4 key in the v6 set
    const otherMac = base.keyEnd!.slice();
    otherMac[9] = 0x0b;
    expect(toVerifyElement(4, raw(base.key, otherMac)).ok).toBe(false);
    const padded = base.key.slice();
    padded[10] = 1;
    expect(toVerifyElement(4, raw(padded, padded)).ok).toBe(false);
    expect(toVerifyElement(4, raw(base.key, null))).toEqual({ ok: true, value: v4 }); // single key, no end
  });
});

describe('other messages', () => {
  it('flush, dump and counter requests', () => {
    const flush = encodeNfMessage(flushSetMessage('gleand', 'ports'), 1);
    expect(Buffer.from(flush).toString('hex')).toBe(
      '2c000000' + '0e0a' + '0100' + '01000000' + '00000000' + '01000000' + '0b000100676c65616e640000' + '0a000200706f727473000000',
    );
    const dump = dumpSetMessage('gleand', 'allow4');
    expect(dump.type).toBe(0x0a0d);
    expect(dump.flags & NLM_F.DUMP).toBe(NLM_F.DUMP);
    const get = encodeNfMessage(getCounterMessage('gleand', 'verify_drop'), 1);
    expect(Buffer.from(get.subarray(4, 6)).toString('hex')).toBe('130a'); // GETOBJ
    expect(Buffer.from(get.subarray(-8)).toString('hex')).toBe('0800030000000001'); // NFTA_OBJ_TYPE counter, be32
  });
});

describe('decoders never throw on hostile bytes', () => {
  const rng = prng;

  const decodeAll = (bytes: Uint8Array): void => {
    const { messages } = splitMessages(bytes);
    for (const m of messages) {
      const l = decodeElementList(m);
      if (l.ok) for (const e of l.value.elements) { toVerifyElement(4, e); toVerifyElement(6, e); }
      decodeCounterObject(m);
    }
  };

  it('every truncation and every single-byte corruption of the captures', () => {
    for (const golden of [KERNEL_DUMP_V6, KERNEL_DUMP_TAIL, KERNEL_COUNTER, NFT_ADD_V6, NFT_DEL_V4]) {
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
      dv.setUint16(4, r() < 0.5 ? nftType(NFT_MSG.NEWSETELEM) : nftType(NFT_MSG.NEWOBJ), true);
      expect(() => decodeAll(b)).not.toThrow();
    }
  });

  it('a length beyond the data is an error naming the offset', () => {
    const b = KERNEL_DUMP_V6.slice();
    new DataView(b.buffer).setUint16(0x30, 0x200, true); // LIST_ELEM claims 512 bytes
    const r = decodeElementList(splitMessages(b).messages[0]!);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.offset).toBe(0x30);
  });
});

describe('ruleset script', () => {
  const s = rulesetScript('gleand');

  it('has every rule, each after a comment saying why', () => {
    const rules = s.split('\n').filter((l) => l.startsWith('add rule'));
    expect(rules).toEqual([
      'add rule inet gleand prerouting iif @ports jump verify',
      'add rule inet gleand verify meta nfproto ipv4 udp sport 68 udp dport 67 accept',
      'add rule inet gleand verify ip6 saddr { ::, fe80::/10 } icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept',
      'add rule inet gleand verify ip6 saddr fe80::/10 udp dport 547 accept',
      'add rule inet gleand verify meta iif . ether saddr . ip saddr @allow4 accept',
      'add rule inet gleand verify meta iif . ether saddr . ip6 saddr @allow6 accept',
      'add rule inet gleand verify counter name verify_drop drop',
    ]);
    const lines = s.split('\n');
    for (const r of rules) {
      let i = lines.indexOf(r) - 1;
      while (lines[i]!.startsWith('add rule')) i--;
      expect(lines[i]!.startsWith('#')).toBe(true);
    }
    expect(s).toContain('priority raw');
    expect(s).toContain('flags interval');
    expect(s).not.toContain('delete table');
    expect(rulesetScript('gleand', { recreate: true })).toContain('delete table inet gleand');
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
    const m = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6', [keyOf(v6), keyOf(v4)]).message;
    const len = messageEncodingLength(m);
    const out = new Uint8Array(len + 13).fill(0xa5);
    const end = writeNfMessage(out, 7, m, 9);
    expect(end).toBe(7 + len);
    expect(out.subarray(0, 7).every((b) => b === 0xa5)).toBe(true);
    expect(out.subarray(7 + len).every((b) => b === 0xa5)).toBe(true);
    expect(Buffer.from(out.subarray(7, 7 + len)).equals(Buffer.from(encodeNfMessage(m, 9)))).toBe(true);
    // re-encoding what was decoded gives the same bytes
    const list = decodeElementList(splitMessages(encodeNfMessage(m, 9)).messages[0]!);
    expect(list.ok).toBe(true);
    if (!list.ok) return;
    const again = elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, 'gleand', 'allow6',
      list.value.elements.map((e) => ({ key: e.key!, keyEnd: e.keyEnd })));
    expect(Buffer.from(encodeNfMessage(again.message, 9)).equals(Buffer.from(encodeNfMessage(m, 9)))).toBe(true);
  });
});
