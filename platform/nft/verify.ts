/**
 * Source verification in nftables: the ruleset (loaded with nft -f), the ports set, and
 * the allow sets' elements added, removed and dumped over nfnetlink. Exact sources go
 * in allow4 / allow6; a prefix of length n in allow4_<n> / allow6_<n>, a set created
 * (with its rule) the first time a prefix of that length is added (names.ts). All are
 * plain hash sets, so an insert or delete costs the same at 1k or 200k entries.
 *
 * Kernel answers (measured on Linux 6.x, see test/e2e/nft.test.ts):
 *  - NEWSETELEM of an element that already exists, without NLM_F_EXCL: 0 (no error), so
 *    a repeated add is idempotent (with NLM_F_EXCL: EEXIST).
 *  - DELSETELEM of an element that is not there: ENOENT, counted as `already` (gone);
 *    of a prefix-length set that does not exist: ENOENT too (pointing at the set name).
 *  - Any failure aborts the whole batch. The extended ACK's offset names the element
 *    that failed; it is set aside and the rest is sent again, so one stale entry does
 *    not hold back the others (at most `maxRounds` rounds).
 */
import { constants as osConstants } from 'node:os';
import { NLM_F } from '../netlink/constants';
import type { NlMessage } from '../netlink/message';
import type { DecodeError } from '../netlink/wire';
import type { VerifyEntry } from '../../src/kernel/entries';
import { NFT_MSG, nftType } from './constants';
import {
  MAX_ELEMENTS_NEST, decodeCounterObject, decodeElementList, decodeSet, dumpSetMessage, dumpSetsMessage,
  elementEncodingLength, elementListMessage, flushSetMessage, getCounterMessage, ifindexKey, toVerifyElement,
  verifyElementKey, type CounterValue, type ElementKey, type ElementListMessage, type VerifyElement,
} from './element';
import { BATCH_OVERHEAD, messageEncodingLength, type NfMessage } from './message';
import { NFT_NAMES, addressBits, allowSetName, isTableName, parseAllowSetName, type AllowSet } from './names';
import { Nfnl, errnoError, type NfnlError, type NfnlOptions, type NfnlResult } from './nfnl';
import { prefixSetsScript, ranNft, rulesetScript, runNftScript } from './ruleset';

export type NftError =
  | NfnlError
  | { readonly kind: 'encode'; readonly reason: string }
  | { readonly kind: 'unknown-device'; readonly device: string }
  | { readonly kind: 'nft'; readonly reason: string }
  | { readonly kind: 'gave-up'; readonly rounds: number };

export type NftResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: NftError };

const ok = <T>(value: T): NftResult<T> => ({ ok: true, value });
const err = <T>(error: NftError): NftResult<T> => ({ ok: false, error });

export interface ApplyResult {
  /** Elements now in (add) or out of (remove) the kernel because of this call, or already so (add). */
  readonly applied: number;
  /** remove: elements that were not there (ENOENT). */
  readonly already: number;
  /** Index into the input list → why that entry was not applied. */
  readonly failures: ReadonlyMap<number, NftError>;
}

export interface VerifyDump {
  readonly entries: VerifyEntry[];
  /** Elements whose ifindex no device has any more (remove them with removeElements). */
  readonly orphans: VerifyElement[];
  /** Elements or messages that did not decode, or keys that are not a prefix of their set's length. */
  readonly skipped: DecodeError[];
}

export interface NftVerifyOptions extends NfnlOptions {
  /** `table inet <table>`; default `gleand`. */
  readonly table?: string;
  /** Path of nft(8) for loading the ruleset; default `nft`. */
  readonly nftPath?: string;
  /** Elements per NEWSETELEM/DELSETELEM message; default 256 (also capped by the u16 nest length). */
  readonly elementsPerMessage?: number;
  /** Bytes per batch (one transaction, one sendmsg); default 256 KiB. */
  readonly batchBytes?: number;
  /** Rounds of set-aside-and-retry after failures; default 64. */
  readonly maxRounds?: number;
}

/** One element on its way: where it came from and what it is. */
interface Item {
  readonly index: number;
  readonly set: string;
  readonly key: ElementKey;
}

type Op = 'add' | 'remove';

const ENOENT = osConstants.errno.ENOENT;

