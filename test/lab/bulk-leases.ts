/**
 * Lease sources for the lab's bulk leasequery responder: ISC dhcpd -6's lease file (what
 * the lab's real server handed out), or a synthetic list (the benchmark's 100k prefixes).
 *
 * dhcpd -6 stores per IA (`ia-na` / `ia-pd "IAID+DUID"`): cltt, and per `iaaddr` /
 * `iaprefix`: binding state, max-life, ends — but not the relay message. The lab's
 * dhcpd6.conf therefore records the relay options it received, with `on commit` `set`
 * statements that dhcpd writes into the lease: `lab-iid` (Interface-ID), `lab-rid`
 * (Relay-ID), `lab-rmt` (Remote-ID), hex octets. dhcpd's configuration language cannot
 * read the RELAY-FORW peer-address, so the responder rebuilds the client's link-local
 * from the DUID's MAC (DUID-LLT / DUID-LL, Ethernet: modified EUI-64, RFC 4291
 * Appendix A) — true for the lab's clients, which keep the kernel's EUI-64 link-local.
 */
import * as fs from 'node:fs';

export interface ResponderLease {
  readonly duid: Uint8Array;
  readonly kind: 'address' | 'prefix';
  /** Canonical text address / prefix. */
  readonly address: string;
  readonly prefixLength: number;
  /** Unix seconds. */
  readonly cltt: number;
  readonly ends: number;
  readonly preferredLife: number;
  readonly interfaceId: Uint8Array | null;
  readonly relayId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  readonly linkAddress: string;
  readonly peerAddress: string;
}

/** dhcpd's quoted IAID_DUID: octal escapes for unprintable octets (dhcpd.leases(5)). */
function unquote(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') { out.push(c.charCodeAt(0)); continue; }
    const oct = /^[0-7]{3}/.exec(s.slice(i + 1));
    if (oct) { out.push(parseInt(oct[0], 8)); i += 3; } else { out.push(s.charCodeAt(i + 1)); i += 1; }
  }
  return Uint8Array.from(out);
}

/** binary-to-ascii(16, 8, ":", …) output: hex octets without leading zeros. */
const hexOctets = (s: string): Uint8Array | null => (s === '' ? null : Uint8Array.from(s.split(':').map((x) => parseInt(x, 16))));

/** dhcpd's dates: `W YYYY/MM/DD HH:MM:SS` in UTC (db-time-format default). */
function date(s: string): number {
  const m = /\d (\d+)\/(\d+)\/(\d+) (\d+):(\d+):(\d+)/.exec(s);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) / 1000 : 0;
}

/** The client's EUI-64 link-local from an Ethernet DUID-LLT (type 1) or DUID-LL (type 3). */
export function linkLocalFromDuid(duid: Uint8Array): string | null {
  const type = (duid[0]! << 8) | duid[1]!;
  const hw = (duid[2]! << 8) | duid[3]!;
  const at = type === 1 ? 8 : type === 3 ? 4 : -1;
  if (at < 0 || hw !== 1 || duid.length !== at + 6) return null;
  const m = duid.subarray(at);
  const h = (a: number, b: number) => ((a << 8) | b).toString(16);
  return `fe80::${h(m[0]! ^ 2, m[1]!)}:${h(m[2]!, 0xff)}:${h(0xfe, m[3]!)}:${h(m[4]!, m[5]!)}`;
}

/** The active leases in a dhcpd -6 lease file; the last record of an IA wins (the file is a journal). */
export function parseDhcpd6Leases(text: string, linkAddress: string): ResponderLease[] {
  const byKey = new Map<string, ResponderLease>();
  const iaRe = /^ia-(na|pd) "((?:[^"\\]|\\.)*)" \{([\s\S]*?)^\}/gm;
  for (const ia of text.matchAll(iaRe)) {
    const iaidDuid = unquote(ia[2]!);
    const duid = iaidDuid.subarray(4);
    const body = ia[3]!;
    const cltt = date(/cltt ([^;]+);/.exec(body)?.[1] ?? '');
    const subRe = /(iaaddr|iaprefix) ([0-9a-f:./]+) \{([\s\S]*?)\n  \}/g;
    for (const sub of body.matchAll(subRe)) {
      const b = sub[3]!;
      const [addr, len] = sub[2]!.split('/');
      const key = `${addr}/${len ?? 128}`;
      if (!/binding state active;/.test(b)) { byKey.delete(key); continue; }
      const setVar = (name: string) => hexOctets(new RegExp(`set ${name} = "([0-9a-f:]*)";`).exec(b)?.[1] ?? '');
      byKey.set(key, {
        duid, kind: sub[1] === 'iaaddr' ? 'address' : 'prefix', address: addr!, prefixLength: len ? Number(len) : 128,
        cltt, ends: date(/ends ([^;]+);/.exec(b)?.[1] ?? ''), preferredLife: Number(/preferred-life (\d+);/.exec(b)?.[1] ?? 0),
        interfaceId: setVar('lab-iid'), relayId: setVar('lab-rid'), remoteId: setVar('lab-rmt'),
        linkAddress, peerAddress: linkLocalFromDuid(duid) ?? '::',
      });
    }
  }
  return [...byKey.values()];
}

