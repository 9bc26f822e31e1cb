import { describe, expect, it } from 'vitest';
import {
  DHCP6_LEASEQUERY_TYPE, LINK_UNSPECIFIED, buildLeasequery6, cltIsAbsolute, dhcp6Message, dhcp6StatusName,
  readLeasequeryAnswer, type Dhcp6Message,
} from '../../../src/wire';
import { parseIPv6 } from '../../../src/wire/address';
import { hex, toHex } from './kit';

const ip6 = (s: string): Uint8Array => parseIPv6(s)!;
const requestor = hex('0004 00112233445566778899aabbccddeeff'); // DUID-UUID (RFC 6355)
const client = hex('0001 0001 2a3b4c5d 020000000101'); // DUID-LLT, Ethernet

describe('DHCPv6 LEASEQUERY (RFC 5007 §4.1.2)', () => {
  it('by address: CLIENTID of the requestor, LQ_QUERY type 1 with link-address, IAADDR and ORO inside', () => {
    const m = buildLeasequery6({ by: 'address', address: ip6('2001:db8:1::1000'), linkAddress: ip6('2001:db8:1::1') }, 0x1abcdef, requestor);
    // Read the bytes field by field (msg-type 14, xid masked to 24 bits).
    expect(toHex(dhcp6Message.encode(m))).toBe(
      '0e' + 'abcdef'
      + '0001' + '0012' + toHex(requestor)
      + '002c' + '0035' + '01' + toHex(ip6('2001:db8:1::1'))
      + '0005' + '0018' + toHex(ip6('2001:db8:1::1000')) + '00000000' + '00000000'
      + '0006' + '0004' + '002f' + '0030',
    );
  });
  it('by client id: the DUID in CLIENTID inside the query-options, link-address unspecified', () => {
    const m = buildLeasequery6({ by: 'client-id', duid: client, linkAddress: LINK_UNSPECIFIED }, 5, requestor);
    const back = dhcp6Message.decode(dhcp6Message.encode(m));
    expect(back.ok).toBe(true);
    if (!back.ok || back.value.kind !== 'client') return;
    const q = back.value.options[1]!;
    expect(q.kind === 'lqQuery' && q.queryType).toBe(2);
    expect(q.kind === 'lqQuery' && q.options[0]).toEqual({ kind: 'clientId', duid: client });
  });
  it('bulk forms (RFC 5460 §5.3): relay id 3, link address 4, remote id 5', () => {
    const types = [
      buildLeasequery6({ by: 'relay-id', duid: requestor, linkAddress: LINK_UNSPECIFIED }, 1, requestor),
      buildLeasequery6({ by: 'link-address', linkAddress: ip6('2001:db8:1::1') }, 1, requestor),
      buildLeasequery6({ by: 'remote-id', enterpriseNumber: 32473, remoteId: hex('0102'), linkAddress: LINK_UNSPECIFIED }, 1, requestor),
    ].map((m) => (m.kind === 'client' && m.options[1]!.kind === 'lqQuery' ? m.options[1]!.queryType : 0));
    expect(types).toEqual([3, 4, 5]);
  });
});

const relayForw = (options: Dhcp6Message extends never ? never : Extract<Dhcp6Message, { kind: 'relay' }>['options']): Dhcp6Message => ({
  kind: 'relay', msgType: 12, hopCount: 0, linkAddress: ip6('2001:db8:1::1'), peerAddress: ip6('fe80::ff:fe00:101'), options,
});

