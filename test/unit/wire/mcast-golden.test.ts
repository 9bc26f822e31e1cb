/**
 * Golden IGMP / MLD vectors captured from real peers (golden/capture-mcast.sh): the
 * Linux kernel as the host joining with MCAST_JOIN_SOURCE_GROUP / IP_ADD_SOURCE_MEMBERSHIP
 * (v3 / v2 reports, state-change and current-state records, IGMPv2 Leave, IGMPv1 report,
 * MLDv1 report / Done) and the Linux bridge querier (IGMPv3 / v2 and MLDv2 / v1
 * general queries). Our decoders must read what tshark 4.0 reads, and re-encode each
 * capture byte for byte (so our checksums are the kernel's).
 */
import { describe, expect, it } from 'vitest';
import { goldenBytes, loadGolden, type GoldenPacket } from './golden';
import { runCodecKit, toHex } from './kit';
import { formatIPv4, formatIPv6 } from '../../../src/wire/address';
import { igmpPacket, type IgmpMessage } from '../../../src/wire/igmp';
import { mldPacket, hasMldRouterAlert, type MldMessage } from '../../../src/wire/mld';
import { code8, code16, type GroupRecord } from '../../../src/wire/mcast';

const packets = loadGolden('mcast.json');
const f = (p: GoldenPacket, name: string): readonly string[] => p.fields[name] ?? [];
const v4 = packets.filter((p) => p.fields['igmp.type'] !== undefined);
const v6 = packets.filter((p) => p.fields['icmpv6.type'] !== undefined);
const hex0x = (n: number) => `0x${n.toString(16).padStart(2, '0')}`;

