/**
 * One group's ports (of one family), kept incrementally: what each port contributes, the
 * reference counts of the sources across the ports, the upstream membership they merge
 * into (RFC 4605 §4.1 by the merge of RFC 3376 §3.2) and the oif set of each channel
 * (S, G) (RFC 4605 §4.2, forwarding by RFC 3376 §6.3). A port's change touches only that
 * port's contribution: its sources' counts, and the oifs of the channels whose forwarding
 * on that port changed, so a report costs its own sources, not the number of ports that
 * hold the group.
 */
import type { Instant } from '../time';
import type { GroupState } from './group';

/** A port as the index sees it: its name and the device its traffic leaves by. */
export interface Member {
  readonly name: string;
  readonly device: string;
}

/**
 * What one port's group state contributes, taken when the port's group changed (its
 * timers run up to that moment): `running` the sources with a running timer (INCLUDE's A,
 * EXCLUDE's X: wanted, forwarded), `excluded` EXCLUDE's Y (not forwarded). A timer that
 * runs out on a port changes its contribution when the module polls that port at the
 * timer's deadline (RouterDeadlines), not when another port's report comes first.
 */
export interface Contribution {
  readonly device: string;
  readonly mode: 'include' | 'exclude';
  readonly running: ReadonlyMap<string, Uint8Array>;
  readonly excluded: ReadonlyMap<string, Uint8Array>;
}

const NO_SOURCES: ReadonlyMap<string, Uint8Array> = new Map();

export function contributionOf(g: GroupState, device: string, now: Instant): Contribution {
  const running = new Map<string, Uint8Array>();
  const excluded = new Map<string, Uint8Array>();
  for (const [k, s] of g.sources) {
    if (s.timer !== null && s.timer > now) running.set(k, s.address);
    else if (g.mode === 'exclude') excluded.set(k, s.address);
  }
  return { device, mode: g.mode, running, excluded: excluded.size ? excluded : NO_SOURCES };
}

/**
 * Whether `g` at `now` still contributes `c`: a refresh (IS_IN of the sources the port
 * already has) restarts timers but changes nothing here, and then costs no new snapshot.
 */
export function sameContribution(c: Contribution, g: GroupState, device: string, now: Instant): boolean {
  if (c.mode !== g.mode || c.device !== device) return false;
  let running = 0;
  let excluded = 0;
  for (const [k, s] of g.sources) {
    if (s.timer !== null && s.timer > now) {
      if (!c.running.has(k)) return false;
      running++;
    } else if (g.mode === 'exclude') {
      if (!c.excluded.has(k)) return false;
      excluded++;
    }
  }
  return running === c.running.size && excluded === c.excluded.size;
}

/** RFC 3376 §6.3: does the port forward `source`? INCLUDE: a running source; EXCLUDE: any source not in Y. */
const forwards = (c: Contribution | undefined, source: string): boolean =>
  c !== undefined && (c.mode === 'include' ? c.running.has(source) : !c.excluded.has(source));

interface Count {
  readonly address: Uint8Array;
  n: number;
}

/**
 * A channel (S, G) some port wants or the kernel saw traffic of, with the devices of the
 * ports that forward it (each subscriber port has a device of its own: the configuration
 * refuses a device used twice), sorted and changed in place: the entry handed to the
 * kernel gets a copy, once per change set (`take`), not once per port that changed.
 */
export interface Channel {
  readonly address: Uint8Array;
  readonly devices: string[];
}

export class GroupMembers {
  private readonly ports = new Map<Member, Contribution>();
  /** Ports in EXCLUDE mode. */
  private readonly excluding = new Set<Member>();
  /** Per source: how many ports have it running (wanted upstream). */
  private readonly running = new Map<string, Count>();
  /** Per source: how many EXCLUDE-mode ports have it in Y. */
  private readonly excludedBy = new Map<string, Count>();
  /** Sources of this any-source group the kernel saw traffic from (NOCACHE upcalls), while some port excludes. */
  readonly learnt = new Map<string, Uint8Array>();
  /** Candidate channels: a source running on some port, or learnt. */
  readonly channels = new Map<string, Channel>();
  /** Channels whose oif set appeared, changed or went since `take`. */
  readonly changedChannels = new Set<string>();
  /** The upstream membership may have changed since `take` (a count crossed 0↔1, a port changed mode). */
  upstreamChanged = false;

  constructor(readonly address: Uint8Array) {}

  get size(): number {
    return this.ports.size;
  }

  contribution(p: Member): Contribution | undefined {
    return this.ports.get(p);
  }

  get anyExcluding(): boolean {
    return this.excluding.size > 0;
  }

