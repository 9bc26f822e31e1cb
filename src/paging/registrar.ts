import { log, type Action } from '../actions';
import type { Event } from '../events';
import { addMs, type Instant } from '../time';
import { bytesEqual, formatHex } from '../wire/address';
import {
  PAGING_ACK_STATUS, PAGING_DEREGISTER, PAGING_MODE, pagingMessage, type PagingBody, type PagingMessage,
} from '../wire/paging';
import { acceptCounter, freshReplay, verifyMessage, type ReplayState } from './auth';
import { deliverHeld, markInactive, takenByOther } from './monitor';
import type { PagingState, Rejection } from './state';
import type { TrackedHost } from './tracking';

type PagingEvent = Extract<Event, { kind: 'paging' }>;
type Register = Extract<PagingBody, { type: 'register' }>;

/**
 * The Tracking Agent's side of H-TA and H-DMA (RFC 3154 §5.2): REGISTER, DEREGISTER and
 * PAGE_RESPONSE from hosts. Nothing is acted on before the whole message is decoded,
 * its HMAC verified with the host's key (§4.20), its epoch found current (a restart
 * voids what was signed before, §4.10) and its counter found fresh (§4.20 replay).
 * Every refusal is counted by reason (§3.3 bogus agents and hosts); an unauthenticated
 * message is never answered, so gleand reflects nothing to a forged source.
 */
export function onHostMessage(s: PagingState, e: PagingEvent, now: Instant): Action[] {
  s.counters.received++;
  const d = pagingMessage.decode(e.payload);
  if (!d.ok) return reject(s, 'malformed', { port: e.port, field: d.error.field });
  const m = d.value;
  const t = m.body.type;
  if (t === 'unknown') return reject(s, 'unknown-type', { port: e.port, type: m.body.code });
  // An advert, a page or an ack coming from a host's port: someone plays Paging Agent (§3.3).
  if (t === 'advert' || t === 'page' || t === 'register-ack') return reject(s, 'agent-message', { port: e.port, type: t });
  const key = s.plan.keyOf(m.id);
  if (!key) return reject(s, 'unknown-host', { port: e.port, host: m.id });
  if (!verifyMessage(e.payload, key, s.hmac)) return reject(s, 'bad-mac', { port: e.port, host: m.id });
  if (m.epoch !== s.epoch) return reject(s, 'stale-epoch', { port: e.port, host: m.id, epoch: m.epoch });
  const host = s.table.get(m.id);
  // A first REGISTER starts the host's replay state; it is kept only if the host is.
  const replay: ReplayState = host ?? freshReplay();
  if (!acceptCounter(replay, m.counter)) return reject(s, 'replay', { port: e.port, host: m.id });
  switch (m.body.type) {
    case 'register': return register(s, e, m, m.body, host, replay, now);
    case 'deregister': return deregister(s, e, m, host, now);
    default: return respond(s, m, host, now);
  }
}

function reject(s: PagingState, reason: Rejection, fields: Record<string, string | number>): Action[] {
  s.reject(reason);
  return [log('debug', 'paging', 'host message rejected', { reason, ...fields }, `paging-reject:${reason}`)];
}

function ack(s: PagingState, e: PagingEvent, m: PagingMessage, status: number, lifetimeS: number, area: string): Action[] {
  const key = s.plan.keyOf(m.id)!;
  const { bytes } = s.sign(m.id, { type: 'register-ack', status, lifetimeS, acked: m.counter, area }, key);
  // Unicast back to where the REGISTER came from: the host is awake right now.
  return [{ kind: 'paging-send', port: e.port, family: e.family, destination: e.source, destinationPort: e.sourcePort, payload: bytes, destinationMac: e.mac }];
}

function refuse(s: PagingState, e: PagingEvent, m: PagingMessage, status: number, reason: string, area: string): Action[] {
  s.counters.refused[reason] = (s.counters.refused[reason] ?? 0) + 1;
  return [...ack(s, e, m, status, 0, area), log('info', 'paging', 'registration refused', { host: m.id, port: e.port, reason }, `paging-refuse:${reason}`)];
}

/**
 * REGISTER (§4.3, §4.6, §4.10, §4.18): the host goes dormant in an area. Its addresses
 * must be bound to it — on the port the REGISTER came in on, with the frame's MAC — by
 * the bindings owner, and taken by no other host: a key holder cannot have another
 * subscriber's traffic held and paged.
 */
