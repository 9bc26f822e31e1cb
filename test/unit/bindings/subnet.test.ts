import { describe, expect, it } from 'vitest';
import { inSubnets } from '../../../src/bindings/subnet';
import { prefix } from '../../../src/config/types';
import { parseIPv4, parseIPv6, type Prefix } from '../../../src/wire/address';

const p4 = (s: string): Prefix => { const r = prefix(4).parse(s); if (!r.ok) throw new Error(r.error); return r.value; };
const p6 = (s: string): Prefix => { const r = prefix(6).parse(s); if (!r.ok) throw new Error(r.error); return r.value; };
const a4 = (s: string) => parseIPv4(s)!;
const a6 = (s: string) => parseIPv6(s)!;

describe('inSubnets: a gleaned lease must lie within one of the port\'s subnets', () => {
  const v4 = [p4('198.51.100.0/24'), p4('203.0.113.128/25')];
  const v6 = [p6('2001:db8:1::/64'), p6('2001:db8:100::/40')];

  it('an empty list (the default) restricts nothing', () => {
    expect(inSubnets([], 4, a4('192.0.2.9'), 32)).toBe(true);
    expect(inSubnets([], 6, a6('2001:db8::9'), 128)).toBe(true);
  });

  it('accepts host addresses inside, refuses them outside, at both edges of each subnet', () => {
    expect(inSubnets(v4, 4, a4('198.51.100.0'), 32)).toBe(true);
    expect(inSubnets(v4, 4, a4('198.51.100.255'), 32)).toBe(true);
    expect(inSubnets(v4, 4, a4('198.51.101.0'), 32)).toBe(false);
    expect(inSubnets(v4, 4, a4('198.51.99.255'), 32)).toBe(false);
    expect(inSubnets(v4, 4, a4('203.0.113.128'), 32)).toBe(true); // second subnet
    expect(inSubnets(v4, 4, a4('203.0.113.127'), 32)).toBe(false); // just below a /25 (bit 25 differs)
    expect(inSubnets(v6, 6, a6('2001:db8:1::1234'), 128)).toBe(true);
    expect(inSubnets(v6, 6, a6('2001:db8:2::1'), 128)).toBe(false);
  });

  it('a /32 or /128 subnet admits exactly its one address', () => {
    expect(inSubnets([p4('192.0.2.7/32')], 4, a4('192.0.2.7'), 32)).toBe(true);
    expect(inSubnets([p4('192.0.2.7/32')], 4, a4('192.0.2.6'), 32)).toBe(false);
    expect(inSubnets([p6('2001:db8::7/128')], 6, a6('2001:db8::7'), 128)).toBe(true);
    expect(inSubnets([p6('2001:db8::7/128')], 6, a6('2001:db8::6'), 128)).toBe(false);
  });

  it('a /0 subnet admits everything of its family', () => {
    expect(inSubnets([p4('0.0.0.0/0')], 4, a4('8.8.8.8'), 32)).toBe(true);
    expect(inSubnets([p6('::/0')], 6, a6('2001:db8:ffff::'), 48)).toBe(true);
  });

  it('a delegated prefix must be at least as long as the subnet and inside it', () => {
    expect(inSubnets(v6, 6, a6('2001:db8:1ab:cd00::'), 56)).toBe(true); // a /56 of the /40 PD pool
    expect(inSubnets(v6, 6, a6('2001:db8:100::'), 40)).toBe(true); // the whole pool, exactly
    expect(inSubnets(v6, 6, a6('2001:db8:100::'), 39)).toBe(false); // longer than the subnet: reaches past it
    expect(inSubnets(v6, 6, a6('2001:db8::'), 32)).toBe(false); // contains both subnets, lies in neither
    expect(inSubnets(v6, 6, a6('2001:db8:200::'), 56)).toBe(false);
    expect(inSubnets(v4, 4, a4('198.51.100.0'), 24)).toBe(true);
    expect(inSubnets(v4, 4, a4('198.51.100.0'), 23)).toBe(false);
  });

  it('host bits past the binding\'s length are ignored; bits inside it count', () => {
    // 2001:db8:100::/40 — 2001:db8:1ff:ffff::/56 has its first 40 bits equal to the pool's
    expect(inSubnets(v6, 6, a6('2001:db8:1ff:ff00::'), 56)).toBe(true);
    expect(inSubnets(v6, 6, a6('2001:db8:100::ffff'), 56)).toBe(true); // host bits set, still inside
    // a subnet written with a non-byte-aligned length: bit 25 decides
    expect(inSubnets([p4('10.0.0.0/25')], 4, a4('10.0.0.127'), 32)).toBe(true);
    expect(inSubnets([p4('10.0.0.0/25')], 4, a4('10.0.0.128'), 32)).toBe(false);
    expect(inSubnets([p6('2001:db8:1::/63')], 6, a6('2001:db8:1:1::'), 64)).toBe(true);
    expect(inSubnets([p6('2001:db8:1::/63')], 6, a6('2001:db8:1:2::'), 64)).toBe(false);
  });

  it('only subnets of the lease\'s family count', () => {
    // only IPv4 subnets configured: IPv6 is unrestricted, and vice versa
    expect(inSubnets(v4, 6, a6('2001:db8:ffff::1'), 128)).toBe(true);
    expect(inSubnets(v6, 4, a4('192.0.2.1'), 32)).toBe(true);
    // both configured: an IPv4-mapped IPv6 address does not match an IPv4 subnet
    expect(inSubnets([...v4, ...v6], 6, a6('::ffff:198.51.100.1'), 128)).toBe(false);
    expect(inSubnets([...v4, ...v6], 4, a4('198.51.100.1'), 32)).toBe(true);
  });

  it('malformed input is refused, not thrown', () => {
    expect(inSubnets(v4, 4, a6('2001:db8:1::1'), 32)).toBe(false); // 16 bytes labelled IPv4
    expect(inSubnets(v4, 4, a4('198.51.100.1'), 33)).toBe(false);
    expect(inSubnets(v6, 6, a6('2001:db8:1::1'), -1)).toBe(false);
    expect(inSubnets([], 4, a4('198.51.100.1'), 1.5)).toBe(false);
  });
});
