import { describe, expect, it } from 'vitest';
import { bool, hexBytes, prefix, uint } from '../../../src/config/types';

describe('value types', () => {
  it('prefixes reject host bits and bad lengths', () => {
    expect(prefix(6).parse('2001:db8::/32').ok).toBe(true);
    expect(prefix(6).parse('2001:db8::1/64')).toEqual({ ok: false, error: '"2001:db8::1/64" has host bits set' });
    expect(prefix(4).parse('10.0.0.0/33').ok).toBe(false);
    expect(prefix(4).parse('10.0.0.0').ok).toBe(false);
  });

  it('booleans accept the libuci spellings only', () => {
    for (const t of ['1', 'on', 'true', 'yes', 'enabled', 'TRUE']) expect(bool.parse(t)).toEqual({ ok: true, value: true });
    for (const f of ['0', 'off', 'false', 'no', 'disabled']) expect(bool.parse(f)).toEqual({ ok: true, value: false });
    expect(bool.parse('2').ok).toBe(false);
  });

  it('integers are bounded and decimal only', () => {
    expect(uint(1, 10).parse('10')).toEqual({ ok: true, value: 10 });
    for (const bad of ['11', '0', '-1', '1e3', '0x10', '', '99999999999']) expect(uint(1, 10).parse(bad).ok).toBe(false);
  });

  it('hex octets', () => {
    expect(hexBytes(4).parse('00:01:0a:FF')).toEqual({ ok: true, value: new Uint8Array([0, 1, 10, 255]) });
    expect(hexBytes(4).parse('000102030405').ok).toBe(false);
    expect(hexBytes(4).parse('abc').ok).toBe(false);
  });
});