function must<T>(r: { ok: true; value: T } | { ok: false; error: unknown }): T {
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

const records = (rs: readonly GroupRecord[], fmt: (b: Uint8Array) => string) => ({
  types: rs.map((g) => String(g.type)),
  groups: rs.map((g) => fmt(g.group)),
  counts: rs.map((g) => String(g.sources.length)),
  sources: rs.flatMap((g) => g.sources.map((s) => fmt(s))),
});

describe('golden IGMP from the Linux kernel and bridge querier (tshark 4.0)', () => {
  it('has every message kind the router reads', () => {
    const kinds = new Set(v4.map((p) => must(igmpPacket.decode(goldenBytes(p))).message.kind));
    expect([...kinds].sort()).toEqual(['leave2', 'query12', 'query3', 'report1', 'report2', 'report3']);
  });

  it.each(v4.map((p) => [p.frame, p] as const))('frame %i reads as tshark reads it', (_n, p) => {
    const d = must(igmpPacket.decode(goldenBytes(p)));
    expect(toHex(igmpPacket.encode(d))).toBe(p.ipHex);
    expect(d.header.ttl).toBe(1);
    expect(formatIPv4(d.header.source)).toBe(f(p, 'ip.src')[0]);
    const m: IgmpMessage = d.message;
    expect(hex0x(m.kind === 'other' ? m.type : { query12: 0x11, query3: 0x11, report1: 0x12, report2: 0x16, leave2: 0x17, report3: 0x22 }[m.kind]))
      .toBe(f(p, 'igmp.type')[0]);
    expect(f(p, 'igmp.checksum.status')).toEqual(['1']);
    switch (m.kind) {
      case 'query3':
        expect(f(p, 'igmp.version')).toEqual(['3']);
        expect(String(code8.decode(m.maxRespCode))).toBe(f(p, 'igmp.max_resp')[0]);
        expect(formatIPv4(m.group)).toBe(f(p, 'igmp.maddr')[0]);
        expect(String(Number(m.suppress))).toBe(f(p, 'igmp.s')[0]);
        expect(String(m.qrv)).toBe(f(p, 'igmp.qrv')[0]);
        expect(String(code8.decode(m.qqic))).toBe(f(p, 'igmp.qqic')[0]);
        expect(String(m.sources.length)).toBe(f(p, 'igmp.num_src')[0]);
        break;
      case 'query12': case 'report2': case 'leave2':
        expect(String(m.maxRespCode)).toBe(f(p, 'igmp.max_resp')[0]);
        expect(formatIPv4(m.group)).toBe(f(p, 'igmp.maddr')[0]);
        break;
      case 'report1':
        expect(f(p, 'igmp.version')).toEqual(['1']);
        expect(formatIPv4(m.group)).toBe(f(p, 'igmp.maddr')[0]);
        break;
      case 'report3': {
        expect(String(m.records.length)).toBe(f(p, 'igmp.num_grp_recs')[0]);
        const r = records(m.records, formatIPv4);
        expect(r.types).toEqual(f(p, 'igmp.record_type'));
        expect(r.groups).toEqual(f(p, 'igmp.maddr'));
        expect(r.counts).toEqual(f(p, 'igmp.num_src'));
        expect(r.sources).toEqual(f(p, 'igmp.saddr'));
        break;
      }
      default: throw new Error(`unexpected ${m.kind}`);
    }
  });
});

describe('golden MLD from the Linux kernel and bridge querier (tshark 4.0)', () => {
  it('has every message kind the router reads', () => {
    const kinds = new Set(v6.map((p) => must(mldPacket.decode(goldenBytes(p))).message.kind));
    expect([...kinds].sort()).toEqual(['done1', 'query1', 'query2', 'report1', 'report2']);
  });

  it.each(v6.map((p) => [p.frame, p] as const))('frame %i reads as tshark reads it', (_n, p) => {
    const d = must(mldPacket.decode(goldenBytes(p)));
    expect(toHex(mldPacket.encode(d))).toBe(p.ipHex);
    expect(d.header.hopLimit).toBe(1);
    expect(hasMldRouterAlert(d.hopByHop)).toBe(true);
    expect(formatIPv6(d.header.source)).toBe(f(p, 'ipv6.src')[0]);
    const m: MldMessage = d.message;
    expect(f(p, 'icmpv6.checksum.status')).toEqual(['1']);
    switch (m.kind) {
      case 'query2':
        expect(f(p, 'icmpv6.type')).toEqual(['130']);
        expect(String(code16.decode(m.maxRespCode))).toBe(f(p, 'icmpv6.mld.maximum_response_code')[0]);
        expect(formatIPv6(m.address)).toBe(f(p, 'icmpv6.mld.multicast_address')[0]);
        expect(String(Number(m.suppress))).toBe(f(p, 'icmpv6.mld.flag.s')[0]);
        expect(String(m.qrv)).toBe(f(p, 'icmpv6.mld.flag.qrv')[0]);
        expect(String(code8.decode(m.qqic))).toBe(f(p, 'icmpv6.mld.qqi')[0]);
        expect(String(m.sources.length)).toBe(f(p, 'icmpv6.mld.nb_sources')[0]);
        break;
      case 'query1': case 'report1': case 'done1':
        expect(f(p, 'icmpv6.type')).toEqual([{ query1: '130', report1: '131', done1: '132' }[m.kind]]);
        expect(String(m.maxRespDelay)).toBe(f(p, 'icmpv6.mld.maximum_response_delay')[0]);
        expect(formatIPv6(m.address)).toBe(f(p, 'icmpv6.mld.multicast_address')[0]);
        break;
      case 'report2': {
        expect(f(p, 'icmpv6.type')).toEqual(['143']);
        expect(String(m.records.length)).toBe(f(p, 'icmpv6.mldr.nb_mcast_records')[0]);
        const r = records(m.records, formatIPv6);
        expect(r.types).toEqual(f(p, 'icmpv6.mldr.mar.record_type'));
        expect(r.groups).toEqual(f(p, 'icmpv6.mldr.mar.multicast_address'));
        expect(r.counts).toEqual(f(p, 'icmpv6.mldr.mar.nb_sources'));
        expect(r.sources).toEqual(f(p, 'icmpv6.mldr.mar.source_address'));
        break;
      }
      default: throw new Error(`unexpected ${m.kind}`);
    }
  });
});

const pick = <T>(codec: { decode(b: Uint8Array): { ok: boolean } }, ps: readonly GoldenPacket[], kind: (v: T) => string, n = 12) => {
  // One of each kind, a few of the largest: the kit's hostile passes are per byte.
  const seen = new Map<string, Uint8Array>();
  for (const p of ps) {
    const r = codec.decode(goldenBytes(p)) as { ok: true; value: T };
    const k = kind(r.value);
    const b = goldenBytes(p);
    if (!seen.has(k) || seen.get(k)!.length < b.length) seen.set(k, b);
  }
  return [...seen.values()].slice(0, n);
};

runCodecKit('IGMP packets captured from Linux', {
  codec: igmpPacket,
  vectors: pick(igmpPacket, v4, (v: { message: IgmpMessage }) => v.message.kind),
  flips: 300,
});
runCodecKit('MLD packets captured from Linux', {
  codec: mldPacket,
  vectors: pick(mldPacket, v6, (v: { message: MldMessage }) => v.message.kind),
  flips: 300,
});
