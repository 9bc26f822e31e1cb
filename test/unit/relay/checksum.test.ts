/**
 * The kernel's checksum status of a subscriber frame (PACKET_AUXDATA tp_status): a client
 * behind a veth / tap / virtio port with tx checksum offload sends UDP whose Checksum
 * holds only the pseudo-header sum, and the kernel marks the frame "unfinished". Such a
 * frame is relayed; the same bytes without the mark are malformed.
 */
import { describe, expect, it } from 'vitest';
import { dhcp6Message, ipv4UdpUnverified, pseudoHeaderSum } from '../../../src/wire';
import { DISCOVER, SOLICIT, T0, client4, client6, decode4, dropLog, duidOf, kinds, macOf, only, packet4, packet6, portStatus, started, v4, v6 } from './kit';

const MAC1 = macOf(1);

/** What Linux leaves in the UDP Checksum of a CHECKSUM_PARTIAL skb: the folded pseudo-header sum. */
function unfinished(bytes: Uint8Array, udpAt: number, source: Uint8Array, destination: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const length = (out[udpAt + 4]! << 8) | out[udpAt + 5]!;
  let sum = pseudoHeaderSum(source, destination, 17, length);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  out[udpAt + 6] = sum >> 8;
  out[udpAt + 7] = sum & 0xff;
  return out;
}

function withChecksum(bytes: Uint8Array, udpAt: number, value: number): Uint8Array {
  const out = bytes.slice();
  out[udpAt + 6] = value >> 8;
  out[udpAt + 7] = value & 0xff;
  return out;
}

describe('UDP checksum status from the kernel', () => {
  const p4 = packet4('lan1', MAC1, client4(DISCOVER, MAC1));
  const bytes4 = unfinished(p4.bytes, 20, new Uint8Array(4), v4('255.255.255.255'));
  const link = v6('fe80::1');
  const p6 = packet6('lan1', MAC1, link, dhcp6Message.encode(client6(SOLICIT, duidOf(1))));
  const bytes6 = unfinished(p6.bytes, 40, link, v6('ff02::1:2'));

  it("'check' (no mark): an unfinished or garbage checksum is dropped as malformed", () => {
    for (const [p, bytes] of [[p4, bytes4], [p6, bytes6], [p4, withChecksum(p4.bytes, 20, 0x1234)]] as const) {
      const m = started();
      expect(m.handle({ ...p, bytes }, T0)).toEqual([dropLog('lan1', 'malformed', 'udp.checksum')]);
      expect(portStatus(m, 'lan1').dropped['malformed']).toBe(1);
    }
  });

  it("'unfinished': the frame is relayed, and the relayed request is the client's DHCP message", () => {
    const m = started();
    const actions = m.handle({ ...p4, bytes: bytes4, checksum: 'unfinished' }, T0);
    expect(kinds(actions)).toEqual(['udp-send', 'udp-send']);
    // A udp-send carries the DHCP payload only: the kernel writes the new UDP header,
    // so no unfinished checksum can reach the wire.
    expect(decode4(only(actions, 'udp-send')[0]!.payload).chaddr.subarray(0, 6)).toEqual(MAC1);
    const a6 = m.handle({ ...p6, bytes: bytes6, checksum: 'unfinished' }, T0);
    expect(kinds(a6)).toContain('udp-send');
    expect(portStatus(m, 'lan1').dropped['malformed'] ?? 0).toBe(0);
  });

  it("'unfinished' and 'valid' skip even a zero checksum over IPv6 and garbage over IPv4", () => {
    for (const checksum of ['unfinished', 'valid'] as const) {
      const m = started();
      expect(kinds(m.handle({ ...p6, bytes: withChecksum(p6.bytes, 40, 0), checksum }, T0))).toContain('udp-send');
      expect(kinds(m.handle({ ...p4, bytes: withChecksum(p4.bytes, 20, 0xbeef), checksum }, T0))).toEqual(['udp-send', 'udp-send']);
    }
  });

  it('the other checks still apply to an unverified frame (IPv4 header checksum, UDP length)', () => {
    const badHeader = bytes4.slice();
    badHeader[10]! ^= 0xff;
    expect(ipv4UdpUnverified.decode(badHeader)).toMatchObject({ ok: false, error: { field: 'ipv4.headerChecksum' } });
    const badLength = withChecksum(bytes4, 20, 0);
    badLength[25] = (badLength[25]! + 1) & 0xff;
    expect(ipv4UdpUnverified.decode(badLength)).toMatchObject({ ok: false, error: { field: 'udp.length' } });
    const m = started();
    expect(m.handle({ ...p4, bytes: badHeader, checksum: 'unfinished' }, T0)).toEqual([dropLog('lan1', 'malformed', 'ipv4.headerChecksum')]);
  });
});
