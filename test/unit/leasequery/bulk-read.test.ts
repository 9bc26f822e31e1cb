// The one-pass reader of the usual bulk reply message (`bulk-read.ts`) against the
// general codec's reading (`readBulkReply`): on every message it reads, it must say
// exactly what the codec says; on every other one it must step aside (null) so the
// codec applies its rules and the drop is counted. The corpus: the usual messages of
// the lab responder and of real servers (PROTOCOLS.md), then each of them truncated at
// every length and with every octet replaced by 0x00, 0xff and itself + 1.
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

/** The corpus around one message: truncations and single-octet replacements. */
function* mutations(m: Uint8Array): Generator<Uint8Array> {
  for (let n = 0; n < m.length; n++) yield m.subarray(0, n);
  for (let i = 0; i < m.length; i++) {
    for (const v of [0, 0xff, (m[i]! + 1) & 0xff]) {
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

  it('on every truncation and octet replacement of those: null, or exactly what the codec reads', () => {
    let read = 0;
    let aside = 0;
    for (const m of [...Object.values(USUAL), ...Object.values(UNUSUAL)]) {
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
