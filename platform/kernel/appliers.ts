import type { Rtnl } from '../netlink';
import type { AnyApplier } from './applier';
import { NeighbourApplier } from './neighbours';
import { RouteApplier } from './routes';
import { VerifyApplier } from './verifies';

/**
 * The platform half of the kernel entry registry (`ENTRY_TYPES` is the core half): one
 * applier per kind. A new kind adds its applier here; the kernel driver checks at start
 * that every registered kind has one.
 */
export function createAppliers(rtnl: Rtnl): AnyApplier[] {
  return [new RouteApplier(rtnl), new NeighbourApplier(rtnl), new VerifyApplier()];
}
