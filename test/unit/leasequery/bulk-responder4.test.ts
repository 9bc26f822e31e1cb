// The lab's DHCPv4 bulk responder is test equipment the e2e tests trust: its reading of
// dhcpd's lease file is checked here against a record isc-dhcp 4.4.3 wrote in the lab
// (a lease relayed by gleand, stash-agent-options), and its answers against the RFC 6926
// shape, read back with gleand's codec *and* by raw offsets.
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameReader, frameMessage } from '../../../src/leasequery/bulk-frame';
import { buildBulkQuery4 } from '../../../src/leasequery/bulk-message4';
import { parseDhcpd4Leases, type ResponderLease4 } from '../../lab/bulk-leases';
import { startResponder4 } from '../../lab/bulk-responder4';

const RECORD = `# This lease file was written by isc-dhcp-4.4.3-P1
authoring-byte-order little-endian;
lease 10.1.0.100 {
  starts 1 2026/11/30 02:18:08;
  ends 1 2026/11/30 02:28:08;
  cltt 1 2026/11/30 02:18:08;
  binding state active;
  next binding state free;
  rewind binding state free;
  hardware ethernet 02:00:00:00:01:01;
  option agent.circuit-id "sub0";
  option agent.unknown-12 0:4:fc:24:65:95:9:74:42:1a:b1:c:52:64:fb:d7:55:8a;
}
lease 10.1.0.101 {
  starts 1 2026/11/30 02:18:08;
  ends 1 2026/11/30 02:28:08;
  binding state active;
  hardware ethernet 02:00:00:00:01:02;
}
lease 10.1.0.101 {
  starts 1 2026/11/30 02:18:08;
  ends 1 2026/11/30 02:19:08;
  binding state free;
  hardware ethernet 02:00:00:00:01:02;
}
`;
const RELAY = Uint8Array.from([0, 4, 0xfc, 0x24, 0x65, 0x95, 9, 0x74, 0x42, 0x1a, 0xb1, 0xc, 0x52, 0x64, 0xfb, 0xd7, 0x55, 0x8a]);

describe('lab bulk responder, DHCPv4 (RFC 6926)', () => {
  it('reads the stashed option 82 (circuit-id, relay-id as agent.unknown-12) of active leases; a later free record ends one', () => {
    const leases = parseDhcpd4Leases(RECORD);
    expect(leases).toEqual([{
      address: '10.1.0.100', mac: Uint8Array.of(2, 0, 0, 0, 1, 1), clientId: null,
      cltt: Date.UTC(2026, 10, 30, 2, 18, 8) / 1000, ends: Date.UTC(2026, 10, 30, 2, 28, 8) / 1000,
      circuitId: new TextEncoder().encode('sub0'), remoteId: null, relayId: RELAY,
    }]);
  });

  let server: net.Server;
  const log: string[] = [];
  const nowS = Math.floor(Date.now() / 1000);
  const lease: ResponderLease4 = {
    address: '10.1.0.100', mac: Uint8Array.of(2, 0, 0, 0, 1, 1), clientId: null, cltt: nowS - 20, ends: nowS + 580,
    circuitId: new TextEncoder().encode('sub0'), remoteId: null, relayId: RELAY,
  };
  beforeAll(async () => {
    server = await startResponder4({ leases: () => [lease, { ...lease, address: '10.1.0.102', relayId: Uint8Array.of(9) }], allow: ['127.0.0.1'], maxConns: 2, idleMs: 5000, log: (l) => log.push(l) }, '127.0.0.1', 0);
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  /** Send framed queries, read `n` framed answers. */
  async function ask(queries: Uint8Array[], n: number): Promise<Uint8Array[]> {
    const port = (server.address() as net.AddressInfo).port;
    const sock = net.connect(port, '127.0.0.1');
    const reader = new FrameReader(0xffff);
    const out: Uint8Array[] = [];
    return new Promise((resolve, reject) => {
      sock.on('connect', () => { for (const q of queries) sock.write(frameMessage(q)); });
      sock.on('data', (c: Buffer) => {
        for (const f of reader.push(new Uint8Array(c))) if (f.kind === 'frame') out.push(f.bytes.slice());
        if (out.length >= n) { sock.destroy(); resolve(out); }
      });
      sock.on('error', reject);
    });
  }
  // Raw offsets (RFC 2131 §2): op 0, xid 4, ciaddr 12, chaddr 28; options after the cookie at 240.
  const raw = (m: Uint8Array) => {
    const opts = new Map<number, Uint8Array>();
    for (let i = 240; i < m.length && m[i] !== 255;) { opts.set(m[i]!, m.subarray(i + 2, i + 2 + m[i + 1]!)); i += 2 + m[i + 1]!; }
    return { op: m[0], xid: new DataView(m.buffer, m.byteOffset).getUint32(4), ciaddr: [...m.subarray(12, 16)].join('.'), type: opts.get(53)?.[0], opts };
  };

  it('by relay-id: one DHCPLEASEACTIVE per binding (54 only in the first), then DONE with no 151; the query\'s xid in each', async () => {
    const [a, done] = await ask([buildBulkQuery4({ by: 'relay-id', duid: RELAY }, 0x1234)], 2);
    const r = raw(a!);
    expect(r).toMatchObject({ op: 2, xid: 0x1234, ciaddr: '10.1.0.100', type: 13 });
    expect(r.opts.has(54)).toBe(true);
    expect(new DataView(r.opts.get(91)!.buffer, r.opts.get(91)!.byteOffset).getUint32(0)).toBeGreaterThanOrEqual(20);
    expect([...r.opts.get(82)!]).toEqual([1, 4, ...new TextEncoder().encode('sub0'), 12, RELAY.length, ...RELAY]);
    expect(raw(done!)).toMatchObject({ op: 2, xid: 0x1234, type: 15 });
    expect(raw(done!).opts.has(151)).toBe(false);
    expect(raw(done!).opts.has(54)).toBe(false);
  });

  it('nothing matched: a DONE alone (with 54); ciaddr set: DONE MalformedQuery; two queries on one connection answered in turn', async () => {
    const q1 = buildBulkQuery4({ by: 'remote-id', remoteId: Uint8Array.of(1) }, 7);
    const q2 = buildBulkQuery4({ by: 'relay-id', duid: RELAY }, 8);
    q2[12] = 10; // ciaddr set: malformed (RFC 6926 §6.3)
    const [d1, d2] = await ask([q1, q2], 2);
    expect(raw(d1!)).toMatchObject({ xid: 7, type: 15 });
    expect(raw(d1!).opts.has(54)).toBe(true);
    expect(raw(d2!)).toMatchObject({ xid: 8, type: 15 });
    expect([...raw(d2!).opts.get(151)!]).toEqual([3]);
  });
});
