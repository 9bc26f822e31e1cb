import { formatAddress, formatMac, formatPrefix } from '../wire/address';
import { DIVERT } from './divert';
import { MROUTE } from './mroute';

/**
 * Kernel entries gleand owns, as plain data, and the registry of their kinds.
 *
 * Each kind has a canonical *key* (the identity the kernel uses: two entries with one
 * key cannot coexist) and an *attribute* string (what a replace changes). Both are text
 * so they can be logged and compared; the platform maps entries to netlink messages.
 *
 * The vocabulary is open: a kind is a member of `KernelEntries` plus one row in
 * `ENTRY_TYPES`. Delta building, diffing, batching and the platform's appliers all
 * iterate the registry, so adding a kind (multicast forwarding, held-packet rules)
 * touches one place per layer: its entry type here, its applier in the platform.
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

/**
 * Every kind of kernel entry, by the name its collection has in a delta or a state.
 * A new kind adds a member here (declaration merging works from its own file) and a
 * row to `ENTRY_TYPES`.
 */
export interface KernelEntries {
  routes: RouteEntry;
  neighbours: NeighEntry;
  verifies: VerifyEntry;
}

export type EntryKind = keyof KernelEntries;
export type Entry = KernelEntries[EntryKind];

/**
 * What every layer needs to know of one kind. `rank` orders the kinds inside a batch
 * phase (see `batches` in diff.ts): additions and replaces run in ascending rank,
 * removals in `removeRank` order.
 */
export interface EntryType<K extends EntryKind = EntryKind> {
  readonly kind: K;
  key(e: KernelEntries[K]): string;
  attrs(e: KernelEntries[K]): string;
  /** Order among kinds when adding or replacing (lower first). */
  readonly rank: number;
  /** Order among kinds when removing (lower first). */
  readonly removeRank: number;
  /**
   * The classes a kind is counted by in `status` and the metrics (with the family), when
   * it has more than one: `of` must depend on the key alone, so a replace never moves
   * an entry from one class to another.
   */
  readonly classes?: { readonly names: readonly string[]; of(e: KernelEntries[K]): string };
}

/**
 * Route identity in a table is the destination (one metric, no TOS for ours). Routes
 * are added after the neighbours they resolve through and removed before them. They are
 * counted as host routes (/32, /128: a leased address) and delegated prefixes (shorter:
 * RFC 8415 §6.3), told by the destination's length, which is part of the key.
 */
export const ROUTE: EntryType<'routes'> = {
  kind: 'routes',
  key: (r) => formatPrefix({ family: r.family, address: r.dst, length: r.dstLen }),
  attrs: (r) => (r.gateway ? `via ${formatAddress(r.family, r.gateway)} dev ${r.device}` : `dev ${r.device}`),
  rank: 1,
  removeRank: 0,
  classes: { names: ['host', 'pd'], of: (r) => (r.dstLen === (r.family === 4 ? 32 : 128) ? 'host' : 'pd') },
};

/** Neighbour identity is (device, address); the link-layer address is the attribute. */
export const NEIGH: EntryType<'neighbours'> = {
  kind: 'neighbours',
  key: (n) => `${formatAddress(n.family, n.address)} dev ${n.device}`,
  attrs: (n) => formatMac(n.lladdr),
  rank: 0,
  removeRank: 1,
};

/**
 * A verify entry is all identity: changing any part is a different entry. Verify
 * entries go last both ways: traffic is allowed only once it can be routed, and a
 * subscriber is never blocked before its routes go.
 */
export const VERIFY: EntryType<'verifies'> = {
  kind: 'verifies',
  key: (v) =>
    `${formatPrefix({ family: v.family, address: v.prefix, length: v.prefixLength })} mac ${formatMac(v.mac)} dev ${v.device}`,
  attrs: () => '',
  rank: 2,
  removeRank: 2,
};

/** One `EntryType` for each kind (a union, so each row keeps its own entry type). */
export type AnyEntryType = { [K in EntryKind]: EntryType<K> }[EntryKind];

/** The registry: every kind gleand installs, in no particular order (ranks order them). */
export const ENTRY_TYPES: readonly AnyEntryType[] = [ROUTE, NEIGH, VERIFY, MROUTE, DIVERT];

/**
 * Run `f` once per registered kind with the kind's type, so generic code (delta
 * building, diff, batching) is written once for every kind.
 */
export function eachKind<R>(f: <K extends EntryKind>(t: EntryType<K>) => R): R[] {
  // The union row is exactly one EntryType<K>; `f` is generic over K, so this is sound.
  return ENTRY_TYPES.map((t) => f(t as EntryType<never> as EntryType<EntryKind>));
}

export function entryType<K extends EntryKind>(kind: K): EntryType<K> {
  const t = ENTRY_TYPES.find((x) => x.kind === kind);
  if (!t) throw new Error(`unregistered kernel entry kind ${kind}`);
  return t as unknown as EntryType<K>;
}

/** The same shape for every kind: what to add, what to remove, what to replace in place. */
export interface EntryDelta<E> {
  readonly add: E[];
  readonly remove: E[];
  /** Desired entries whose key exists with other attributes (NLM_F_REPLACE). */
  readonly replace: E[];
}

/** A change of kernel state: one `EntryDelta` per registered kind. */
export type KernelDelta = { readonly [K in EntryKind]: EntryDelta<KernelEntries[K]> };

/**
 * A full set of entries: the desired state (lazily generated) or a kernel dump. A kind
 * that is absent is "not known" (a dump that failed, a module that desires none of it).
 */
export type KernelState = { readonly [K in EntryKind]?: Iterable<KernelEntries[K]> };

export function emptyDelta(): KernelDelta {
  return Object.fromEntries(ENTRY_TYPES.map((t) => [t.kind, { add: [], remove: [], replace: [] }])) as unknown as KernelDelta;
}

export const isEmptyDelta = (d: KernelDelta): boolean =>
  ENTRY_TYPES.every((t) => {
    const x = d[t.kind];
    return !x.add.length && !x.remove.length && !x.replace.length;
  });

/** Number of entries a delta touches, by operation (for counters and logs). */
export function deltaSize(d: KernelDelta): { added: number; removed: number; replaced: number } {
  let added = 0, removed = 0, replaced = 0;
  for (const t of ENTRY_TYPES) {
    const x = d[t.kind];
    added += x.add.length;
    removed += x.remove.length;
    replaced += x.replace.length;
  }
  return { added, removed, replaced };
}
