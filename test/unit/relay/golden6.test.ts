/**
 * DHCPv6 relay-through against a real server (CONVENTIONS 15): the SOLICIT/ADVERTISE/
 * REQUEST/REPLY exchange captured between ISC dhclient, dhcrelay and dhcpd
 * (test/unit/wire/golden/capture.sh) is fed through the module. Expected bytes are
 * sliced from the capture or taken from tshark's dissection beside it, never produced
 * by our encoder: what reaches the client must be what dhcpd sent (RFC 8415 §19.2),
 * what reaches the server must carry what the client sent (RFC 8415 §19.1.1).
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { parseIPv6 } from '../../../src/wire/address';
import { ipv6Udp } from '../../../src/wire';
import { goldenBytes, loadGolden, type GoldenPacket } from '../wire/golden';
import { hex } from '../wire/kit';
import { BASE_CONFIG, PORT_LL, SERVER6, T0, kinds, only, portStatus, started, udp6, utf8 } from './kit';

const golden = loadGolden('dhcp6-relay.json');
const frame = (n: number): GoldenPacket => golden.find((p) => p.frame === n)!;
/** tshark's reading of a field (the first value unless `i`). */
const field = (p: GoldenPacket, name: string, i = 0): string => p.fields[name]![i]!;
const tsharkBytes = (p: GoldenPacket, name: string): Uint8Array => hex(field(p, name));
const addr = (p: GoldenPacket, name: string): Uint8Array => parseIPv6(field(p, name))!;

// The exchange, as captured: frames 3/7 client → dhcrelay (rdn), 1/5 dhcrelay → dhcpd,
// 2/6 dhcpd → dhcrelay (rup), 4/8 dhcrelay → client (rdn).
const SOLICIT = frame(3);
const ADVERTISE_REPL = frame(2);
const ADVERTISE_DELIVERED = frame(4);
const REQUEST = frame(7);
const REPLY_REPL = frame(6);
const REPLY_DELIVERED = frame(8);

/** The client's interface (capture.sh: cli0 address 02:00:00:00:00:c1). */
const CLIENT_MAC = Uint8Array.of(0x02, 0, 0, 0, 0, 0xc1);
const CLIENT_LL = addr(SOLICIT, 'ipv6.src');
/** IPv6 header (40) + UDP header (8): the captures start at the IP header. */
const udpPayload = (p: GoldenPacket): Uint8Array => goldenBytes(p).subarray(48);

/** DHCPv6 option TLVs from `offset` (34 for a relay message), read by hand. */
function rawOptions(bytes: Uint8Array, offset: number): { code: number; at: number; data: Uint8Array }[] {
  const out: { code: number; at: number; data: Uint8Array }[] = [];
  for (let i = offset; i + 4 <= bytes.length; ) {
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    out.push({ code: (bytes[i]! << 8) | bytes[i + 1]!, at: i, data: bytes.slice(i + 4, i + 4 + len) });
    i += 4 + len;
  }
  return out;
}
const relayMsgOf = (relay: Uint8Array): Uint8Array => rawOptions(relay, 34).find((o) => o.code === 9)!.data;

/**
 * dhcpd's RELAY-REPL with the Interface-ID it echoes rewritten to ours: dhcrelay's is
 * an opaque 4-byte index (01000000), ours is the port name, 'lan1' — also 4 bytes, so
 * no length changes and the RELAY_MSG bytes are untouched (RFC 8415 §21.18: the server
 * echoes whatever the relay sent).
 */
function forLan1(repl: Uint8Array): Uint8Array {
  const out = repl.slice();
  const iid = rawOptions(out, 34).find((o) => o.code === 18)!;
  expect(iid.data).toEqual(Uint8Array.of(1, 0, 0, 0));
  out.set(utf8('lan1'), iid.at + 4);
  return out;
}

/** dhcpd's RELAY-REPL with `extra` bytes appended to the message inside RELAY_MSG (the last option). */
function withInnerTail(repl: Uint8Array, extra: Uint8Array): Uint8Array {
  const relayMsg = rawOptions(repl, 34).at(-1)!;
  expect(relayMsg.code).toBe(9);
  const out = new Uint8Array(repl.length + extra.length);
  out.set(repl);
  out.set(extra, repl.length);
  const len = relayMsg.data.length + extra.length; // only RELAY_MSG's option-len changes
  out[relayMsg.at + 2] = len >> 8;
  out[relayMsg.at + 3] = len & 0xff;
  return out;
}

function fromClient(m: ReturnType<typeof started>, p: GoldenPacket) {
  return m.handle({ kind: 'packet', port: 'lan1', family: 6, bytes: goldenBytes(p), mac: CLIENT_MAC, checksum: 'check', outgoing: false }, T0);
}

