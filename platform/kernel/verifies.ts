import type { Config } from '../../src/config/config';
import type { BatchOp } from '../../src/kernel/diff';
import type { VerifyEntry } from '../../src/kernel/entries';
import { formatAddress, formatMac } from '../../src/wire/address';
import type { NlMessage } from '../netlink/message';
import { splitAttrs } from '../netlink/wire';
import { NETLINK_NETFILTER, NFNL_SUBSYS_NFTABLES, NFPROTO, NFT_MSG } from '../nft/constants';
import { NftVerify } from '../nft';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';

/** nfnetlink multicast group of nf_tables change notifications (NFNLGRP_NFTABLES). */
export const NFNLGRP_NFTABLES = 7;
/** The first attribute of table, chain, rule, set and element-list messages is the table name. */
const NFTA_TABLE_NAME = 1;
const NFGENMSG_LEN = 4;

/**
 * Source verification in nftables: gleand's entries are the elements of the allow sets
 * of its table (`nft_table`): allow4 / allow6 for exact sources, allow4_<n> / allow6_<n>
 * for prefixes of length n (platform/nft/names.ts). This applier creates the table and
 * chains; NftVerify adds a prefix-length set (and its rule) when its first entry comes.
 */
export class VerifyApplier implements Applier<'verifies'> {
  readonly kind = 'verifies';
  readonly queryKey = 'verify';
  readonly monitor = { protocol: NETLINK_NETFILTER, groups: [NFNLGRP_NFTABLES] };
  private verify: NftVerify | null = null;
  private rulesetReady = false;

  tag(config: Config): string {
    return `nft table ${config.global.nft_table}`;
  }

  /** Opens the nfnetlink socket and loads the ruleset (kept elements survive a restart). */
  async start(ctx: ApplierContext): Promise<void> {
    const v = await NftVerify.open({ table: ctx.config.global.nft_table });
    if (!v.ok) throw new Error(`nftables: ${JSON.stringify(v.error)}`);
    this.verify = v.value;
    this.rulesetReady = false;
    await this.portsChanged(ctx);
  }

  /**
   * The verify chain applies to exactly the subscriber ports' ifindexes; on those in relay
   * mode it drops client DHCP, which gleand's packet sockets read and relay (ruleset.ts).
   */
  async portsChanged(ctx: ApplierContext): Promise<void> {
    if (!this.verify) return;
    const ifindexes = (subs: typeof ctx.config.subscribers) =>
      subs.map((s) => ctx.ifindexOf(s.device)).filter((i): i is number => i !== undefined);
    // A port without verify_source gets no allow entries (bindings/owner.ts), so it must
    // not be in the verified set either, or its every packet would meet the final drop.
    const ports = ifindexes(ctx.config.subscribers.filter((s) => s.verify_source));
    const relay = ifindexes(ctx.config.subscribers.filter((s) => s.mode === 'relay'));
    const r = this.rulesetReady ? await this.verify.setPorts(ports, relay) : await this.verify.ensureRuleset(ports, relay);
    if (!r.ok) throw new Error(`nftables ruleset/ports update failed: ${JSON.stringify(r.error)}`);
    this.rulesetReady = true;
  }

  async dump(ctx: ApplierContext): Promise<VerifyEntry[] | null> {
    if (!this.verify) return null;
    let v = await this.verify.dump((i) => ctx.deviceOf(i) ?? undefined);
    if (!v.ok && v.error.kind === 'errno' && v.error.code === 'ENOENT') {
      // The table or a set was deleted behind our back: load the ruleset again.
      this.rulesetReady = false;
      await this.portsChanged(ctx);
      v = await this.verify.dump((i) => ctx.deviceOf(i) ?? undefined);
    }
    if (!v.ok) return null;
    // Elements of a device that no longer exists: nobody can desire them.
    if (v.value.orphans.length > 0) await this.verify.removeElements(v.value.orphans);
    return v.value.entries;
  }

