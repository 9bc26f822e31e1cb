/** The shared kit over every codec in src/wire, with captured and hand-built vectors. */
import { describe, expect, it } from 'vitest';
import { runCodecKit, hex } from './kit';
import { goldenBytes, loadGolden } from './golden';
import { ipv4Datagram, type Ipv4Datagram } from '../../../src/wire/ipv4';
import { ipv6Packet } from '../../../src/wire/ipv6';
import { ipv4Udp, ipv6Udp, udpCodec, type Ipv4UdpDatagram } from '../../../src/wire/udp';
import { dhcp4Message } from '../../../src/wire/dhcp4';
import { relayAgentInformation, type RelayAgentInformation } from '../../../src/wire/dhcp4-relay-agent';
import { duid, type Duid } from '../../../src/wire/duid';
import { dhcp6Message, type Dhcp6Message } from '../../../src/wire/dhcp6';
import type { Dhcp6Option } from '../../../src/wire/dhcp6-options';

const v4 = loadGolden('dhcp4-relay.json').map(goldenBytes);
const v6 = loadGolden('dhcp6-relay.json').map(goldenBytes);

const a4 = (...b: number[]) => new Uint8Array(b);
const a6 = (last: number, first = 0x20, second = 0x01) => {
  const a = new Uint8Array(16);
  a[0] = first;
  a[1] = second;
  a[2] = 0x0d;
  a[3] = 0xb8;
  a[15] = last;
  return a;
};

// ---- IPv4 / IPv6 / UDP -----------------------------------------------------------------

const ipv4Value: Ipv4Datagram = {
  header: {
    tos: 0xc0, identification: 0x1234, flags: 0b010, fragmentOffset: 0, ttl: 1, protocol: 2,
    source: a4(192, 0, 2, 1), destination: a4(224, 0, 0, 22), options: a4(0x94, 0x04, 0x00, 0x00), // Router Alert
  },
  payload: a4(0x22, 0, 0xf9, 0x02, 0, 0, 0, 0),
};
runCodecKit('IPv4 datagram', { codec: ipv4Datagram, vectors: v4, values: [ipv4Value] });

const udpV4: Ipv4UdpDatagram = {
  ip: { ...ipv4Value.header, options: new Uint8Array(0), protocol: 17, destination: a4(192, 0, 2, 2) },
  udp: { sourcePort: 67, destinationPort: 68, payload: a4(1, 2, 3) },
};
const udpV4NoSum: Ipv4UdpDatagram = { ...udpV4, udp: { ...udpV4.udp, noChecksum: true } };
runCodecKit('IPv4+UDP', { codec: ipv4Udp, vectors: v4, values: [udpV4, udpV4NoSum] });

runCodecKit('IPv6 packet', { codec: ipv6Packet, vectors: v6 });
runCodecKit('IPv6+UDP', {
  codec: ipv6Udp,
  vectors: v6,
  values: [{
    ip: { trafficClass: 0, flowLabel: 0xabcde, nextHeader: 17, hopLimit: 32, source: a6(1), destination: a6(2) },
    udp: { sourcePort: 547, destinationPort: 546, payload: a4(7, 0xaa, 0xbb, 0xcc) },
  }],
});
runCodecKit('UDP with known IPv6 addresses (raw AF_INET6 path)', {
  codec: udpCodec({ source: a6(1), destination: a6(2) }),
  values: [{ sourcePort: 546, destinationPort: 547, payload: a4(1, 0, 0, 1) }, { sourcePort: 1, destinationPort: 2, payload: new Uint8Array(0) }],
});

// ---- DHCPv4 ------------------------------------------------------------------------------

const dhcp4Payloads = v4.map((b) => {
  const r = ipv4Udp.decode(b);
  if (!r.ok) throw new Error('bad golden');
  return r.value.udp.payload;
});
runCodecKit('DHCPv4 message', { codec: dhcp4Message, vectors: dhcp4Payloads, flips: 100 });

const rai: RelayAgentInformation = [
  { kind: 'circuitId', circuitId: a4(0x65, 0x74, 0x68, 0x30) },
  { kind: 'remoteId', remoteId: a4(2, 0, 0, 0, 0, 0xc1) },
  { kind: 'linkSelection', address: a4(10, 0, 2, 0) },
  { kind: 'serverIdOverride', address: a4(10, 0, 2, 1) },
  { kind: 'relayId', relayId: a4(0, 3, 0, 1, 2, 0, 0, 0, 0, 1) },
  { kind: 'relayPort', port: 1067 },
  { kind: 'unknown', code: 151, data: a4(9, 9) },
];
runCodecKit('DHCPv4 option 82 body', { codec: relayAgentInformation, values: [rai, []] });