describe('LEASEQUERY-REPLY view', () => {
  it('reads what ISC dhcpd 4.4 sends: CLIENT_DATA with CLIENTID, IAADDR, absolute CLT_TIME; no relay data', () => {
    // As dhcpd builds it (server/dhcpleasequery.c): SERVERID, CLIENTID (echo), CLIENT_DATA.
    const bytes = hex(
      '0f 0000aa'
      + '0002 000e 000100012a3b4c5d0200000000ff'
      + `0001 0012 ${toHex(requestor)}`
      + `002d 0036 0001 000e ${toHex(client)} 0005 0018 ${toHex(ip6('2001:db8:1::1000'))} 00000e10 00001c20 002e 0004 67000000`,
    );
    const d = dhcp6Message.decode(bytes);
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const r = readLeasequeryAnswer(d.value);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.answer.status).toBe(0);
    expect(r.answer.transactionId).toBe(0xaa);
    expect(r.answer.clientData?.clientId).toEqual(client);
    expect(r.answer.clientData?.leases).toEqual([
      { kind: 'address', address: ip6('2001:db8:1::1000'), prefixLength: 128, preferredLifetime: 3600, validLifetime: 7200 },
    ]);
    expect(r.answer.clientData?.cltTime).toBe(0x67000000);
    expect(cltIsAbsolute(0x67000000)).toBe(true);
    expect(cltIsAbsolute(30)).toBe(false);
    expect(r.answer.relayData).toBeNull();
  });
  it('reads the stored relay message: Interface-ID, client link-layer address, peer-address of the first relay', () => {
    const stored = relayForw([
      { kind: 'interfaceId', interfaceId: new TextEncoder().encode('sub0') },
      { kind: 'clientLinklayerAddr', linkLayerType: 1, linkLayerAddress: hex('020000000101') },
    ]);
    const reply: Dhcp6Message = {
      kind: 'client', msgType: 15, transactionId: 1,
      options: [
        { kind: 'clientData', options: [
          { kind: 'clientId', duid: client },
          { kind: 'iaPrefix', preferredLifetime: 10, validLifetime: 20, prefixLength: 56, prefix: ip6('2001:db8:100::'), options: [] },
          { kind: 'cltTime', cltTime: 5 },
        ] },
        { kind: 'lqRelayData', peerAddress: ip6('2001:db8::1'), relayMessage: stored },
      ],
    };
    const d = dhcp6Message.decode(dhcp6Message.encode(reply));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const r = readLeasequeryAnswer(d.value);
    expect(r.ok && r.answer.relayData?.hops.length).toBe(1);
    if (!r.ok) return;
    const hop = r.answer.relayData!.hops[0]!;
    expect(new TextDecoder().decode(hop.interfaceId!)).toBe('sub0');
    expect(hop.clientLinkLayer).toEqual({ type: 1, address: hex('020000000101') });
    expect(hop.peerAddress).toEqual(ip6('fe80::ff:fe00:101'));
    expect(r.answer.clientData?.leases[0]).toMatchObject({ kind: 'prefix', prefixLength: 56, validLifetime: 20 });
  });
  it('a status-only reply (NotConfigured, UnknownQueryType) and a bare LEASEQUERY-DONE', () => {
    const nc = dhcp6Message.decode(hex('0f 000001 000d 0018 0009 41646472657373206e6f7420696e206120706f6f6c2e'));
    expect(nc.ok).toBe(true);
    if (!nc.ok) return;
    const r = readLeasequeryAnswer(nc.value);
    expect(r.ok && [r.answer.status, r.answer.statusMessage, r.answer.clientData]).toEqual([9, 'Address not in a pool.', null]);
    expect(dhcp6StatusName(9)).toBe('NotConfigured');
    expect(dhcp6StatusName(7)).toBe('UnknownQueryType');
    const done = dhcp6Message.decode(hex('10 000002'));
    expect(done.ok && readLeasequeryAnswer(done.value)).toMatchObject({ ok: true, answer: { msgType: DHCP6_LEASEQUERY_TYPE.LEASEQUERY_DONE, status: 0 } });
  });
  it('refuses what is not one answer: other message types, two CLIENT_DATA, relay data that is not a RELAY-FORW', () => {
    const read = (m: Dhcp6Message) => readLeasequeryAnswer(m);
    expect(read({ kind: 'client', msgType: 7, transactionId: 1, options: [] })).toEqual({ ok: false, reason: 'not-an-answer' });
    expect(read({ kind: 'client', msgType: 14, transactionId: 1, options: [] })).toEqual({ ok: false, reason: 'not-an-answer' });
    const cd = { kind: 'clientData', options: [] } as const;
    expect(read({ kind: 'client', msgType: 15, transactionId: 1, options: [cd, cd] })).toEqual({ ok: false, reason: 'several-client-data' });
    const notForw: Dhcp6Message = { kind: 'client', msgType: 1, transactionId: 3, options: [] };
    expect(read({ kind: 'client', msgType: 15, transactionId: 1, options: [{ kind: 'lqRelayData', peerAddress: ip6('::1'), relayMessage: notForw }] }))
      .toEqual({ ok: false, reason: 'relay-data-not-relay-forw' });
  });
  it('truncated replies never decode into an answer, and never throw', () => {
    const full = dhcp6Message.encode(buildLeasequery6({ by: 'address', address: ip6('2001:db8:1::5'), linkAddress: LINK_UNSPECIFIED }, 9, requestor));
    const reply = new Uint8Array(full);
    reply[0] = 15;
    for (let n = 0; n < reply.length; n++) {
      const d = dhcp6Message.decode(reply.subarray(0, n));
      if (d.ok) expect(() => readLeasequeryAnswer(d.value)).not.toThrow();
    }
  });
});
