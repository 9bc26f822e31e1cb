/**
 * Golden vectors captured from real peers (ISC dhcpd / dhcrelay / dhclient, see
 * golden/capture.sh): our decoders must read the same field values tshark reads.
 */
import { describe, expect, it } from 'vitest';
import { goldenBytes, loadGolden, type GoldenPacket } from './golden';
import { toHex } from './kit';
import { formatIPv4, formatIPv6 } from '../../../src/wire/address';
import { ipv4Udp, ipv6Udp } from '../../../src/wire/udp';
import {
  clientHardwareAddress, dhcp4Message, getDhcp4Option, getRelayAgentInformation, insertRelayAgentInformation,
  stripRelayAgentInformation, type Dhcp4Message,
} from '../../../src/wire/dhcp4';
import { findSubOption } from '../../../src/wire/dhcp4-relay-agent';
import { dhcp6Message, unwrapRelays, type Dhcp6Message } from '../../../src/wire/dhcp6';
import { DHCP6_OPTION, dhcp6OptionCode, type Dhcp6Option } from '../../../src/wire/dhcp6-options';
import { duidType } from '../../../src/wire/duid';

const colons = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
const hex0x = (n: number, digits: number) => `0x${n.toString(16).padStart(digits, '0')}`;
const f = (p: GoldenPacket, name: string): readonly string[] => p.fields[name] ?? [];
const sorted = (xs: readonly string[]) => [...xs].sort();

function must<T>(r: { ok: true; value: T } | { ok: false; error: unknown } | undefined): T {
  if (!r) throw new Error('absent');
  if (!r.ok) throw new Error(JSON.stringify(r.error));
  return r.value;
}