  /** `dump` streamed into `each` (a reconcile's digest), with the same repair of a missing table and sweep of orphans. */
  async dumpEach(ctx: ApplierContext, each: (e: VerifyEntry) => void, restart: () => void): Promise<boolean> {
    if (!this.verify) return false;
    const deviceOf = (i: number) => ctx.deviceOf(i) ?? undefined;
    let v = await this.verify.dumpEach(deviceOf, each, restart);
    if (!v.ok && v.error.kind === 'errno' && v.error.code === 'ENOENT') {
      this.rulesetReady = false;
      await this.portsChanged(ctx);
      restart(); // whatever a set read before the table went is void
      v = await this.verify.dumpEach(deviceOf, each, restart);
    }
    if (!v.ok) return false;
    if (v.value.orphans.length > 0) await this.verify.removeElements(v.value.orphans);
    return true;
  }

  async apply(op: BatchOp, entries: VerifyEntry[], ctx: ApplierContext): Promise<ApplyOutcome> {
    if (!this.verify) return { applied: 0, failures: entries.map(() => 'closed'), noDevice: 0, missed: new Set(entries.keys()) };
    let noDevice = 0;
    const ifindexOf = (d: string) => {
      const i = ctx.ifindexOf(d);
      if (i === undefined) noDevice++;
      return i;
    };
    const r = op === 'remove' ? await this.verify.remove(entries, ifindexOf) : await this.verify.add(entries, ifindexOf);
    // An entry whose device is missing is counted once, as noDevice, like the other kinds.
    const failures = [...r.failures.values()].filter((e) => e.kind !== 'unknown-device')
      .map((e) => (e.kind === 'errno' ? e.code : e.kind));
    // A removal nft answered ENOENT for (`already`) is not attributable to its element
    // here; it is counted as removed until the next read-back (platform/kernel/counts.ts).
    return { applied: r.applied, failures, noDevice, missed: new Set(r.failures.keys()) };
  }

  /** The old table goes whole: the new one is loaded by `start` and filled by the reconcile. */
  async withdraw(): Promise<void> {
    if (!this.verify) return;
    const r = await this.verify.deleteTable();
    this.stop();
    if (!r.ok) throw new Error(`nftables: could not delete the old table: ${JSON.stringify(r.error)}`);
  }

  /**
   * An nf_tables change to gleand's table that gleand did not make (an element deleted
   * by `nft delete element`, the table flushed or deleted). The ruleset load and the
   * creation of a prefix-length set go through nft(8), another socket: `madeBy` knows
   * its portids too, so they trigger no repair — which, during a bulk restore, would
   * fall through to a full diff with hundreds of live batches applied inside it.
   */
  concerns(m: NlMessage, ctx: ApplierContext): boolean {
    if (m.type >> 8 !== NFNL_SUBSYS_NFTABLES || this.madeBy(m.pid)) return false;
    const msg = m.type & 0xff;
    if (msg === NFT_MSG.NEWGEN || m.payload.length < NFGENMSG_LEN || m.payload[0] !== NFPROTO.INET) return false;
    const attrs = splitAttrs(m.payload.subarray(NFGENMSG_LEN), 'nft notification', NFGENMSG_LEN);
    if (!attrs.ok) return false;
    const name = attrs.value.find((a) => a.type === NFTA_TABLE_NAME);
    if (!name) return false;
    const nul = name.data.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? name.data : name.data.subarray(0, nul)) === ctx.config.global.nft_table;
  }

  /** Its nfnetlink socket's portid, or an nft(8) gleand ran (NftVerify.madeBy). */
  madeBy(portId: number): boolean {
    return this.verify?.madeBy(portId) === true;
  }

  row(v: VerifyEntry): Record<string, unknown> {
    return { source: `${formatAddress(v.family, v.prefix)}/${v.prefixLength}`, mac: formatMac(v.mac), device: v.device };
  }

  stop(): void {
    this.verify?.close();
    this.verify = null;
    this.rulesetReady = false;
  }

  status(): Record<string, unknown> {
    return { nft: this.verify ? { ...this.verify.stats, kernelDrops: this.verify.kernelDrops() } : undefined };
  }
}
