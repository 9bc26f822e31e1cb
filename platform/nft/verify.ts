/**
 * Source verification in nftables: the ruleset (loaded once with nft -f), the ports set,
 * and the allow4/allow6 elements added, removed and dumped over nfnetlink.
 *
 * Kernel answers (measured on Linux 6.x, see test/e2e/nft.test.ts):
 *  - NEWSETELEM of an element that already exists, without NLM_F_EXCL: 0 (no error), so
 *    a repeated add is idempotent (with NLM_F_EXCL: EEXIST). A range of the same port
 *    and MAC that shares its first or last key with an existing, different range (a /57
 *    beside the /56 it starts) is refused by the pipapo backend: EEXIST, reported as a
 *    failure. A range strictly inside another (a /32 within a /24) is accepted.
 *  - DELSETELEM of an element that is not there: ENOENT, counted as `already` (gone).
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
  MAX_ELEMENTS_NEST, decodeCounterObject, decodeElementList, dumpSetMessage, elementEncodingLength, elementListMessage,
  flushSetMessage, getCounterMessage, ifindexKey, toVerifyElement, verifyElementKey,
  type CounterValue, type ElementKey, type ElementListMessage, type VerifyElement,
} from './element';
import { BATCH_OVERHEAD, messageEncodingLength, type NfMessage } from './message';
import { Nfnl, errnoError, type NfnlError, type NfnlOptions, type NfnlResult } from './nfnl';
import { NFT_NAMES, isTableName, rulesetScript, runNftScript } from './ruleset';

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
  /** Elements or messages that did not decode, or ranges that are not a prefix. */
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

export class NftVerify {
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

  get stats(): Nfnl['stats'] {
    return this.nl.stats;
  }

  get portId(): number {
    return this.nl.portId;
  }

  /** Remove the whole table (its rules, sets and elements): gleand moved to another table. */
  async deleteTable(): Promise<NftResult<void>> {
    const run = await runNftScript(this.nftPath, `add table inet ${this.table}\ndelete table inet ${this.table}\n`);
    if (run.error !== null || run.code !== 0) {
      return err({ kind: 'nft', reason: run.error ?? `nft -f exited ${String(run.code)}: ${run.stderr.trim()}` });
    }
    return ok(undefined);
  }

  /**
   * Creates the table, sets and chains if missing (keeping existing elements) and
   * refills both chains; if the existing table is incompatible it is recreated. Then
   * the ports set is replaced with `portIfindexes`.
   */
  async ensureRuleset(portIfindexes: readonly number[]): Promise<NftResult<{ readonly recreated: boolean }>> {
    let recreated = false;
    let run = await runNftScript(this.nftPath, rulesetScript(this.table));
    if (run.error === null && run.code !== 0) {
      recreated = true;
      run = await runNftScript(this.nftPath, rulesetScript(this.table, { recreate: true }));
    }
    if (run.error !== null || run.code !== 0) {
      return err({ kind: 'nft', reason: run.error ?? `nft -f exited ${String(run.code)}: ${run.stderr.trim()}` });
    }
    const ports = await this.setPorts(portIfindexes);
    return ports.ok ? ok({ recreated }) : ports;
  }

  /** Replaces the ports set in one transaction (flush + add: no moment without ports). */
  async setPorts(ifindexes: readonly number[]): Promise<NftResult<void>> {
    const unique = [...new Set(ifindexes)];
    for (const i of unique) {
      if (!Number.isInteger(i) || i <= 0 || i > 0xffffffff) return err({ kind: 'encode', reason: `ifindex ${i} out of range` });
    }
    const msgs: NfMessage[] = [flushSetMessage(this.table, NFT_NAMES.ports)];
    for (let i = 0; i < unique.length; i += 1024) {
      const keys = unique.slice(i, i + 1024).map(ifindexKey);
      msgs.push(elementListMessage(NFT_MSG.NEWSETELEM, NLM_F.CREATE, this.table, NFT_NAMES.ports, keys).message);
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
    elements.forEach((e, index) => {
      if (e === null) return;
      const key = verifyElementKey(e);
      if (typeof key === 'string') failures.set(index, { kind: 'encode', reason: key });
      else items.push({ index, set: e.family === 4 ? NFT_NAMES.allow4 : NFT_NAMES.allow6, key });
    });
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

  /** Cuts items into batches of messages (per set, elementsPerMessage, nest and batch byte limits). */
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
    for (const set of [NFT_NAMES.allow4, NFT_NAMES.allow6]) {
      let group: Item[] = [];
      let nest = 4;
      for (const it of items) {
        if (it.set !== set) continue;
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

  /** allow4 and allow6 as entries; ifindexes mapped back to device names by deviceOf. */
  async dump(deviceOf: (ifindex: number) => string | undefined): Promise<NftResult<VerifyDump>> {
    const out: VerifyDump = { entries: [], orphans: [], skipped: [] };
    for (const [family, set] of [[4, NFT_NAMES.allow4], [6, NFT_NAMES.allow6]] as const) {
      const r = await this.nl.dump(dumpSetMessage(this.table, set));
      if (!r.ok) return r;
      for (const m of r.value) {
        if (m.type !== nftType(NFT_MSG.NEWSETELEM)) continue;
        const list = decodeElementList(m);
        if (!list.ok) {
          out.skipped.push(list.error);
          continue;
        }
        for (const raw of list.value.elements) {
          const e = toVerifyElement(family, raw, m.offset);
          if (!e.ok) {
            out.skipped.push(e.error);
            continue;
          }
          const device = deviceOf(e.value.ifindex);
          if (device === undefined) out.orphans.push(e.value);
          else out.entries.push({ family, device, mac: e.value.mac, prefix: e.value.prefix, prefixLength: e.value.prefixLength });
        }
      }
    }
    return ok(out);
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

