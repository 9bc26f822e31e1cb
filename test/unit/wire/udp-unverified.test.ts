/**
 * `ipv4UdpUnverified` / `ipv6UdpUnverified`: the IP+UDP codecs for frames whose UDP
 * checksum the kernel reports unfinished (tx offload) or already verified. They are the
 * verifying codecs except for the Checksum field, so the shared kit's "accepted means
 * re-encoded byte for byte" holds for every byte but those two; the rest of the kit's
 * hostile-input checks are repeated here on the captured vectors.
 */
import { describe, expect, it } from 'vitest';
import { ipv4Udp, ipv4UdpUnverified, ipv6Udp, ipv6UdpUnverified, type Codec } from '../../../src/wire';
import { goldenBytes, loadGolden } from './golden';
import { prng, toHex } from './kit';

const cases: [string, Codec<unknown>, Codec<unknown>, Uint8Array[], number][] = [
  ['IPv4', ipv4UdpUnverified as Codec<unknown>, ipv4Udp as Codec<unknown>, loadGolden('dhcp4-relay.json').map(goldenBytes), 0],
  ['IPv6', ipv6UdpUnverified as Codec<unknown>, ipv6Udp as Codec<unknown>, loadGolden('dhcp6-relay.json').map(goldenBytes), 40],
];

/** Accepted → re-encoded identically but for the UDP Checksum; refused → a named field. */
function check(codec: Codec<unknown>, bytes: Uint8Array, udpAt: (b: Uint8Array) => number): void {
  let res!: ReturnType<Codec<unknown>['decode']>;
  expect(() => { res = codec.decode(bytes); }).not.toThrow();
  if (!res.ok) {
    expect(res.error.field.length).toBeGreaterThan(0);
    expect(res.error.offset).toBeGreaterThanOrEqual(0);
    expect(res.error.offset).toBeLessThanOrEqual(bytes.length);
    return;
  }
  const out = codec.encode(res.value);
  const at = udpAt(bytes) + 6;
  const blank = (b: Uint8Array) => { const c = b.slice(); c[at] = 0; c[at + 1] = 0; return toHex(c); };
  expect(blank(out)).toBe(blank(bytes));
}

describe.each(cases)('%s+UDP with the checksum not verified', (_, codec, verifying, vectors, fixedUdpAt) => {
  const udpAt = (b: Uint8Array) => (fixedUdpAt || (b[0]! & 0x0f) * 4);

  it('decodes every captured vector as the verifying codec does', () => {
    for (const v of vectors) expect(codec.decode(v)).toEqual(verifying.decode(v));
  });

  it('accepts any checksum, and the value is the same as with a correct one', () => {
    for (const v of vectors) {
      const bad = v.slice();
      bad[udpAt(v) + 6] = bad[udpAt(v) + 6]! ^ 0x5a;
      expect(verifying.decode(bad)).toMatchObject({ ok: false, error: { field: 'udp.checksum' } });
      expect(codec.decode(bad)).toEqual(verifying.decode(v));
    }
  });

  it('never throws on truncations, seeded byte flips and huge lengths', () => {
    const rnd = prng(0x5eed);
    for (const v of vectors) {
      for (let n = 0; n < v.length; n++) check(codec, v.slice(0, n), udpAt);
      for (let i = 0; i < 200; i++) {
        const m = v.slice();
        for (let j = 0; j < 1 + Math.floor(rnd() * 3); j++) {
          const at = Math.floor(rnd() * m.length);
          m[at] = m[at]! ^ (1 + Math.floor(rnd() * 255));
        }
        check(codec, m, udpAt);
      }
      for (let at = 0; at < v.length; at++) {
        const one = v.slice();
        one[at] = 0xff;
        check(codec, one, udpAt);
      }
    }
  });
});
