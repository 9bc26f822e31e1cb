import type { Rtnl } from '../netlink';
import { MulticastRouting } from '../multicast-routing';
import type { AnyApplier } from './applier';
import { DivertApplier } from './diverts';
import { MrouteApplier } from './mroutes';
import { NeighbourApplier } from './neighbours';
import { RouteApplier } from './routes';
import { VerifyApplier } from './verifies';

/**
 * The platform half of the kernel entry registry (`ENTRY_TYPES` is the core half): one
 * applier per kind. A new kind adds its applier here; the kernel driver checks at start
 * that every registered kind has one. `routing` is the namespace's multicast routing
 * socket pair, shared with the multicast driver (which reads its upcalls).
 */
export function createAppliers(rtnl: Rtnl, routing: MulticastRouting = new MulticastRouting()): AnyApplier[] {
  return [new RouteApplier(rtnl), new NeighbourApplier(rtnl), new VerifyApplier(), new MrouteApplier(rtnl, routing), new DivertApplier()];
}
