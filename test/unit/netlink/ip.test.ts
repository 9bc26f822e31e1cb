import { describe, expect, it } from 'vitest';
import { formatIPv6, formatLladdr, parseIPv4, parseIPv6, parseLladdr } from '../../../platform/netlink/ip';

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

describe('IPv4 and link-layer text', () => {
  it('dotted quads', () => {
    expect(parseIPv4('192.0.2.255')).toEqual(Uint8Array.from([192, 0, 2, 255]));
    for (const t of ['01.2.3.4', '1.2.3', '256.1.1.1', '1.2.3.4.', '1..2.3', '', 'a.b.c.d']) expect(parseIPv4(t)).toBeNull();
  });
  it('lladdr', () => {
    expect(formatLladdr(parseLladdr('02:AB:0:ff:10:01')!)).toBe('02:ab:00:ff:10:01');
    expect(parseLladdr('02:ab:cd')).toHaveLength(3);
    expect(parseLladdr('')).toHaveLength(0);
    expect(parseLladdr('0g:00')).toBeNull();
  });
});