/** The one link-send, its IPv6/UDP headers decoded. */
function delivered(actions: readonly Action[]) {
  const sends = only(actions, 'link-send');
  expect(sends).toHaveLength(1);
  const d = ipv6Udp.decode(sends[0]!.bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return { send: sends[0]!, ip: d.value.ip, udp: d.value.udp };
}

function expectDeliveredToClient(actions: readonly Action[], payload: Uint8Array) {
  const { send, ip, udp } = delivered(actions);
  expect(send).toMatchObject({ port: 'lan1', family: 6, destinationMac: CLIENT_MAC });
  // RFC 8415 §19.2: from the relay's link-local on the client's link, to the
  // peer-address, server port → client port.
  expect(ip).toMatchObject({ nextHeader: 17, hopLimit: 64, source: PORT_LL, destination: CLIENT_LL });
  expect([udp.sourcePort, udp.destinationPort]).toEqual([547, 546]);
  expect(udp.payload).toEqual(payload);
}

describe('DHCPv6 relay-through with real ISC dhcpd bytes (RFC 8415 §19)', () => {
  it('the capture is what this test assumes (tshark\'s reading)', () => {
    expect(field(SOLICIT, 'dhcpv6.msgtype')).toBe('1');
    expect(field(ADVERTISE_REPL, 'dhcpv6.msgtype', 1)).toBe('2');
    expect(field(REPLY_REPL, 'dhcpv6.msgtype', 1)).toBe('7');
    expect(addr(ADVERTISE_REPL, 'dhcpv6.peeraddr')).toEqual(CLIENT_LL);
    expect(field(REPLY_REPL, 'dhcpv6.interface_id')).toBe('01:00:00:00');
    // dhcrelay delivered dhcpd's RELAY_MSG unchanged: the bytes the tests below expect.
    expect(relayMsgOf(udpPayload(ADVERTISE_REPL))).toEqual(tsharkBytes(ADVERTISE_DELIVERED, 'udp.payload'));
    expect(relayMsgOf(udpPayload(REPLY_REPL))).toEqual(tsharkBytes(REPLY_DELIVERED, 'udp.payload'));
  });

  it('SOLICIT: the client\'s bytes appear unchanged inside RELAY_MSG of the RELAY-FORW (RFC 8415 §19.1.1)', () => {
    const m = started();
    const actions = fromClient(m, SOLICIT);
    expect(kinds(actions)).toEqual(['udp-send']);
    const [send] = only(actions, 'udp-send');
    expect(send).toMatchObject({ family: 6, upstream: 'wan', destination: SERVER6, destinationPort: 547 });
    const fwd = send!.payload;
    expect(fwd[0]).toBe(12); // RELAY-FORW
    expect(fwd[1]).toBe(0); // hop-count
    expect(fwd.subarray(18, 34)).toEqual(CLIENT_LL); // peer-address: the client's source
    expect(relayMsgOf(fwd)).toEqual(tsharkBytes(SOLICIT, 'udp.payload'));
    // dhcrelay, a real relay, put the same client bytes in its RELAY-FORW (frame 1).
    expect(relayMsgOf(fwd)).toEqual(relayMsgOf(udpPayload(frame(1))));
  });

  it('ADVERTISE: RELAY_MSG delivered byte for byte, as dhcrelay delivered it; nothing gleaned', () => {
    const m = started();
    fromClient(m, SOLICIT);
    const repl = forLan1(udpPayload(ADVERTISE_REPL));
    const actions = m.handle(udp6(repl), T0);
    expect(kinds(actions)).toEqual(['link-send']);
    expectDeliveredToClient(actions, relayMsgOf(udpPayload(ADVERTISE_REPL)));
    expect(delivered(actions).udp.payload).toEqual(tsharkBytes(ADVERTISE_DELIVERED, 'udp.payload'));
    expect(m.bindings()).toEqual([]);
  });

  it('REQUEST → REPLY: delivered byte for byte, and the IA_NA / IA_PD leases dhcpd granted are gleaned', () => {
    const m = started();
    fromClient(m, SOLICIT);
    m.handle(udp6(forLan1(udpPayload(ADVERTISE_REPL))), T0);
    const fwd = only(fromClient(m, REQUEST), 'udp-send')[0]!.payload;
    expect(relayMsgOf(fwd)).toEqual(tsharkBytes(REQUEST, 'udp.payload'));
    const actions = m.handle(udp6(forLan1(udpPayload(REPLY_REPL))), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log', 'link-send']);
    expectDeliveredToClient(actions, relayMsgOf(udpPayload(REPLY_REPL)));
    expect(delivered(actions).udp.payload).toEqual(tsharkBytes(REPLY_DELIVERED, 'udp.payload'));
    expectGleaned(m);
  });

  it('a REPLY whose Status Code text is not UTF-8 is still delivered byte for byte and gleaned (RFC 8415 §21.13)', () => {
    const m = started();
    fromClient(m, REQUEST); // the REPLY answers dhcpd's REQUEST: its transaction-id (RFC 8415 §18.3.10)
    // Status Code option: code 13, length 8, Success, "ok " 0xff " " 0xc3 (not UTF-8).
    const repl = withInnerTail(forLan1(udpPayload(REPLY_REPL)), hex('000d 0008 0000 6f6b20ff20c3'));
    const actions = m.handle(udp6(repl), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log', 'link-send']);
    const expected = relayMsgOf(repl);
    expect(expected.subarray(0, -12)).toEqual(tsharkBytes(REPLY_DELIVERED, 'udp.payload'));
    expect(expected.subarray(-12)).toEqual(hex('000d 0008 0000 6f6b20ff20c3'));
    expectDeliveredToClient(actions, expected);
    expectGleaned(m);
    expect(portStatus(m, 'lan1')).toMatchObject({ gleanFailed: 0, dropped: {} });
  });

  it('a REPLY that does not decode is still delivered byte for byte; the glean that failed is counted', () => {
    const m = started();
    fromClient(m, REQUEST); // the REPLY answers dhcpd's REQUEST: its transaction-id (RFC 8415 §18.3.10)
    // An IA_NA of 3 bytes (RFC 8415 §21.4: at least 12): our decoder refuses the message.
    const repl = withInnerTail(forLan1(udpPayload(REPLY_REPL)), hex('0003 0003 000000'));
    const actions = m.handle(udp6(repl), T0);
    expect(kinds(actions)).toEqual(['log', 'link-send']);
    expect(actions[0]).toMatchObject({
      kind: 'log', level: 'debug', subsystem: 'relay', message: 'glean-failed', key: 'glean-failed:lan1',
      fields: { port: 'lan1' },
    });
    expectDeliveredToClient(actions, relayMsgOf(repl));
    expect(m.bindings()).toEqual([]);
    expect(portStatus(m, 'lan1')).toMatchObject({ replies6: 1, gleaned: 0, gleanFailed: 1, dropped: {} });
  });

  it('passive: another relay\'s REPLY is gleaned; one that does not decode is counted, nothing sent', () => {
    const text = `${BASE_CONFIG}
config subscriber 'pas1'
	option device 'eth3'
	option upstream 'wan'
	option mode 'passive'
	option link_address 'fd00:2::1'
	option relay_v4 '0'
`;
    const m = started(text);
    const bad = withInnerTail(udpPayload(REPLY_REPL), hex('0003 0003 000000'));
    expect(m.handle(udp6(bad, SERVER6, true), T0)).toMatchObject([{ kind: 'log', message: 'glean-failed', fields: { port: 'pas1' } }]);
    expect(portStatus(m, 'pas1')).toMatchObject({ gleaned: 0, gleanFailed: 1 });
    expect(m.bindings()).toEqual([]);
    // dhcpd's RELAY-REPL as captured, its Interface-ID dhcrelay's own (passive mode matches the link-address).
    const actions = m.handle(udp6(udpPayload(REPLY_REPL), SERVER6, true), T0);
    expect(kinds(actions)).toEqual(['kernel', 'log', 'kernel', 'log']);
    // No MAC: passive mode learns it only from the subscriber side, not fed here.
    expect(m.bindings().map((b) => [b.port, b.kind, b.mac]).sort()).toEqual([['pas1', 'address', null], ['pas1', 'prefix', null]]);
    expect(portStatus(m, 'pas1')).toMatchObject({ gleaned: 2, gleanFailed: 1 });
  });
});

/** The leases in dhcpd's REPLY, as tshark reads them, are the bindings (RFC 8415 §18.2.10.1). */
function expectGleaned(m: ReturnType<typeof started>) {
  const p = REPLY_REPL;
  const validNa = Number(field(p, 'dhcpv6.iaaddr.valid_lifetime'));
  const validPd = Number(field(p, 'dhcpv6.iaprefix.valid_lifetime'));
  const iaid = parseInt(field(p, 'dhcpv6.iaid'), 16);
  const clientId = tsharkBytes(p, 'dhcpv6.duid.bytes');
  const bindings = m.bindings();
  expect(bindings).toHaveLength(2);
  expect(bindings.find((b) => b.kind === 'address')).toMatchObject({
    family: 6, address: addr(p, 'dhcpv6.iaaddr.ip'), prefixLength: 128, port: 'lan1', mac: CLIENT_MAC,
    clientId, iaid, circuitId: utf8('lan1'), linkLocal: CLIENT_LL, validUntil: T0 + validNa * 1000,
  });
  expect(bindings.find((b) => b.kind === 'prefix')).toMatchObject({
    family: 6, address: addr(p, 'dhcpv6.iaprefix.pref_addr'), prefixLength: Number(field(p, 'dhcpv6.iaprefix.pref_len')),
    port: 'lan1', mac: CLIENT_MAC, clientId, iaid, linkLocal: CLIENT_LL, validUntil: T0 + validPd * 1000,
  });
}
