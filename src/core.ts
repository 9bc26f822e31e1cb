import { Agent } from './agent';
import { Bindings } from './bindings/owner';
import { DhcpModule } from './relay/module';
import type { Instant } from './time';

/**
 * The core as the daemon runs it: the bindings owner and the modules that produce
 * bindings, registered with the Agent by their claims. The platform talks to the
 * returned Agent only (events, actions, desired kernel state, status, queries).
 */
export function createCore(now: Instant): { agent: Agent; bindings: Bindings; dhcp: DhcpModule } {
  const bindings = new Bindings();
  const dhcp = new DhcpModule(bindings);
  return { agent: new Agent(now, [bindings, dhcp]), bindings, dhcp };
}
