/**
 * The paging module through the core as the daemon composes it (real bindings owner,
 * real Agent), and a reference host that signs its messages with its key: scripts
 * against time (CONVENTIONS 9).
 */
import { createHmac } from 'node:crypto';
import { expect } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { deriveHostKey, signMessage, verifyMessage } from '../../../src/paging/auth';
import type { Instant } from '../../../src/time';
import { pagingMessage, type PagingBody, type PagingMessage } from '../../../src/wire/paging';
import { BASE_CONFIG, T0, at, config, macOf, v4 } from '../relay/kit';

export { T0, at, macOf, v4 };

export const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());
export const EPOCH = 7;
export const MASTER = '000102030405060708090a0b0c0d0e0f';
export const AREA_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
export const PRINTER_KEY = Uint8Array.from({ length: 16 }, (_, i) => 0x50 + i);
export const PAGING_PORT = 3154;

export const pagingConfig = (extra = '') => `${BASE_CONFIG}
config subscriber 'lan3'
	option device 'eth3'
	option upstream 'wan'
	option giaddr '198.51.100.1'
	option link_address '2001:db8:3::1'
	list subnet4 '198.51.100.0/24'

config paging
	option enabled '1'
	option key_master '${MASTER}'
	option advert_interval '30'
	option pages_max '3'
	option page_interval '2'
	option wakeups_per_hour '3'
	option held_per_host '4'
	option inactive_hold '60'
${extra}
config paging_area 'lobby'
	list port 'lan1'
	list port 'lan2'
	option key '${Buffer.from(AREA_KEY).toString('hex')}'

config paging_host 'printer'
	option key '${Buffer.from(PRINTER_KEY).toString('hex')}'
	list port 'lan3'
`;

export function pagingCore(text = pagingConfig(), withPlatform = true) {
  const c = createCore(T0, withPlatform ? { paging: { hmacSha256: hmac, epoch: EPOCH } } : {});
  const first = c.agent.handle({ kind: 'config', config: config(text) }, T0);
  return { ...c, first };
}
export type PagingCore = ReturnType<typeof pagingCore>;

/** A binding as the relay would have gleaned it: the address, its port, its MAC. */
export function bind(c: PagingCore, address: Uint8Array, port: string, mac: Uint8Array): void {
  const w = c.bindings.write([{
    op: 'upsert',
    fields: {
      family: 4, kind: 'address', address, prefixLength: 32, port, mac, clientId: null, circuitId: null, remoteId: null,
      linkLocal: null, validUntil: null, source: 'glean',
    },
  }], T0);
  expect(w.changes.length).toBe(1);
}

/** A reference host: its id, key, address, MAC, port and replay counter. */
export class Host {
  counter = 0n;
  constructor(
    readonly id: string,
    readonly address: Uint8Array,
    readonly mac: Uint8Array,
    readonly port: string,
    readonly key: Uint8Array = deriveHostKey(Buffer.from(MASTER, 'hex'), id, hmac),
  ) {}

  sign(body: PagingBody, o: { epoch?: number; counter?: bigint; key?: Uint8Array } = {}): Uint8Array {
    const counter = o.counter ?? ++this.counter;
    return signMessage({ epoch: o.epoch ?? EPOCH, counter, id: this.id, body }, o.key ?? this.key, hmac);
  }

  event(payload: Uint8Array, o: { port?: string; mac?: Uint8Array } = {}) {
    return {
      kind: 'paging' as const, port: o.port ?? this.port, family: 4 as const, source: this.address, sourcePort: 40000,
      mac: o.mac ?? this.mac, payload,
    };
  }

  register(o: { area?: string; mode?: number; wake?: number; lifetimeS?: number; correspondents?: { address: Uint8Array; length: number }[] } = {}) {
    return this.sign({
      type: 'register', mode: o.mode ?? 3, wake: o.wake ?? 0, lifetimeS: o.lifetimeS ?? 600, area: o.area ?? 'lobby',
      addresses: [this.address], correspondents: o.correspondents ?? [],
    });
  }
}

export const sent = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'paging-send' }> => x.kind === 'paging-send');
export const links = (a: Action[]) => a.filter((x): x is Extract<Action, { kind: 'link-send' }> => x.kind === 'link-send');
export const kinds = (a: Action[]) => a.filter((x) => x.kind !== 'log').map((x) => x.kind);

/** Decodes and authenticates an agent message with `key`. */
export function read(bytes: Uint8Array, key: Uint8Array): PagingMessage {
  expect(verifyMessage(bytes, key, hmac)).toBe(true);
  const d = pagingMessage.decode(bytes);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return d.value;
}

/** An IPv4 UDP datagram from `source` to `destination` carrying `tag` (what a correspondent sends). */
export function datagram(source: Uint8Array, destination: Uint8Array, tag: number, ttl = 64): Uint8Array {
  const b = new Uint8Array(29);
  b.set([0x45, 0, 0, 29, 0, 0, 0, 0, ttl, 17, 0, 0], 0);
  b.set(source, 12);
  b.set(destination, 16);
  b.set([0x30, 0x39, 0x30, 0x39, 0, 9, 0, 0, tag], 20);
  return b;
}

export const dormant = (bytes: Uint8Array, port: string | null = null) => ({ kind: 'dormant' as const, family: 4 as const, port, bytes });
export const status = (c: PagingCore, now: Instant = T0) => c.paging.status() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
