/**
 * Memory check for the binding table (not a vitest test: run by hand).
 *
 *   npx tsx --expose-gc test/unit/bindings/memory-check.ts  [v4Count] [v6Clients]
 *
 * Fills a table with N IPv4 bindings (MAC, 7-byte client id, per-port circuit id)
 * and M IPv6 clients with an IA_NA and an IA_PD each (DUID-LL, link-local, MAC),
 * then prints JS heap + ArrayBuffer bytes per binding, measured with
 * process.memoryUsage() after a forced GC.
 */
import { SLOT_BYTES_V4, SLOT_BYTES_V6 } from '../../../src/bindings/store';
import { BindingTable } from '../../../src/bindings/table';
import { DesiredState } from '../../../src/kernel/desired';
import type { PortKernelConfig } from '../../../src/kernel/derive';
import { instant } from '../../../src/time';

const v4Count = Number(process.argv[2] ?? 100_000);
const v6Clients = Number(process.argv[3] ?? 50_000);
const PORTS = 64;

const gc = (globalThis as { gc?: () => void }).gc;
const measure = () => {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { heap: m.heapUsed, buffers: m.arrayBuffers };
};

const before = measure();
const total = v4Count + 2 * v6Clients;
const table = new BindingTable({ maxBindings: total, maxPerPort: () => total }, 1024);
const now = instant(0);
const port = (i: number) => `sub${i % PORTS}`;
const circuit = (i: number) => new TextEncoder().encode(`eth0/1/${i % PORTS}`);

for (let i = 0; i < v4Count; i++) {
  const mac = Uint8Array.of(0x02, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 1);
  const r = table.upsert(
    {
      family: 4,
      kind: 'address',
      address: Uint8Array.of(10, ((i + 1) >> 16) & 0xff, ((i + 1) >> 8) & 0xff, (i + 1) & 0xff),
      prefixLength: 32,
      port: port(i),
      mac,
      clientId: Uint8Array.of(1, ...mac),
      circuitId: circuit(i),
      remoteId: null,
      linkLocal: null,
      validUntil: instant(3_600_000 + i),
      source: 'glean',
    },
    now,
  );
  if (r.kind !== 'added') throw new Error(`v4 ${i}: ${r.kind}`);
}
for (let i = 0; i < v6Clients; i++) {
  const mac = Uint8Array.of(0x02, 1, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 2);
  const duid = Uint8Array.of(0, 3, 0, 1, ...mac);
  const ll = new Uint8Array(16);
  ll.set([0xfe, 0x80], 0);
  ll.set([0, 1, 0xff, 0xfe, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 2], 8);
  const common = {
    family: 6 as const,
    port: port(i),
    mac,
    clientId: duid,
    circuitId: circuit(i),
    remoteId: null,
    linkLocal: ll,
    validUntil: instant(7_200_000 + i),
    source: 'glean' as const,
  };
  const na = new Uint8Array(16);
  na.set([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]);
  const pd = new Uint8Array(16);
  pd.set([0x20, 0x01, 0x0d, 0xb9, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff]);
  for (const b of [
    { ...common, kind: 'address' as const, address: na, prefixLength: 128, iaid: 1 },
    { ...common, kind: 'prefix' as const, address: pd, prefixLength: 56, iaid: 2 },
  ]) {
    const r = table.upsert(b, now);
    if (r.kind !== 'added') throw new Error(`v6 ${i}: ${r.kind}`);
  }
}

const afterTable = measure();
const ports = new Map<string, PortKernelConfig>();
for (let i = 0; i < PORTS; i++) ports.set(port(i), { device: `eth1.${100 + i}` });
const desired = new DesiredState(ports);
for (const b of table.entries()) desired.added(b);
const afterDesired = measure();

const per = (a: { heap: number; buffers: number }, b: { heap: number; buffers: number }) => {
  const heap = a.heap - b.heap;
  const buf = a.buffers - b.buffers;
  return `heap ${(heap / 2 ** 20).toFixed(1)} MiB + ArrayBuffers ${(buf / 2 ** 20).toFixed(1)} MiB = ${(
    (heap + buf) /
    2 ** 20
  ).toFixed(1)} MiB, ${((heap + buf) / table.size).toFixed(0)} bytes/binding`;
};
console.log(`gc exposed: ${gc !== undefined}; bindings: ${table.size} (${v4Count} v4, ${2 * v6Clients} v6)`);
console.log(`table:         ${per(afterTable, before)}`);
console.log(`desired state: ${per(afterDesired, afterTable)} (${desired.peerCount} shared link-local records)`);
// Where the table's bytes go (private fields read for this report only).
const t = table as unknown as Record<'store' | 'keys' | 'macs' | 'clients' | 'heap', { bytes: number; cap?: number; columnBytes?: number; ids?: { bytes: number; size: number } }>;
const b = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB (${(n / table.size).toFixed(1)} B/binding)`;
console.log(`  columns ${b(t.store.columnBytes!)} [${SLOT_BYTES_V4} B/v4 slot, ${SLOT_BYTES_V6} B/v6 slot, ${t.store.cap} slots]`);
console.log(`  ids     ${b(t.store.ids!.bytes)} [${t.store.ids!.size} distinct]`);
for (const k of ['keys', 'macs', 'clients', 'heap'] as const) console.log(`  ${k.padEnd(7)} ${b(t[k].bytes)}`);
console.log(`  total   ${b(table.bytes)}`);
const errs = table.checkIntegrity();
if (errs.length) console.log('integrity errors:', errs.slice(0, 5));
