import { log, type Action } from '../actions';
import { forwardCopy, readAddresses } from '../leasequery/held';
import { addMs, type Instant } from '../time';
import { formatAddress } from '../wire/address';
import { PAGING_MODE, PAGING_WAKE, type PagingPrefix } from '../wire/paging';
import { pageBackoffMs, takeWakeup } from './limits';
import { CUSTOM_AREA } from './plan';
import { CUSTOM_BUCKET, type InactiveReason, type PagingState } from './state';
import { addressBytes, type TrackedHost } from './tracking';
import { magicPacket } from './wol';

type DormantEvent = { readonly family: 4 | 6; readonly port: string | null; readonly bytes: Uint8Array };

/** Wide-cast destinations of PAGE and AREA_ADVERT: limited broadcast, all-nodes (RFC 4291 §2.7.1). */
export const WIDE_CAST: Record<4 | 6, Uint8Array> = {
  4: new Uint8Array([255, 255, 255, 255]),
  6: new Uint8Array([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
};

/**
 * The Dormant Monitoring Agent and the Paging Agent (RFC 3154 §5.1) of one element: what
 * arrives for a dormant host is held (§3.2 bounds), the host is paged on its area's
 * ports (L3 PAGE, §4.13) and by Wake-on-LAN (§4.11), with backoff and rate limits (§3.1,
 * §3.3), and once it answers the held packets go out in the order they came (§4.15).
 */
export function onDormantPacket(s: PagingState, e: DormantEvent, now: Instant): Action[] {
  const addrs = readAddresses(e.family, e.bytes);
  if (!addrs) return s.drop('malformed');
  const wide = wideKind(e.family, addrs.destination, e.port !== null);
  if (wide !== 0) return e.port === null ? s.drop('wide-cast') : wakeByWideCast(s, e.port, wide, addrs.source, now);
  const host = s.table.byDestination(addrs.destination);
  if (!host) return s.drop('not-tracked');
  switch (host.state) {
    // Diverted before the divert was lifted: it follows the held ones, still in order.
    case 'active': {
      const out = deliver(s, [e.bytes]);
      s.counters.deliveredLate += out.length;
      return out;
    }
    case 'inactive': return s.drop('inactive');
    default: break;
  }
  // §4.27: a correspondent the host did not name never causes a page, nor a held packet.
  if (!allowed(host.correspondents, addrs.source)) return s.drop('correspondent');
  if (host.state === 'dormant' && !takeWakeup(host, s.plan.cfg.wakeups_per_hour, now)) return s.drop('wake-cap');
  const refused = s.held.hold(host.id, e.bytes);
  if (refused) {
    // A full store (a flood toward other hosts, §3.2) still wakes this host: its
    // correspondent's retransmission then finds it awake. Bounded by the wake cap and the
    // area's page rate like any wake-up.
    if (host.state === 'paging') return s.drop(refused);
    s.drop(refused);
  } else s.counters.held++;
  return host.state === 'dormant' ? startWakeup(s, host, now) : [];
}

/** §4.3: wide-cast traffic on a port wakes only the dormant hosts there that asked for it (nothing is held). */
function wakeByWideCast(s: PagingState, port: string, bit: number, source: Uint8Array, now: Instant): Action[] {
  const actions: Action[] = [];
  for (const host of s.table.wakeable(port)) {
    if (host.state !== 'dormant' || (host.wake & bit) === 0 || !allowed(host.correspondents, source)) continue;
    if (!takeWakeup(host, s.plan.cfg.wakeups_per_hour, now)) {
      s.drop('wake-cap');
      continue;
    }
    s.counters.wideCastWakes++;
    for (const a of startWakeup(s, host, now)) actions.push(a);
  }
  if (actions.length === 0) s.drop('wide-cast');
  return actions;
}

/**
 * Multicast by address (RFC 1112 §4, RFC 4291 §2.7); broadcast the limited broadcast, or
 * any other IPv4 destination of a wide-cast copy (`onPort`): the kernel copied it only
 * because its route said broadcast (a directed broadcast, RFC 919 §7, RFC 2644), which
 * the address alone cannot tell without the port's subnets.
 */
function wideKind(family: 4 | 6, d: Uint8Array, onPort: boolean): number {
  if (family === 6) return d[0] === 0xff ? PAGING_WAKE.MULTICAST : 0;
  if (d[0]! >= 224 && d[0]! <= 239) return PAGING_WAKE.MULTICAST;
  return onPort || d.every((b) => b === 255) ? PAGING_WAKE.BROADCAST : 0;
}

function allowed(list: readonly PagingPrefix[] | null, source: Uint8Array): boolean {
  if (list === null) return true;
  return list.some((p) => p.address.length === source.length && inPrefix(source, p));
}

function inPrefix(a: Uint8Array, p: PagingPrefix): boolean {
  const full = p.length >> 3;
  for (let i = 0; i < full; i++) if (a[i] !== p.address[i]) return false;
  const rest = p.length & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (a[full]! & mask) === (p.address[full]! & mask);
}

function startWakeup(s: PagingState, host: TrackedHost, now: Instant): Action[] {
  s.counters.wakeups++;
  host.state = 'paging';
  host.pagesSent = 0;
  host.firstPageCounter = 0;
  return pageDue(s, host, now);
}

/**
 * The host's paging timer fired (or a wake-up began): the next PAGE if the area has a
 * token, else wait for one; after `pages_max` unanswered PAGEs and one more wait, the
 * host is inactive (§3.1: it is never paged again until it registers).
 */
export function pageDue(s: PagingState, host: TrackedHost, now: Instant): Action[] {
  const cfg = s.plan.cfg;
  if (host.pagesSent >= cfg.pages_max) return markInactive(s, host, 'unanswered', now);
  const bucket = s.bucket(host.area === CUSTOM_AREA ? CUSTOM_BUCKET : host.area, now);
  if (!bucket.take(now)) {
    s.counters.pagesDeferred++;
    s.table.setDeadline(host, bucket.nextToken(now));
    return [];
  }
  const key = s.plan.keyOf(host.id);
  // The key went with a reload (its paging_host section and key_master removed): nothing can page it.
  if (!key) return markInactive(s, host, 'reconfigured', now);
  const page = s.sign(host.id, { type: 'page', attempt: host.pagesSent + 1 }, key);
  if (host.pagesSent === 0) host.firstPageCounter = page.counter;
  host.pagesSent++;
  host.lastPageAt = now;
  s.counters.pages++;
  const actions: Action[] = host.ports.map((port) => ({
    kind: 'paging-send' as const, port, family: host.family, destination: WIDE_CAST[host.family],
    destinationPort: cfg.port, payload: page.bytes,
  }));
  if ((host.mode & PAGING_MODE.WOL) !== 0 && cfg.wol) actions.push(...wakeOnLan(s, host));
  s.table.setDeadline(host, addMs(now, pageBackoffMs(cfg.page_interval * 1000, host.pagesSent)));
  return actions;
}

/** The magic packet to the MAC the bindings owner has for the host's first address, on that binding's port (§4.11). */
function wakeOnLan(s: PagingState, host: TrackedHost): Action[] {
  const a = addressBytes(host.addresses[0]!);
  const b = s.bindings.find(a.length === 4 ? 4 : 6, a);
  if (!b?.mac) {
    s.counters.wolNoBinding++;
    return [];
  }
  s.counters.wol++;
  return [{ kind: 'link-send', port: b.port, family: 4, destinationMac: b.mac, bytes: magicPacket(b.mac) }];
}

/** The host answered (PAGE_RESPONSE, REGISTER, DEREGISTER active): every held packet, in order (§4.15). */
export function deliverHeld(s: PagingState, host: TrackedHost): Action[] {
  return deliver(s, s.held.take(host.id));
}

/** As a router forwards (RFC 1812 §5.3.1), to the MAC and port of the destination's binding. */
function deliver(s: PagingState, packets: readonly Uint8Array[]): Action[] {
  const actions: Action[] = [];
  for (const p of packets) {
    const family = (p[0]! >> 4) === 6 ? 6 : 4;
    const addrs = readAddresses(family, p);
    const b = addrs ? s.bindings.find(family, addrs.destination) : null;
    if (!b?.mac) {
      s.drop('no-binding');
      continue;
    }
    const bytes = forwardCopy(family, p);
    if (!bytes) {
      s.drop('ttl');
      continue;
    }
    s.counters.delivered++;
    actions.push({ kind: 'link-send', port: b.port, family, destinationMac: b.mac, bytes });
  }
  return actions;
}

/**
 * §4.4: no refresh, no answer, or a planned transition. Its held packets are dropped and
 * counted; it stays known (its traffic dropped, never paged) for `inactive_hold`.
 */
export function markInactive(s: PagingState, host: TrackedHost, reason: InactiveReason, now: Instant): Action[] {
  const dropped = s.held.take(host.id).length;
  if (dropped > 0) s.drop(reason, dropped);
  host.state = 'inactive';
  host.pagesSent = 0;
  s.counters.inactive[reason] = (s.counters.inactive[reason] ?? 0) + 1;
  s.table.setDeadline(host, addMs(now, s.plan.cfg.inactive_hold * 1000));
  return [log('info', 'paging', 'host inactive', { host: host.id, reason, dropped }, `paging-inactive:${reason}`)];
}

/** The entry's timer: the next PAGE, the end of a registration, or the end of an inactive host's hold. */
export function onTimer(s: PagingState, host: TrackedHost, now: Instant): Action[] {
  switch (host.state) {
    case 'paging': return pageDue(s, host, now);
    case 'dormant': return markInactive(s, host, 'expired', now);
    case 'active':
    case 'inactive':
      s.held.take(host.id);
      s.table.remove(host);
      return [];
  }
}

/** Whether `address` belongs to a host other than `id` (a REGISTER must not take it over). */
export function takenByOther(s: PagingState, id: string, address: Uint8Array): boolean {
  const owner = s.table.byDestination(address);
  return owner !== undefined && owner.id !== id;
}

export const describeHost = (h: TrackedHost, now: Instant): Record<string, unknown> => ({
  id: h.id, state: h.state, area: h.area, port: h.port, mode: h.mode,
  addresses: h.addresses.map((hex) => {
    const a = addressBytes(hex);
    return formatAddress(a.length === 4 ? 4 : 6, a);
  }),
  pagesSent: h.pagesSent, lastPageMsAgo: h.lastPageAt < 0 ? null : now - h.lastPageAt,
  timerInMs: h.deadline - now,
});
