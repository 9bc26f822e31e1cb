/**
 * Runs inside a test namespace (`ip netns exec NS tsx netlink-worker.ts SCENARIO`),
 * because a Node process cannot change its own network namespace. Prints one JSON line
 * with what it saw; test/e2e/netlink.test.ts checks it against ip(8).
 */
import { AF, RTNLGRP, Rtnl, RtnlMonitor, RTM, decodeRoute, isOsError, type Route } from '../../platform/netlink/index';
import { formatIP, formatMac, parseIP, parseMac } from '../../src/wire/address';

export const PROTO = 191;

const ip = (t: string): Uint8Array => parseIP(t)!;
const mac = (t: string): Uint8Array => parseMac(t)!;
const text = (a: Uint8Array | undefined): string | undefined => (a === undefined ? undefined : formatIP(a) ?? undefined);

function v6Route(i: number, oif: number): Route {
  return { dst: ip(`2001:db8:${((i >> 8) & 0xffff).toString(16)}:${((i & 0xff) << 8).toString(16)}::`), dstLen: 56, gateway: ip('fe80::1'), oif, protocol: PROTO };
}

async function open(): Promise<{ c: Rtnl; oif: number }> {
  const r = Rtnl.open();
  if (!r.ok) throw new Error(`open: ${JSON.stringify(r.error)}`);
  const links = await r.value.dumpLinks();
  const v0 = links.ok ? links.value.items.find((l) => l.ifname === 'v0') : undefined;
  if (v0 === undefined) throw new Error('no v0');
  return { c: r.value, oif: v0.index };
}

const summary = (b: { done: number; failures: ReadonlyMap<number, unknown> }): unknown => ({
  done: b.done,
  failures: [...b.failures].map(([i, e]) => [i, e]),
});

async function install(): Promise<unknown> {
  const { c, oif } = await open();
  const notes: string[] = [];
  const mon = RtnlMonitor.open([RTNLGRP.IPV6_ROUTE], {
    onMessage: (m) => {
      const r = decodeRoute(m);
      if (r.ok && r.value.protocol === PROTO) notes.push(`${m.type === RTM.NEWROUTE ? 'new' : 'del'} ${text(r.value.dst)}/${r.value.dstLen}`);
    },
    onOverrun: () => notes.push('overrun'),
  });
  if (isOsError(mon)) throw new Error(`monitor: ${mon.code}`);
  const routes = [...Array.from({ length: 300 }, (_, i) => v6Route(i, oif)),
    { dst: ip('10.20.0.0'), dstLen: 16, gateway: ip('192.0.2.1'), oif, protocol: PROTO, table: 1000 },
    { dst: ip('fd00:1::'), dstLen: 64, oif, protocol: PROTO, priority: 7 }];
  const added = await c.addRoutes(routes);
  const again = await c.addRoutes(routes.slice(0, 2));
  const badDev = await c.addRoutes([{ dst: ip('2001:db8:ffff::'), dstLen: 48, oif: 9999, protocol: PROTO }]);
  const neighs = await c.addNeighbours([
    { dst: ip('2001:db8::10'), ifindex: oif, lladdr: mac('02:00:00:00:00:10') },
    { dst: ip('192.0.2.20'), ifindex: oif, lladdr: mac('02:00:00:00:00:20') },
  ]);
  const v6 = await c.dumpRoutes({ family: AF.INET6, protocol: PROTO });
  const t1000 = await c.dumpRoutes({ family: AF.INET, table: 1000 });
  const nd = await c.dumpNeighbours({ ifindex: oif });
  await new Promise((r) => setTimeout(r, 200)); // let the notifications arrive
  mon.close();
  c.close();
  return {
    added: summary(added),
    again: summary(again),
    badDev: summary(badDev),
    neighs: summary(neighs),
    v6: v6.ok ? v6.value.items.map((r) => `${text(r.dst)}/${r.dstLen} ${text(r.gateway) ?? '-'} ${r.priority ?? '-'}`) : v6.error,
    t1000: t1000.ok ? t1000.value.items.map((r) => `${text(r.dst)}/${r.dstLen} ${text(r.gateway)} t${r.tableId}`) : t1000.error,
    neigh: nd.ok ? nd.value.items.filter((n) => n.state === 0x80).map((n) => `${text(n.dst)} ${n.lladdr === undefined ? undefined : formatMac(n.lladdr)}`) : nd.error,
    notes: notes.length,
    firstNote: notes[0],
    stats: c.stats,
  };
}

async function remove(): Promise<unknown> {
  const { c, oif } = await open();
  const v6 = await c.dumpRoutes({ protocol: PROTO });
  if (!v6.ok) throw new Error('dump');
  const del = await c.deleteRoutes(v6.value.items.map((r) => ({
    dst: r.dst ?? new Uint8Array(16), dstLen: r.dstLen, protocol: PROTO, table: r.tableId ?? r.table,
  })));
  const neigh = await c.deleteNeighbours([{ dst: ip('2001:db8::10'), ifindex: oif }, { dst: ip('192.0.2.20'), ifindex: oif }]);
  const missing = await c.deleteNeighbours([{ dst: ip('2001:db8::10'), ifindex: oif }]);
  const left = await c.dumpRoutes({ protocol: PROTO });
  c.close();
  return { del: summary(del), neigh: summary(neigh), missing: summary(missing), left: left.ok ? left.value.items.length : left.error };
}

/** Tiny monitor buffer + 100k routes: the monitor must overrun, the process must live. */
async function overflow(): Promise<unknown> {
  const N = Number(process.env.GN_ROUTES ?? 100_000);
  const { c, oif } = await open();
  let overruns = 0;
  let notes = 0;
  let resolveOverrun: () => void = () => {};
  const sawOverrun = new Promise<void>((r) => { resolveOverrun = r; });
  const mon = RtnlMonitor.open([RTNLGRP.IPV6_ROUTE, RTNLGRP.NEIGH], {
    onMessage: () => { notes++; },
    onOverrun: () => { overruns++; resolveOverrun(); },
  }, { rcvbufBytes: 4096 });
  if (isOsError(mon)) throw new Error(`monitor: ${mon.code}`);
  const routes = Array.from({ length: N }, (_, i) => v6Route(i, oif));
  const added = await c.addRoutes(routes);
  const timeout = new Promise<void>((r) => setTimeout(r, 5000));
  await Promise.race([sawOverrun, timeout]);
  // the owner's reaction to an overrun: re-dump
  const redump = await c.dumpRoutes({ family: AF.INET6, protocol: PROTO });
  // the monitor still works after the overrun
  const before = notes;
  await c.addRoutes([{ dst: ip('fd00:99::'), dstLen: 64, oif, protocol: PROTO }]);
  await new Promise((r) => setTimeout(r, 300));
  mon.close();
  c.close();
  return {
    alive: true,
    pid: process.pid,
    added: added.done,
    failed: added.failures.size,
    overruns,
    notesBeforeRedump: before,
    notesAfter: notes - before,
    redump: redump.ok ? redump.value.items.length : redump.error,
  };
}

const scenarios: Record<string, () => Promise<unknown>> = { install, remove, overflow };
const run = scenarios[process.argv[2] ?? ''];
if (run === undefined) {
  console.error(`scenario? ${Object.keys(scenarios).join(' ')}`);
  process.exitCode = 2;
} else {
  run().then(
    (r) => console.log(JSON.stringify(r)),
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
