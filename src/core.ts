import { Agent } from './agent';
import { Bindings } from './bindings/owner';
import { BulkModule } from './leasequery/bulk';
import { LeasequeryModule } from './leasequery/module';
import { MulticastModule } from './multicast/module';
import { PagingModule, type PagingPlatform } from './paging/module';
import { DhcpModule } from './relay/module';
import type { Instant } from './time';

export interface CoreOptions {
  /**
   * Uniform random 32-bit integers (transaction ids): the platform passes a
   * cryptographic source, tests a seeded one (CONVENTIONS 8). Default: a fixed-seed
   * generator, for tests and benches that send no leasequery.
   */
  readonly random32?: () => number;
  /**
   * HMAC-SHA-256 and the boot epoch for dormant-host alerting (RFC 3154, src/paging): the
   * core has no hash and no stable storage of its own. Absent: paging stays off even when
   * configured (logged), so the default core never sends an unauthenticated message.
   */
  readonly paging?: PagingPlatform;
}

/** xorshift32 from a fixed seed: deterministic, only the default for tests. */
function seeded(seed = 0x9e3779b9): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/**
 * The core as the daemon runs it: the bindings owner and the modules that produce
 * bindings, registered with the Agent by their claims. The platform talks to the
 * returned Agent only (events, actions, desired kernel state, status, queries).
 */
export function createCore(now: Instant, opts: CoreOptions = {}): {
  agent: Agent; bindings: Bindings; dhcp: DhcpModule; leasequery: LeasequeryModule; bulk: BulkModule; paging: PagingModule;
  multicast: MulticastModule;
} {
  const bindings = new Bindings();
  const dhcp = new DhcpModule(bindings);
  const random32 = opts.random32 ?? seeded();
  const leasequery = new LeasequeryModule(bindings, random32);
  const bulk = new BulkModule(bindings, random32);
  // Inert without a `paging` section (enabled off): no timer, nothing sent, nothing held.
  const paging = new PagingModule(bindings, opts.paging ?? null);
  const multicast = new MulticastModule(random32);
  return {
    agent: new Agent(now, [bindings, dhcp, leasequery, bulk, paging, multicast]), bindings, dhcp, leasequery, bulk, paging, multicast,
  };
}