const isHostSet = (s: AllowSet): boolean => s.prefixLength === addressBits(s.family);
const nftFailed = (run: { code: number | null; stderr: string; error: string | null }): NftError =>
  ({ kind: 'nft', reason: run.error ?? `nft -f exited ${String(run.code)}: ${run.stderr.trim()}` });

export class NftVerify {
  /** Prefix-length sets (not allow4/allow6) in the kernel with their rule, by name. */
  private prefixSets = new Map<string, AllowSet>();
  /** Set creations run one at a time (each rewrites verify_prefix whole). */
  private creating: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly nl: Nfnl,
    readonly table: string,
    private readonly nftPath: string,
    private readonly elementsPerMessage: number,
    private readonly batchBytes: number,
    private readonly maxRounds: number,
  ) {}

  static async open(opts: NftVerifyOptions = {}): Promise<NftResult<NftVerify>> {
    const table = opts.table ?? 'gleand';
    if (!isTableName(table)) return err({ kind: 'encode', reason: `invalid table name ${JSON.stringify(table)}` });
    const nl = Nfnl.open(opts);
    if (!nl.ok) return nl;
    return ok(new NftVerify(
      nl.value,
      table,
      opts.nftPath ?? 'nft',
      Math.max(1, opts.elementsPerMessage ?? 256),
      Math.max(16 * 1024, opts.batchBytes ?? 256 * 1024),
      Math.max(1, opts.maxRounds ?? 64),
    ));
  }

  /** What the kernel dropped on the nfnetlink request socket (SO_MEMINFO). */
  kernelDrops(): number | null {
    return this.nl.kernelDrops();
  }

  get stats(): Nfnl['stats'] {
    return this.nl.stats;
  }

  get portId(): number {
    return this.nl.portId;
  }

  /**
   * Whether an nf_tables notification with this netlink portid is gleand's own change:
   * of this driver's nfnetlink socket, or of an nft(8) gleand ran (`ranNft`).
   */
  madeBy(portId: number): boolean {
    return portId === this.nl.portId || ranNft(portId);
  }

  /** Remove the whole table (its rules, sets and elements): gleand moved to another table. */
  async deleteTable(): Promise<NftResult<void>> {
    const run = await runNftScript(this.nftPath, `add table inet ${this.table}\ndelete table inet ${this.table}\n`);
    this.prefixSets.clear();
    return run.error !== null || run.code !== 0 ? err(nftFailed(run)) : ok(undefined);
  }

  /**
   * Creates the table, sets and chains if missing (keeping existing elements) and
   * refills the chains, with a rule for every prefix-length set the table already has;
   * if the existing table is incompatible (e.g. the interval sets of an older gleand)
   * it is recreated. Then the ports sets are replaced (setPorts).
   */
  async ensureRuleset(portIfindexes: readonly number[], relayIfindexes: readonly number[]): Promise<NftResult<{ readonly recreated: boolean }>> {
    const listed = await this.listAllowSets();
    const existing = listed.ok ? listed.value.filter((s) => !isHostSet(s)) : [];
    let recreated = false;
    let run = await runNftScript(this.nftPath, rulesetScript(this.table, { prefixSets: existing }));
    if (run.error === null && run.code !== 0) {
      recreated = true;
      run = await runNftScript(this.nftPath, rulesetScript(this.table, { recreate: true }));
    }
    if (run.error !== null || run.code !== 0) return err(nftFailed(run));
    this.prefixSets = new Map((recreated ? [] : existing).map((s) => [allowSetName(s.family, s.prefixLength), s]));
    const ports = await this.setPorts(portIfindexes, relayIfindexes);
    return ports.ok ? ok({ recreated }) : ports;
  }

  /**
   * The allow sets of the table, by their names (GETSET dump). A missing table is an
   * empty list: the kernel's set dump filters by table and finds nothing.
   */
  private async listAllowSets(): Promise<NftResult<AllowSet[]>> {
    const r = await this.nl.dump(dumpSetsMessage(this.table));
    if (!r.ok) return r.error.kind === 'errno' && r.error.errno === ENOENT ? ok([]) : r;
    const out: AllowSet[] = [];
    for (const m of r.value) {
      if (m.type !== nftType(NFT_MSG.NEWSET)) continue;
      const d = decodeSet(m);
      if (!d.ok || d.value.table !== this.table || d.value.name === null) continue;
      const s = parseAllowSetName(d.value.name);
      if (s !== null) out.push(s);
    }
    return ok(out);
  }

  /**
   * Creates the prefix-length sets in `wanted` that are missing, each with its rule in
   * verify_prefix (nft -f, one transaction). The kernel's own list is read first, so the
   * chain is rewritten with every set the table has even if another writer added one.
   */
  private ensurePrefixSets(wanted: readonly AllowSet[]): Promise<NftResult<void>> {
    const run = async (): Promise<NftResult<void>> => {
      const missing = wanted.filter((s) => !this.prefixSets.has(allowSetName(s.family, s.prefixLength)));
      if (missing.length === 0) return ok(undefined);
      const listed = await this.listAllowSets();
      if (!listed.ok) return listed;
      const all = [...listed.value.filter((s) => !isHostSet(s)), ...missing];
      const r = await runNftScript(this.nftPath, prefixSetsScript(this.table, all));
      if (r.error !== null || r.code !== 0) return err(nftFailed(r));
      for (const s of all) this.prefixSets.set(allowSetName(s.family, s.prefixLength), s);
      return ok(undefined);
    };
    const p = this.creating.then(run, run);
    this.creating = p;
    return p;
  }

  /**
   * Replaces the ports set (every subscriber port) and the relay_ports set (those of them
   * in relay mode, whose client DHCP the verify chain drops because gleand relays it) in
   * one transaction: flush + add, so there is no moment without ports. A relay port that
   * is not in `ifindexes` is left out (the verify chain only sees `ports`).
   */
  async setPorts(ifindexes: readonly number[], relayIfindexes: readonly number[]): Promise<NftResult<void>> {
    const unique = [...new Set(ifindexes)];
    // Not a subset of ports: a relay port without verify_source is in relay_ports only.
    const relay = [...new Set(relayIfindexes)];
    for (const i of [...unique, ...relay]) {
      if (!Number.isInteger(i) || i <= 0 || i > 0xffffffff) return err({ kind: 'encode', reason: `ifindex ${i} out of range` });
    }
    const msgs: NfMessage[] = [];
    for (const [set, members] of [[NFT_NAMES.ports, unique], [NFT_NAMES.relayPorts, relay]] as const) {
      msgs.push(flushSetMessage(this.table, set));
      for (let i = 0; i < members.length; i += 1024) {
        const keys = members.slice(i, i + 1024).map((ifindex) => ifindexKey(ifindex));
        msgs.push(elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, this.table, set, keys).message);
      }
    }
    const r = await this.nl.transaction(msgs);
    if (!r.ok) return r;
    if (r.value.committed) return ok(undefined);
    const bad = r.value.replies.find((x) => x.errno !== 0)!;
    return err(errnoError(bad.errno, bad.extAck));
  }

  add(entries: readonly VerifyEntry[], ifindexOf: (device: string) => number | undefined): Promise<ApplyResult> {
    return this.applyEntries('add', entries, ifindexOf);
  }

  remove(entries: readonly VerifyEntry[], ifindexOf: (device: string) => number | undefined): Promise<ApplyResult> {
    return this.applyEntries('remove', entries, ifindexOf);
  }

  addElements(elements: readonly VerifyElement[]): Promise<ApplyResult> {
    return this.applyElements('add', elements);
  }

  removeElements(elements: readonly VerifyElement[]): Promise<ApplyResult> {
    return this.applyElements('remove', elements);
  }

  private applyEntries(op: Op, entries: readonly VerifyEntry[], ifindexOf: (device: string) => number | undefined): Promise<ApplyResult> {
    const failures = new Map<number, NftError>();
    const elements: (VerifyElement | null)[] = entries.map((e, i) => {
      const ifindex = ifindexOf(e.device);
      if (ifindex === undefined) {
        failures.set(i, { kind: 'unknown-device', device: e.device });
        return null;
      }
      return { family: e.family, ifindex, mac: e.mac, prefix: e.prefix, prefixLength: e.prefixLength };
    });
    return this.applyElements(op, elements, failures);
  }

  private async applyElements(op: Op, elements: readonly (VerifyElement | null)[], failures = new Map<number, NftError>()): Promise<ApplyResult> {
    const counts = { applied: 0, already: 0 };
    let items: Item[] = [];
    const newSets = new Map<string, AllowSet>();
    elements.forEach((e, index) => {
      if (e === null) return;
      const key = verifyElementKey(e);
      if (typeof key === 'string') return void failures.set(index, { kind: 'encode', reason: key });
      items.push({ index, set: key.set, key });
      const s = { family: e.family, prefixLength: e.prefixLength };
      if (op === 'add' && !isHostSet(s) && !this.prefixSets.has(key.set)) newSets.set(key.set, s);
    });
    if (newSets.size > 0) {
      // The first prefix of a length: its set and rule first (rare, once per length in use).
      const r = await this.ensurePrefixSets([...newSets.values()]);
      if (!r.ok) {
        const stays = (it: Item): boolean => this.prefixSets.has(it.set) || !newSets.has(it.set);
        for (const it of items) if (!stays(it)) failures.set(it.index, r.error);
        items = items.filter(stays);
      }
    }
    const alone = new Set<number>(); // indexes to send one per message (failure not attributable)
    for (let round = 0; items.length > 0; round++) {
      if (round >= this.maxRounds) {
        for (const it of items) failures.set(it.index, { kind: 'gave-up', rounds: round });
        break;
      }
      const retry: Item[] = [];
      for (const batch of this.plan(op, items, alone)) {
        retry.push(...(await this.runBatch(op, batch, alone, counts, failures)));
      }
      items = retry;
    }
    return { applied: counts.applied, already: counts.already, failures };
  }

  /** Cuts items into batches of messages (per set, elementsPerMessage, nest and batch byte limits);
   *  messages of several sets share a batch, so one transaction carries them all. */
  private plan(op: Op, items: readonly Item[], alone: ReadonlySet<number>): { msg: ElementListMessage; items: Item[] }[][] {
    const type = op === 'add' ? NFT_MSG.NEWSETELEM : NFT_MSG.DELSETELEM;
    // add without NLM_F_EXCL: an element that is already there is not an error
    const flags = op === 'add' ? NLM_F.CREATE : 0;
    const batches: { msg: ElementListMessage; items: Item[] }[][] = [];
    let batch: { msg: ElementListMessage; items: Item[] }[] = [];
    let batchLen = BATCH_OVERHEAD;
    const close = (set: string, group: Item[]): void => {
      if (group.length === 0) return;
      const msg = elementListMessage(type, flags, this.table, set, group.map((i) => i.key));
      const len = messageEncodingLength(msg.message);
      if (batch.length > 0 && batchLen + len > this.batchBytes) {
        batches.push(batch);
        batch = [];
        batchLen = BATCH_OVERHEAD;
      }
      batch.push({ msg, items: group });
      batchLen += len;
    };
    const bySet = new Map<string, Item[]>();
    for (const it of items) {
      const g = bySet.get(it.set);
      if (g === undefined) bySet.set(it.set, [it]);
      else g.push(it);
    }
    for (const [set, ofSet] of bySet) {
      let group: Item[] = [];
      let nest = 4;
      for (const it of ofSet) {
        if (alone.has(it.index)) {
          close(set, [it]);
          continue;
        }
        const len = elementEncodingLength(it.key);
        if (group.length >= this.elementsPerMessage || nest + len > MAX_ELEMENTS_NEST) {
          close(set, group);
          group = [];
          nest = 4;
        }
        group.push(it);
        nest += len;
      }
      close(set, group);
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  /** One transaction; returns the items to send again (the batch was aborted by others' failures). */
  private async runBatch(
    op: Op,
    batch: { msg: ElementListMessage; items: Item[] }[],
    alone: Set<number>,
    counts: { applied: number; already: number },
    failures: Map<number, NftError>,
  ): Promise<Item[]> {
    const r = await this.nl.transaction(batch.map((b) => b.msg.message));
    if (!r.ok) {
      for (const b of batch) for (const it of b.items) failures.set(it.index, r.error);
      return [];
    }
    if (r.value.committed) {
      for (const b of batch) counts.applied += b.items.length;
      return [];
    }
    const retry: Item[] = [];
    batch.forEach((b, j) => {
      const reply = r.value.replies[j]!;
      if (reply.errno === 0) return void retry.push(...b.items);
      const settle = (it: Item): void => {
        if (op === 'remove' && reply.errno === ENOENT) counts.already++;
        else failures.set(it.index, errnoError(reply.errno, reply.extAck));
      };
      const offset = reply.extAck.offset;
      const offs = b.msg.elementOffsets;
      if (b.items.length === 1) {
        settle(b.items[0]!);
      } else if (offset === undefined) {
        // no extended ACK: send these one per message so the next failure names its element
        for (const it of b.items) alone.add(it.index);
        retry.push(...b.items);
      } else if (offset < offs[0]!) {
        b.items.forEach(settle); // the message as a whole (table or set missing)
      } else {
        let k = 0;
        while (k + 1 < offs.length && offs[k + 1]! <= offset) k++;
        b.items.forEach((it, m) => (m === k ? settle(it) : retry.push(it)));
      }
    });
    return retry;
  }

  /**
   * Every allow set as entries (allow4, allow6 and each prefix-length set, whose name
   * gives the length); ifindexes mapped back to device names by deviceOf. ENOENT when
   * the table or a host set is gone (the caller loads the ruleset again).
   */
  async dump(deviceOf: (ifindex: number) => string | undefined): Promise<NftResult<VerifyDump>> {
    const entries: VerifyEntry[] = [];
    const r = await this.dumpEach(deviceOf, (e) => void entries.push(e), () => void (entries.length = 0));
    return r.ok ? ok({ entries, ...r.value }) : r;
  }

  /**
   * `dump`, handed to `each` entry by entry as the kernel's datagrams arrive and held
   * nowhere (a reconcile digests 250k of them: platform/kernel/driver.ts); only the
   * orphans and what did not decode are collected. `restart`: a set's dump is re-run by
   * the engine (interrupted by a change, or overrun), so everything `each` saw is void
   * and the sets read before it are read again after it.
   */
  async dumpEach(
    deviceOf: (ifindex: number) => string | undefined, each: (e: VerifyEntry) => void, restart: () => void,
  ): Promise<NftResult<Omit<VerifyDump, 'entries'>>> {
    const listed = await this.listAllowSets();
    if (!listed.ok) return listed;
    const names = new Set(listed.value.map((s) => allowSetName(s.family, s.prefixLength)));
    if (!names.has(NFT_NAMES.allow4) || !names.has(NFT_NAMES.allow6)) return err(errnoError(ENOENT));
    const prefixSets = listed.value.filter((s) => !isHostSet(s));
    this.prefixSets = new Map(prefixSets.map((s) => [allowSetName(s.family, s.prefixLength), s]));
    const orphans: VerifyElement[] = [];
    const skipped: DecodeError[] = [];
    const pending = [...listed.value];
    let read: AllowSet[] = [];
    for (let set = pending.shift(); set !== undefined; set = pending.shift()) {
      const s = set;
      const r = await this.nl.dumpEach(dumpSetMessage(this.table, allowSetName(s.family, s.prefixLength)), (m) => {
        if (m.type !== nftType(NFT_MSG.NEWSETELEM)) return;
        const list = decodeElementList(m);
        if (!list.ok) return void skipped.push(list.error);
        for (const raw of list.value.elements) {
          const e = toVerifyElement(s, raw, m.offset);
          if (!e.ok) {
            skipped.push(e.error);
            continue;
          }
          const device = deviceOf(e.value.ifindex);
          const { family, mac, prefix, prefixLength } = e.value;
          if (device === undefined) orphans.push(e.value);
          else each({ family, device, mac, prefix, prefixLength });
        }
      }, () => {
        restart();
        orphans.length = 0;
        skipped.length = 0;
        pending.unshift(...read);
        read = [];
      });
      if (!r.ok) return r;
      read.push(s);
    }
    return ok({ orphans, skipped });
  }

  /** Packets and bytes the verify chain dropped (the named counter, over nfnetlink). */
  async dropCounter(): Promise<NftResult<CounterValue>> {
    const r: NfnlResult<NlMessage[]> = await this.nl.get(getCounterMessage(this.table, NFT_NAMES.dropCounter));
    if (!r.ok) return r;
    for (const m of r.value) {
      if (m.type !== nftType(NFT_MSG.NEWOBJ)) continue;
      const c = decodeCounterObject(m);
      if (!c.ok) return err({ kind: 'decode', error: c.error });
      return ok({ packets: c.value.packets, bytes: c.value.bytes });
    }
    return err({ kind: 'decode', error: { where: 'GETOBJ', offset: 0, reason: 'no NEWOBJ in the answer' } });
  }

  close(): void {
    this.nl.close();
  }
}

