/** DHCPv4 option semantics: RFC 3396 long options, overload, typed rows, option 82 editing. */
import { describe, expect, it } from 'vitest';
import { hex, toHex } from './kit';
import {
  dhcp4AllOptions, dhcp4Message, getDhcp4Option, getDhcp4OptionBytes, insertRelayAgentInformation, removeDhcp4Option,
  setDhcp4Option, stripRelayAgentInformation, validateDhcp4Options, type Dhcp4Message,
} from '../../../src/wire/dhcp4';
import { DHCP4_MESSAGE_TYPES, decodeDhcp4OptionBody, encodeDhcp4OptionBody } from '../../../src/wire/dhcp4-options';
import { relayAgentInformation } from '../../../src/wire/dhcp4-relay-agent';
import { internetChecksum } from '../../../src/wire/checksum';
import { decodeUdp, encodeUdp } from '../../../src/wire/udp';

const base = (options: Dhcp4Message['options'], extra: Partial<Dhcp4Message> = {}): Dhcp4Message => ({
  op: 1, htype: 1, hlen: 6, hops: 0, xid: 0x01020304, secs: 0, flags: 0x8000,
  ciaddr: new Uint8Array(4), yiaddr: new Uint8Array(4), siaddr: new Uint8Array(4), giaddr: new Uint8Array(4),
  chaddr: hex('0200000000c1 00000000000000000000'), sname: new Uint8Array(64), file: new Uint8Array(128),
  options, trailer: new Uint8Array(0), ...extra,
});
const opt = (code: number, ...data: number[]) => ({ code, data: new Uint8Array(data) });
const roundTrip = (m: Dhcp4Message): Dhcp4Message => {
  const r = dhcp4Message.decode(dhcp4Message.encode(m));
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
};

