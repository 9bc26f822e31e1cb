// A scripted bulk leasequery server for the unit tests: builds the framed messages a
// server sends (RFC 5460 §5.1, §5.2) with the wire codec, and drives the core's
// connection with `tcp` events.
import type { Action } from '../../../src/actions';
import type { Event } from '../../../src/events';
import { frameMessage } from '../../../src/leasequery/bulk-frame';
import type { Instant } from '../../../src/time';
import { dhcp6Message, type Dhcp6Message, type Dhcp6Option } from '../../../src/wire';
import { v6 } from '../relay/kit';

export const REPLY = 15, DONE = 16, DATA = 17;

export interface LeaseSpec {
  duid: Uint8Array;
  address?: string;
  prefix?: string;
  len?: number;
  valid?: number;
  clt?: number;
  /** null: no LQ_RELAY_DATA. */
  interfaceId?: string | null;
  peer?: string;
  relayId?: Uint8Array;
  clientLink?: boolean;
}

export function clientData(l: LeaseSpec): Dhcp6Option {
  const options: Dhcp6Option[] = [{ kind: 'clientId', duid: l.duid }];
  if (l.address) options.push({ kind: 'iaAddr', address: v6(l.address), preferredLifetime: 300, validLifetime: l.valid ?? 600, options: [] });
  if (l.prefix) options.push({ kind: 'iaPrefix', prefix: v6(l.prefix), prefixLength: l.len ?? 56, preferredLifetime: 300, validLifetime: l.valid ?? 600, options: [] });
  options.push({ kind: 'cltTime', cltTime: l.clt ?? 10 });
  if (l.interfaceId !== null) {
    const relayOptions: Dhcp6Option[] = [{ kind: 'interfaceId', interfaceId: new TextEncoder().encode(l.interfaceId ?? 'lan1') }];
    if (l.relayId) relayOptions.push({ kind: 'relayId', duid: l.relayId });
    options.push({
      kind: 'lqRelayData', peerAddress: v6('2001:db8::1'),
      relayMessage: { kind: 'relay', msgType: 12, hopCount: 0, linkAddress: v6('2001:db8:1::1'), peerAddress: v6(l.peer ?? 'fe80::ff:fe00:107'), options: relayOptions },
    });
  }
  return { kind: 'clientData', options };
}

export function message(msgType: number, xid: number, options: Dhcp6Option[]): Uint8Array {
  const m: Dhcp6Message = { kind: 'client', msgType, transactionId: xid, options };
  return frameMessage(dhcp6Message.encode(m).slice());
}

export const status = (code: number, text = ''): Dhcp6Option => ({ kind: 'statusCode', statusCode: code, message: text });
export const serverId: Dhcp6Option = { kind: 'serverId', duid: Uint8Array.of(0, 3, 0, 1, 2, 0, 0, 0, 0, 0x53) };

export const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
};

type Handle = (e: Event, now: Instant) => Action[];

/** One TCP connection of the core, as the server sees it. */
export class Peer {
  constructor(private readonly handle: Handle, readonly conn: number) {}
  connected(now: Instant): Action[] { return this.handle({ kind: 'tcp', conn: this.conn, what: 'connected' }, now); }
  send(bytes: Uint8Array, now: Instant): Action[] { return this.handle({ kind: 'tcp', conn: this.conn, what: 'data', bytes }, now); }
  close(now: Instant, error: string | null = null): Action[] { return this.handle({ kind: 'tcp', conn: this.conn, what: 'closed', error }, now); }
}

export const connects = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'tcp-connect' }> => x.kind === 'tcp-connect');
export const tcpSends = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'tcp-send' }> => x.kind === 'tcp-send');
export const closes = (a: Action[]) => a.filter((x) => x.kind === 'tcp-close');
export const kernel = (a: Action[]) => a.filter((x) => x.kind === 'kernel');

/** The LEASEQUERY the core sent, unframed and decoded. */
export function sentQuery(a: Action[]): Extract<Dhcp6Message, { kind: 'client' }> {
  const s = tcpSends(a);
  if (s.length !== 1) throw new Error(`expected one tcp-send, got ${s.length}`);
  const b = s[0]!.bytes;
  const size = (b[0]! << 8) | b[1]!;
  if (size !== b.length - 2) throw new Error('bad framing');
  const d = dhcp6Message.decode(b.subarray(2));
  if (!d.ok || d.value.kind !== 'client') throw new Error('not a client message');
  return d.value;
}