// ---- DUID, DHCPv6 ------------------------------------------------------------------------

const duids: Duid[] = [
  { type: 'llt', hardwareType: 1, time: 0x12345678, linkLayerAddress: a4(2, 0, 0, 0, 0, 0xc1) },
  { type: 'en', enterpriseNumber: 32473, identifier: a4(1, 2, 3) },
  { type: 'll', hardwareType: 1, linkLayerAddress: a4(2, 0, 0, 0, 0, 1) },
  { type: 'uuid', uuid: new Uint8Array(16).fill(7) },
  { type: 'unknown', duidType: 99, data: a4(1) },
];
runCodecKit('DUID', { codec: duid, values: duids });

const clientId = a4(0, 3, 0, 1, 2, 0, 0, 0, 0, 0xc1);
const inner: Dhcp6Message = {
  kind: 'client', msgType: 1, transactionId: 0xabcdef,
  options: [
    { kind: 'clientId', duid: clientId },
    { kind: 'elapsedTime', elapsedTime: 0 },
    { kind: 'oro', codes: [23, 24] },
    { kind: 'rapidCommit' },
    { kind: 'iaNa', iaid: 1, t1: 0, t2: 0, options: [{ kind: 'iaAddr', address: a6(0x10), preferredLifetime: 300, validLifetime: 600, options: [] }] },
    { kind: 'iaPd', iaid: 2, t1: 150, t2: 240, options: [{ kind: 'iaPrefix', preferredLifetime: 0xffffffff, validLifetime: 0xffffffff, prefixLength: 56, prefix: a6(0), options: [{ kind: 'statusCode', statusCode: 0, message: 'ok ✓' }] }] },
    { kind: 'unknown', code: 39, data: a4(0, 3, 0x66, 0x6f, 0x6f) },
  ],
};
const relayed: Dhcp6Message = {
  kind: 'relay', msgType: 12, hopCount: 0, linkAddress: a6(1), peerAddress: a6(0x99, 0xfe, 0x80),
  options: [
    { kind: 'interfaceId', interfaceId: a4(0, 0, 0, 2) },
    { kind: 'remoteId', enterpriseNumber: 4491, remoteId: a4(1, 2, 3) },
    { kind: 'subscriberId', subscriberId: a4(0x73) },
    { kind: 'relayId', duid: a4(0, 2, 0, 0, 0x7e, 0xd9, 1) },
    { kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: a4(2, 0, 0, 0, 0, 0xc1) },
    // Decoding keeps the option body as received beside the message (RFC 8415 §19.2:
    // a relay passes it on unchanged), so a value that round-trips carries both.
    { kind: 'relayMsg', message: inner, bytes: dhcp6Message.encode(inner) },
  ],
};
const lqReply: Dhcp6Message = {
  kind: 'client', msgType: 15, transactionId: 7,
  options: [
    { kind: 'serverId', duid: clientId },
    { kind: 'clientData', options: [
      { kind: 'clientId', duid: clientId },
      { kind: 'iaAddr', address: a6(0x10), preferredLifetime: 1, validLifetime: 2, options: [] },
      { kind: 'cltTime', cltTime: 30 },
    ] },
    { kind: 'lqRelayData', peerAddress: a6(5), relayMessage: { ...relayed, options: relayed.options.slice(0, 4) } },
    { kind: 'lqClientLink', linkAddresses: [a6(1), a6(2)] },
  ],
};
const lqQuery: Dhcp6Message = {
  kind: 'client', msgType: 14, transactionId: 8,
  options: [{ kind: 'lqQuery', queryType: 3, linkAddress: new Uint8Array(16), options: [{ kind: 'relayId', duid: a4(0, 2, 1, 2, 3, 4, 5) }] }],
};
const dhcp6Payloads = v6.map((b) => {
  const r = ipv6Udp.decode(b);
  if (!r.ok) throw new Error('bad golden');
  return r.value.udp.payload;
});
/** Hand-built: what a strict decoder would refuse but a relay must carry unchanged. */
const lenientVectors = [
  // REPLY, Status Code 0 with a status-message that is not UTF-8 (0xff, a lone 0xc3).
  hex('07 000001  000d 0008 0000 6f6b20ff20c3'),
  // REPLY, status-message starting with a byte order mark (kept, not stripped).
  hex('07 000001  000d 0006 0000 efbbbf41'),
  // RELAY-REPL whose RELAY_MSG holds a REPLY with an IA_NA of 3 bytes (minimum 12).
  hex(`0d 00 ${'00'.repeat(16)} fe80${'00'.repeat(12)}0001  0009 000b 07 000001 0003 0003 000000`),
];