function register(
  s: PagingState, e: PagingEvent, m: PagingMessage, r: Register, host: TrackedHost | undefined, replay: ReplayState, now: Instant,
): Action[] {
  const cfg = s.plan.cfg;
  const modeOk = r.mode === PAGING_MODE.L3 || r.mode === PAGING_MODE.BOTH || (r.mode === PAGING_MODE.WOL && cfg.wol);
  if (!modeOk || r.lifetimeS === 0) return refuse(s, e, m, PAGING_ACK_STATUS.BAD_MODE, 'bad-mode', r.area);
  const where = s.plan.register(m.id, r.area, e.port);
  if (!where.ok) return refuse(s, e, m, where.status, where.reason, r.area);
  const bound = r.addresses.length > 0 && r.addresses.every((a) => {
    const b = s.bindings.find(a.length === 4 ? 4 : 6, a);
    return b !== null && b.port === e.port && bytesEqual(b.mac, e.mac) && !takenByOther(s, m.id, a);
  });
  if (!bound) return refuse(s, e, m, PAGING_ACK_STATUS.NOT_BOUND, 'not-bound', where.area);
  if (!host && s.table.size >= cfg.max_hosts) return refuse(s, e, m, PAGING_ACK_STATUS.FULL, 'full', where.area);
  const lifetimeS = Math.min(r.lifetimeS, cfg.lifetime_max);
  const expiresAt = addMs(now, lifetimeS * 1000);
  // Kept for the registration's life as text (tracking.ts), not as windows on the decoded
  // message: a window would keep its whole pool slab alive (src/wire/pool.ts).
  const addresses = r.addresses.map(formatHex);
  const correspondents = r.correspondents.length > 0 ? r.correspondents.map((c) => ({ address: c.address.slice(), length: c.length })) : null;
  const actions: Action[] = [];
  if (host) {
    // A refresh or an area update (§4.10). A host that registers is awake: what was
    // held for it goes now, before it sleeps again (§4.15).
    actions.push(...deliverHeld(s, host));
    s.table.update(host, { addresses, port: e.port, wake: r.wake });
    Object.assign(host, {
      state: 'dormant', area: where.area, ports: where.ports, family: e.family, mode: r.mode, correspondents, expiresAt, pagesSent: 0,
    });
    s.table.setDeadline(host, expiresAt);
  } else {
    s.table.add({
      id: m.id, state: 'dormant', area: where.area, ports: where.ports, port: e.port, family: e.family, mode: r.mode, wake: r.wake,
      addresses, correspondents, expiresAt, deadline: expiresAt, pagesSent: 0, firstPageCounter: 0, lastPageAt: -1,
      wakeWindowStart: now, wakeCount: 0, ...replay,
    });
  }
  s.counters.registrations++;
  actions.push(...ack(s, e, m, PAGING_ACK_STATUS.OK, lifetimeS, where.area));
  return actions;
}

/** DEREGISTER (§4.4, §5.2 H-DMA): active again (held packets go), or a planned transition to inactive. */
function deregister(s: PagingState, e: PagingEvent, m: PagingMessage, host: TrackedHost | undefined, now: Instant): Action[] {
  if (!host) return reject(s, 'not-registered', { port: e.port, host: m.id });
  const reason = (m.body as Extract<PagingBody, { type: 'deregister' }>).reason;
  if (reason !== PAGING_DEREGISTER.ACTIVE && reason !== PAGING_DEREGISTER.INACTIVE) {
    return refuse(s, e, m, PAGING_ACK_STATUS.BAD_MODE, 'bad-reason', host.area);
  }
  s.counters.deregistrations++;
  const actions = ack(s, e, m, PAGING_ACK_STATUS.OK, 0, host.area);
  if (reason === PAGING_DEREGISTER.INACTIVE) return [...actions, ...markInactive(s, host, 'planned', now)];
  const delivered = deliverHeld(s, host);
  host.state = 'active';
  host.pagesSent = 0;
  s.table.setDeadline(host, host.expiresAt);
  return [...delivered, ...actions];
}

/**
 * PAGE_RESPONSE (§5.2 DMA-PA positive response): it must answer a PAGE of the current
 * wake-up (its counter between the first PAGE's and the last one signed). The held
 * packets are the answer: no message goes back (§4.24).
 */
function respond(s: PagingState, m: PagingMessage, host: TrackedHost | undefined, now: Instant): Action[] {
  if (!host) return reject(s, 'not-registered', { host: m.id });
  const paged = (m.body as Extract<PagingBody, { type: 'page-response' }>).paged;
  if (host.state !== 'paging' || host.firstPageCounter === 0 || paged < BigInt(host.firstPageCounter) || paged > BigInt(s.counter)) {
    return reject(s, 'unmatched-response', { host: m.id });
  }
  s.counters.responses++;
  const delivered = deliverHeld(s, host);
  host.state = 'active';
  host.pagesSent = 0;
  s.table.setDeadline(host, host.expiresAt > now ? host.expiresAt : now);
  return delivered;
}
