/**
 * The kernel appliers' dump mapping (what the kernel reports → core entries) and their
 * monitor filter (which notifications mean someone else changed gleand's entries),
 * over messages built with the netlink codec and a stand-in for the request socket.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../../src/config/config';
import { parseIPv4, parseIPv6, parseMac } from '../../../src/wire/address';
import type { ApplierContext } from '../../../platform/kernel/applier';
import { NeighbourApplier } from '../../../platform/kernel/neighbours';
import { RouteApplier } from '../../../platform/kernel/routes';
import {
  encodeNeigh, encodeRoute, toNeighMessage, toRouteMessage, type NeighMessage, type RouteMessage, type Rtnl,
} from '../../../platform/netlink';
import type { NlMessage } from '../../../platform/netlink/message';

const CONFIG = `
config global
	option route_protocol '201'
	option route_table '100'
config upstream 'wan'
	option device 'up0'
config subscriber 'lan1'
	option device 'eth1'
	option upstream 'wan'
	option relay_v4 '0'
	option relay_v6 '0'
`;

function cfg(): Config {
  const r = loadConfig(CONFIG, 'test');
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.config;
}

const ctx: ApplierContext = {
  config: cfg(),
  ifindexOf: (d) => (d === 'eth1' ? 7 : undefined),
  deviceOf: (i) => (i === 7 ? 'eth1' : null),
};

const OWN_PID = 4242;
/** Only what the appliers use of Rtnl: the dumps and the socket's portid. */
function fakeRtnl(routes: RouteMessage[], neighs: NeighMessage[]): Rtnl {
  return {
    portId: OWN_PID,
    dumpRoutes: async () => ({ ok: true, value: { items: routes, skipped: [] } }),
    dumpNeighbours: async () => ({ ok: true, value: { items: neighs, skipped: [] } }),
  } as unknown as Rtnl;
}

const v4 = (t: string) => parseIPv4(t)!;
const v6 = (t: string) => parseIPv6(t)!;
const MAC = parseMac('02:00:00:00:00:01')!;
const route = (r: Parameters<typeof toRouteMessage>[0]) => toRouteMessage({ table: 100, protocol: 201, ...r });

describe('RouteApplier', () => {
  it('maps gleand\'s routes on port devices to entries, bytes as the kernel gave them; others are left alone', async () => {
    const a = new RouteApplier(fakeRtnl([
      route({ dst: v4('192.0.2.7'), dstLen: 32, oif: 7 }),
      route({ dst: v6('2001:db8:1::'), dstLen: 56, oif: 7, gateway: v6('fe80::5') }),
      route({ dst: v4('192.0.2.8'), dstLen: 32, oif: 99 }), // a device no port names
    ], []));
    expect(await a.dump(ctx)).toEqual([
      { family: 4, dst: v4('192.0.2.7'), dstLen: 32, device: 'eth1', gateway: null },
      { family: 6, dst: v6('2001:db8:1::'), dstLen: 56, device: 'eth1', gateway: v6('fe80::5') },
    ]);
  });

  it('the tag names table and protocol, so a change of either moves the routes', () => {
    const a = new RouteApplier(fakeRtnl([], []));
    expect(a.tag(ctx.config)).toBe('table 100 proto 201');
  });

  const note = (type: number, pid: number, m: RouteMessage): NlMessage => {
    const payload = encodeRoute(m);
    if (!(payload instanceof Uint8Array)) throw new Error('encode');
    return { type, flags: 0, seq: 0, pid, payload, offset: 0 };
  };

  it('a notification concerns it when someone else changed a route of its table: its protocol, or on a port device', () => {
    const a = new RouteApplier(fakeRtnl([], []));
    const ours = route({ dst: v4('192.0.2.7'), dstLen: 32, oif: 7 });
    expect(a.concerns(note(25, 1234, ours), ctx)).toBe(true); // RTM_DELROUTE by `ip route del`
    expect(a.concerns(note(24, 1234, { ...ours, protocol: 4, table: 100 }), ctx)).toBe(true); // replaced proto static
    expect(a.concerns(note(25, OWN_PID, ours), ctx)).toBe(false); // our own delete
    expect(a.concerns(note(25, 1234, route({ dst: v4('192.0.2.7'), dstLen: 32, oif: 7, table: 254 })), ctx)).toBe(false);
    // Gleand's protocol on another device (moved by hand): ours; another protocol there: not.
    expect(a.concerns(note(24, 1234, route({ dst: v4('192.0.2.7'), dstLen: 32, oif: 99 })), ctx)).toBe(true);
    expect(a.concerns(note(24, 1234, route({ dst: v4('192.0.2.7'), dstLen: 32, oif: 99, protocol: 4 })), ctx)).toBe(false);
    expect(a.concerns({ type: 25, flags: 0, seq: 0, pid: 1, payload: new Uint8Array(3), offset: 0 }, ctx)).toBe(false);
  });
});

describe('NeighbourApplier', () => {
  const neigh = (n: Partial<Parameters<typeof toNeighMessage>[0]>) =>
    toNeighMessage({ dst: v4('192.0.2.7'), ifindex: 7, lladdr: MAC, protocol: 201, ...n });

  it('maps neighbours of gleand\'s protocol on port devices; other protocols and devices are left alone', async () => {
    const a = new NeighbourApplier(fakeRtnl([], [
      neigh({}),
      neigh({ dst: v6('fe80::5') }),
      neigh({ dst: v4('192.0.2.9'), protocol: 4 }),
      neigh({ dst: v4('192.0.2.10'), ifindex: 99 }),
      neigh({ dst: v4('192.0.2.11'), lladdr: new Uint8Array(0) }),
    ]));
    expect(await a.dump(ctx)).toEqual([
      { family: 4, address: v4('192.0.2.7'), device: 'eth1', lladdr: MAC },
      { family: 6, address: v6('fe80::5'), device: 'eth1', lladdr: MAC },
    ]);
  });

  it('a notification concerns it when a neighbour of its protocol on a port changed by someone else', () => {
    const a = new NeighbourApplier(fakeRtnl([], []));
    const note = (type: number, pid: number, m: NeighMessage): NlMessage => {
      const payload = encodeNeigh(m);
      if (!(payload instanceof Uint8Array)) throw new Error('encode');
      return { type, flags: 0, seq: 0, pid, payload, offset: 0 };
    };
    expect(a.concerns(note(29, 0, neigh({})), ctx)).toBe(true); // RTM_DELNEIGH
    expect(a.concerns(note(28, OWN_PID, neigh({})), ctx)).toBe(false);
    expect(a.concerns(note(29, 0, neigh({ protocol: 3 })), ctx)).toBe(false);
    expect(a.concerns(note(29, 0, neigh({ ifindex: 99 })), ctx)).toBe(false);
  });
});