runCodecKit('DHCPv6 message', {
  codec: dhcp6Message,
  vectors: [...dhcp6Payloads, ...lenientVectors],
  values: [inner, relayed, lqReply, lqQuery, { kind: 'client', msgType: 16, transactionId: 9, options: [] },
    { kind: 'unknown', msgType: 200, body: a4(1, 2, 3) }],
  flips: 100,
});

describe('DHCPv6 bounds', () => {
  const wrap = (m: Dhcp6Message): Dhcp6Message => ({
    kind: 'relay', msgType: 12, hopCount: 0, linkAddress: a6(1), peerAddress: a6(2), options: [{ kind: 'relayMsg', message: m }],
  });
  const envelopes = (n: number): Dhcp6Message => {
    let m: Dhcp6Message = inner;
    for (let i = 0; i < n; i++) m = wrap(m);
    return m;
  };
  it('accepts 8 relay envelopes (HOP_COUNT_LIMIT, RFC 8415 §7.6) and rejects exactly 9 without recursing', () => {
    // 8 envelopes: the client message is the 8th nested RELAY_MSG, hop-counts 0..7.
    expect(dhcp6Message.decode(dhcp6Message.encode(envelopes(8))).ok).toBe(true);
    const nine = dhcp6Message.encode(envelopes(9));
    const res = dhcp6Message.decode(nine);
    expect(res.ok).toBe(false);
    if (res.ok) return;
    expect(res.error.reason).toMatch(/HOP_COUNT_LIMIT/);
    // Each envelope is 34 header bytes + a 4-byte RELAY_MSG header: the decoder stops
    // at the 9th envelope's RELAY_MSG body (the client message), reading nothing in it.
    expect(res.error.offset).toBe(9 * 38);
    expect(nine[9 * 38]).toBe(1); // SOLICIT: the message it refused to read
  });
  it('a bound exceeded inside RELAY_MSG fails the whole message, though RELAY_MSG decodes in its own scope', () => {
    // 1025 options inside the relayed message (maxOptions 1024 for the whole message).
    const many: Dhcp6Message = { kind: 'client', msgType: 11, transactionId: 1,
      options: Array.from({ length: 1024 }, () => ({ kind: 'rapidCommit' }) as Dhcp6Option) };
    const res = dhcp6Message.decode(dhcp6Message.encode(wrap(many)));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.reason).toMatch(/more than 1024 options/);
  });
  it('rejects 1000 hand-built nested relay envelopes with an error, not a stack overflow', () => {
    // each level: RELAY-FORW header (34) + RELAY_MSG option header (4) around the next
    const levels = 1000;
    const per = 38;
    const tail = hex('0b000001');
    const buf = new Uint8Array(levels * per + tail.length);
    for (let i = 0; i < levels; i++) {
      const at = i * per;
      buf[at] = 12;
      const rest = Math.min(0xffff, buf.length - at - per);
      buf[at + 35] = 9;
      buf[at + 36] = rest >> 8;
      buf[at + 37] = rest & 0xff;
    }
    buf.set(tail, levels * per);
    let res: ReturnType<typeof dhcp6Message.decode> | undefined;
    expect(() => (res = dhcp6Message.decode(buf))).not.toThrow();
    expect(res!.ok).toBe(false);
    if (res && !res.ok) expect(res.error.reason).toMatch(/HOP_COUNT_LIMIT/);
  });
  it('bounds option nesting (CLIENT_DATA inside CLIENT_DATA ...)', () => {
    let o: Dhcp6Option = { kind: 'rapidCommit' };
    for (let i = 0; i < 40; i++) o = { kind: 'clientData', options: [o] };
    const res = dhcp6Message.decode(dhcp6Message.encode({ kind: 'client', msgType: 15, transactionId: 1, options: [o] }));
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.reason).toMatch(/nested deeper/);
  });
  it('bounds the number of options per message', () => {
    const many: Dhcp6Message = { kind: 'client', msgType: 11, transactionId: 1, options: Array.from({ length: 1025 }, () => ({ kind: 'rapidCommit' }) as Dhcp6Option) };
    const res = dhcp6Message.decode(dhcp6Message.encode(many));
    expect(res.ok).toBe(false);
    const fine = { ...many, options: many.options.slice(0, 1024) };
    expect(dhcp6Message.decode(dhcp6Message.encode(fine)).ok).toBe(true);
  });
  it('checks a nested option length against the bytes left before slicing', () => {
    // IA_NA claiming 40 bytes inside a 16-byte body
    const bytes = hex('0b000001 0003 0010 00000001 00000000 00000000 0005 0028 00000000');
    const res = dhcp6Message.decode(bytes);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error.offset).toBe(22); // the IAADDR option-len field
  });
});