describe('golden DHCPv4 through ISC dhcrelay -a (tshark 4.0)', () => {
  const packets = loadGolden('dhcp4-relay.json');
  const decoded = packets.map((p) => {
    const d = must(ipv4Udp.decode(goldenBytes(p)));
    return { p, d, m: must(dhcp4Message.decode(d.udp.payload)) };
  });

  it('has DISCOVER/OFFER/REQUEST/ACK on both sides of the relay', () => {
    const types = decoded.map(({ p, m }) => `${p.iface}:${must(getDhcp4Option(m, 53)).name}`);
    expect(sorted(types)).toEqual(sorted([
      'rup:DHCPDISCOVER', 'rup:DHCPOFFER', 'rup:DHCPREQUEST', 'rup:DHCPACK',
      'rdn:DHCPDISCOVER', 'rdn:DHCPOFFER', 'rdn:DHCPREQUEST', 'rdn:DHCPACK',
    ]));
  });

  it.each(packets.map((p, i) => [p.frame, p.iface, i] as const))('frame %i on %s reads as tshark reads it', (_frame, _iface, i) => {
    const { p, d, m } = decoded[i]!;
    expect([formatIPv4(d.ip.source)]).toEqual(f(p, 'ip.src'));
    expect([formatIPv4(d.ip.destination)]).toEqual(f(p, 'ip.dst'));
    expect([String(d.ip.ttl)]).toEqual(f(p, 'ip.ttl'));
    expect([hex0x(d.ip.identification, 4)]).toEqual(f(p, 'ip.id'));
    expect([hex0x(d.ip.flags, 2)]).toEqual(f(p, 'ip.flags'));
    expect([String(d.ip.fragmentOffset)]).toEqual(f(p, 'ip.frag_offset'));
    expect([String(goldenBytes(p).length)]).toEqual(f(p, 'ip.len'));
    expect([String(d.udp.sourcePort)]).toEqual(f(p, 'udp.srcport'));
    expect([String(d.udp.destinationPort)]).toEqual(f(p, 'udp.dstport'));
    expect([String(d.udp.payload.length + 8)]).toEqual(f(p, 'udp.length'));

    expect([String(m.op)]).toEqual(f(p, 'dhcp.type'));
    expect([String(m.hops)]).toEqual(f(p, 'dhcp.hops'));
    expect([hex0x(m.xid, 8)]).toEqual(f(p, 'dhcp.id'));
    expect([hex0x(m.flags, 4)]).toEqual(f(p, 'dhcp.flags'));
    expect([formatIPv4(m.ciaddr)]).toEqual(f(p, 'dhcp.ip.client'));
    expect([formatIPv4(m.yiaddr)]).toEqual(f(p, 'dhcp.ip.your'));
    expect([formatIPv4(m.siaddr)]).toEqual(f(p, 'dhcp.ip.server'));
    expect([formatIPv4(m.giaddr)]).toEqual(f(p, 'dhcp.ip.relay'));
    expect([colons(clientHardwareAddress(m))]).toEqual(f(p, 'dhcp.hw.mac_addr'));
    // tshark lists the trailing padding as an option of type 0
    const codes = m.options.map((o) => String(o.code)).concat(m.trailer.length > 0 ? ['0'] : []);
    expect(codes).toEqual(f(p, 'dhcp.option.type'));
    expect(m.options.map((o) => String(o.data.length))).toEqual(f(p, 'dhcp.option.length'));
    expect([String(must(getDhcp4Option(m, 53)).code)]).toEqual(f(p, 'dhcp.option.dhcp'));

    const server = getDhcp4Option(m, 54);
    expect(server ? [formatIPv4(must(server))] : []).toEqual(f(p, 'dhcp.option.dhcp_server_id'));
    const lease = getDhcp4Option(m, 51);
    expect(lease ? [String(must(lease))] : []).toEqual(f(p, 'dhcp.option.ip_address_lease_time'));
    const requested = getDhcp4Option(m, 50);
    expect(requested ? [formatIPv4(must(requested))] : []).toEqual(f(p, 'dhcp.option.requested_ip_address'));
    const prl = getDhcp4Option(m, 55);
    expect(prl ? must(prl).map(String) : []).toEqual(f(p, 'dhcp.option.request_list_item'));
    const host = getDhcp4Option(m, 12);
    expect(host ? [must(host)] : []).toEqual(f(p, 'dhcp.option.hostname'));
    const routers = getDhcp4Option(m, 3);
    expect(routers ? must(routers).map(formatIPv4) : []).toEqual(f(p, 'dhcp.option.router'));

    const rai = getRelayAgentInformation(m);
    const circuit = rai && findSubOption(must(rai), 'circuitId');
    expect(circuit ? [colons(circuit.circuitId)] : []).toEqual(f(p, 'dhcp.option.agent_information_option.agent_circuit_id'));
    expect(rai !== undefined).toBe(p.iface === 'rup'); // dhcrelay -a adds 82 upstream, strips it downstream
  });

  // Frames on the client link (rdn) and the server link (rup), paired by xid and type.
  const pair = (type: string) => {
    const find = (iface: string) => decoded.find((x) => x.p.iface === iface && must(getDhcp4Option(x.m, 53)).name === type)!.m;
    return { up: find('rup'), down: find('rdn') };
  };
  const withRelayFields = (m: Dhcp4Message, hops: number, giaddr: Uint8Array): Dhcp4Message => ({ ...m, hops, giaddr });

  it.each(['DHCPDISCOVER', 'DHCPREQUEST'])('inserting option 82 into the client %s reproduces what dhcrelay sent upstream', (type) => {
    const { up, down } = pair(type);
    const circuit = findSubOption(must(getRelayAgentInformation(up)), 'circuitId')!;
    const relayed = insertRelayAgentInformation(withRelayFields(down, down.hops + 1, up.giaddr), [circuit], { keepSize: true });
    expect(toHex(dhcp4Message.encode(relayed))).toBe(toHex(dhcp4Message.encode(up)));
  });

  it.each(['DHCPOFFER', 'DHCPACK'])('stripping option 82 from the server %s reproduces what dhcrelay sent to the client', (type) => {
    const { up, down } = pair(type);
    const stripped = stripRelayAgentInformation(up, { keepSize: true });
    expect(toHex(dhcp4Message.encode(stripped))).toBe(toHex(dhcp4Message.encode(down)));
  });
});

// ---- DHCPv6 ------------------------------------------------------------------------------

/** Every option in a message, depth first, including those of nested relay messages. */
function allOptions(m: Dhcp6Message, out: Dhcp6Option[] = []): Dhcp6Option[] {
  if (m.kind === 'unknown') return out;
  const walk = (os: readonly Dhcp6Option[]) => {
    for (const o of os) {
      out.push(o);
      if ('options' in o) walk(o.options);
      if (o.kind === 'relayMsg' && o.message) allOptions(o.message, out);
    }
  };
  walk(m.options);
  return out;
}
const msgTypes = (m: Dhcp6Message): string[] => {
  const out = [String(m.msgType)];
  const { relays, inner } = unwrapRelays(m);
  for (let i = 1; i < relays.length; i++) out.push(String(relays[i]!.msgType));
  if (relays.length > 0 && inner) out.push(String(inner.msgType));
  return out;
};

