/**
 * Benchmark of the paging module (RFC 3154, issue 11), run by `npm run bench`
 * (test/bench/run.ts) or by hand:
 *
 *   npx tsx --expose-gc test/bench/paging.ts [hosts] [tableHosts]
 *
 * (defaults 100 000 through the REGISTER path, 1 000 000 through the table: at a million
 * the REGISTER path spends ~13 min in HMAC alone.)
 *
 * Builds the core as the daemon does, stores one IPv4 binding per host (the relay's
 * job, measured before), then registers every host through the paging module with a
 * signed REGISTER (one address, no correspondents, the common case) and prints the JS
 * heap + ArrayBuffer bytes the paging state added per host (process.memoryUsage()
 * after a forced GC), and the registrations per second of the whole path (decode,
 * HMAC verify, binding check, insert, signed REGISTER_ACK). Then one packet toward
 * each of the first 10 000 hosts (the area's page budget in one second): pages per
 * second of the DMA → PA path (hold, key, signed PAGE on every port of the area, WoL),
 * and the time from a held packet to its delivery for a host that answers at once
 * (core time only: the platform's socket and the host's wake-up are not in it).
 *
 * References in the same run: HMAC-SHA-256 alone over a REGISTER-sized message (the
 * REGISTER path does four, a PAGE two); an empty-valued Map of the same host ids (what a
 * bare id index costs); and, for `tableHosts`, the tracking table filled directly
 * (HostTable.add, one IPv4 address per host: the same entry a REGISTER stores, without
 * the HMAC, the binding check, the divert deltas and the ACK) beside the same Map.
 */
import { createHmac } from 'node:crypto';
import { loadConfig, formatProblem } from '../../src/config/config';
import { createCore } from '../../src/core';
import { deriveHostKey, freshReplay, signMessage } from '../../src/paging/auth';
import { HostTable } from '../../src/paging/tracking';
import { instant } from '../../src/time';
import { formatHex } from '../../src/wire/address';

const hosts = Number(process.argv[2] ?? 100_000);
const tableHosts = Number(process.argv[3] ?? 1_000_000);
const PORTS = Math.ceil(hosts / 100_000) + 1;
const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());
const MASTER = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex');

const ports = Array.from({ length: PORTS }, (_, i) => `
config subscriber 'p${i}'
	option device 'eth${i + 1}'
	option upstream 'wan'
	option giaddr '10.0.0.1'
	option link_address '2001:db8::1'
	option max_bindings '100000'`).join('\n');
const text = `
config global
	option max_bindings '1000000'
config upstream 'wan'
	option device 'eth0'
	list dhcpv4_server '192.0.2.67'
${ports}
config leasequery
	option bulk '0'
config paging
	option enabled '1'
	option key_master '${MASTER.toString('hex')}'
	option max_hosts '2000000'
	option area_page_rate '10000'
	option held_total '100000'
config paging_area 'all'
${Array.from({ length: PORTS }, (_, i) => `\tlist port 'p${i}'`).join('\n')}
	option key '${MASTER.toString('hex')}'
`;
const loaded = loadConfig(text, 'bench');
if (!loaded.ok) throw new Error(loaded.problems.map(formatProblem).join('\n'));

const gc = (globalThis as { gc?: () => void }).gc;
const measure = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

const now = instant(0);
const core = createCore(now, { paging: { hmacSha256: hmac, epoch: 1 } });
core.agent.handle({ kind: 'config', config: loaded.config }, now);
const addr = (i: number) => Uint8Array.of(10, 1 + ((i >> 16) & 0xff), (i >> 8) & 0xff, i & 0xff);
const mac = (i: number) => Uint8Array.of(0x02, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 1);
const port = (i: number) => `p${i % PORTS}`;
for (let i = 0; i < hosts; i += 10_000) {
  const w = core.bindings.write(Array.from({ length: Math.min(10_000, hosts - i) }, (_, k) => ({
    op: 'upsert' as const,
    fields: {
      family: 4 as const, kind: 'address' as const, address: addr(i + k), prefixLength: 32, port: port(i + k), mac: mac(i + k),
      clientId: null, circuitId: null, remoteId: null, linkLocal: null, validUntil: null, source: 'glean' as const,
    },
  })), now, { logEach: false });
  if (w.changes.length !== Math.min(10_000, hosts - i)) throw new Error(`bindings at ${i}: ${w.changes.length}`);
}

const before = measure();
const started = process.hrtime.bigint();
for (let i = 0; i < hosts; i++) {
  const id = `h${i}`;
  const payload = signMessage({
    epoch: 1, counter: 1n, id,
    body: { type: 'register', mode: 3, wake: 0, lifetimeS: 3600, area: 'all', addresses: [addr(i)], correspondents: [] },
  }, deriveHostKey(MASTER, id, hmac), hmac);
  const out = core.agent.handle({ kind: 'paging', port: port(i), family: 4, source: addr(i), sourcePort: 3154, mac: mac(i), payload }, now);
  // The REGISTER_ACK, and the divert's kernel delta.
  if (out.filter((a) => a.kind === 'paging-send').length !== 1) throw new Error(`host ${i}: ${JSON.stringify(out.map((a) => a.kind === 'log' ? a.fields : a.kind))}`);
}
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const after = measure();
const st = core.paging.status() as { hosts: Record<string, number> };

