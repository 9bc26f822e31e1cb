import { formatAddress, formatMac, formatPrefix } from '../wire/address';

/**
 * Kernel entries gleand owns, as plain data. Each kind has a canonical *key* (the
 * identity the kernel uses: two entries with one key cannot coexist) and an
 * *attribute* string (what a replace changes). Both are text so they can be logged
 * and compared; the platform maps them to netlink messages.
 */

/**
 * A route in gleand's table, tagged with gleand's route protocol. `gateway: null`
 * is an on-link host route (`scope link`): `ip route add 192.0.2.7/32 dev eth1`.
 * With a gateway it is a delegated prefix: `ip -6 route add 2001:db8:1::/56 via
 * fe80::1 dev eth1` (RFC 8415 §6.3: the requesting router is the next hop).
 */
export interface RouteEntry {
  readonly family: 4 | 6;
  readonly dst: Uint8Array;
  readonly dstLen: number;
  readonly device: string;
  readonly gateway: Uint8Array | null;
}

/** A permanent neighbour (`ip neigh replace ADDR lladdr MAC dev DEV nud permanent`). */
export interface NeighEntry {
  readonly family: 4 | 6;
  readonly address: Uint8Array;
  readonly device: string;
  readonly lladdr: Uint8Array;
}

/** Source verification: frames from `mac` on `device` may use sources in `prefix/prefixLength`. */
export interface VerifyEntry {
  readonly family: 4 | 6;
  readonly device: string;
  readonly mac: Uint8Array;
  readonly prefix: Uint8Array;
  readonly prefixLength: number;
}

export type EntryKind = 'route' | 'neigh' | 'verify';

/** Key and attribute functions of one entry kind (used by diff and the delta builder). */
export interface EntryType<E> {
  readonly kind: EntryKind;
  key(e: E): string;
  attrs(e: E): string;
}

/** Route identity in a table is the destination (one metric, no TOS for ours). */
export const ROUTE: EntryType<RouteEntry> = {
  kind: 'route',
  key: (r) => formatPrefix({ family: r.family, address: r.dst, length: r.dstLen }),
  attrs: (r) => (r.gateway ? `via ${formatAddress(r.family, r.gateway)} dev ${r.device}` : `dev ${r.device}`),
};

/** Neighbour identity is (device, address); the link-layer address is the attribute. */
export const NEIGH: EntryType<NeighEntry> = {
  kind: 'neigh',
  key: (n) => `${formatAddress(n.family, n.address)} dev ${n.device}`,
  attrs: (n) => formatMac(n.lladdr),
};

/** A verify entry is all identity: changing any part is a different entry. */
export const VERIFY: EntryType<VerifyEntry> = {
  kind: 'verify',
  key: (v) =>
    `${formatPrefix({ family: v.family, address: v.prefix, length: v.prefixLength })} mac ${formatMac(v.mac)} dev ${v.device}`,
  attrs: () => '',
};

/** The same shape for every kind: what to add, what to remove, what to replace in place. */
export interface EntryDelta<E> {
  readonly add: E[];
  readonly remove: E[];
  /** Desired entries whose key exists with other attributes (NLM_F_REPLACE). */
  readonly replace: E[];
}

export interface KernelDelta {
  readonly routes: EntryDelta<RouteEntry>;
  readonly neighbours: EntryDelta<NeighEntry>;
  readonly verifies: EntryDelta<VerifyEntry>;
}

/** A full set of entries: the desired state (lazily generated) or a kernel dump. */
export interface KernelState {
  readonly routes: Iterable<RouteEntry>;
  readonly neighbours: Iterable<NeighEntry>;
  readonly verifies: Iterable<VerifyEntry>;
}

export const emptyDelta = (): KernelDelta => ({
  routes: { add: [], remove: [], replace: [] },
  neighbours: { add: [], remove: [], replace: [] },
  verifies: { add: [], remove: [], replace: [] },
});

export const isEmptyDelta = (d: KernelDelta): boolean =>
  [d.routes, d.neighbours, d.verifies].every((x) => !x.add.length && !x.remove.length && !x.replace.length);
