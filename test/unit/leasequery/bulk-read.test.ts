// The one-pass reader of the usual bulk reply message (`bulk-read.ts`) against the
// general codec's reading (`readBulkReply`): on every message it reads, it must say
// exactly what the codec says; on every other one it must step aside (null) so the
// codec applies its rules and the drop is counted. The corpus: the usual messages of
// the lab responder and of real servers (PROTOCOLS.md), then each of them truncated at
// every length and with every octet set to boundary values and its neighbours.
import { describe, expect, it } from 'vitest';
import { readBulkReply } from '../../../src/leasequery/bulk-message';
import { readBulkReplyFast } from '../../../src/leasequery/bulk-read';
import { dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import { v6 } from '../relay/kit';
import { DATA, DONE, REPLY, clientData, serverId, status } from './bulk-peer';

const DUID = Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 1, 7);
const RELAY = Uint8Array.of(0, 4, 0xbe, 0x5c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
const raw = (msgType: number, options: Dhcp6Option[], xid = 0x123456): Uint8Array =>
  dhcp6Message.encode({ kind: 'client', msgType, transactionId: xid, options }).slice();

/** A CLIENT_DATA whose stored RELAY-FORW carries the given options. */
const withRelay = (relayOptions: Dhcp6Option[], lease: Dhcp6Option): Dhcp6Option => ({
  kind: 'clientData',
  options: [
    { kind: 'clientId', duid: DUID }, lease, { kind: 'cltTime', cltTime: 600 },
    { kind: 'lqRelayData', peerAddress: v6('2001:db8::1'),
      relayMessage: { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:1::1'), peerAddress: v6('fe80::ff:fe00:107'), options: relayOptions } },
  ],
});
const prefix: Dhcp6Option = { kind: 'iaPrefix', prefix: v6('2001:db8:400::'), prefixLength: 56, preferredLifetime: 300, validLifetime: 86_400, options: [] };
const address: Dhcp6Option = { kind: 'iaAddr', address: v6('2001:db8:1::7'), preferredLifetime: 300, validLifetime: 600, options: [] };
const iid: Dhcp6Option = { kind: 'interfaceId', interfaceId: new TextEncoder().encode('lan1') };

const USUAL: Record<string, Uint8Array> = {
  'REPLY with a prefix (the lab responder)': raw(REPLY, [serverId, { kind: 'clientId', duid: RELAY }, withRelay([iid, { kind: 'relayId', duid: RELAY }], prefix)]),
  'DATA with a prefix': raw(DATA, [withRelay([iid, { kind: 'relayId', duid: RELAY }], prefix)]),
  'DATA with an address, Remote-ID and an Ethernet client link-layer address': raw(DATA, [withRelay([
    iid, { kind: 'remoteId', enterpriseNumber: 32473, remoteId: new TextEncoder().encode('cpe-0') },
    { kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: Uint8Array.of(2, 0, 0, 0, 1, 7) },
  ], address)]),
  'DATA with a non-Ethernet client link-layer address': raw(DATA, [withRelay([iid, { kind: 'clientLinklayerAddr', linkLayerType: 6, linkLayerAddress: Uint8Array.of(1, 2, 3, 4, 5, 6) }], address)]),
  'DATA without relay data (the address of a client whose prefix came first)': raw(DATA, [clientData({ duid: DUID, address: '2001:db8:1::8', interfaceId: null })]),
  'DATA with an address and a prefix in one CLIENT_DATA': raw(DATA, [clientData({ duid: DUID, address: '2001:db8:1::9', prefix: '2001:db8:100:900::' })]),
  'DONE': raw(DONE, []),
  'REPLY without CLIENT_DATA': raw(REPLY, [serverId, { kind: 'clientId', duid: RELAY }]),
};
const UNUSUAL: Record<string, Uint8Array> = {
  'DONE with an error status': raw(DONE, [status(11, 'terminated')]),
  'DATA with LQ_CLIENT_LINK': raw(DATA, [{ kind: 'lqClientLink', linkAddresses: [v6('2001:db8:1::1')] }]),
  'two CLIENT_DATA': raw(DATA, [clientData({ duid: DUID, address: '2001:db8:1::7' }), clientData({ duid: DUID, address: '2001:db8:1::8' })]),
  'an IAPREFIX with a status sub-option': raw(DATA, [withRelay([iid], { ...prefix, options: [status(0)] } as Dhcp6Option)]),
  'a LEASEQUERY (type 14)': raw(14, []),
  'three octets': Uint8Array.of(DATA, 0, 0),
  'CLIENTID repeated past the codec\'s option bound': raw(DATA, Array.from({ length: 1100 }, () => ({ kind: 'clientId', duid: Uint8Array.of(0, 3) }) as Dhcp6Option)),
};

/**
 * Octet values tried at every position: the small lengths and counts where bounds sit
 * (0–9, 16, 17, 24, 25, 33, 34), both sides of 128 (a prefix length's limit), the top.
 */
const VALUES = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17, 24, 25, 33, 34, 127, 128, 129, 130, 200, 254, 255];

/** The corpus around one message: every truncation, and every octet set to those values and to its neighbours. */
function* mutations(m: Uint8Array): Generator<Uint8Array> {
  for (let n = 0; n < m.length; n++) yield m.subarray(0, n);
  for (let i = 0; i < m.length; i++) {
    for (const v of new Set([...VALUES, (m[i]! + 1) & 0xff, (m[i]! - 1) & 0xff, (m[i]! + 2) & 0xff])) {
      if (v === m[i]) continue;
      const x = m.slice();
      x[i] = v;
      yield x;
    }
  }
}

describe('bulk reply, one-pass reader (RFC 5460 §7.3)', () => {
  it('reads the usual messages, and reads them as the general codec does', () => {
    for (const [what, m] of Object.entries(USUAL)) {
      const fast = readBulkReplyFast(m);
      expect(fast, what).not.toBeNull();
      expect(fast, what).toEqual(readBulkReply(m));
    }
  });

  it('steps aside on what it does not read (status codes, LQ_CLIENT_LINK, repeats, sub-options, other types, bounds)', () => {
    for (const [what, m] of Object.entries(UNUSUAL)) expect(readBulkReplyFast(m), what).toBeNull();
    // The codec then counts them: the bound and the truncation are malformed.
    expect(readBulkReply(UNUSUAL['CLIENTID repeated past the codec\'s option bound']!).kind).toBe('malformed');
  });

  it('an option one octet shorter or longer than the codec allows is left to the codec', () => {
    // Built with `unknown` options, which the encoder writes as given: code, length, body.
    const opt = (code: number, n: number): Dhcp6Option => ({ kind: 'unknown', code, data: new Uint8Array(n).fill(1) });
    // Beside our Interface-ID, or in its place when it is the option tried (not a repeat).
    const inRelay = (o: Dhcp6Option) => raw(DATA, [withRelay(o.kind === 'unknown' && o.code === 18 ? [o] : [iid, o], prefix)]);
    const inClientData = (o: Dhcp6Option) => raw(DATA, [{ kind: 'clientData', options: [{ kind: 'clientId', duid: DUID }, o] }]);
    const cases: Record<string, Uint8Array> = {
      'Interface-ID of 0 octets': inRelay(opt(18, 0)),
      'Remote-ID of 4 octets (no remote-id after the enterprise number)': inRelay(opt(37, 4)),
      'Relay-ID of 1 octet': inRelay(opt(53, 1)),
      'Client Link-Layer Address of 1 octet': inRelay(opt(79, 1)),
      'CLIENTID of 1 octet at the top': raw(DATA, [opt(1, 1)]),
      'SERVERID of 1 octet': raw(REPLY, [opt(2, 1)]),
      'CLIENTID of 1 octet in CLIENT_DATA': raw(DATA, [{ kind: 'clientData', options: [opt(1, 1)] }]),
      'IAADDR of 23 octets': inClientData(opt(5, 23)),
      'IAPREFIX of 24 octets': inClientData(opt(26, 24)),
      'CLT_TIME of 3 octets': inClientData(opt(46, 3)),
      'CLT_TIME of 5 octets': inClientData(opt(46, 5)),
      'LQ_RELAY_DATA of 16 octets': inClientData(opt(47, 16)),
      'LQ_RELAY_DATA whose RELAY-FORW is cut inside its addresses': inClientData({ kind: 'unknown', code: 47, data: Uint8Array.of(...new Uint8Array(16), 12, 0, ...new Uint8Array(20)) }),
    };
    for (const [what, m] of Object.entries(cases)) {
      expect(readBulkReplyFast(m), what).toBeNull();
      expect(readBulkReply(m).kind, what).toBe('malformed');
    }
    // One octet more where the codec takes any length: read, and read as the codec does.
    for (const m of [inRelay(opt(79, 3)), inRelay(opt(18, 1)), inRelay(opt(37, 5)), inRelay(opt(53, 2))]) {
      expect(readBulkReplyFast(m)).toEqual(readBulkReply(m));
      expect(readBulkReplyFast(m)).not.toBeNull();
    }
  });

  it('on every truncation and octet replacement of those: null, or exactly what the codec reads', { timeout: 60_000 }, () => {
    let read = 0;
    let aside = 0;
    // The bound message is left out: 6,600 octets of the same option, a slow corpus for nothing new.
    const corpus = [...Object.values(USUAL), ...Object.entries(UNUSUAL).filter(([k]) => !k.includes('bound')).map(([, m]) => m)];
    for (const m of corpus) {
      for (const x of mutations(m)) {
        const fast = readBulkReplyFast(x);
        if (fast === null) {
          aside++;
          continue;
        }
        read++;
        expect(fast).toEqual(readBulkReply(x));
      }
    }
    // Both outcomes occur: the comparison is not vacuous.
    expect(read).toBeGreaterThan(1000);
    expect(aside).toBeGreaterThan(1000);
  });
});
