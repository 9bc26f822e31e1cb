import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import { dhcp4Message, dhcp6Message, ipv4Udp, ipv6Udp } from '../../../src/wire';
import {
  type Core, ACK, DISCOVER, REPLY, REQUEST, SOLICIT, at, client4, client6, decode4, duidOf, iaNa, iaPd, ipv4Packet, ipv6Packet,
  leaseOpt, macOf, only, opt, packet4, packet6, portStatus, relayRepl, serverReply4, started, udp4, udp6, v4, v6,
} from './kit';
import { prng } from '../prng';

const randomBytes = (rnd: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
const MAC1 = macOf(1);
function flip(rnd: () => number, b: Uint8Array): void {
  const j = Math.floor(rnd() * b.length);
  b[j] = b[j]! ^ (1 << Math.floor(rnd() * 8));
}
const LL1 = v6('fe80::200:ff:fe00:1');

const dropReasons = (as: readonly Action[]) =>
  only(as, 'log').filter((a) => a.message === 'dropped').map((a) => a.fields!['reason']);
const totalDropped = (m: Core, port: string) => Object.values(portStatus(m, port).dropped).reduce((a, b) => a + b, 0);

/** Time moves one second per packet so the rate limiter never interferes. */
function feed(m: Core, i: number, family: 4 | 6, bytes: Uint8Array): Action[] {
  return m.handle({ kind: 'packet', port: 'lan1', family, bytes, mac: MAC1, checksum: 'check', outgoing: false }, at(i * 1000));
}

describe('hostile subscriber input never throws and is counted (CONVENTIONS 10)', () => {
  it('random bytes as IPv4 and IPv6 packets are malformed drops', () => {
    const m = started();
    const rnd = prng(1);
    const n = 1500;
    for (let i = 0; i < n; i++) {
      const family = i % 2 === 0 ? 4 : 6;
      const bytes = randomBytes(rnd, Math.floor(rnd() * 600));
      if (family === 4 && bytes.length > 0) bytes[0] = 0x45; // get past the version check now and then
      const actions = feed(m, i, family, bytes);
      expect(only(actions, 'udp-send')).toEqual([]);
      expect(dropReasons(actions)).toHaveLength(1);
    }
    expect(portStatus(m, 'lan1').dropped['malformed']).toBe(n);
    expect(m.bindings()).toEqual([]);
  });

  it('every truncation of a valid DISCOVER / SOLICIT packet is a malformed drop', () => {
    const m = started();
    const p4 = packet4('lan1', MAC1, client4(DISCOVER, MAC1)).bytes;
    const p6 = packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, duidOf(1), [iaNa(1), iaPd(2)]))).bytes;
    let i = 0;
    for (const [family, p] of [[4, p4], [6, p6]] as const) {
      for (let len = 0; len < p.length; len++) {
        expect(dropReasons(feed(m, i++, family, p.subarray(0, len)))).toEqual(['malformed']);
      }
    }
    expect(portStatus(m, 'lan1').dropped).toEqual({ malformed: p4.length + p6.length });
  });

  it('a DHCPv4 payload cut anywhere before End, inside valid IP/UDP, is malformed', () => {
    const m = started();
    const msg = client4(REQUEST, MAC1, {}, [opt(50, v4('198.51.100.9')), opt(61, [1, ...MAC1])]);
    const full = dhcp4Message.encode({ ...msg, trailer: new Uint8Array(0) });
    for (let len = 0; len < full.length; len++) {
      const bytes = ipv4Packet(new Uint8Array(4), v4('255.255.255.255'), 68, 67, full.subarray(0, len));
      expect(dropReasons(feed(m, len, 4, bytes))).toEqual(['malformed']);
    }
  });

  it('bit-flipped DHCPv4 / DHCPv6 payloads inside valid IP/UDP: relayed or dropped, never thrown', () => {
    const m = started();
    const rnd = prng(7);
    const base4 = dhcp4Message.encode(client4(REQUEST, MAC1, {}, [opt(50, v4('198.51.100.9')), opt(82, [1, 1, 65])]));
    const base6 = dhcp6Message.encode(client6(SOLICIT, duidOf(1), [iaNa(1, v6('2001:db8:1::5')), iaPd(2, v6('2001:db8:100::'))]));
    const n = 2000;
    let relayed = 0;
    for (let i = 0; i < n; i++) {
      const v4 = i % 2 === 0;
      const payload = (v4 ? base4 : base6).slice();
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) flip(rnd, payload);
      const bytes = v4
        ? ipv4Packet(new Uint8Array(4), new Uint8Array([255, 255, 255, 255]), 68, 67, payload)
        : ipv6Packet(LL1, new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]), 546, 547, payload);
      const actions = feed(m, i, v4 ? 4 : 6, bytes);
      const sends = only(actions, 'udp-send');
      if (sends.length > 0) relayed++;
      else expect(dropReasons(actions)).toHaveLength(1);
    }
    const s = portStatus(m, 'lan1');
    expect(relayed).toBe((s['relayed4'] as number) + (s['relayed6'] as number));
    expect(relayed + totalDropped(m, 'lan1')).toBe(n);
  });

  it('random and bit-flipped server payloads never throw and never deliver garbage', () => {
    const m = started();
    const rnd = prng(11);
    const req = decode4(only(m.handle(packet4('lan1', MAC1, client4(REQUEST, MAC1)), at(0)), 'udp-send')[0]!.payload);
    const ack4 = dhcp4Message.encode(serverReply4(req, ACK, v4('198.51.100.50'), [leaseOpt(600)]));
    m.handle(packet6('lan1', MAC1, LL1, dhcp6Message.encode(client6(SOLICIT, duidOf(1)))), at(0));
    const repl6 = relayRepl(new TextEncoder().encode('lan1'), LL1, {
      kind: 'client', msgType: REPLY, transactionId: 0xabcdef,
      options: [{ kind: 'clientId', duid: duidOf(1) }, iaNa(1, v6('2001:db8:1::5')), iaPd(2, v6('2001:db8:100::'))],
    });
    let delivered4 = 0;
    let delivered6 = 0;
    for (let i = 0; i < 3000; i++) {
      const family = i % 2 === 0 ? 4 : 6;
      const random = i % 3 === 0;
      let payload: Uint8Array;
      if (random) payload = randomBytes(rnd, Math.floor(rnd() * 400));
      else {
        payload = (family === 4 ? ack4 : repl6).slice();
        for (let k = 0; k < 1 + Math.floor(rnd() * 3); k++) flip(rnd, payload);
      }
      const actions = m.handle(family === 4 ? udp4(payload) : udp6(payload), at(i));
      const sends = [...only(actions, 'link-send'), ...only(actions, 'udp-send')];
      // Random bytes are never a reply for a port: nothing at all goes out.
      if (random) {
        expect(sends).toEqual([]);
        continue;
      }
      expect(sends.length).toBeLessThanOrEqual(1);
      const send = only(actions, 'link-send')[0];
      if (!send) continue;
      expect(send.port).toBe('lan1');
      if (family === 6) {
        delivered6++;
        // RFC 8415 §19.2: exactly the RELAY_MSG body of what arrived, to the peer-address.
        const d = ipv6Udp.decode(send.bytes);
        if (!d.ok) throw new Error(JSON.stringify(d.error));
        expect(d.value.ip.destination).toEqual(payload.subarray(18, 34));
        expect(d.value.udp.payload).toEqual(rawOption(payload, 34, 9));
      } else {
        delivered4++;
        // The server's BOOTP header as it arrived, and its options minus option 82 (RFC 3046 §2.2).
        const d = ipv4Udp.decode(send.bytes);
        if (!d.ok) throw new Error(JSON.stringify(d.error));
        const out = d.value.udp.payload;
        expect(out.subarray(0, 240)).toEqual(payload.subarray(0, 240));
        expect(rawOptions4(out)).toEqual(rawOptions4(payload).filter((o) => o.code !== 82));
      }
    }
    // The flips leave enough replies intact for the checks above to have run.
    expect(delivered4).toBeGreaterThan(100);
    expect(delivered6).toBeGreaterThan(100);
    // Whatever was gleaned is in the table and expires by the clock.
    const far = at(1e12);
    m.poll(far);
    expect(m.bindings().filter((b) => b.validUntil !== null)).toEqual([]);
  });
});

/** The body of the first option `code` in DHCPv6 option TLVs from `offset`, read by hand. */
function rawOption(bytes: Uint8Array, offset: number, code: number): Uint8Array | undefined {
  for (let i = offset; i + 4 <= bytes.length; ) {
    const c = (bytes[i]! << 8) | bytes[i + 1]!;
    const len = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (c === code) return bytes.slice(i + 4, i + 4 + len);
    i += 4 + len;
  }
  return undefined;
}

/** DHCPv4 option TLVs after the magic cookie up to End, Pad skipped, read by hand. */
function rawOptions4(bytes: Uint8Array): { code: number; data: Uint8Array }[] {
  const out: { code: number; data: Uint8Array }[] = [];
  for (let i = 240; i < bytes.length && bytes[i] !== 255; ) {
    if (bytes[i] === 0) {
      i++;
      continue;
    }
    const len = bytes[i + 1]!;
    out.push({ code: bytes[i]!, data: bytes.slice(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}