  /** Port `p`'s contribution is now `next` (undefined: the port no longer holds the group). */
  set(p: Member, next: Contribution | undefined): void {
    const prev = this.ports.get(p);
    if (!prev && !next) return;
    // A port that moved to another device (a reload) leaves with the old one and comes back with the new.
    if (prev && next && prev.device !== next.device) { this.set(p, undefined); this.set(p, next); return; }
    if (next) this.ports.set(p, next);
    else this.ports.delete(p);
    const wasExcl = prev?.mode === 'exclude';
    const isExcl = next?.mode === 'exclude';
    if (wasExcl !== isExcl) {
      this.upstreamChanged = true;
      if (isExcl) this.excluding.add(p);
      else this.excluding.delete(p);
    }
    // The reference counts: only a crossing of 0 changes the union (RFC 3376 §3.2).
    const touched = new Set<string>();
    const crossed = (m: Map<string, Count>, from: ReadonlyMap<string, Uint8Array>, to: ReadonlyMap<string, Uint8Array>, excl: boolean) => {
      for (const [s, a] of to) {
        if (from.has(s)) continue;
        touched.add(s);
        const c = m.get(s);
        if (c) c.n++;
        else { m.set(s, { address: a, n: 1 }); this.upstreamChanged = true; }
        if (excl) this.upstreamChanged = true;
      }
      for (const s of from.keys()) {
        if (to.has(s)) continue;
        touched.add(s);
        const c = m.get(s)!;
        if (--c.n === 0) { m.delete(s); this.upstreamChanged = true; }
        if (excl) this.upstreamChanged = true;
      }
    };
    crossed(this.running, prev?.running ?? NO_SOURCES, next?.running ?? NO_SOURCES, false);
    crossed(this.excludedBy, prev?.excluded ?? NO_SOURCES, next?.excluded ?? NO_SOURCES, true);
    // RFC 3376 §6.3: learnt sources matter only while some port excludes.
    if (this.excluding.size === 0 && this.learnt.size > 0) {
      for (const s of this.learnt.keys()) touched.add(s);
      this.learnt.clear();
    }
    // A change of mode changes the port's forwarding of every channel; otherwise only of the sources it changed.
    if (wasExcl || isExcl) for (const s of this.channels.keys()) touched.add(s);
    const device = (next ?? prev)!.device;
    for (const s of touched) this.refresh(s, p, device, prev, next);
  }

  /** A source of an excluding group the kernel reported traffic from (RFC 3376 §6.3: forwarded unless excluded). */
  learn(key: string, address: Uint8Array): void {
    this.learnt.set(key, address);
    if (!this.channels.has(key)) this.refresh(key, null, '', undefined, undefined);
  }

  /**
   * Bring channel `s` up to date after port `p` changed from `prev` to `next`: created
   * (from the excluding ports and `p`: no other port runs a source that was no channel),
   * dropped when no port runs it and it is not learnt, else `p`'s oif moved.
   */
  private refresh(s: string, p: Member | null, device: string, prev: Contribution | undefined, next: Contribution | undefined): void {
    const wanted = this.running.get(s);
    const address = wanted?.address ?? this.learnt.get(s);
    let ch = this.channels.get(s);
    if (address === undefined) {
      if (ch) { this.channels.delete(s); this.changedChannels.add(s); }
      return;
    }
    if (!ch) {
      ch = { address, devices: [] };
      this.channels.set(s, ch);
      for (const q of this.excluding) if (forwards(this.ports.get(q), s)) addDevice(ch, this.ports.get(q)!.device);
      if (p && next && next.mode === 'include' && next.running.has(s)) addDevice(ch, next.device);
      this.changedChannels.add(s);
      return;
    }
    if (!p) return;
    const was = forwards(prev, s);
    const is = forwards(next, s);
    if (was === is) return;
    if (is) addDevice(ch, device);
    else removeDevice(ch, device);
    this.changedChannels.add(s);
  }

  /**
   * The union of the ports' memberships (RFC 4605 §4.1, merged by RFC 3376 §3.2): EXCLUDE
   * when any port excludes, with the sources every excluding port excludes minus those a
   * port wants; otherwise INCLUDE with every wanted source. Undefined: no port holds it.
   */
  membership(): { mode: 'include' | 'exclude'; sources: Map<string, Uint8Array> } | undefined {
    if (this.ports.size === 0) return undefined;
    const sources = new Map<string, Uint8Array>();
    if (this.excluding.size === 0) {
      for (const [s, c] of this.running) sources.set(s, c.address);
      return { mode: 'include', sources };
    }
    for (const [s, c] of this.excludedBy) if (c.n === this.excluding.size && !this.running.has(s)) sources.set(s, c.address);
    return { mode: 'exclude', sources };
  }
}

/** Into the sorted device list: a binary search and a move, no sort. */
function addDevice(ch: Channel, device: string): void {
  const i = lowerBound(ch.devices, device);
  if (ch.devices[i] !== device) ch.devices.splice(i, 0, device);
}

function removeDevice(ch: Channel, device: string): void {
  const i = lowerBound(ch.devices, device);
  if (ch.devices[i] === device) ch.devices.splice(i, 1);
}

function lowerBound(xs: readonly string[], x: string): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
