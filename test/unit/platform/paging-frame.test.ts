import { describe, expect, it } from 'vitest';
import { isUdpTo, pagingFrame, readHostDatagram } from '../../../platform/paging-frame';
import { ipv4Udp, ipv6Udp } from '../../../src/wire/udp';
import { ipv4Packet, ipv6Packet, v4, v6 } from '../relay/kit';

/**
 * The paging datagrams at a subscriber port's packet socket: a host message read from
 * its frame (never throwing on hostile bytes), and the agent's sends built with the
 * relay's frame builders, to the link-layer destination of their kind.
 */
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

describe('paging frames (platform/paging-frame.ts)', () => {
  it('reads a host datagram with its source, source port and payload', () => {
    const f4 = ipv4Packet(v4('10.1.0.50'), v4('10.1.0.1'), 40000, 3154, Uint8Array.of(1, 2, 3));
    expect(isUdpTo(4, f4, 3154)).toBe(true);
    expect(isUdpTo(4, f4, 67)).toBe(false);
    const d = readHostDatagram(4, f4, 'check');
    expect(typeof d === 'string' ? d : [[...d.source].join('.'), d.sourcePort, [...d.payload]]).toEqual(['10.1.0.50', 40000, [1, 2, 3]]);
    const f6 = ipv6Packet(v6('fe80::50'), v6('fe80::1'), 40001, 3154, Uint8Array.of(9));
    expect(isUdpTo(6, f6, 3154)).toBe(true);
    const d6 = readHostDatagram(6, f6, 'check');
    expect(typeof d6 === 'string' ? d6 : [d6.sourcePort, [...d6.payload]]).toEqual([40001, [9]]);
  });

  it('never throws on hostile bytes: truncated, bad checksum, garbage', () => {
    const f4 = ipv4Packet(v4('10.1.0.50'), v4('10.1.0.1'), 40000, 3154, Uint8Array.of(1, 2, 3));
    f4[f4.length - 1] = f4[f4.length - 1]! ^ 0xff;
    expect(typeof readHostDatagram(4, f4, 'check')).toBe('string');
    expect(typeof readHostDatagram(4, f4, 'unfinished')).toBe('object');
    for (let n = 0; n < 48; n++) {
      expect(() => readHostDatagram(4, f4.subarray(0, n), 'check')).not.toThrow();
      expect(() => readHostDatagram(6, new Uint8Array(n).fill(0x60), 'check')).not.toThrow();
      expect(() => isUdpTo(4, f4.subarray(0, n), 3154)).not.toThrow();
      expect(() => isUdpTo(6, new Uint8Array(n), 3154)).not.toThrow();
    }
  });

  it('sends wide casts to the broadcast / all-nodes MACs and an ack to the host MAC, from the paging port', () => {
    const payload = Uint8Array.of(7, 7);
    const host = Uint8Array.of(2, 0, 0, 0, 0, 0x50);
    const base = { kind: 'paging-send', port: 'lan1', destinationPort: 3154, payload } as const;
    const b4 = pagingFrame({ ...base, family: 4, destination: v4('255.255.255.255') }, v4('10.1.0.1'), 3154)!;
    expect(hex(b4.mac)).toBe('ff:ff:ff:ff:ff:ff');
    const d4 = ipv4Udp.decode(b4.bytes);
    expect(d4.ok && [[...d4.value.ip.source].join('.'), d4.value.udp.sourcePort, d4.value.udp.destinationPort]).toEqual(['10.1.0.1', 3154, 3154]);
    const b6 = pagingFrame({ ...base, family: 6, destination: v6('ff02::1') }, v6('fe80::1'), 3154)!;
    expect(hex(b6.mac)).toBe('33:33:00:00:00:01');
    expect(ipv6Udp.decode(b6.bytes).ok).toBe(true);
    const ack = pagingFrame({ ...base, family: 4, destination: v4('10.1.0.50'), destinationPort: 40000, destinationMac: host }, v4('10.1.0.1'), 3154)!;
    expect(hex(ack.mac)).toBe('02:00:00:00:00:50');
    expect(pagingFrame({ ...base, family: 4, destination: v4('10.1.0.50') }, v4('10.1.0.1'), 3154)).toBeNull();
  });
});
