import type { Config } from '../../src/config/config';
import type { BatchOp } from '../../src/kernel/diff';
import type { RouteEntry } from '../../src/kernel/entries';
import { formatAddress } from '../../src/wire/address';
import { NETLINK_ROUTE, RTNLGRP, RT_SCOPE, decodeRoute, routeTable, type Route, type Rtnl } from '../netlink';
import type { NlMessage } from '../netlink/message';
import type { RouteMessage } from '../netlink/route';
import type { Applier, ApplierContext, ApplyOutcome } from './applier';
import { outcome, resolveDevices, withdrawByDump } from './outcome';

const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
// Deleting what is already gone is success for a reconciler.
const GONE = new Set(['ESRCH']);

/**
 * Host and delegated-prefix routes: gleand's are the routes in `route_table` tagged
 * with `route_protocol` (rtm_protocol), on a subscriber device.
 */
export class RouteApplier implements Applier<'routes'> {
  readonly kind = 'routes';
  readonly queryKey = 'routes';
  readonly monitor = { protocol: NETLINK_ROUTE, groups: [RTNLGRP.IPV4_ROUTE, RTNLGRP.IPV6_ROUTE] };

  constructor(private readonly rtnl: Rtnl) {}

  async start(): Promise<void> {}

  tag(config: Config): string {
    return `table ${config.global.route_table} proto ${config.global.route_protocol}`;
  }

  async dump(ctx: ApplierContext): Promise<RouteEntry[] | null> {
    const g = ctx.config.global;
    const r = await this.rtnl.dumpRoutes({ protocol: g.route_protocol, table: g.route_table });
    if (!r.ok) return null;
    const out: RouteEntry[] = [];
    for (const m of r.value.items) {
      const e = entryOf(m, ctx);
      if (e) out.push(e);
    }
    return out;
  }

  async dumpEach(ctx: ApplierContext, each: (e: RouteEntry) => void, restart: () => void): Promise<boolean> {
    const g = ctx.config.global;
    const r = await this.rtnl.eachRoute({ protocol: g.route_protocol, table: g.route_table }, (m) => {
      const e = entryOf(m, ctx);
      if (e) each(e);
    }, restart);
    return r.ok;
  }

  async apply(op: BatchOp, entries: RouteEntry[], ctx: ApplierContext): Promise<ApplyOutcome> {
    const g = ctx.config.global;
    const res = resolveDevices(entries, ctx, (e, oif): Route => ({
      dst: e.dst, dstLen: e.dstLen, oif, table: g.route_table, protocol: g.route_protocol,
      ...(e.gateway ? { gateway: e.gateway } : { scope: RT_SCOPE.LINK }),
    }));
    const r = op === 'remove' ? await this.rtnl.deleteRoutes(res.resolved) : await this.rtnl.addRoutes(res.resolved, { replace: true });
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
   * Someone else added, replaced or deleted a route in gleand's table that is either
   * tagged with gleand's protocol or on a subscriber device: ours may be gone or
   * shadowed (`ip route replace … proto static` takes the destination over). The kernel
   * stamps a notification with the portid of the socket whose request caused it, so
   * gleand's own changes are recognised and ignored. Not seen here: a route of ours
   * replaced by one of another protocol on a non-port device (the kernel reports only
   * the new route); the periodic reconcile puts ours back.
   */
  concerns(m: NlMessage, ctx: ApplierContext): boolean {
    if ((m.type !== RTM_NEWROUTE && m.type !== RTM_DELROUTE) || this.madeBy(m.pid)) return false;
    const d = decodeRoute(m);
    if (!d.ok) return false;
    const r = d.value;
    if (routeTable(r) !== ctx.config.global.route_table) return false;
    return r.protocol === ctx.config.global.route_protocol || (r.oif !== undefined && ctx.deviceOf(r.oif) !== null);
  }

  row(r: RouteEntry): Record<string, unknown> {
    return {
      dst: `${formatAddress(r.family, r.dst)}/${r.dstLen}`,
      via: r.gateway ? formatAddress(r.family, r.gateway) : null,
      device: r.device,
    };
  }

  stop(): void {}
}

/** One of gleand's routes as an entry; null when on a device no port names (left for its owner). */
function entryOf(m: RouteMessage, ctx: ApplierContext): RouteEntry | null {
  const device = m.oif === undefined ? null : ctx.deviceOf(m.oif);
  if (!device || !m.dst) return null;
  return { family: familyOf(m.dst), dst: m.dst, dstLen: m.dstLen, device, gateway: m.gateway ?? null };
}

/** A netlink address attribute is 4 or 16 octets; its length says the family. */
export const familyOf = (a: Uint8Array): 4 | 6 => (a.length === 4 ? 4 : 6);
