import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Binding } from '../../../src/bindings/binding';
import { toRecord } from '../../../src/bindings/journal';
import { instant } from '../../../src/time';
import { formatMac, formatPrefix, parseIPv6 } from '../../../src/wire/address';

/**
 * Many bindings, fast, by the path the daemon really takes: a snapshot journal written
 * with the journal's own encoder (as test/bench/memory-live.ts does), read back when
 * gleand starts. Returns what was written, for the test to judge the CLI against.
 */
export interface WrittenBinding {
  readonly binding: string;
  readonly port: string;
  readonly mac: string;
  readonly source: 'glean' | 'leasequery';
  readonly family: 4 | 6;
}

/** CLOCK_MONOTONIC in ms, the clock the journal keeps lease ends on. */
const monoMs = () => Number(process.hrtime.bigint() / 1_000_000n);
const bytes = (...b: number[]) => Uint8Array.from(b);

/** V4 (in 10.64.0.0/16), V6 addresses (in `pool6`, a /64) and V6 prefixes /56 (in `delegated`, a /40), over `ports` in turn. */
export function writeBindingSnapshot(file: string, ports: readonly string[], n: { v4: number; v6: number; pd: number },
  pool6: string, delegated: string): WrittenBinding[] {
  // No lease end: the rows (`expiresInS: null`) are the same however long the test takes between reads.
  const until = null;
  const now = instant(monoMs());
  const out: WrittenBinding[] = [];
  const lines: string[] = [];
  const base6 = parseIPv6(pool6.split('/')[0]!)!;
  const basePd = parseIPv6(delegated.split('/')[0]!)!;
  const put = (b: Binding) => {
    lines.push(JSON.stringify({ op: 'put', rec: toRecord(b, (t) => t) }));
    out.push({ binding: formatPrefix({ family: b.family, address: b.address, length: b.prefixLength }), port: b.port,
      mac: formatMac(b.mac!), source: b.source as 'glean' | 'leasequery', family: b.family });
  };
  let i = 0;
  const common = () => {
    const mac = bytes(2, 0x42, (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff, 1);
    const r = { port: ports[i % ports.length]!, mac, circuitId: null, remoteId: null, validUntil: until,
      source: (i % 3 === 0 ? 'leasequery' : 'glean') as Binding['source'], updatedAt: now };
    i++;
    return r;
  };
  for (let k = 0; k < n.v4; k++) {
    const c = common();
    put({ ...c, family: 4, kind: 'address', address: bytes(10, 64, ((k + 1) >> 8) & 0xff, (k + 1) & 0xff), prefixLength: 32,
      clientId: bytes(1, ...c.mac), linkLocal: null });
  }
  for (let k = 0; k < n.v6; k++) {
    const c = common();
    const a = Uint8Array.from(base6);
    a[14] = (k >> 8) & 0xff; a[15] = k & 0xff; a[13] = 0x10;
    put({ ...c, family: 6, kind: 'address', address: a, prefixLength: 128, iaid: 1, clientId: bytes(0, 3, 0, 1, ...c.mac),
      linkLocal: parseIPv6(`fe80::42:${(k >> 8).toString(16)}:${(k & 0xff).toString(16)}`) });
  }
  for (let k = 0; k < n.pd; k++) {
    const c = common();
    const a = Uint8Array.from(basePd);
    // a /56 inside the /40: bits 40..55 are the index
    a[5] = (k >> 8) & 0xff; a[6] = k & 0xff;
    put({ ...c, family: 6, kind: 'prefix', address: a, prefixLength: 56, iaid: 2, clientId: bytes(0, 3, 0, 1, ...c.mac),
      linkLocal: parseIPv6(`fe80::43:${(k >> 8).toString(16)}:${(k & 0xff).toString(16)}`) });
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${lines.join('\n')}\n`, { mode: 0o600 });
  return out;
}
