// Location on demand, both directions, with real ISC dhcpd (`allow leasequery;`,
// `stash-agent-options true;`): two clients lease through gleand; then gleand restarts
// as after a reboot — its snapshot gone, its routes, neighbours and nftables table
// flushed — knowing nothing. Every port shares one subnet (the lab's pool on every port),
// so only the answer's stored circuit-id says where a client is.
//   (a) downstream: a datagram from the server's namespace to client 0 is delivered
//       (counted by a listener in the client's namespace), and the host route and
//       permanent neighbour are back (ip route / ip neigh);
//   (b) upstream: client 1's datagrams to the server pass once its source is verified
//       (counted by a listener in the server's namespace; the first ones were dropped);
//   (c) a spoofed source from subscriber 0 (scapy) stays blocked and costs at most the
//       paced number of DHCPLEASEQUERYs (tshark at the server).
// Judged with ip, nft, tshark and listeners, not gleand's view. Needs root: fails loudly.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_BURST, UPSTREAM_PER_S } from '../../src/leasequery/on-demand';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LabProcess, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const PY = '/usr/bin/python3';
const LISTEN = `import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 9999))
print('listening', flush=True)
while True:
    d, a = s.recvfrom(4096)
    print('got', a[0], d.decode(errors='replace'), flush=True)
`;

