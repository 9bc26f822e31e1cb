import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import type { Event } from '../../../src/events';
import { dhcp4Message, dhcp6Message } from '../../../src/wire';
import {
  ACK, BASE_CONFIG, DISCOVER, RELEASE, RELEASE6, RENEW6, REPLY, REQUEST, SERVER4, SERVER6, SOLICIT, T0, at, bootp, client4,
  client6, duidOf, iaNa, iaPd, ipv4Packet, ipv6Packet, leaseOpt, macOf, only, opt, portStatus, relayRepl, serverReply4,
  started, typeOpt, udp4, udp6, v4, v6, type Core,
} from './kit';
import { prng } from '../prng';

/**
 * Every path through the relay's subscriber side after issue 13 — v4/v6 × incoming /
 * outgoing × relay / passive × broadcast / unicast × each checksum state — fed random
 * and bit-flipped frames: nothing throws, an outgoing frame is never relayed, a passive
 * port never sends, and every frame of a relaying port is accounted for by exactly one
 * counter (CONVENTIONS 10: hostile input is a counted drop, never an exception).
 */
const CONFIG = `${BASE_CONFIG}
config subscriber 'pas1'
	option device 'eth3'
	option upstream 'wan'
	option mode 'passive'
	option giaddr '198.51.100.129'
	option link_address '2001:db8:3::1'
	list subnet4 '198.51.100.0/24'
	list subnet6 '2001:db8::/32'
`.replace(`list subnet4 '198.51.100.0/24'\n\nconfig subscriber 'lan2'`,
  `list subnet4 '198.51.100.0/24'\n\tlist subnet6 '2001:db8::/32'\n\nconfig subscriber 'lan2'`);

const MAC1 = macOf(1);
const LL1 = v6('fe80::200:ff:fe00:1');
const ADDR4 = v4('198.51.100.50');
const NA = v6('2001:db8:1::100');
const PD = v6('2001:db8:100::');
const CHECKSUMS = ['check', 'unfinished', 'valid'] as const;

const randomBytes = (rnd: () => number, n: number) => Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
function flip(rnd: () => number, b: Uint8Array, from: number): void {
  const j = from + Math.floor(rnd() * (b.length - from));
  b[j] = b[j]! ^ (1 << Math.floor(rnd() * 8));
}

/** A binding of each kind on lan1, so RELEASE guards and unicast renewals have something to judge. */
function withBindings(): Core {
  const m = started(CONFIG);
  const disc = m.handle({ kind: 'packet', port: 'lan1', family: 4, mac: MAC1, checksum: 'check', outgoing: false,
    bytes: ipv4Packet(new Uint8Array(4), v4('255.255.255.255'), 68, 67, dhcp4Message.encode(client4(DISCOVER, MAC1))) }, T0);
  const relayed = dhcp4Message.decode(only(disc, 'udp-send')[0]!.payload);
  if (!relayed.ok) throw new Error('relayed DISCOVER did not decode');
  m.handle(udp4(dhcp4Message.encode(serverReply4(relayed.value, ACK, ADDR4, [leaseOpt(3600)]))), T0);
  m.handle({ kind: 'packet', port: 'lan1', family: 6, mac: MAC1, checksum: 'check', outgoing: false,
    bytes: ipv6Packet(LL1, v6('ff02::1:2'), 546, 547, dhcp6Message.encode(client6(SOLICIT, duidOf(1), [iaNa(1), iaPd(2)]))) }, T0);
  m.handle(udp6(relayRepl(new TextEncoder().encode('lan1'), LL1, {
    kind: 'client', msgType: REPLY, transactionId: 0xabcdef,
    options: [{ kind: 'clientId', duid: duidOf(1) }, iaNa(1, NA), iaPd(2, PD)],
  })), T0);
  expect(m.bindings()).toHaveLength(3);
  return m;
}

