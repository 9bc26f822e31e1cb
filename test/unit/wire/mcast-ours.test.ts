/**
 * The queries our router builds, judged by independent peers (golden/capture-mcast-ours.sh):
 * tshark 4.0 reads them with good checksums and the fields we meant, and the Linux
 * kernel, an IGMPv3 / MLDv2 host joined to (192.0.2.10, 232.1.1.1) and (2001:db8::10,
 * ff3e::8000:1), answers our general query with its state and our group-and-source query
 * for {joined, not joined} with IS_IN of the joined source only (RFC 3376 §5.2).
 */
import { describe, expect, it } from 'vitest';
import { goldenBytes, loadGolden, type GoldenPacket } from './golden';
import { toHex } from './kit';
import { IGMP, MLD } from '../../../src/multicast/family';
import { parseIPv4, parseIPv6 } from '../../../src/wire/address';

const packets = loadGolden('mcast-ours.json');
const f = (p: GoldenPacket, name: string): readonly string[] => p.fields[name] ?? [];
const q = { maxRespMs: 1000, suppress: false, qrv: 2, qqiSec: 125 };
const ours4 = (p: GoldenPacket) => f(p, 'ip.src')[0] === '10.0.9.1';
const ours6 = (p: GoldenPacket) => f(p, 'ipv6.src')[0] === 'fe80::ff:fe00:901';
/** The first packet after `p` from the host. */
const answerTo = (p: GoldenPacket, host: (x: GoldenPacket) => boolean) => packets.find((x) => x.frame > p.frame && host(x))!;

describe('IGMPv3 queries we build, read by tshark and answered by the Linux kernel', () => {
  const ours = packets.filter(ours4);
  const host = (x: GoldenPacket) => f(x, 'ip.src')[0] === '10.0.9.2';
  it('are byte for byte what the router builds now', () => {
    expect(ours.map((p) => p.ipHex)).toEqual([
      toHex(IGMP.buildQuery(parseIPv4('10.0.9.1')!, { ...q, level: 3, group: null, sources: [] })),
      toHex(IGMP.buildQuery(parseIPv4('10.0.9.1')!, { ...q, level: 3, group: parseIPv4('232.1.1.1')!, sources: [parseIPv4('192.0.2.10')!, parseIPv4('192.0.2.99')!] })),
    ]);
  });
  it('read as meant: checksum good, Max Resp 1 s, QRV 2, QQIC 125 s, S clear, the group and sources', () => {
    for (const p of ours) {
      expect(f(p, 'igmp.checksum.status')).toEqual(['1']);
      expect(f(p, 'igmp.version')).toEqual(['3']);
      expect([f(p, 'igmp.max_resp')[0], f(p, 'igmp.qrv')[0], f(p, 'igmp.qqic')[0], f(p, 'igmp.s')[0]]).toEqual(['10', '2', '125', '0']);
      expect(f(p, 'ip.ttl')).toEqual(['1']);
    }
    expect(f(ours[1]!, 'igmp.maddr')).toEqual(['232.1.1.1']);
    expect(f(ours[1]!, 'igmp.saddr')).toEqual(['192.0.2.10', '192.0.2.99']);
    expect(f(ours[1]!, 'ip.dst')).toEqual(['232.1.1.1']);
  });
  it('answered: IS_IN of the joined channel, to the general and to the group-and-source query', () => {
    for (const p of ours) {
      const a = answerTo(p, host);
      expect([f(a, 'igmp.record_type'), f(a, 'igmp.maddr'), f(a, 'igmp.saddr')]).toEqual([['1'], ['232.1.1.1'], ['192.0.2.10']]);
      expect(a.frame).toBeLessThan(packets.find((x) => x.frame > p.frame && ours4(x))?.frame ?? Infinity);
    }
  });
});

describe('MLDv2 queries we build, read by tshark and answered by the Linux kernel', () => {
  const ours = packets.filter(ours6);
  const host = (x: GoldenPacket) => f(x, 'ipv6.src')[0] === 'fe80::ff:fe00:902' && f(x, 'icmpv6.type')[0] === '143';
  it('are byte for byte what the router builds now', () => {
    const ll = parseIPv6('fe80::ff:fe00:901')!;
    expect(ours.map((p) => p.ipHex)).toEqual([
      toHex(MLD.buildQuery(ll, { ...q, level: 3, group: null, sources: [] })),
      toHex(MLD.buildQuery(ll, { ...q, level: 3, group: parseIPv6('ff3e::8000:1')!, sources: [parseIPv6('2001:db8::10')!, parseIPv6('2001:db8::99')!] })),
    ]);
    for (const p of ours) expect(goldenBytes(p).length).toBeGreaterThan(40);
  });
  it('read as meant: checksum good over the pseudo-header, Maximum Response Code 1000 ms, QRV 2, QQIC 125 s', () => {
    for (const p of ours) {
      expect(f(p, 'icmpv6.checksum.status')).toEqual(['1']);
      expect([f(p, 'icmpv6.mld.maximum_response_code')[0], f(p, 'icmpv6.mld.flag.qrv')[0], f(p, 'icmpv6.mld.qqi')[0], f(p, 'icmpv6.mld.flag.s')[0]]).toEqual(['1000', '2', '125', '0']);
      expect(f(p, 'ipv6.hlim')).toEqual(['1']);
    }
    expect(f(ours[1]!, 'icmpv6.mld.source_address')).toEqual(['2001:db8::10', '2001:db8::99']);
  });
  it('answered: IS_IN of the joined channel only', () => {
    const a = answerTo(ours[1]!, host);
    expect([f(a, 'icmpv6.mldr.mar.record_type'), f(a, 'icmpv6.mldr.mar.multicast_address'), f(a, 'icmpv6.mldr.mar.source_address')])
      .toEqual([['1'], ['ff3e::8000:1'], ['2001:db8::10']]);
    const g = answerTo(ours[0]!, host);
    expect(f(g, 'icmpv6.mldr.mar.source_address')).toEqual(['2001:db8::10']);
  });
});
