import { describe, expect, it } from 'vitest';
import {
  bytesEqual, formatAddress, formatIP, formatIPv4, formatIPv6, formatMac, formatPrefix, hostBitsZero, parseIP, parseIPv4,
  parseIPv4Into, parseIPv6, parseIPv6Into, parseMac, parsePrefix,
} from '../../../src/wire/address';
import { prng } from '../prng';

describe('IPv6 text (RFC 4291 §2.2 in, RFC 5952 out)', () => {
  it.each([
    ['::', '::'], ['::1', '::1'], ['1::', '1::'], ['fe80::1', 'fe80::1'],
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'], ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'], ['::ffff:192.0.2.1', '::ffff:c000:201'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
  ])('%s → %s', (text, canonical) => {
    const b = parseIPv6(text);
    expect(b).not.toBeNull();
    expect(formatIPv6(b!)).toBe(canonical);
    expect(Buffer.from(parseIPv6(canonical)!)).toEqual(Buffer.from(b!));
  });
  it.each([':', ':::', '1:::2', '1::2::3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '1:', ':1', '12345::', 'g::', '1.2.3.4', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4', '', 'fe80::1%eth0', '1:2:3:4:5:6:7:8::'])('rejects %j', (t) => {
    expect(parseIPv6(t)).toBeNull();
  });
  it('round trips every single-group pattern', () => {
    for (let g = 0; g < 8; g++) for (const v of [0, 1, 0xffff]) {
      const b = new Uint8Array(16);
      b[2 * g] = v >> 8;
      b[2 * g + 1] = v & 0xff;
      expect(Buffer.from(parseIPv6(formatIPv6(b))!)).toEqual(Buffer.from(b));
    }
  });
});