/** The lab dhcpd6.conf lines that make dhcpd record the relay options of each lease. */
export const DHCPD6_RECORD_RELAY = `# the bulk leasequery responder (test/lab/bulk-responder.ts) reads these back
on commit {
  set lab-iid = binary-to-ascii(16, 8, ":", v6relay(1, option dhcp6.interface-id));
  set lab-rid = binary-to-ascii(16, 8, ":", v6relay(1, option dhcp6.relay-id));
  set lab-rmt = binary-to-ascii(16, 8, ":", v6relay(1, option dhcp6.remote-id));
}
`;

export function readLeaseSource(file: string, linkAddress: string): ResponderLease[] {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) {
    return (JSON.parse(text) as (Omit<ResponderLease, 'duid' | 'interfaceId' | 'relayId' | 'remoteId'> & { duid: string; interfaceId: string | null; relayId: string | null; remoteId: string | null })[])
      .map((l) => ({ ...l, duid: Buffer.from(l.duid, 'hex'), interfaceId: l.interfaceId ? Buffer.from(l.interfaceId, 'hex') : null,
        relayId: l.relayId ? Buffer.from(l.relayId, 'hex') : null, remoteId: l.remoteId ? Buffer.from(l.remoteId, 'hex') : null }));
  }
  return parseDhcpd6Leases(text, linkAddress);
}

/**
 * `readLeaseSource` behind a cache keyed by the file's mtime and size: the responder
 * still sees every change dhcpd writes, without re-parsing an unchanged file per query
 * (the benchmark's 100k-lease list would otherwise cost every query a full parse).
 */
export function cachedLeaseSource(file: string, linkAddress: string): () => ResponderLease[] {
  let cache: { key: string; leases: ResponderLease[] } | null = null;
  return () => {
    const st = fs.statSync(file);
    const key = `${st.mtimeMs}:${st.size}`;
    if (cache?.key !== key) cache = { key, leases: readLeaseSource(file, linkAddress) };
    return cache.leases;
  };
}

/** One DHCPv4 lease of dhcpd's lease file, as the DHCPv4 responder serves it (RFC 6926). */
export interface ResponderLease4 {
  readonly address: string;
  readonly mac: Uint8Array | null;
  /** Option 61 as the client sent it (`uid`). */
  readonly clientId: Uint8Array | null;
  /** Unix seconds. */
  readonly cltt: number;
  readonly ends: number;
  /** Option 82 as dhcpd stored it (`stash-agent-options`): circuit-id, remote-id, relay-id. */
  readonly circuitId: Uint8Array | null;
  readonly remoteId: Uint8Array | null;
  readonly relayId: Uint8Array | null;
}

/**
 * A value as dhcpd prints it in a lease (pretty_print_option): a quoted string with
 * octal escapes when printable, else colon-separated hex octets without leading zeros.
 */
function printed(v: string | undefined): Uint8Array | null {
  if (v === undefined) return null;
  const q = /^"((?:[^"\\]|\\.)*)"$/.exec(v);
  return q ? unquote(q[1]!) : hexOctets(v);
}

/**
 * The active leases in a dhcpd -4 lease file; the last record of an address wins (the
 * file is a journal). With `stash-agent-options` dhcpd keeps each relayed lease's option
 * 82: `option agent.circuit-id "…";`, `option agent.remote-id …;`, and the relay-id it has
 * no name for as `option agent.unknown-12 …;` (seen with isc-dhcp 4.4.3) — so the lab's
 * dhcpd.conf needs no `on commit` for DHCPv4.
 */
export function parseDhcpd4Leases(text: string): ResponderLease4[] {
  const byAddr = new Map<string, ResponderLease4>();
  for (const l of text.matchAll(/^lease ([0-9.]+) \{([\s\S]*?)^\}/gm)) {
    const b = l[2]!;
    if (!/^\s*binding state active;/m.test(b)) { byAddr.delete(l[1]!); continue; }
    const agent = (name: string) => printed(new RegExp(`option agent\\.${name} ([^;]+);`).exec(b)?.[1]);
    byAddr.set(l[1]!, {
      address: l[1]!,
      mac: hexOctets(/hardware ethernet ([0-9a-f:]+);/.exec(b)?.[1] ?? ''),
      clientId: printed(/uid ([^;]+);/.exec(b)?.[1]),
      cltt: date(/cltt ([^;]+);/.exec(b)?.[1] ?? ''),
      ends: date(/ends ([^;]+);/.exec(b)?.[1] ?? ''),
      circuitId: agent('circuit-id'), remoteId: agent('remote-id'), relayId: agent('unknown-12') ?? agent('relay-id'),
    });
  }
  return [...byAddr.values()];
}

/** `parseDhcpd4Leases` of a file, re-read only when it changed (mtime, size). */
export function cachedLeaseSource4(file: string): () => ResponderLease4[] {
  let cache: { key: string; leases: ResponderLease4[] } | null = null;
  return () => {
    const st = fs.statSync(file);
    const key = `${st.mtimeMs}:${st.size}`;
    if (cache?.key !== key) cache = { key, leases: parseDhcpd4Leases(fs.readFileSync(file, 'utf8')) };
    return cache.leases;
  };
}