describe('DHCPv4 options', () => {
  it('decodes message types 1–18 by RFC name and an unassigned one as unknown', () => {
    for (let t = 1; t <= 18; t++) {
      const v = getDhcp4Option(roundTrip(base([opt(53, t)])), 53);
      expect(v).toEqual({ ok: true, value: { code: t, name: (DHCP4_MESSAGE_TYPES as Record<number, string>)[t] } });
    }
    expect(getDhcp4Option(base([opt(53, 10)]), 53)).toEqual({ ok: true, value: { code: 10, name: 'DHCPLEASEQUERY' } });
    expect(getDhcp4Option(base([opt(53, 13)]), 53)).toEqual({ ok: true, value: { code: 13, name: 'DHCPLEASEACTIVE' } });
    expect(getDhcp4Option(base([opt(53, 15)]), 53)).toEqual({ ok: true, value: { code: 15, name: 'DHCPLEASEQUERYDONE' } });
    expect(getDhcp4Option(base([opt(53, 99)]), 53)).toEqual({ ok: true, value: { code: 99, name: 'unknown' } });
  });

  it('concatenates repeated options (RFC 3396) and splits long ones on encode', () => {
    const long = new Uint8Array(600).map((_, i) => i & 0xff);
    const m = setDhcp4Option(base([opt(53, 1), opt(61, 1, 2)]), 92, Array.from({ length: 150 }, (_, i) => new Uint8Array([10, 0, i >> 8, i & 0xff])));
    expect(m.options.filter((o) => o.code === 92).map((o) => o.data.length)).toEqual([255, 255, 90]);
    const back = roundTrip(m);
    expect(getDhcp4Option(back, 92)).toEqual(getDhcp4Option(m, 92));
    expect(getDhcp4Option(back, 92)!.ok && (getDhcp4Option(back, 92) as { value: Uint8Array[] }).value.length).toBe(150);
    const split = base([opt(200, ...long.slice(0, 100)), opt(53, 1), opt(200, ...long.slice(100, 300))]);
    expect(toHex(getDhcp4OptionBytes(roundTrip(split), 200)!)).toBe(toHex(long.slice(0, 300)));
  });

  it('reads options overloaded into file and sname (option 52), in RFC 3396 order', () => {
    const file = new Uint8Array(128);
    file.set([12, 2, 0x66, 0x66, 255]);
    const sname = new Uint8Array(64);
    sname.set([12, 1, 0x73, 0, 255]);
    const m = roundTrip(base([opt(52, 3), opt(12, 0x6f)], { file, sname }));
    expect(getDhcp4Option(m, 12)).toEqual({ ok: true, value: 'off' + 's' });
    const bad = new Uint8Array(128);
    bad.set([12, 200]);
    const res = dhcp4Message.decode(dhcp4Message.encode(base([opt(52, 1)], { file: bad })));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.field).toMatch(/file/);
  });

  it('keeps unknown options and pads byte for byte, in order', () => {
    const m = base([opt(53, 3), { code: 0, data: new Uint8Array(0) }, opt(224, 1, 2, 3), opt(0xfe)], { trailer: new Uint8Array(5) });
    const bytes = dhcp4Message.encode(m);
    expect(toHex(dhcp4Message.encode(roundTrip(m)))).toBe(toHex(bytes));
    expect(toHex(bytes.subarray(240))).toBe('3501030' + '0e0030102' + '03fe00ff0000000000');
  });

  it('types the lease query options 91, 92, 151–157', () => {
    const m = base([
      opt(91, 0, 0, 1, 0), opt(92, 10, 0, 0, 1, 10, 0, 0, 2), opt(151, 3, 0x62, 0x61, 0x64), opt(152, 0x60, 0, 0, 0),
      opt(153, 0, 0, 0, 9), opt(154, 0, 0, 0, 1), opt(155, 0, 0, 0, 2), opt(156, 2), opt(157, 1),
    ]);
    expect(getDhcp4Option(m, 91)).toEqual({ ok: true, value: 256 });
    expect(getDhcp4Option(m, 92)).toEqual({ ok: true, value: [new Uint8Array([10, 0, 0, 1]), new Uint8Array([10, 0, 0, 2])] });
    expect(getDhcp4Option(m, 151)).toEqual({ ok: true, value: { status: 3, message: 'bad' } });
    expect(getDhcp4Option(m, 152)).toEqual({ ok: true, value: 0x60000000 });
    expect(getDhcp4Option(m, 156)).toEqual({ ok: true, value: 2 });
    expect(getDhcp4Option(m, 157)).toEqual({ ok: true, value: 1 });
    expect(validateDhcp4Options(m).ok).toBe(true);
    // a malformed known option is an error naming it; the raw message still decodes
    const bad = base([opt(92, 10, 0, 0)]);
    expect(roundTrip(bad).options).toHaveLength(1);
    const v = validateDhcp4Options(bad);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.error.field).toContain('associatedIp');
  });

  it('types option 82 sub-options and keeps unknown ones raw', () => {
    const body = hex('0103657468 0202aabb 05040a000200 0b040a000201 0c0700030001020000 13020438 a90101');
    const v = relayAgentInformation.decode(body);
    expect(v).toEqual({
      ok: true,
      value: [
        { kind: 'circuitId', circuitId: hex('657468') }, { kind: 'remoteId', remoteId: hex('aabb') },
        { kind: 'linkSelection', address: hex('0a000200') }, { kind: 'serverIdOverride', address: hex('0a000201') },
        { kind: 'relayId', relayId: hex('00030001020000') }, { kind: 'relayPort', port: 1080 },
        { kind: 'unknown', code: 0xa9, data: hex('01') },
      ],
    });
    expect(decodeDhcp4OptionBody(82, body)).toEqual(v);
    expect(toHex(encodeDhcp4OptionBody(82, (v as unknown as { value: never }).value))).toBe(toHex(body));
    expect(relayAgentInformation.decode(hex('050300000000')).ok).toBe(false); // link-selection must be 4 bytes
  });

  it('inserts option 82 last before End and strips it without disturbing other options', () => {
    const m = base([opt(53, 1), opt(224, 9), opt(55, 1, 3)]);
    const withRai = insertRelayAgentInformation(m, [{ kind: 'circuitId', circuitId: hex('01') }]);
    expect(withRai.options.map((o) => o.code)).toEqual([53, 224, 55, 82]);
    const bytes = dhcp4Message.encode(withRai);
    expect(toHex(bytes.subarray(bytes.length - 6))).toBe('520301010' + '1ff'); // 82 len 3 [circuit-id len 1 01], End
    expect(toHex(dhcp4Message.encode(stripRelayAgentInformation(roundTrip(withRai))))).toBe(toHex(dhcp4Message.encode(m)));
    expect(removeDhcp4Option(withRai, 224).options.map((o) => o.code)).toEqual([53, 55, 82]);
    // keepSize borrows from / returns to an all-zero trailer
    const padded = { ...m, trailer: new Uint8Array(20) };
    const a = insertRelayAgentInformation(padded, [{ kind: 'circuitId', circuitId: hex('01') }], { keepSize: true });
    expect(dhcp4Message.encodingLength(a)).toBe(dhcp4Message.encodingLength(padded));
    expect(dhcp4Message.encodingLength(stripRelayAgentInformation(a, { keepSize: true }))).toBe(dhcp4Message.encodingLength(padded));
  });

  it('requires the magic cookie and End', () => {
    const bytes = dhcp4Message.encode(base([opt(53, 1)]));
    const noEnd = bytes.slice(0, bytes.length - 1);
    const r = dhcp4Message.decode(noEnd);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toMatch(/End/);
    const badCookie = bytes.slice();
    badCookie[236] = 0;
    const c = dhcp4Message.decode(badCookie);
    expect(!c.ok && c.error).toMatchObject({ field: 'dhcp4.magicCookie', offset: 236 });
    expect(dhcp4AllOptions(base([opt(52, 9)])).ok).toBe(false);
  });
});

describe('checksums', () => {
  it('matches the RFC 1071 §3 worked example', () => {
    // words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement), checksum 220d
    expect(internetChecksum(hex('0001f203f4f5f6f7'))).toBe(0x220d);
    expect(internetChecksum(hex('0001f2'), hex('03f4f5f6f7'))).toBe(0x220d); // odd split
  });
  it('rejects a zero UDP checksum over IPv6 and accepts it over IPv4', () => {
    const v6 = { source: new Uint8Array(16).fill(1), destination: new Uint8Array(16).fill(2) };
    const bytes = encodeUdp({ sourcePort: 1, destinationPort: 2, payload: hex('00') }, v6).slice();
    bytes[6] = 0;
    bytes[7] = 0;
    expect(decodeUdp(bytes, v6)).toMatchObject({ ok: false, error: { field: 'udp.checksum', offset: 6 } });
    const v4 = { source: hex('c0000201'), destination: hex('c0000202') };
    expect(decodeUdp(bytes, v4)).toMatchObject({ ok: true, value: { noChecksum: true } });
  });
});
