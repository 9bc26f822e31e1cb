// Dormant-host alerting end to end (RFC 3154; src/paging/PROTOCOL.md; issue 11), with
// real ISC dhcpd and the real host (`gleand host listen`, the same bundle): subscriber
// 0's namespace leases an address through gleand, registers, and goes dormant — an nft
// input filter in its namespace drops everything but the paging port (or, in WoL mode,
// but Wake-on-LAN), as a sleeping NIC would.
//   (a) L3: datagrams from the server's namespace toward it are held (tshark at the host
//       sees none of them while it sleeps; `nft list set` has its address), it is paged
//       (tshark sees the PAGE), `gleand host listen` answers and lifts its filter, and
//       every held datagram arrives, in order, counted by a listener in its namespace;
//   (b) WoL: the same with a host that only a magic packet to its MAC wakes (tshark);
//   (c) a forged REGISTER and a replayed one are rejected and counted, never answered;
//   (d) an unresponsive host is paged `pages_max` times (tshark), then no more, and is
//       inactive;
//   (e) IPv6: a DHCPv6 host on subscriber 1, paged on ff02::1 from the port's link-local;
//   (f) a flood toward a dormant host: every packet dropped by the divert (nft counter),
//       copies rate-limited, at most held_per_host held, one wake-up, the other port fine;
//   (g) a reload turning paging off removes the divert ruleset; on again, it is back;
//   (h) wide cast (RFC 3154 §4.3): a directed broadcast the router forwards toward the
//       port pages a dormant host registered with the broadcast Wake bit (tshark: PAGE),
//       and not one without it (no PAGE; the kernel's wake_bcast set empty meanwhile);
//   (i) a flood toward many dormant hosts (10 macvlan stations on subscriber 0's link,
//       each with its own dhcpd lease and `gleand host listen`): held within the global
//       and per-host bounds, PAGEs on the wire (tshark) within the area's rate, gleand's
//       RSS (/proc) bounded, and the other port still served.
// Needs root: fails loudly.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type GleandHandle, type Lab, type LabProcess,
} from '../lab/lab';
import {
  AREA_HEX, hostEvents, MASTER_HEX, PAGING_PORT, pagingFrames, pagingSections, SLEEP_TABLE, sleepScript, startPagingHost, TYPE,
  wolWakerScript,
} from '../lab/paging';
import { until } from '../lab/wait';

const PY = '/usr/bin/python3';
const PAGES_MAX = 3;
/** Low enough for (i)'s flood to hit them: PAGEs per second per area, packets held in all. */
const AREA_PAGE_RATE = 4;
const HELD_TOTAL = 40;
const LISTEN = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 9999))
print('listening', flush=True)
while True:
    d, a = s.recvfrom(4096)
    print('got', d.decode(errors='replace'), flush=True)
