/**
 * A line-oriented driver for NftVerify, run inside a network namespace
 * (`ip netns exec NS npx tsx test/e2e/nft-tool.ts`): a Node process cannot switch
 * namespaces itself. One JSON command per stdin line, one JSON answer per stdout line.
 * Used by test/e2e/nft.test.ts and for poking at a router by hand:
 *
 *   {"op":"open","table":"gleand"}
 *   {"op":"ensure","ports":["eth1","eth2"],"relayPorts":["eth1"]}   relayPorts: those in relay mode (default none)
 *   {"op":"add","entries":[{"device":"eth1","mac":"02:00:00:00:00:0a","prefix":"10.1.0.10/32"}]}
 *   {"op":"remove","entries":[…]}   {"op":"dump"}   {"op":"dumpEach"}   {"op":"counter"}
 *   {"op":"probe","entry":{…}}      the kernel's raw answers to duplicate add / missing delete
 *   {"op":"applierStart","table":"t","ports":["eth1"]}   a VerifyApplier (the daemon's) and an nf_tables monitor
 *   {"op":"applierAdd","entries":[…]}   through the applier (a new prefix length runs nft(8))
 *   {"op":"notes"}   every nf_tables notification so far, each with the applier's `concerns` verdict
 */
import * as fs from 'node:fs';
import * as readline from 'node:readline';
import { formatMac, formatPrefix, parseIPv4, parseIPv6, parseMac } from '../../src/wire/address';
import type { VerifyEntry } from '../../src/kernel/entries';
import { NLM_F } from '../../platform/netlink/constants';
import { errnoName } from '../../platform/netlink/socket';
import { NFT_MSG } from '../../platform/nft/constants';
import { elementListMessage, verifyElementKey } from '../../platform/nft/element';
import { Nfnl } from '../../platform/nft/nfnl';
import { NftVerify, type ApplyResult } from '../../platform/nft/verify';
import { NETLINK_NETFILTER } from '../../platform/nft/constants';
import { RtnlMonitor } from '../../platform/netlink/monitor';
import type { NlMessage } from '../../platform/netlink/message';
import { isOsError } from '../../platform/netlink/socket';
import { NFNLGRP_NFTABLES, VerifyApplier } from '../../platform/kernel/verifies';
import type { ApplierContext } from '../../platform/kernel/applier';
import type { Config } from '../../src/config/config';

interface EntryJson {
  readonly device: string;
  readonly mac: string;
  readonly prefix: string;
}

const sysNet = '/sys/class/net';

export function ifindexOf(device: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(`${sysNet}/${device}/ifindex`, 'utf8').trim());
    return Number.isInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

export function deviceOf(ifindex: number): string | undefined {
  try {
    return fs.readdirSync(sysNet).find((d) => ifindexOf(d) === ifindex);
  } catch {
    return undefined;
  }
}

function toEntry(j: EntryJson): VerifyEntry {
  const [addr = '', len = ''] = j.prefix.split('/');
  const family = addr.includes(':') ? 6 : 4;
  const prefix = family === 4 ? parseIPv4(addr) : parseIPv6(addr);
  const mac = parseMac(j.mac);
  if (prefix === null || mac === null || mac.length !== 6) throw new Error(`bad entry ${JSON.stringify(j)}`);
  return { family, device: j.device, mac, prefix, prefixLength: len === '' ? prefix.length * 8 : Number(len) };
}

const fromEntry = (e: VerifyEntry): EntryJson => ({
  device: e.device,
  mac: formatMac(e.mac),
  prefix: formatPrefix({ family: e.family, address: e.prefix, length: e.prefixLength }),
});

const applyJson = (r: ApplyResult): unknown => ({
  applied: r.applied,
  already: r.already,
  failures: [...r.failures].map(([i, e]) => ({ index: i, error: e })),
});