describe('golden DHCPv6 through ISC dhcrelay -6 -I (tshark 4.0)', () => {
  const packets = loadGolden('dhcp6-relay.json');
  const decoded = packets.map((p) => {
    const d = must(ipv6Udp.decode(goldenBytes(p)));
    return { p, d, m: must(dhcp6Message.decode(d.udp.payload)) };
  });

  it('has SOLICIT/ADVERTISE/REQUEST/REPLY with IA_NA and IA_PD, relayed in RELAY-FORW/RELAY-REPL', () => {
    const seen = decoded.map(({ m }) => msgTypes(m).join('/'));
    expect(sorted(seen)).toEqual(sorted(['1', '2', '3', '7', '12/1', '13/2', '12/3', '13/7']));
    for (const { m } of decoded) {
      const kinds = allOptions(m).map((o) => o.kind);
      expect(kinds).toContain('iaNa');
      expect(kinds).toContain('iaPd');
      if (m.msgType === 2 || m.msgType === 7 || m.msgType === 13) {
        expect(kinds).toContain('iaAddr');
        expect(kinds).toContain('iaPrefix');
      }
    }
  });

  it.each(packets.map((p, i) => [p.frame, p.iface, i] as const))('frame %i on %s reads as tshark reads it', (_frame, _iface, i) => {
    const { p, d, m } = decoded[i]!;
    expect([formatIPv6(d.ip.source)]).toEqual(f(p, 'ipv6.src'));
    expect([formatIPv6(d.ip.destination)]).toEqual(f(p, 'ipv6.dst'));
    expect([String(d.ip.hopLimit)]).toEqual(f(p, 'ipv6.hlim'));
    expect([String(d.udp.payload.length + 8)]).toEqual(f(p, 'ipv6.plen'));
    expect([String(d.udp.sourcePort)]).toEqual(f(p, 'udp.srcport'));
    expect([String(d.udp.destinationPort)]).toEqual(f(p, 'udp.dstport'));

    expect(msgTypes(m)).toEqual(f(p, 'dhcpv6.msgtype'));
    const { relays, inner } = unwrapRelays(m);
    expect(relays.map((r) => String(r.hopCount))).toEqual(f(p, 'dhcpv6.hopcount'));
    expect(relays.map((r) => formatIPv6(r.linkAddress))).toEqual(f(p, 'dhcpv6.linkaddr'));
    expect(relays.map((r) => formatIPv6(r.peerAddress))).toEqual(f(p, 'dhcpv6.peeraddr'));
    expect(inner?.kind).toBe('client');
    if (inner?.kind === 'client') expect([hex0x(inner.transactionId, 6)]).toEqual(f(p, 'dhcpv6.xid'));

    const opts = allOptions(m);
    // tshark groups repeated fields, so compare the multiset of option codes and lengths
    expect(sorted(opts.map((o) => String(dhcp6OptionCode(o))))).toEqual(sorted(f(p, 'dhcpv6.option.type')));
    const ofKind = <K extends Dhcp6Option['kind']>(k: K) => opts.filter((o): o is Extract<Dhcp6Option, { kind: K }> => o.kind === k);
    const ias = [...ofKind('iaNa'), ...ofKind('iaPd')];
    expect(sorted(ias.map((ia) => ia.iaid.toString(16).padStart(8, '0')))).toEqual(sorted(f(p, 'dhcpv6.iaid')));
    expect(sorted(ias.map((ia) => String(ia.t1)))).toEqual(sorted(f(p, 'dhcpv6.iaid.t1')));
    expect(sorted(ias.map((ia) => String(ia.t2)))).toEqual(sorted(f(p, 'dhcpv6.iaid.t2')));
    expect(ofKind('iaAddr').map((a) => formatIPv6(a.address))).toEqual(f(p, 'dhcpv6.iaaddr.ip'));
    expect(ofKind('iaAddr').map((a) => String(a.preferredLifetime))).toEqual(f(p, 'dhcpv6.iaaddr.pref_lifetime'));
    expect(ofKind('iaAddr').map((a) => String(a.validLifetime))).toEqual(f(p, 'dhcpv6.iaaddr.valid_lifetime'));
    expect(ofKind('iaPrefix').map((a) => formatIPv6(a.prefix))).toEqual(f(p, 'dhcpv6.iaprefix.pref_addr'));
    expect(ofKind('iaPrefix').map((a) => String(a.prefixLength))).toEqual(f(p, 'dhcpv6.iaprefix.pref_len'));
    expect(ofKind('iaPrefix').map((a) => String(a.preferredLifetime))).toEqual(f(p, 'dhcpv6.iaprefix.pref_lifetime'));
    expect(ofKind('iaPrefix').map((a) => String(a.validLifetime))).toEqual(f(p, 'dhcpv6.iaprefix.valid_lifetime'));
    const duids = [...ofKind('clientId'), ...ofKind('serverId')].map((o) => o.duid);
    expect(sorted(duids.map(colons))).toEqual(sorted(f(p, 'dhcpv6.duid.bytes')));
    expect(sorted(duids.map((x) => String(duidType(x))))).toEqual(sorted(f(p, 'dhcpv6.duid.type')));
    expect(ofKind('interfaceId').map((o) => colons(o.interfaceId))).toEqual(f(p, 'dhcpv6.interface_id'));
    expect(ofKind('relayMsg').length).toBe(relays.length);
    expect(opts.filter((o) => dhcp6OptionCode(o) === DHCP6_OPTION.INTERFACE_ID).length).toBe(relays.length); // dhcrelay -I
  });
});