describe('DHCPv6 RELAY_MSG keeps its bytes; Status Code text is read leniently', () => {
  it('a decoded RELAY_MSG carries the option body exactly as received beside the message (RFC 8415 §21.10)', () => {
    const bytes = dhcp6Message.encode(relayed);
    const res = dhcp6Message.decode(bytes);
    if (!res.ok || res.value.kind !== 'relay') throw new Error('relay message did not decode');
    const rm = res.value.options.at(-1)!;
    if (rm.kind !== 'relayMsg') throw new Error('last option is not RELAY_MSG');
    // RELAY_MSG is the last option: its body is the tail of the message.
    const body = bytes.subarray(bytes.length - dhcp6Message.encodingLength(inner));
    expect(bytes.subarray(bytes.length - body.length - 4, bytes.length - body.length)).toEqual(hex(`0009 ${body.length.toString(16).padStart(4, '0')}`));
    expect(rm.bytes).toEqual(body);
    expect(rm.message).toEqual(inner);
  });

  it('a built RELAY_MSG without bytes is encoded from its message; with bytes, the bytes win', () => {
    const built = dhcp6Message.encode({ ...relayed, options: [{ kind: 'relayMsg', message: inner }] });
    expect(built.subarray(38)).toEqual(dhcp6Message.encode(inner));
    const raw = hex('0b 000007'); // INFORMATION-REQUEST, no options
    const kept = dhcp6Message.encode({ ...relayed, options: [{ kind: 'relayMsg', message: inner, bytes: raw }] });
    expect(kept.subarray(34)).toEqual(hex('0009 0004 0b000007'));
  });

  it('an undecodable relayed message leaves the envelope readable: message null, error, bytes as received', () => {
    const bytes = lenientVectors[2]!;
    const res = dhcp6Message.decode(bytes);
    if (!res.ok || res.value.kind !== 'relay') throw new Error(`envelope did not decode: ${JSON.stringify(res)}`);
    expect(res.value.msgType).toBe(13);
    const rm = res.value.options[0]!;
    if (rm.kind !== 'relayMsg' || rm.message !== null) throw new Error('RELAY_MSG decoded though its IA_NA is short');
    expect(rm.bytes).toEqual(bytes.subarray(38));
    // The IA_NA option-len (3 < 12), at 38 + 4 (msg-type, transaction-id) + 2 (option-code).
    expect(rm.error).toMatchObject({ reason: 'length 3 < minimum 12', offset: 44 });
    expect(rm.error.field).toMatch(/relayMsg\.message.*iaNa/);
    expect(dhcp6Message.encode(res.value)).toEqual(bytes);
  });

  it('a status-message that is not UTF-8 decodes (U+FFFD for display) and re-encodes unchanged (RFC 8415 §21.13)', () => {
    const res = dhcp6Message.decode(lenientVectors[0]!);
    if (!res.ok || res.value.kind !== 'client') throw new Error(`REPLY did not decode: ${JSON.stringify(res)}`);
    expect(res.value.options).toEqual([
      { kind: 'statusCode', statusCode: 0, message: 'ok \ufffd \ufffd', messageBytes: hex('6f6b20ff20c3') },
    ]);
    expect(dhcp6Message.encode(res.value)).toEqual(lenientVectors[0]);
  });

  it('a valid status-message has no messageBytes and keeps a leading byte order mark', () => {
    const res = dhcp6Message.decode(lenientVectors[1]!);
    if (!res.ok || res.value.kind !== 'client') throw new Error('REPLY did not decode');
    expect(res.value.options).toEqual([{ kind: 'statusCode', statusCode: 0, message: '\ufeffA' }]);
    expect(dhcp6Message.encode(res.value)).toEqual(lenientVectors[1]);
  });
});