async function main(): Promise<void> {
  let nft: NftVerify | null = null;
  let table = 'gleand';
  const applier = new VerifyApplier();
  let actx: ApplierContext | null = null;
  let monitor: RtnlMonitor | null = null;
  let overruns = 0;
  const notes: NlMessage[] = [];
  const need = (): NftVerify => {
    if (nft === null) throw new Error('send {"op":"open"} first');
    return nft;
  };
  const handlers: Record<string, (c: Record<string, unknown>) => Promise<unknown>> = {
    open: async (c) => {
      table = typeof c.table === 'string' ? c.table : 'gleand';
      const r = await NftVerify.open({ table });
      if (!r.ok) return { ok: false, error: r.error };
      nft = r.value;
      return { ok: true };
    },
    ensure: async (c) => {
      const ports = (c.ports as string[]).map((d) => ifindexOf(d) ?? -1);
      const relay = ((c.relayPorts as string[] | undefined) ?? []).map((d) => ifindexOf(d) ?? -1);
      return need().ensureRuleset(ports, relay);
    },
    add: async (c) => applyJson(await need().add((c.entries as EntryJson[]).map(toEntry), ifindexOf)),
    remove: async (c) => applyJson(await need().remove((c.entries as EntryJson[]).map(toEntry), ifindexOf)),
    dump: async () => {
      const r = await need().dump(deviceOf);
      if (!r.ok) return r;
      return { ok: true, entries: r.value.entries.map(fromEntry), orphans: r.value.orphans.length, skipped: r.value.skipped };
    },
    // The same read streamed (NftVerify.dumpEach, what a reconcile's digest uses): the entries in
    // the order handed over, and how many times the dump was re-run.
    dumpEach: async () => {
      const entries: EntryJson[] = [];
      let restarts = 0;
      const r = await need().dumpEach(deviceOf, (e) => void entries.push(fromEntry(e)), () => {
        restarts++;
        entries.length = 0;
      });
      if (!r.ok) return r;
      return { ok: true, entries, restarts, orphans: r.value.orphans.length, skipped: r.value.skipped };
    },
    counter: async () => {
      const r = await need().dropCounter();
      return r.ok ? { ok: true, packets: Number(r.value.packets), bytes: Number(r.value.bytes) } : r;
    },
    probe: async (c) => probe(table, toEntry(c.entry as EntryJson)),
    applierStart: async (c) => {
      const ports = c.ports as string[];
      const config = {
        global: { nft_table: String(c.table) },
        subscribers: ports.map((device) => ({ device, verify_source: true, mode: 'passive' })),
      } as unknown as Config;
      actx = { config, ifindexOf, deviceOf: (i) => deviceOf(i) ?? null };
      const m = RtnlMonitor.open([NFNLGRP_NFTABLES], { onMessage: (msg) => void notes.push(msg), onOverrun: () => void overruns++ },
        { protocol: NETLINK_NETFILTER, ref: false });
      if (isOsError(m)) return { ok: false, error: m.code };
      monitor = m;
      await applier.start(actx); // the ruleset load: nft(8)
      return { ok: true };
    },
    applierAdd: async (c) => {
      if (actx === null) throw new Error('send {"op":"applierStart"} first');
      const r = await applier.apply('add', (c.entries as EntryJson[]).map(toEntry), actx);
      return { ...r, missed: [...r.missed] }; // a Set has no JSON form
    },
    // Notifications are queued on the monitor in the order the kernel committed them, so
    // once a marker transaction made after everything else is read, all earlier ones are.
    notes: async () => {
      if (actx === null) throw new Error('send {"op":"applierStart"} first');
      const marker = `gleand_marker_${process.pid}`;
      const { execFileSync } = await import('node:child_process');
      execFileSync('nft', ['add', 'table', 'inet', marker]);
      execFileSync('nft', ['delete', 'table', 'inet', marker]);
      const isMarker = (m: NlMessage) => (m.type & 0xff) === NFT_MSG.DELTABLE && Buffer.from(m.payload).includes(marker);
      while (!notes.some(isMarker)) {
        if (overruns > 0) return { ok: false, error: 'monitor overrun' };
        await new Promise((r) => setTimeout(r, 5));
      }
      const ctx = actx;
      const out = notes.map((m) => ({ msg: m.type & 0xff, subsys: m.type >> 8, pid: m.pid, concerns: applier.concerns(m, ctx) }));
      notes.length = 0;
      return { ok: true, notes: out };
    },
  };
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (line.trim() === '') continue;
    let answer: unknown;
    try {
      const c = JSON.parse(line) as Record<string, unknown>;
      const h = handlers[String(c.op)];
      answer = h === undefined ? { ok: false, error: `unknown op ${String(c.op)}` } : await h(c);
    } catch (e) {
      answer = { ok: false, error: (e as Error).message };
    }
    process.stdout.write(`${JSON.stringify(answer, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v))}\n`);
  }
  (nft as NftVerify | null)?.close();
  applier.stop();
  (monitor as RtnlMonitor | null)?.close();
}

/**
 * The kernel's own answers, one single-message transaction each: add (no EXCL) of an
 * entry that must already be there, the same with NLM_F_EXCL, delete of it twice.
 */
async function probe(table: string, e: VerifyEntry): Promise<unknown> {
  const ifindex = ifindexOf(e.device);
  if (ifindex === undefined) return { ok: false, error: `no device ${e.device}` };
  const key = verifyElementKey({ ...e, ifindex });
  if (typeof key === 'string') return { ok: false, error: key };
  const nl = Nfnl.open();
  if (!nl.ok) return nl;
  const one = async (msg: number, flags: number): Promise<string> => {
    const r = await nl.value.transaction([elementListMessage(msg, flags, table, key.set, [key]).message]);
    if (!r.ok) return `failed: ${r.error.kind}`;
    const x = r.value.replies[0]!;
    return x.errno === 0 ? 'ok' : `${errnoName(x.errno)}${x.extAck.offset !== undefined ? ` @${x.extAck.offset}` : ''}`;
  };
  const out = {
    ok: true,
    addExisting: await one(NFT_MSG.NEWSETELEM, NLM_F.CREATE),
    addExistingExcl: await one(NFT_MSG.NEWSETELEM, NLM_F.CREATE | NLM_F.EXCL),
    deleteExisting: await one(NFT_MSG.DELSETELEM, 0),
    deleteMissing: await one(NFT_MSG.DELSETELEM, 0),
    addBack: await one(NFT_MSG.NEWSETELEM, NLM_F.CREATE),
  };
  nl.value.close();
  return out;
}

if (require.main === module) {
  void main();
}
