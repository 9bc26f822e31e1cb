// Issue 13 item 2: a station that sends from another client's link-local must not get
// that client's replies, nor move its bindings. Scripts against time (CONVENTIONS 9).
import { describe, expect, it } from 'vitest';
import { dhcp6Message, type Dhcp6ClientMessage, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import { Transactions6, TRANSACTION_LIFETIME_MS } from '../../../src/relay/transactions';
import {
  ADVERTISE, BASE_CONFIG, RENEW6, REPLY, REQUEST6, SOLICIT, T0, at, client6, dropLog, duidOf, iaNa, iaPd, kinds, macOf,
  only, packet6, portStatus, relayRepl, started, udp6, utf8, v6, type Core,
} from './kit';

const VICTIM = macOf(1);
const ATTACKER = macOf(2);
const LL = v6('fe80::200:ff:fe00:1');
const DUID_V = duidOf(1);
const DUID_A = duidOf(2);
const NA = v6('2001:db8:1::100');
const PD = v6('2001:db8:100::');
const IID = utf8('lan1');

const request = (msgType: number, duid: Uint8Array, txid: number, options: Dhcp6Option[] = []): Dhcp6ClientMessage =>
  ({ ...client6(msgType, duid, options), transactionId: txid });
const answer = (msgType: number, duid: Uint8Array, txid: number, options: Dhcp6Option[]): Dhcp6Message =>
  ({ kind: 'client', msgType, transactionId: txid, options: [{ kind: 'clientId', duid }, { kind: 'serverId', duid: duidOf(99) }, ...options] });
const leases = (valid = 3600): Dhcp6Option[] => [iaNa(1, NA, valid), iaPd(2, PD, 56, valid)];
/** Times are ms after T0. */
const send = (m: Core, mac: Uint8Array, msg: Dhcp6Message, ms: number, port = 'lan1') =>
  m.handle(packet6(port, mac, LL, dhcp6Message.encode(msg)), at(ms));
const reply = (m: Core, msg: Dhcp6Message, ms: number) => m.handle(udp6(relayRepl(IID, LL, msg)), at(ms));
const sentTo = (actions: ReturnType<Core['handle']>) => only(actions, 'link-send').map((a) => a.destinationMac);
const macsOf = (m: Core) => m.bindings().map((b) => b.mac);

/** The victim's REQUEST → REPLY: IA_NA + IA_PD bound to VICTIM. */
function leased(text = BASE_CONFIG): Core {
  const m = started(text);
  send(m, VICTIM, request(REQUEST6, DUID_V, 0x111111, leases()), 0);
  expect(sentTo(reply(m, answer(REPLY, DUID_V, 0x111111, leases()), 0))).toEqual([VICTIM]);
  expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
  return m;
}

describe('DHCPv6 replies follow the transaction, not the last frame (RFC 8415 §18.3.10, §19.2)', () => {
  it('the race of issue 13: RENEW, then 1 ms later a SOLICIT from the same link-local and another MAC', () => {
    const m = leased();
    const t = 1_000_000;
    expect(kinds(send(m, VICTIM, request(RENEW6, DUID_V, 0x222222, leases()), t))).toEqual(['udp-send']);
    const racing = send(m, ATTACKER, request(SOLICIT, DUID_A, 0x333333, [iaNa(1), iaPd(2)]), t + 1);
    // Counted and logged: one link-local, two MACs. The SOLICIT itself is relayed.
    expect(racing[0]).toEqual({
      kind: 'log', level: 'warn', subsystem: 'relay', message: 'link-local seen from two MACs',
      fields: { port: 'lan1', address: 'fe80::200:ff:fe00:1', mac: '02:00:00:00:00:02', previous: '02:00:00:00:00:01' },
      key: 'peer-conflict:lan1',
    });
    expect(kinds(racing)).toEqual(['log', 'udp-send']);
    // The RENEW's REPLY goes to the MAC that sent the RENEW; the bindings stay, with no kernel change.
    const renewed = reply(m, answer(REPLY, DUID_V, 0x222222, leases()), t + 2);
    expect(sentTo(renewed)).toEqual([VICTIM]);
    expect(kinds(renewed)).toEqual(['log', 'log', 'link-send']);
    expect(renewed.slice(0, 2)).toMatchObject([{ message: 'refreshed' }, { message: 'refreshed' }]);
    // The SOLICIT's ADVERTISE goes to the station that sent it.
    expect(sentTo(reply(m, answer(ADVERTISE, DUID_A, 0x333333, leases()), t + 3))).toEqual([ATTACKER]);
    expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
    expect(portStatus(m, 'lan1')).toMatchObject({ peerConflicts: 1, dropped: {} });
    const state = m.desiredState();
    expect([...state.neighbours].map((n) => n.lladdr)).toEqual([VICTIM, VICTIM]);
    expect([...state.verifies].map((v) => v.mac)).toEqual([VICTIM, VICTIM, VICTIM]);
  });

  it('the same race in the other order: the attacker first, the victim\'s RENEW 1 ms later', () => {
    const m = leased();
    const t = 1_000_000;
    send(m, ATTACKER, request(SOLICIT, DUID_A, 0x333333, [iaNa(1)]), t);
    send(m, VICTIM, request(RENEW6, DUID_V, 0x222222, leases()), t + 1);
    expect(sentTo(reply(m, answer(REPLY, DUID_V, 0x222222, leases()), t + 2))).toEqual([VICTIM]);
    expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
    expect(portStatus(m, 'lan1').peerConflicts).toBe(2);
  });

  it('a copy of the victim\'s request (its transaction-id) from another MAC is dropped while the transaction lives', () => {
    const m = leased();
    const t = 1_000_000;
    const renew = request(RENEW6, DUID_V, 0x222222, leases());
    send(m, VICTIM, renew, t);
    const replayed = send(m, ATTACKER, renew, t + 1);
    expect(replayed.at(-1)).toEqual(dropLog('lan1', 'transaction-conflict'));
    expect(only(replayed, 'udp-send')).toEqual([]);
    // The victim's retransmission (same transaction-id, RFC 8415 §15) is relayed and keeps it
    // alive (the log: its link-local was just seen from the other MAC).
    expect(kinds(send(m, VICTIM, renew, t + TRANSACTION_LIFETIME_MS - 1))).toEqual(['log', 'udp-send']);
    expect(kinds(send(m, ATTACKER, renew, t + TRANSACTION_LIFETIME_MS + 10)).at(-1)).toBe('log');
    expect(sentTo(reply(m, answer(REPLY, DUID_V, 0x222222, leases()), t + TRANSACTION_LIFETIME_MS + 20))).toEqual([VICTIM]);
    expect(portStatus(m, 'lan1').dropped).toEqual({ 'transaction-conflict': 2 });
  });

  it('a transaction ends after its lifetime: a reply to it is not delivered (no-transaction)', () => {
    const m = leased();
    const t = 1_000_000;
    send(m, VICTIM, request(RENEW6, DUID_V, 0x222222, leases()), t);
    const late = reply(m, answer(REPLY, DUID_V, 0x222222, leases()), t + TRANSACTION_LIFETIME_MS + 1);
    expect(sentTo(late)).toEqual([]);
    expect(late.at(-1)).toEqual(dropLog('lan1', 'no-transaction'));
    // Gleaned without a MAC: the bindings keep theirs.
    expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
  });

  it('a reply with another transaction-id is not delivered to whoever sent last from the link-local', () => {
    const m = leased();
    const t = 1_000_000;
    send(m, ATTACKER, request(SOLICIT, DUID_A, 0x333333), t);
    expect(sentTo(reply(m, answer(REPLY, DUID_V, 0x444444, leases()), t + 1))).toEqual([]);
    expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
  });

  it('the victim\'s DUID in the attacker\'s own transaction: the REPLY goes to it, the bindings do not move', () => {
    const m = leased();
    const t = 1_000_000;
    send(m, ATTACKER, request(REQUEST6, DUID_V, 0x555555, leases()), t);
    const stolen = reply(m, answer(REPLY, DUID_V, 0x555555, leases()), t + 1);
    expect(sentTo(stolen)).toEqual([ATTACKER]);
    expect(only(stolen, 'kernel')).toEqual([]);
    expect(only(stolen, 'log').map((l) => [l.level, l.message, l.key])).toEqual([
      ['warn', 'refused: the same client\'s lease from another MAC', 'mac-change:lan1'],
      ['warn', 'refused: the same client\'s lease from another MAC', 'mac-change:lan1'],
    ]);
    expect(only(stolen, 'log')[0]!.fields).toEqual({
      binding: '2001:db8:1::100/128', port: 'lan1', mac: '02:00:00:00:00:01', offered: '02:00:00:00:00:02',
    });
    expect(macsOf(m)).toEqual([VICTIM, VICTIM]);
    // Not extended either: the binding ends when the victim's lease would have.
    expect(m.bindings().map((b) => b.updatedAt)).toEqual([T0, T0]);
    expect(m.owner.status()['table']).toMatchObject({ refusedMacChange: 2, moved: 0 });
  });

  it('a lease the server gives to another client (another DUID) still moves to that client\'s MAC', () => {
    const m = leased();
    const t = 1_000_000;
    send(m, ATTACKER, request(REQUEST6, DUID_A, 0x666666, [iaNa(1, NA)]), t);
    const moved = reply(m, answer(REPLY, DUID_A, 0x666666, [iaNa(1, NA, 3600)]), t + 1);
    expect(sentTo(moved)).toEqual([ATTACKER]);
    expect(only(moved, 'log').map((l) => l.message)).toEqual(['moved']);
    expect(m.bindings().find((b) => b.kind === 'address')!.mac).toEqual(ATTACKER);
  });

  it('RECONFIGURE answers no request: it goes by the peer cache (RFC 8415 §18.3.11), nothing is gleaned', () => {
    const m = leased();
    const reconfigure: Dhcp6Message = { kind: 'client', msgType: 10, transactionId: 0, options: [{ kind: 'clientId', duid: DUID_V }] };
    const actions = reply(m, reconfigure, 10);
    expect(kinds(actions)).toEqual(['link-send']);
    expect(sentTo(actions)).toEqual([VICTIM]);
  });

  it('passive mode: an observed REPLY is bound to the MAC of the request it answers', () => {
    const text = `${BASE_CONFIG}
config subscriber 'pas1'
	option device 'eth3'
	option upstream 'wan'
	option mode 'passive'
	option relay_v4 '0'
	option link_address '2001:db8:3::1'
`;
    const m = started(text);
    const na = v6('2001:db8:3::100');
    send(m, VICTIM, request(REQUEST6, DUID_V, 0x777777, [iaNa(1, na)]), 0, 'pas1');
    send(m, ATTACKER, request(SOLICIT, DUID_A, 0x888888), 1, 'pas1');
    const observed = relayRepl(Uint8Array.of(0, 0, 0, 3), LL, answer(REPLY, DUID_V, 0x777777, [iaNa(1, na, 600)]), v6('2001:db8:3::1'));
    expect(kinds(m.handle(udp6(observed, undefined, true), at(2)))).toEqual(['kernel', 'log']);
    expect(macsOf(m)).toEqual([VICTIM]);
    expect(portStatus(m, 'pas1').peerConflicts).toBe(1);
  });
});

describe('Transactions6', () => {
  const ll = (i: number) => Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 255);
  it('keys by port, peer-address and transaction-id; the first MAC holds it while it lives', () => {
    const t = new Transactions6(16, 1000);
    expect(t.open('lan1', ll(1), 0xabcdef, VICTIM, at(0))).toBe('opened');
    expect(t.open('lan1', ll(1), 0xabcdef, ATTACKER, at(999))).toBe('conflict');
    expect(t.open('lan1', ll(1), 0xabcdee, ATTACKER, at(0))).toBe('opened');
    expect(t.open('lan2', ll(1), 0xabcdef, ATTACKER, at(0))).toBe('opened');
    expect(t.open('lan1', ll(2), 0xabcdef, ATTACKER, at(0))).toBe('opened');
    expect(t.macFor('lan1', ll(1), 0xabcdef, at(1000))).toEqual(VICTIM);
    expect(t.open('lan1', ll(1), 0xabcdef, VICTIM, at(1000))).toBe('refreshed');
    expect(t.macFor('lan1', ll(1), 0xabcdef, at(2000))).toEqual(VICTIM);
    expect(t.macFor('lan1', ll(1), 0xabcdef, at(2001))).toBeNull();
    // Expired: the next request with that key opens it afresh, for whoever sends it.
    expect(t.open('lan1', ll(1), 0xabcdef, ATTACKER, at(2001))).toBe('opened');
    expect(t.macFor('lan1', ll(1), 0xabcdef, at(2001))).toEqual(ATTACKER);
  });

  it('is bounded: at its bound the least recently seen transaction goes', () => {
    const t = new Transactions6(100);
    for (let i = 0; i < 250; i++) t.open('lan1', ll(i), i, VICTIM, at(i));
    expect(t.size).toBe(100);
    expect(t.evicted).toBe(150);
    expect(t.macFor('lan1', ll(149), 149, at(250))).toBeNull();
    expect(t.macFor('lan1', ll(150), 150, at(250))).toEqual(VICTIM);
  });
});
