import type { Config } from '../../src/config/config';
import type { BatchOp } from '../../src/kernel/diff';
import type { NeighEntry } from '../../src/kernel/entries';
import { formatAddress, formatMac } from '../../src/wire/address';
import { NETLINK_ROUTE, RTNLGRP, decodeNeigh, type Neighbour, type Rtnl } from '../netlink';
import type { NlMessage } from '../netlink/message';
import type { NeighMessage } from '../netlink/neigh';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';
import { outcome, resolveDevices, withdrawByDump } from './outcome';
import { familyOf } from './routes';

const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const GONE = new Set(['ENOENT']);

/** One of gleand's neighbours (its protocol, on a port) as an entry; null for anyone else's. */
function entryOf(n: NeighMessage, ctx: ApplierContext): NeighEntry | null {
  if (n.protocol !== ctx.config.global.route_protocol || !n.dst || !n.lladdr || n.lladdr.length === 0) return null;
  const device = ctx.deviceOf(n.ifindex);
  return device ? { family: familyOf(n.dst), address: n.dst, device, lladdr: n.lladdr } : null;
}

/**
 * Permanent neighbours: gleand's carry NDA_PROTOCOL = `route_protocol` and sit on a
 * subscriber device, so the access side needs no ARP/ND for leased addresses.
 */
export class NeighbourApplier implements Applier<'neighbours'> {
  readonly kind = 'neighbours';
  readonly queryKey = 'neighbours';
  readonly monitor = { protocol: NETLINK_ROUTE, groups: [RTNLGRP.NEIGH] };

  constructor(private readonly rtnl: Rtnl) {}

  async start(): Promise<void> {}

  tag(config: Config): string {
    return `proto ${config.global.route_protocol}`;
  }

  async dump(ctx: ApplierContext): Promise<NeighEntry[] | null> {
    const r = await this.rtnl.dumpNeighbours({});
    if (!r.ok) return null;
    const out: NeighEntry[] = [];
    for (const n of r.value.items) {
      const e = entryOf(n, ctx);
      if (e) out.push(e);
    }
    return out;
  }

  async dumpEach(ctx: ApplierContext, each: (e: NeighEntry) => void, restart: () => void): Promise<boolean> {
    const r = await this.rtnl.eachNeighbour((n) => {
      const e = entryOf(n, ctx);
      if (e) each(e);
    }, restart);
    return r.ok;
  }

  async apply(op: BatchOp, entries: NeighEntry[], ctx: ApplierContext): Promise<ApplyOutcome> {
    const res = resolveDevices(entries, ctx, (e, ifindex): Neighbour => ({
      dst: e.address, ifindex, lladdr: e.lladdr, protocol: ctx.config.global.route_protocol,
    }));
    const r = op === 'remove' ? await this.rtnl.deleteNeighbours(res.resolved) : await this.rtnl.addNeighbours(res.resolved);
    return outcome(r, op === 'remove' ? GONE : null, res, entries.length);
  }

  async withdraw(old: ApplierContext): Promise<void> {
    await withdrawByDump(this, old);
  }

  /** The notifications of gleand's own rtnetlink requests carry its socket's portid. */
  madeBy(portId: number): boolean {
    return portId === this.rtnl.portId;
  }

  /**
   * A neighbour of gleand's protocol on a subscriber device was deleted or changed by
   * someone else (`ip neigh del`, `ip neigh replace … lladdr other`): the kernel keeps
   * NDA_PROTOCOL across a replace and reports it on deletion.
   */
  concerns(m: NlMessage, ctx: ApplierContext): boolean {
    if ((m.type !== RTM_NEWNEIGH && m.type !== RTM_DELNEIGH) || this.madeBy(m.pid)) return false;
    const d = decodeNeigh(m);
    if (!d.ok) return false;
    return d.value.protocol === ctx.config.global.route_protocol && ctx.deviceOf(d.value.ifindex) !== null;
  }

  row(n: NeighEntry): Record<string, unknown> {
    return { address: formatAddress(n.family, n.address), lladdr: formatMac(n.lladdr), device: n.device };
  }

  stop(): void {}
}