describe('value types (moved from config)', () => {
  it('IPv4 addresses', () => {
    expect(parseIPv4('192.0.2.1')).toEqual(new Uint8Array([192, 0, 2, 1]));
    for (const bad of ['192.0.2', '192.0.2.256', '01.2.3.4', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4/32', ''])
      expect(parseIPv4(bad)).toBeNull();
  });

  it('IPv6 addresses round-trip to RFC 5952 text', () => {
    const cases: [string, string][] = [
      ['2001:db8::1', '2001:db8::1'],
      ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
      ['::', '::'],
      ['::1', '::1'],
      ['fe80::', 'fe80::'],
      ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
      ['2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
      ['::ffff:192.0.2.1', '::ffff:c000:201'],
      ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
      ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:c000:201'],
    ];
    for (const [text, canonical] of cases) {
      const a = parseIPv6(text);
      expect(a, text).not.toBeNull();
      expect(formatIPv6(a!)).toBe(canonical);
    }
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', ':1', '1:2:3:4:5:6:7', '::1.2.3', '1:2:3:4:5:6:7:1.2.3.4'])
      expect(parseIPv6(bad), bad).toBeNull();
  });

});

describe('IPv4 and link-layer text', () => {
  it('dotted quads', () => {
    expect(parseIPv4('192.0.2.255')).toEqual(Uint8Array.from([192, 0, 2, 255]));
    for (const t of ['01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.', '1..2.3', '', 'a.b.c.d']) expect(parseIPv4(t)).toBeNull();
  });
  it('lladdr', () => {
    expect(formatMac(parseMac('02:AB:0:ff:10:01')!)).toBe('02:ab:00:ff:10:01');
    expect(parseMac('02:ab:cd')).toHaveLength(3);
    expect(parseMac('')).toHaveLength(0);
    expect(parseMac('0g:00')).toBeNull();
  });
});

describe('RFC 5952 §4 output', () => {
  it.each([
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'], // §4.2.1 shorten as much as possible
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // §4.2.2 one 16-bit 0 field is not '::'
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // §4.2.3 the longest run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // §4.2.3 the first of equal runs
    ['2001:DB8::AAAA', '2001:db8::aaaa'], // §4.3 lowercase
    ['2001:db8::0001', '2001:db8::1'], // §4.1 no leading zeros
    ['0:0:0:0:0:0:0:0', '::'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:0:0:0:0:0:0:1', '::1'],
  ])('%s → %s', (text, canonical) => {
    expect(formatIPv6(parseIPv6(text)!)).toBe(canonical);
  });

  it('formats at an offset and by length', () => {
    const b = Uint8Array.of(0xa5, 192, 0, 2, 1, 0xa5);
    expect(formatIPv4(b, 1)).toBe('192.0.2.1');
    expect(formatIP(b, 1, 4)).toBe('192.0.2.1');
    expect(formatIP(b, 0, 5)).toBeNull();
    expect(formatIP(parseIPv6('fe80::1')!)).toBe('fe80::1');
    expect(formatAddress(4, parseIPv4('10.0.0.1')!)).toBe('10.0.0.1');
    expect(formatAddress(6, parseIPv6('2001:db8::')!)).toBe('2001:db8::');
  });

  it('round trips random addresses (seeded)', () => {
    const rnd = prng(5952);
    for (let n = 0; n < 2000; n++) {
      const b = new Uint8Array(16);
      // mostly zero groups, so that '::' placement is exercised
      for (let g = 0; g < 8; g++) if (rnd() < 0.4) { b[2 * g] = (rnd() * 256) | 0; b[2 * g + 1] = (rnd() * 256) | 0; }
      const text = formatIPv6(b);
      expect(Buffer.from(parseIPv6(text)!), text).toEqual(Buffer.from(b));
      expect(formatIPv6(parseIPv6(text.toUpperCase())!)).toBe(text);
      const v4 = b.subarray(0, 4);
      expect(Buffer.from(parseIPv4(formatIPv4(v4))!)).toEqual(Buffer.from(v4));
    }
  });
});

describe('hostile text never throws', () => {
  it.each([
    '::ffff:1.2.3.4.5', '::ffff:256.1.1.1', '1::2:3:4:5:6:7:8', '::1::', ':::1', '1:2:3:4:5:6:7:8:', 'ffff1::', '::g',
    '1.2.3.4::', '::1.2.3.04', ' ::1', '::1 ', '[::1]', '::1/128', '\u0000', '١.٢.٣.٤', 'x'.repeat(100000), ':'.repeat(1000),
    '0'.repeat(1000), '1:'.repeat(500),
  ])('rejects %j', (t) => {
    expect(parseIPv6(t)).toBeNull();
    expect(parseIPv4(t)).toBeNull();
    expect(parseIP(t)).toBeNull();
  });

  it('random bytes as text', () => {
    const rnd = prng(4291);
    const alphabet = '0123456789abcdefABCDEF:.%/ g';
    for (let n = 0; n < 5000; n++) {
      let t = '';
      const len = (rnd() * 46) | 0;
      for (let i = 0; i < len; i++) t += alphabet[(rnd() * alphabet.length) | 0];
      const v6 = parseIPv6(t);
      if (v6) expect(Buffer.from(parseIPv6(formatIPv6(v6))!)).toEqual(Buffer.from(v6));
      const v4 = parseIPv4(t);
      if (v4) expect(formatIPv4(v4)).toBe(t);
      parseMac(t);
      parsePrefix(t);
    }
  });

  it('the Into forms write only their own bytes', () => {
    const out = new Uint8Array(24).fill(0xa5);
    expect(parseIPv6Into('2001:db8::1', out, 4)).toBe(true);
    expect([...out.subarray(0, 4), ...out.subarray(20)]).toEqual(new Array(8).fill(0xa5));
    expect(formatIPv6(out, 4)).toBe('2001:db8::1');
    const out4 = new Uint8Array(8).fill(0xa5);
    expect(parseIPv4Into('x192.0.2.1x', 1, 10, out4, 2)).toBe(true);
    expect([...out4]).toEqual([0xa5, 0xa5, 192, 0, 2, 1, 0xa5, 0xa5]);
  });
});

describe('prefixes, MACs, equality', () => {
  it('prefixes', () => {
    expect(parsePrefix('2001:db8::/56')).toEqual({ family: 6, address: parseIPv6('2001:db8::'), length: 56 });
    expect(parsePrefix('192.0.2.0/24', 4)).toEqual({ family: 4, address: parseIPv4('192.0.2.0'), length: 24 });
    for (const bad of ['192.0.2.0/33', '192.0.2.0', '2001:db8::/129', '2001:db8::/-1', '2001:db8::/0x10', '/8', '10.0.0.0/8/8']) {
      expect(parsePrefix(bad), bad).toBeNull();
    }
    expect(parsePrefix('2001:db8::/56', 4)).toBeNull();
    expect(formatPrefix({ family: 6, address: parseIPv6('2001:db8:1::')!, length: 48 })).toBe('2001:db8:1::/48');
    expect(hostBitsZero(parseIPv6('2001:db8::')!, 32)).toBe(true);
    expect(hostBitsZero(parseIPv6('2001:db8::1')!, 64)).toBe(false);
  });

  it('MACs', () => {
    expect(formatMac(Uint8Array.of(2, 0, 0x5e, 0x10, 0, 0xff))).toBe('02:00:5e:10:00:ff');
    expect(formatMac(Uint8Array.of(0xa5, 1, 2, 0xa5), 1, 2)).toBe('01:02');
    expect(parseMac('01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:20:21')).toBeNull();
    for (const bad of [':', '1::2', '123:4', 'zz', '01-02-03']) expect(parseMac(bad), bad).toBeNull();
  });

  it('bytesEqual', () => {
    expect(bytesEqual(null, null)).toBe(true);
    expect(bytesEqual(Uint8Array.of(1), null)).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
  });
});