`;

describe('dormant-host alerting (RFC 3154) with the real host', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let address: string;
  let listener: LabProcess;
  let host: LabProcess | null = null;
  /** Subscriber 1's IPv6 host from (e): its listener and address (the port (f) must leave unaffected). */
  let listen6: LabProcess;
  let a6 = '';
  /** The capture at the host in (b): its REGISTER is replayed in (c). */
  let wolPcap = '';
  const R = () => lab.router.ns;
  const sub = () => lab.subscribers[0]!;
  const gl = async (...argv: string[]) => (await lab.exec(R(), [process.execPath, GLEAND_BUNDLE, ...argv, '-c', gleand.configPath])).stdout;
  const paging = async () => JSON.parse(await gl('status', '--json')).modules.paging as Record<string, any>;
  const divertSet = async () => (await lab.exec(R(), ['nft', 'list', 'set', 'inet', 'gleand', 'dormant4'], { check: false })).stdout;
  const got = (word: string) => listener.log().split('\n').filter((l) => l.startsWith('got ') && l.includes(word)).map((l) => l.slice(4));
  const sendBurst = (tag: string, n: number) => lab.exec(lab.server.ns, [PY, '-c',
    `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n`
    + `for i in range(1, ${n + 1}): s.sendto(('${tag}-%d' % i).encode(), ('${address}', 9999))`]);
  const sleeping = async () => (await lab.exec(sub().ns, ['nft', 'list', 'tables'])).stdout.includes(`inet ${SLEEP_TABLE}`);

  /** A fresh host process registered and asleep: its `dormant` event, its filter on, its address diverted. */
  async function dormantHost(id: string, mode: 'l3' | 'wol', wake?: 'broadcast'): Promise<LabProcess> {
    if (host) await host.stop('SIGTERM');
    const p = (host = startPagingHost(lab, sub(), { id, mode, wake }));
    await until(`${id} dormant`, async () => hostEvents(p).some((e) => e['event'] === 'hook' && e['hook'] === 'on-dormant'), 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nhost:\n${p.log()}\ngleand:\n${gleand.proc.log().slice(-3000)}`); });
    expect(await sleeping()).toBe(true);
    await until('the divert in the kernel', async () => (await divertSet()).includes(address));
    return p;
  }

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(labGleandConfig(lab, { extra: pagingSections(lab, { pagesMax: PAGES_MAX, areaPageRate: AREA_PAGE_RATE, heldTotal: HELD_TOTAL }) }));
    await gleand.ready();
    const lease = await lab.startClient(0, 'udhcpc').waitLease(4, 45_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${gleand.proc.log().slice(-4000)}`);
    });
    address = lease.address!;
    listener = lab.spawn(sub().ns, [PY, '-u', '-c', LISTEN], { name: 'listen-host' });
    await until('the listener', async () => listener.log().includes('listening'));
    // The lease works before anyone sleeps.
    await until('the host reachable', async () => {
      await sendBurst('hello', 1);
      return got('hello-1').length > 0;
    });
  }, 180_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('wires the platform: paging on with a wall-clock epoch, no "not built yet"', async () => {
    const p = await paging();
    expect(p['enabled']).toBe(true);
    expect(Math.abs(p['epoch'] - Date.now() / 1000)).toBeLessThan(600);
    expect(gleand.proc.log()).not.toMatch(/not built yet/);
  });

  it('(a) L3: held while dormant, paged, answered, delivered in order; the host filter lifted on the page', async () => {
    const cap = await lab.capture(sub().ns, sub().dev, 'udp', 'paging-l3');
    const p = await dormantHost('h0', 'l3');
    const rows = JSON.parse(await gl('hosts', '--json')) as Record<string, unknown>[];
    expect(rows).toEqual([expect.objectContaining({ id: 'h0', state: 'dormant', area: 'lobby', port: 'sub0', addresses: [address] })]);
    const human = await gl('hosts');
    expect(human).toMatch(new RegExp(`^HOST\\s+STATE\\s+AREA.*\\nh0\\s+dormant\\s+lobby\\s+sub0\\s+${address.replace(/\./g, '\\.')}\\s`, 'm'));
    expect(human).toMatch(/^1 host$/m);
    // The divert is a kernel entry like the others: removed by hand, it is put back.
    await lab.exec(R(), ['nft', 'delete', 'element', 'inet', 'gleand', 'dormant4', `{ ${address} }`]);
    await until('the divert repaired', async () => (await divertSet()).includes(address));
    await sendBurst('held', 5);
    await until('five datagrams at the host', async () => got('held-').length === 5, 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nhost:\n${p.log()}\ngleand:\n${gleand.proc.log().slice(-3000)}`); });
    expect(got('held-')).toEqual(['held-1', 'held-2', 'held-3', 'held-4', 'held-5']);
    expect(await sleeping()).toBe(false);
    expect(hostEvents(p).filter((e) => e['event'] === 'hook' && e['hook'] === 'on-page').map((e) => e['status'])).toEqual([0]);
    const pcap = await cap.stop();
    const frames = await pagingFrames(pcap);
    const page = frames.find((f) => f.type === TYPE.PAGE && f.dst === '255.255.255.255');
    const response = frames.find((f) => f.type === TYPE.PAGE_RESPONSE && f.src === address);
    expect(page, 'a PAGE on the host\'s port').toBeDefined();
    expect(response, 'the host\'s PAGE_RESPONSE').toBeDefined();
    // On the wire at the host: no held datagram before it answered, then all five in order.
    const data = (await tsharkFields(pcap, 'udp.dstport == 9999', ['frame.time_relative', 'udp.payload']))
      .map(([t, hex]) => ({ t: Number(t), text: Buffer.from((hex ?? '').replace(/:/g, ''), 'hex').toString() }));
    const held = data.filter((d) => d.text.startsWith('held-'));
    expect(held.map((d) => d.text)).toEqual(['held-1', 'held-2', 'held-3', 'held-4', 'held-5']);
    expect(held[0]!.t).toBeGreaterThan(response!.time);
    expect(page!.time).toBeLessThan(response!.time);
    // Measured at the host's NIC (tshark): PAGE → PAGE_RESPONSE (the host's hook and its
    // answer) and PAGE_RESPONSE → the last held datagram (gleand releasing all five).
    console.log(`paging (a): first PAGE → PAGE_RESPONSE ${((response!.time - page!.time) * 1000).toFixed(1)} ms; `
      + `PAGE_RESPONSE → 5th held datagram ${((held[4]!.t - response!.time) * 1000).toFixed(1)} ms`);
    const s = await paging();
    expect(s['held']).toBeGreaterThanOrEqual(5);
    expect(s['delivered']).toBeGreaterThanOrEqual(5);
    // The divert is lifted once the held packets are out.
    await until('the divert gone', async () => !(await divertSet()).includes(address));
  }, 120_000);

  it('(b) WoL: only a magic packet to its MAC wakes it; then the PAGE is answered and the held datagrams delivered', async () => {
    const waker = lab.spawn(sub().ns, [PY, '-u', '-c', wolWakerScript(sub().mac)], { name: 'wol-waker' });
    await until('the waker', async () => waker.log().includes('listening'));
    const cap = await lab.capture(sub().ns, sub().dev, 'udp', 'paging-wol');
    await dormantHost('h0', 'wol');
    await sendBurst('wol', 3);
    await until('three datagrams at the host', async () => got('wol-').length === 3, 30_000);
    expect(got('wol-')).toEqual(['wol-1', 'wol-2', 'wol-3']);
    expect(waker.log()).toContain('woke');
    const pcap = (wolPcap = await cap.stop());
    const magic = await tsharkFields(pcap, `udp.dstport == 9 && eth.dst == ${sub().mac}`, ['udp.payload']);
    const want = `ffffffffffff${sub().mac.replace(/:/g, '').repeat(16)}`;
    expect(magic.length).toBeGreaterThanOrEqual(1);
    expect(magic[0]![0]!.replace(/:/g, '')).toBe(want);
    expect((await paging())['wol']).toBeGreaterThanOrEqual(1);
    await waker.stop('SIGTERM');
  }, 120_000);

  it('(c) a forged and a replayed REGISTER are rejected, counted, and not answered', async () => {
    // The host's last REGISTER, as it crossed the wire in (b): replayed verbatim.
    const frames = await pagingFrames(wolPcap);
    const register = frames.filter((f) => f.type === TYPE.REGISTER && f.src === address).at(-1)!;
    expect(register).toBeDefined();
    const cap = await lab.capture(sub().ns, sub().dev, `udp port 3154 or icmp`, 'paging-forged');
    const before = await paging();
    const forged = register.payload.slice(0, -64) + '00'.repeat(32);
    await lab.exec(sub().ns, [PY, '-c',
      `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.bind(('0.0.0.0', 40123))\n`
      + `s.sendto(bytes.fromhex('${forged}'), ('${lab.router.gateway4}', 3154))\n`
      + `s.sendto(bytes.fromhex('${register.payload}'), ('${lab.router.gateway4}', 3154))`]);
    const after = await until('both rejections counted', async () => {
      const s = await paging();
      const r = s['rejected'] as Record<string, number>;
      const b = before['rejected'] as Record<string, number>;
      return (r['bad-mac'] ?? 0) > (b['bad-mac'] ?? 0) && (r['replay'] ?? 0) > (b['replay'] ?? 0) ? s : null;
    });
    expect(after['registrations']).toBe(before['registrations']);
    // Nothing went back to the forger's port.
    const pcap = await cap.stop();
    const acks = await tsharkFields(pcap, 'udp.dstport == 40123', ['frame.number']);
    expect(acks).toEqual([]);
    // Nor did the router's own stack answer the paging port (no socket there): the divert chain drops them first.
    expect(await tsharkFields(pcap, 'icmp.type == 3', ['frame.number'])).toEqual([]);
  }, 60_000);

  it(`(d) an unresponsive host is paged ${PAGES_MAX} times, then no more, and is inactive`, async () => {
    const cap = await lab.capture(sub().ns, sub().dev, 'udp port 3154', 'paging-unanswered');
    const p = await dormantHost('h0', 'l3');
    const before = await paging();
    // The host dies asleep: no DEREGISTER, its filter stays, nobody answers a PAGE.
    await p.stop('SIGKILL');
    host = null;
    await sendBurst('lost', 2);
    await until('the host inactive (unanswered)', async () => {
      const s = await paging();
      return ((s['inactive'] as Record<string, number>)['unanswered'] ?? 0) > ((before['inactive'] as Record<string, number>)['unanswered'] ?? 0);
    }, 60_000);
    // More traffic: dropped and counted, never paged again.
    await sendBurst('after', 2);
    await until('the later traffic dropped as inactive', async () =>
      (((await paging())['dropped'] as Record<string, number>)['inactive'] ?? 0) >= 2);
    const pcap = await cap.stop();
    const pages = (await pagingFrames(pcap)).filter((f) => f.type === TYPE.PAGE);
    expect(pages.length).toBe(PAGES_MAX);
    expect(got('lost-')).toEqual([]);
    const rows = JSON.parse(await gl('hosts', '--json')) as Record<string, unknown>[];
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'h0', state: 'inactive' })]));
  }, 120_000);

  it('(e) IPv6: a host on subscriber 1 with a DHCPv6 address is held, paged on ff02::1 and delivered in order', async () => {
    const s1 = lab.subscribers[1]!;
    const lease = await lab.startClient(1, 'dhclient6').waitLease(6, 60_000);
    a6 = lease.address!;
    listen6 = lab.spawn(s1.ns, [PY, '-u', '-c', LISTEN.replace('AF_INET,', 'AF_INET6,').replace("'0.0.0.0'", "'::'")], { name: 'listen-host6' });
    await until('the v6 listener', async () => listen6.log().includes('listening'));
    const send6 = (tag: string, n: number) => lab.exec(lab.server.ns, [PY, '-c',
      `import socket\ns = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)\n`
      + `for i in range(1, ${n + 1}): s.sendto(('${tag}-%d' % i).encode(), ('${a6}', 9999))`]);
    const got6 = (w: string) => listen6.log().split('\n').filter((l) => l.startsWith('got ') && l.includes(w)).map((l) => l.slice(4));
    await until('the v6 host reachable', async () => { await send6('hello6', 1); return got6('hello6-1').length > 0; }, 30_000);
    const cap = await lab.capture(s1.ns, s1.dev, 'udp', 'paging-v6');
    const h6 = startPagingHost(lab, s1, { id: 'h6', mode: 'l3', family: 6 });
    await until('h6 dormant', async () => hostEvents(h6).some((e) => e['event'] === 'hook' && e['hook'] === 'on-dormant'), 60_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nhost:\n${h6.log()}\ngleand:\n${gleand.proc.log().slice(-3000)}`); });
    await until('the v6 divert in the kernel', async () =>
      (await lab.exec(R(), ['nft', 'list', 'set', 'inet', 'gleand', 'dormant6'])).stdout.includes(a6));
    await send6('held6', 4);
    await until('four datagrams at the v6 host', async () => got6('held6-').length === 4, 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\nhost:\n${h6.log()}\ngleand:\n${gleand.proc.log().slice(-3000)}`); });
    expect(got6('held6-')).toEqual(['held6-1', 'held6-2', 'held6-3', 'held6-4']);
    const frames = await pagingFrames(await cap.stop());
    const page = frames.find((f) => f.type === TYPE.PAGE && f.dst === 'ff02::1');
    const response = frames.find((f) => f.type === TYPE.PAGE_RESPONSE && f.src.startsWith('fe80:'));
    expect(page, 'a PAGE to ff02::1').toBeDefined();
    expect(response, 'the host\'s PAGE_RESPONSE from its link-local').toBeDefined();
    expect(page!.src).toMatch(/^fe80:/); // the port's link-local, as the relay and the querier use
    // h6 stays awake (active: nothing diverted) — (f) uses its port as the unaffected one.
    expect(JSON.parse(await gl('hosts', '--json'))).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'h6', state: 'active' })]));
  }, 150_000);

  it('(f) a flood toward a dormant host stays within the held and paging bounds, dropped in the kernel; another port is unaffected', async () => {
    const FLOOD = 3000;
    const HELD_PER_HOST = 8; // the paging section's default
    // (d) left its sleeping filter (the host died asleep); this host sleeps for WoL only and nobody wakes it.
    await lab.exec(sub().ns, ['nft', 'delete', 'table', 'inet', SLEEP_TABLE], { check: false });
    const counter = async () => Number(JSON.parse((await lab.exec(R(), ['nft', '-j', 'list', 'counter', 'inet', 'gleand', 'paging_divert_drop'])).stdout)
      .nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
    const cap = await lab.capture(sub().ns, sub().dev, 'udp', 'paging-flood');
    await dormantHost('h0', 'wol');
    const before = await paging();
    const dropsBefore = await counter();
    const copiesBefore = JSON.parse(await gl('status', '--json')).drivers['on-demand'].dormant as number;
    await sendBurst('flood', FLOOD);
    const side = lab.exec(lab.server.ns, [PY, '-c',
      `import socket\nsocket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'side-1', ('${a6}', 9999))`]);
    await side;
    await until('the datagram on the other port', async () => listen6.log().includes('got side-1'));
    // Every flood packet was dropped by the divert rule, none reached the host.
    await until('the kernel counted the flood', async () => (await counter()) - dropsBefore >= FLOOD);
    const during = await paging();
    expect(during['heldNow']).toBeLessThanOrEqual(HELD_PER_HOST);
    const dropped = during['dropped'] as Record<string, number>;
    expect((dropped['held-per-address'] ?? 0) - ((before['dropped'] as Record<string, number>)['held-per-address'] ?? 0)).toBeGreaterThan(0);
    await until('the flooded host inactive (unanswered)', async () =>
      ((await paging())['inactive'] as Record<string, number>)['unanswered']! > (before['inactive'] as Record<string, number>)['unanswered']!, 60_000);
    const pcap = await cap.stop();
    expect(await tsharkFields(pcap, 'udp.dstport == 9999', ['frame.number'])).toEqual([]);
    // One wake-up for the whole flood: pages_max PAGEs after the host's last REGISTER, no more.
    const frames = await pagingFrames(pcap);
    const lastRegister = frames.filter((f) => f.type === TYPE.REGISTER).at(-1)!.time;
    expect(frames.filter((f) => f.type === TYPE.PAGE && f.time > lastRegister).length).toBe(PAGES_MAX);
    // The copies to gleand are rate-limited in the kernel (DIVERT_COPY_PER_S, burst as many): not one per packet.
    const copies = (JSON.parse(await gl('status', '--json')).drivers['on-demand'].dormant as number) - copiesBefore;
    expect(copies).toBeGreaterThan(0);
    expect(copies).toBeLessThan(FLOOD);
    console.log(`paging (f): ${FLOOD} datagrams flooded, ${copies} NFLOG copies, held at most ${during['heldNow']}, `
      + `rss ${(JSON.parse(await gl('status', '--json')).rssBytes / 1048576).toFixed(1)} MiB`);
  }, 150_000);

  it('(g) a reload turning paging off removes the divert ruleset and forgets the hosts; on again, it comes back', async () => {
    const chain = async () => (await lab.exec(R(), ['nft', 'list', 'table', 'inet', 'gleand'])).stdout;
    const reload = async (text: string, generation: number) => {
      fs.writeFileSync(gleand.configPath, text);
      process.kill(gleand.pid, 'SIGHUP');
      await until(`config generation ${generation}`, async () => JSON.parse(await gl('status', '--json')).configGeneration === generation);
    };
    const gen = JSON.parse(await gl('status', '--json')).configGeneration as number;
    await reload(labGleandConfig(lab), gen + 1);
    const t = await chain();
    expect(t).not.toContain('paging_divert');
    expect(t).not.toContain('dormant4');
    expect((await paging())['enabled']).toBe(false);
    expect(JSON.parse(await gl('hosts', '--json'))).toEqual([]);
    expect(gleand.proc.log()).not.toMatch(/reloaded, partly refused/);
    await reload(labGleandConfig(lab, { extra: pagingSections(lab, { pagesMax: PAGES_MAX, areaPageRate: AREA_PAGE_RATE, heldTotal: HELD_TOTAL }) }), gen + 2);
    await until('the divert chain back', async () => (await chain()).includes('prefix "gleand-dormant"'));
    expect((await paging())['enabled']).toBe(true);
  }, 60_000);

  it('(h) wide cast: a broadcast forwarded toward the port pages the host only with the broadcast Wake bit (§4.3)', async () => {
    // A directed broadcast of subscriber 0's pool, forwarded by the router (RFC 2644: only
    // with bc_forwarding on the ingress device) out of sub0's port as a link broadcast.
    const bcast = '10.1.0.255';
    await lab.exec(R(), ['sysctl', '-qw', 'net.ipv4.conf.all.bc_forwarding=1', `net.ipv4.conf.${lab.router.upstreamDev}.bc_forwarding=1`]);
    await lab.exec(R(), ['ip', 'route', 'add', 'broadcast', bcast, 'dev', sub().routerDev, 'table', 'local', 'src', lab.router.gateway4]);
    const wakeSet = async () => (await lab.exec(R(), ['nft', 'list', 'set', 'inet', 'gleand', 'wake_bcast'])).stdout;
    const broadcast = (tag: string) => lab.exec(lab.server.ns, [PY, '-c',
      `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
`
      + `s.sendto(b'${tag}', ('${bcast}', 9999))`]);
    // (f)'s host died asleep: its filter (input policy drop, loopback too) keeps tshark from starting.
    await lab.exec(sub().ns, ['nft', 'delete', 'table', 'inet', SLEEP_TABLE], { check: false });
    const cap = await lab.capture(sub().ns, sub().dev, 'udp', 'paging-wide');
    const seen = async (tag: string) => (await tsharkFields(cap.pcapPath, `udp.dstport == 9999 && ip.dst == ${bcast}`, ['udp.payload']))
      .some(([hex]) => Buffer.from((hex ?? '').replace(/:/g, ''), 'hex').toString() === tag);
    const pages = async () => (await pagingFrames(cap.pcapPath)).filter((f) => f.type === TYPE.PAGE);

    // Without the Wake bit: the broadcast reaches the port (tshark), the kernel watches nothing, no PAGE.
    await dormantHost('h0', 'l3');
    expect(await wakeSet()).not.toContain(sub().routerDev);
    await broadcast('bc-1');
    await until('the broadcast forwarded to the port', () => seen('bc-1'));
    // With it (a REGISTER refresh changes the Wake bits of the same host): the port's device is watched.
    await dormantHost('h0', 'l3', 'broadcast');
    await until('the wake watch in the kernel', async () => (await wakeSet()).includes(sub().routerDev));
    const registeredAt = (await pagingFrames(cap.pcapPath)).filter((f) => f.type === TYPE.REGISTER).at(-1)!.time;
    await broadcast('bc-2');
    await until('a PAGE after the broadcast', async () => (await pages()).some((f) => f.time > registeredAt), 30_000)
      .catch((e: Error) => { throw new Error(`${e.message}\ngleand:\n${gleand.proc.log().slice(-3000)}`); });
    await until('the host awake', async () => !(await sleeping()));
    const pcap = await cap.stop();
    const frames = await pagingFrames(pcap);
    // The only PAGEs are after the Wake-bit REGISTER: 'bc-1' paged nobody.
    expect(frames.filter((f) => f.type === TYPE.PAGE && f.time < registeredAt)).toEqual([]);
    expect(await seen('bc-2')).toBe(true);
    // Paged: no longer dormant, so nothing is watched on the port any more.
    await until('the wake watch lifted', async () => !(await wakeSet()).includes(sub().routerDev));
    expect((await paging())['wideCastWakes']).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('(i) a flood toward many dormant hosts: held and PAGEs within their bounds, memory bounded, the other port served', async () => {
    const N = 10;
    const PER_HOST = 100;
    const HELD_PER_HOST = 8; // the paging section's default
    const ns = sub().ns;
    // One namespace, several stations: each answers ARP for its own address only.
    await lab.exec(ns, ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.all.rp_filter=0']);
    const hosts: { id: string; dev: string; address: string; proc: LabProcess }[] = [];
    for (let i = 0; i < N; i++) {
      const dev = `mv${i}`;
      await lab.exec(null, ['ip', '-n', ns, 'link', 'add', dev, 'link', sub().dev, 'address', `02:00:00:00:0a:${(i + 16).toString(16)}`, 'type', 'macvlan', 'mode', 'bridge']);
      await lab.exec(null, ['ip', '-n', ns, 'link', 'set', dev, 'up']);
      const lease = await lab.startClient(0, 'udhcpc', { dev }).waitLease(4, 45_000);
      hosts.push({ id: `m${i}`, dev, address: lease.address!, proc: null as unknown as LabProcess });
    }
    // The udhcpc script moved the default route to the last station; subscriber 0's own goes back on eth0.
    await lab.exec(ns, ['ip', 'route', 'replace', 'default', 'via', lab.router.gateway4, 'dev', sub().dev], { check: false });
    await lab.exec(ns, ['nft', 'delete', 'table', 'inet', SLEEP_TABLE], { check: false });
    const cap = await lab.capture(ns, sub().dev, `udp port ${PAGING_PORT}`, 'paging-many');
    // WoL-only hosts that nobody wakes (the sleeping filter goes on once all are dormant): every PAGE goes unanswered.
    for (const h of hosts) {
      h.proc = lab.spawn(ns, [process.execPath, GLEAND_BUNDLE, 'host', 'listen', '--id', h.id, '--master', MASTER_HEX, '--area-key', AREA_HEX,
        '--iface', h.dev, '--mode', 'wol', '--port', String(PAGING_PORT)], { name: `paging-many-${h.id}` });
    }
    await until(`${N} hosts dormant`, async () => hosts.every((h) => hostEvents(h.proc).some((e) => e['event'] === 'dormant')), 90_000)
      .catch((e: Error) => { throw new Error(`${e.message}\n${hosts.map((h) => `${h.id}: ${h.proc.log().slice(-400)}`).join('\n')}`); });
    await until('every address diverted', async () => { const set = await divertSet(); return hosts.every((h) => set.includes(h.address)); });
    await lab.exec(ns, ['nft', '-f', '-'], { input: sleepScript('wol') });
    const rss = async () => Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${gleand.pid}/status`, 'utf8'))![1]) * 1024;
    const rssBefore = await rss();
    const before = await paging();
    const dropped = (p: Record<string, any>, why: string) => ((p['dropped'] as Record<string, number>)[why] ?? 0);
    const unanswered = (p: Record<string, any>) => ((p['inactive'] as Record<string, number>)['unanswered'] ?? 0);
    await lab.exec(lab.server.ns, [PY, '-c', `import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n`
      + `for i in range(${PER_HOST}):\n  for a in ${JSON.stringify(hosts.map((h) => h.address))}: s.sendto(b'many-%d' % i, (a, 9999))`]);
    // The other port is served during the flood.
    await lab.exec(lab.server.ns, [PY, '-c', `import socket\nsocket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'side-2', ('${a6}', 9999))`]);
    await until('the datagram on the other port', async () => listen6.log().includes('got side-2'));
    const during = await paging();
    const rows = (JSON.parse(await gl('hosts', '--json')) as { id: string; held: number }[]).filter((r) => r.id.startsWith('m'));
    expect(during['heldNow']).toBeLessThanOrEqual(HELD_TOTAL);
    for (const r of rows) expect(r.held).toBeLessThanOrEqual(HELD_PER_HOST);
    // The global bound was what stopped the flood: N × held_per_host would be more.
    expect(dropped(during, 'held-total') - dropped(before, 'held-total')).toBeGreaterThan(0);
    await until(`${N} hosts inactive (unanswered)`, async () => unanswered(await paging()) - unanswered(before) >= N, 90_000);
    const pcap = await cap.stop();
    const pages = (await pagingFrames(pcap)).filter((f) => f.type === TYPE.PAGE);
    // Every host paged pages_max times, and no faster than the area's token bucket
    // (AREA_PAGE_RATE a second, as many in reserve) in any window from the first PAGE.
    expect(pages.length).toBe(N * PAGES_MAX);
    const t0 = pages[0]!.time;
    for (const [i, p] of pages.entries()) expect(i + 1).toBeLessThanOrEqual(AREA_PAGE_RATE * (p.time - t0) + AREA_PAGE_RATE + 1);
    const rssAfter = await rss();
    expect(rssAfter - rssBefore).toBeLessThan(32 << 20);
    console.log(`paging (i): ${N} hosts × ${PER_HOST} datagrams; held at most ${during['heldNow']} (bound ${HELD_TOTAL}), `
      + `${pages.length} PAGEs over ${(pages.at(-1)!.time - t0).toFixed(1)} s (rate ${AREA_PAGE_RATE}/s), `
      + `gleand RSS ${(rssBefore / 1048576).toFixed(1)} → ${(rssAfter / 1048576).toFixed(1)} MiB`);
    for (const h of hosts) await h.proc.stop('SIGTERM');
    await lab.exec(ns, ['nft', 'delete', 'table', 'inet', SLEEP_TABLE], { check: false });
  }, 240_000);

  it('paging counters reach gleand metrics well-formed', async () => {
    const text = await gl('metrics');
    const lines = text.split('\n').filter((l) => /paging/.test(l) && !l.startsWith('#'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+]+$/);
  });
});