/** Frames the subscriber side sees, well-formed before the flips: [family, outgoing, bytes]. */
function templates(): [4 | 6, boolean, Uint8Array][] {
  const b4 = (m: Parameters<typeof dhcp4Message.encode>[0], s: Uint8Array, d: Uint8Array, sp = 68, dp = 67) =>
    ipv4Packet(s, d, sp, dp, dhcp4Message.encode(m));
  const b6 = (m: Parameters<typeof dhcp6Message.encode>[0], s: Uint8Array, d: Uint8Array, sp = 546, dp = 547) =>
    ipv6Packet(s, d, sp, dp, dhcp6Message.encode(m));
  const other = macOf(9);
  const bcast = v4('255.255.255.255');
  const ack = bootp({ op: 2, mac: MAC1, ciaddr: ADDR4, yiaddr: ADDR4, options: [typeOpt(ACK), opt(54, SERVER4), leaseOpt(7200)] });
  const reply6 = { kind: 'client' as const, msgType: REPLY, transactionId: 5,
    options: [{ kind: 'clientId' as const, duid: duidOf(1) }, iaNa(1, NA, 9000), iaPd(2, PD, 56, 9000)] };
  return [
    [4, false, b4(client4(DISCOVER, MAC1), new Uint8Array(4), bcast)],
    [4, false, b4(client4(REQUEST, MAC1, { ciaddr: ADDR4 }), ADDR4, SERVER4)],
    [4, false, b4(client4(RELEASE, other, { ciaddr: ADDR4 }), ADDR4, SERVER4)],
    [4, false, b4(client4(RELEASE, other, { ciaddr: ADDR4 }), ADDR4, bcast)],
    [4, true, b4(ack, SERVER4, ADDR4, 67, 68)],
    [6, false, b6(client6(SOLICIT, duidOf(1), [iaNa(1), iaPd(2)]), LL1, v6('ff02::1:2'))],
    [6, false, b6(client6(RENEW6, duidOf(1), [iaNa(1, NA)]), NA, SERVER6)],
    [6, false, b6(client6(RELEASE6, duidOf(2), [iaNa(1, NA), iaPd(2, PD)]), LL1, SERVER6)],
    [6, false, b6(client6(RELEASE6, duidOf(2), [iaNa(1, NA)]), NA, SERVER6)],
    [6, true, b6(reply6, SERVER6, NA, 547, 546)],
  ];
}

/** The counters that account for a frame on a relaying port (one of them moves per frame). */
function accounted(m: Core, port: string): number {
  if (port === 'pas1') return 0;
  const s = portStatus(m, port) as Record<string, unknown> & { dropped: Record<string, number> };
  const n = (k: string) => (s[k] as number | undefined) ?? 0;
  return n('relayed4') + n('relayed6') + n('unicastReplies') + n('unicastNotServer')
    + Object.values(s.dropped).reduce((a, b) => a + b, 0);
}

describe('hostile frames on every subscriber path (issue 13 merge)', () => {
  it('random and bit-flipped frames with every checksum state and direction never throw and are all counted', () => {
    const rnd = prng(13);
    const base = templates();
    for (const port of ['lan1', 'lan2', 'pas1']) {
      const m = withBindings();
      const before = accounted(m, port);
      let fed = 0;
      let i = 0;
      for (const checksum of CHECKSUMS) {
        for (const [family, outgoing, template] of base) {
          for (let k = 0; k < 120; k++, i++) {
            let bytes: Uint8Array;
            if (k % 5 === 0) bytes = randomBytes(rnd, Math.floor(rnd() * 400));
            else {
              bytes = template.slice();
              // Flip in the UDP header and payload mostly (the IP header fails early).
              for (let f = 0; f < 1 + Math.floor(rnd() * 3); f++) flip(rnd, bytes, k % 3 === 0 ? 0 : family === 4 ? 20 : 40);
            }
            const e: Event = { kind: 'packet', port, family, bytes, mac: rnd() < 0.5 ? MAC1 : macOf(9), checksum, outgoing };
            let actions: Action[] = [];
            // One packet a second: the rate limiter (50/s) never interferes.
            expect(() => { actions = m.handle(e, at(1000 + i * 1000)); }).not.toThrow();
            fed++;
            expect(only(actions, 'link-send')).toEqual([]);
            if (outgoing || port === 'pas1') expect(only(actions, 'udp-send')).toEqual([]);
          }
        }
      }
      if (port !== 'pas1') expect(accounted(m, port) - before).toBe(fed);
      // The flips left enough frames whole for every path to have been taken.
      if (port === 'lan1') {
        const s = portStatus(m, port);
        for (const k of ['relayed4', 'relayed6', 'unicastReplies', 'unicastRenewed', 'unicastNotServer']) {
          expect(s[k], k).toBeGreaterThan(0);
        }
        expect(s.dropped['foreign-release']).toBeGreaterThan(0);
      }
      // Whatever was gleaned stays within the table and ends by the clock.
      m.poll(at(1e12));
      expect(m.bindings().filter((b) => b.validUntil !== null)).toEqual([]);
    }
  });
});