const paged = Math.min(hosts - 1, 10_000);
const packet = (i: number) => {
  const b = new Uint8Array(28);
  b.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 203, 0, 113, 5], 0);
  b.set(addr(i), 16);
  return b;
};
const pageStart = process.hrtime.bigint();
for (let i = 0; i < paged; i++) {
  const out = core.agent.handle({ kind: 'dormant', family: 4, port: null, bytes: packet(i) }, now);
  if (!out.some((a) => a.kind === 'paging-send')) throw new Error(`no page for host ${i}`);
}
const pageSeconds = Number(process.hrtime.bigint() - pageStart) / 1e9;
// A host that answers at once: its packet is held, paged, answered, delivered.
// A second later: the area's page budget is full again.
const later = instant(1000);
const i = paged;
const id = `h${i}`;
const t0 = process.hrtime.bigint();
const pageOut = core.agent.handle({ kind: 'dormant', family: 4, port: null, bytes: packet(i) }, later);
const pageMsg = pageOut.find((a) => a.kind === 'paging-send') as { payload: Uint8Array } | undefined;
const counter = pageMsg ? BigInt(new DataView(pageMsg.payload.buffer, pageMsg.payload.byteOffset).getBigUint64(8)) : 0n;
const answer = signMessage({ epoch: 1, counter: 2n, id, body: { type: 'page-response', paged: counter } }, deriveHostKey(MASTER, id, hmac), hmac);
const delivered = core.agent.handle({ kind: 'paging', port: port(i), family: 4, source: addr(i), sourcePort: 3154, mac: mac(i), payload: answer }, later);
const heldToDeliveredUs = Number(process.hrtime.bigint() - t0) / 1e3;
if (!delivered.some((a) => a.kind === 'link-send')) throw new Error(`held packet not delivered: ${JSON.stringify({ page: pageOut.map((a) => a.kind), counter: String(counter), delivered, st: core.paging.status() }, (_k, v) => typeof v === 'bigint' ? String(v) : v)}`);

// Reference: HMAC-SHA-256 alone, per message of a REGISTER's size (the signed part of one above).
const sample = signMessage({
  epoch: 1, counter: 1n, id: 'h0',
  body: { type: 'register', mode: 3, wake: 0, lifetimeS: 3600, area: 'all', addresses: [addr(0)], correspondents: [] },
}, MASTER, hmac);
const HMACS = 100_000;
const h0 = process.hrtime.bigint();
for (let k = 0; k < HMACS; k++) hmac(MASTER, sample.subarray(0, sample.length - 32));
const hmacUs = Number(process.hrtime.bigint() - h0) / 1e3 / HMACS;

// Reference: a Map of the same ids to one shared value (the cheapest id index there is).
const mapBytes = (n: number) => {
  const b = measure();
  const m = new Map<string, number>();
  for (let k = 0; k < n; k++) m.set(`h${k}`, 0);
  const used = measure() - b;
  if (m.size !== n) throw new Error('map');
  return Math.round(used / n);
};

console.log(JSON.stringify({
  hosts, tracked: st.hosts['dormant'], bytesPerHost: Math.round((after - before) / hosts), mapBytesPerId: mapBytes(hosts),
  registrationsPerS: Math.round(hosts / seconds), hmacPerS: Math.round(1e6 / hmacUs), pagesPerS: Math.round(paged / pageSeconds),
  portsPerArea: PORTS, heldToDeliveredUs: Math.round(heldToDeliveredUs), hmacUs: Number(hmacUs.toFixed(2)),
}));

// The tracking table alone at `tableHosts`, measured as a difference (the core above stays alive).
if (tableHosts > 0) {
  // Shared as the REGISTER path shares them: the area's port list is the plan's, the port name the config's.
  const areaPorts = Array.from({ length: PORTS }, (_, k) => `p${k}`);
  const b = measure();
  const table = new HostTable();
  const t = process.hrtime.bigint();
  for (let k = 0; k < tableHosts; k++) {
    table.add({
      id: `h${k}`, state: 'dormant', area: 'all', ports: areaPorts, port: areaPorts[k % PORTS]!, family: 4, mode: 3, wake: 0,
      addresses: [formatHex(addr(k))], correspondents: null, expiresAt: 3_600_000, deadline: 3_600_000 + k, pagesSent: 0,
      firstPageCounter: 0, lastPageAt: -1, wakeWindowStart: 0, wakeCount: 0, ...freshReplay(),
    });
  }
  const addSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  const used = measure() - b;
  if (table.size !== tableHosts) throw new Error(`table: ${table.size}`);
  console.log(JSON.stringify({
    tableHosts, bytesPerHost: Math.round(used / tableHosts), mapBytesPerId: mapBytes(tableHosts), addsPerS: Math.round(tableHosts / addSeconds),
  }));
}