describe('location on demand after a reboot (RFC 4388 §1; Cisco cable source-verify dhcp)', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  const leases: LeaseFacts[] = [];
  let atServer: LabProcess;
  let atClient0: LabProcess;
  let serverCapture: Capture;
  const R = () => lab.router.ns;
  const ip = async (...argv: string[]) => (await lab.exec(R(), ['ip', ...argv])).stdout;
  const nft = async (...argv: string[]) => (await lab.exec(R(), ['nft', ...argv], { check: false })).stdout;
  const got = (p: LabProcess, word: string) => p.log().split('\n').filter((l) => l.startsWith('got ') && l.includes(word));
  const send = (ns: string, to: string, payload: string) =>
    lab.exec(ns, [PY, '-c', `import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'${payload}', ('${to}', 9999))`]);
  const drops = async () => {
    const j = JSON.parse(await nft('-j', 'list', 'counter', 'inet', 'gleand', 'verify_drop'));
    return Number(j.nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
  };
  const config = () => labGleandConfig(lab, {
    global: { snapshot: '', recovery_window: '0' },
    subscriber: () => ({ on_demand: '1' }),
  });

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    gleand = lab.startGleand(config());
    await gleand.ready();
    for (const i of [0, 1]) {
      leases.push(await lab.startClient(i, 'udhcpc').waitLease(4, 45_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${gleand.proc.log().slice(-4000)}`);
      }));
    }
    expect(leases[0]!.address).not.toBe(leases[1]!.address);
    atServer = lab.spawn(lab.server.ns, [PY, '-u', '-c', LISTEN], { name: 'listen-server' });
    atClient0 = lab.spawn(lab.subscribers[0]!.ns, [PY, '-u', '-c', LISTEN], { name: 'listen-client0' });
    await until('the listeners', async () => atServer.log().includes('listening') && atClient0.log().includes('listening'));
    // Leased traffic works before the reboot.
    await until('client 1 reaches the server', async () => {
      await send(lab.subscribers[1]!.ns, lab.server.ipv4, 'before');
      return got(atServer, 'before').length > 0;
    });

    // A reboot: gleand gone, its kernel state gone, no snapshot; it starts knowing nothing.
    await gleand.stop('SIGKILL');
    await lab.exec(R(), ['ip', 'route', 'flush', 'proto', '201']);
    for (const s of lab.subscribers) await lab.exec(R(), ['ip', 'neigh', 'flush', 'dev', s.routerDev, 'nud', 'permanent']);
    await lab.exec(R(), ['nft', 'delete', 'table', 'inet', 'gleand']);
    gleand = lab.startGleand(config());
    await gleand.ready();
    await until('the subnet blackhole and the on-demand chains', async () =>
      (await ip('-4', 'route', 'show', 'proto', '201')).includes(`blackhole ${lab.addressing.pool4}`)
      && (await nft('list', 'chain', 'inet', 'gleand', 'on_demand_down')).includes('prefix "gleand-down" group'));
    expect(await ip('-4', 'route', 'show', 'proto', '201')).not.toMatch(/dev /); // no host route is left
  }, 180_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('(a) downstream: the server\'s datagram reaches client 0, and its host route and permanent neighbour are back', async () => {
    const sub = lab.subscribers[0]!;
    const addr = leases[0]!.address!;
    await send(lab.server.ns, addr, 'down-1');
    // The one datagram the kernel copied and dropped is the one gleand delivers.
    await until('the datagram at client 0', async () => got(atClient0, 'down-1').length === 1);
    expect(await ip('-4', 'route', 'show', 'proto', '201')).toContain(`${addr} dev ${sub.routerDev}`);
    expect(await ip('-4', 'neigh', 'show', 'dev', sub.routerDev)).toMatch(new RegExp(`${addr.replace(/\./g, '\\.')} lladdr ${sub.mac} .*PERMANENT`));
    // later ones take the kernel's path
    await send(lab.server.ns, addr, 'down-2');
    await until('the second datagram', async () => got(atClient0, 'down-2').length === 1);
  });

  it('(b) upstream: client 1\'s first datagrams are dropped, then pass once gleand verified its lease', async () => {
    const sub = lab.subscribers[1]!;
    const addr = leases[1]!.address!;
    const before = await drops();
    let sent = 0;
    await until('client 1 reaches the server again', async () => {
      await send(sub.ns, lab.server.ipv4, `up-${++sent}`);
      return got(atServer, 'up-').length > 0;
    });
    expect(await drops()).toBeGreaterThan(before); // the first ones were not verified
    expect(got(atServer, 'up-1')).toEqual([]);
    expect(await nft('list', 'set', 'inet', 'gleand', 'allow4')).toContain(addr);
    expect(await ip('-4', 'route', 'show', 'proto', '201')).toContain(`${addr} dev ${sub.routerDev}`);
  });

  it('(c) spoofed sources from subscriber 0 stay blocked and cost at most the paced DHCPLEASEQUERYs', async () => {
    const sub = lab.subscribers[0]!;
    const unleased = '10.1.0.250';
    const many = Array.from({ length: 40 }, (_, i) => `10.1.0.${200 + i}`);
    expect([leases[0]!.address, leases[1]!.address]).not.toContain(unleased);
    serverCapture = await lab.capture(lab.server.ns, lab.server.dev, 'udp port 67', 'od-server');
    const started = Date.now();
    // 100 frames from one unleased source, one from each of 40 more, and 20 claiming client 1's address — all with sub 0's MAC.
    const sources = [...Array(100).fill(unleased), ...many, ...Array(20).fill(leases[1]!.address)];
    await lab.exec(sub.ns, [PY, '-c',
      `from scapy.all import Ether, IP, UDP, sendp\n` +
      `srcs = ${JSON.stringify(sources)}\n` +
      `sendp([Ether(src='${sub.mac}', dst='${sub.routerMac}')/IP(src=s, dst='${lab.server.ipv4}')/UDP(sport=4000, dport=9999)/b'spoof' for s in srcs], iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
    // Wait until gleand has settled every question the spoof raised (its own status), then judge on the wire.
    await until('the on-demand questions to end', async () => {
      const s = JSON.parse((await lab.exec(R(), [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout);
      return s.modules.leasequery.inFlight === 0 && s.modules.leasequery.onDemand.upInFlight === 0;
    });
    const elapsedS = (Date.now() - started) / 1000;
    const pcap = await serverCapture.stop();
    const queried = (await tsharkFields(pcap, 'dhcp.option.dhcp == 10', ['dhcp.ip.client'])).map(([c]) => c!);
    if (process.env['OD_PRINT']) console.log({ queried, elapsedS });
    // One question for the unleased source, however many frames: the negative cache (RFC 4388 §6.5).
    expect(queried.filter((c) => c === unleased)).toHaveLength(1);
    // None for an address gleand knows belongs to another MAC.
    expect(queried.filter((c) => c === leases[1]!.address)).toHaveLength(0);
    // The 40 distinct sources: at most the port's burst plus its rate over the time taken.
    const distinct = queried.filter((c) => many.includes(c)).length;
    expect(distinct).toBeGreaterThan(0);
    expect(distinct).toBeLessThanOrEqual(UPSTREAM_BURST + Math.ceil(elapsedS * UPSTREAM_PER_S));
    // Nothing spoofed reached the server, and no verify entry was made for any of it.
    expect(got(atServer, 'spoof')).toEqual([]);
    const allow = await nft('list', 'set', 'inet', 'gleand', 'allow4');
    for (const s of [unleased, ...many]) expect(allow).not.toContain(`${s} `);
    expect(allow).not.toMatch(new RegExp(`${sub.mac} . ${leases[1]!.address!.replace(/\./g, '\\.')}`));
  });
});
