import type { KernelFacts } from '../bindings/binding';
import type { NeighEntry, RouteEntry, VerifyEntry } from './entries';

/**
 * Per-port kernel settings, from the port's config section. The flags default to
 * true; turning one off drops that kind of entry for every binding of the port.
 */
export interface PortKernelConfig {
  /** The Linux interface the subscriber port is (`eth1`, `eth1.100`, `pppoe-x`). */
  readonly device: string;
  readonly routes?: boolean;
  readonly neighbours?: boolean;
  readonly verify?: boolean;
}

export type PortKernelConfigs = ReadonlyMap<string, PortKernelConfig>;

/** Entries that belong to exactly one binding (their keys contain the leased address). */
export interface OwnedEntries {
  readonly routes: RouteEntry[];
  readonly neighbours: NeighEntry[];
  readonly verifies: VerifyEntry[];
}

/**
 * What a binding says about its client's link-local address on the port. Several
 * bindings of one client (IA_NA plus one or more IA_PD) share it, so the entries it
 * implies (a permanent neighbour for the next hop, a verify entry for the client's
 * link-local source) are reference-counted in `DesiredState`.
 */
export interface PeerLink {
  readonly device: string;
  readonly linkLocal: Uint8Array;
  readonly mac: Uint8Array;
  readonly neighbours: boolean;
  readonly verify: boolean;
}

/**
 * The kernel entries one binding implies on its port:
 *
 * - IPv4/IPv6 address: an on-link host route (/32, /128) to the device, a permanent
 *   neighbour address → MAC, and a verify entry (device, MAC, address/host-length);
 * - IPv6 delegated prefix: a route for the prefix via the client's link-local
 *   (RELAY-FORW peer-address, RFC 8415 §9.3) on the device, and a verify entry
 *   (device, MAC, prefix);
 * - IPv4 prefix (static framed routes): an on-link route and a verify entry.
 *
 * Without a MAC there is no neighbour and no verify entry: neither can be stated
 * without a link-layer address (the kernel resolves such hosts by ARP/ND). A
 * delegated prefix without a known link-local gets no route: an on-link route for a
 * whole prefix would make the router resolve every address in it.
 *
 * The keys of these entries contain the leased address, which the table holds
 * once, and validate.ts refuses link-local leases; so owned entries never collide
 * with each other or with the shared link-local ones.
 */
export function ownedEntries(b: KernelFacts, cfg: PortKernelConfig): OwnedEntries {
  const out: OwnedEntries = { routes: [], neighbours: [], verifies: [] };
  const { device } = cfg;
  const host = b.kind === 'address';
  if (cfg.routes !== false) {
    if (host || b.family === 4) {
      out.routes.push({ family: b.family, dst: b.address, dstLen: b.prefixLength, device, gateway: null });
    } else if (b.linkLocal) {
      out.routes.push({ family: 6, dst: b.address, dstLen: b.prefixLength, device, gateway: b.linkLocal });
    }
  }
  if (b.mac) {
    if (host && cfg.neighbours !== false) {
      out.neighbours.push({ family: b.family, address: b.address, device, lladdr: b.mac });
    }
    if (cfg.verify !== false) {
      out.verifies.push({ family: b.family, device, mac: b.mac, prefix: b.address, prefixLength: b.prefixLength });
    }
  }
  return out;
}

/** The shared link-local facts of an IPv6 binding with a known MAC and peer-address. */
export function peerLinkOf(b: KernelFacts, cfg: PortKernelConfig): PeerLink | null {
  if (b.family !== 6 || !b.linkLocal || !b.mac) return null;
  const neighbours = cfg.neighbours !== false;
  const verify = cfg.verify !== false;
  if (!neighbours && !verify) return null;
  return { device: cfg.device, linkLocal: b.linkLocal, mac: b.mac, neighbours, verify };
}
