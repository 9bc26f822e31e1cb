// DHCPv6 location on demand after a reboot, with real ISC dhcpd -6 (`allow leasequery;`):
// a dhclient -6 leases an address through gleand; then gleand restarts as after a reboot —
// its snapshot gone, its routes, neighbours and nftables table flushed, no bulk server —
// knowing nothing. ISC dhcpd answers a LEASEQUERY by address with no relay data (no
// Interface-ID, no client link-layer address: test/e2e/leasequery6.test.ts), so the port
// is known only because the lab's subnet6 belongs to this one port, and the MAC is the
// frame's (README "Location on demand").
//   (a) upstream: the client's first datagrams to the server are dropped, then pass once
//       gleand verified its source (counted by a listener in the server's namespace), and
//       the verify entry, host route and permanent neighbour carry the client's MAC;
//   (b) spoofed sources from the same port (scapy) stay blocked and cost a bounded number
//       of LEASEQUERYs (tshark at the server): one for an unleased source however many
//       frames, none for the verified client's address from another MAC, at most the
//       port's burst plus its rate for 40 distinct sources;
//   (c) downstream, after a second reboot: the server's first datagram to the client is
//       dropped (dhcpd's answer names no MAC, so the held copy cannot be addressed) but
//       its host route is back; later datagrams arrive (counted by a listener in the
//       client's namespace) once the kernel resolves the client — whose Neighbour
//       Advertisement from its global address is itself an unverified source, verified
//       on demand, which gives gleand the client's MAC (permanent neighbour).
// Judged with ip, nft, tshark and listeners, not gleand's view. Needs root: fails loudly.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_BURST, UPSTREAM_PER_S } from '../../src/leasequery/on-demand';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type GleandHandle, type Lab, type LabProcess, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const PY = '/usr/bin/python3';
const LISTEN = `import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(('::', 9999))
print('listening', flush=True)
while True:
    d, a = s.recvfrom(4096)
    print('got', a[0], d.decode(errors='replace'), flush=True)
`;
const SPOOF_MAC = '02:00:00:00:66:66';

describe('DHCPv6 location on demand after a reboot (RFC 5007 by address; cable source-verify dhcp)', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let lease: LeaseFacts;
  let atServer: LabProcess;
  const R = () => lab.router.ns;
  const ip = async (...argv: string[]) => (await lab.exec(R(), ['ip', ...argv])).stdout;
  const nft = async (...argv: string[]) => (await lab.exec(R(), ['nft', ...argv], { check: false })).stdout;
  const got = (p: LabProcess, word: string) => p.log().split('\n').filter((l) => l.startsWith('got ') && l.includes(word));
  const send = (ns: string, to: string, payload: string) =>
    lab.exec(ns, [PY, '-c', `import socket\ntry: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b'${payload}', ('${to}', 9999))\nexcept OSError: pass`]);
  const drops = async () => {
    const j = JSON.parse(await nft('-j', 'list', 'counter', 'inet', 'gleand', 'verify_drop'));
    return Number(j.nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
  };
  const status = async () =>
    JSON.parse((await lab.exec(R(), [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout);
  /** What a reboot loses: gleand, its routes, neighbours and nft table (no snapshot is configured). */
  const reboot = async () => {
    const sub = lab.subscribers[0]!;
    await gleand.stop('SIGKILL');
    for (const f of ['-4', '-6']) {
      await lab.exec(R(), ['ip', f, 'route', 'flush', 'proto', '201']);
      await lab.exec(R(), ['ip', f, 'neigh', 'flush', 'dev', sub.routerDev, 'nud', 'all']);
    }
    await lab.exec(R(), ['nft', 'delete', 'table', 'inet', 'gleand']);
    gleand = lab.startGleand(config());
    await gleand.ready();
    await until('the subnet6 blackholes and the IPv6 on-demand rules', async () => {
      const routes = await ip('-6', 'route', 'show', 'proto', '201');
      return routes.includes(`blackhole ${lab.addressing.pool6}`) && routes.includes(`blackhole ${lab.addressing.delegated}`)
        && (await nft('list', 'chain', 'inet', 'gleand', 'on_demand_up')).includes('ip6 saddr != { ::, fe80::/10 }');
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await ip('-6', 'route', 'show', 'proto', '201')}\n${await nft('list', 'table', 'inet', 'gleand')}\n${gleand.proc.log().slice(-3000)}`);
    });
    expect(await ip('-6', 'route', 'show', 'proto', '201')).not.toContain(lease.address!); // no host route is left
  };
  const config = () => labGleandConfig(lab, {
    global: { snapshot: '', recovery_window: '0' },
    subscriber: () => ({ on_demand: '1' }),
    // No bulk server in this lab: the per-address queries are the only source.
    extra: `config leasequery\n        option bulk '0'\n`,
  });

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 1 });
    gleand = lab.startGleand(config());
    await gleand.ready();
    lease = await lab.startClient(0, 'dhclient6').waitLease(6, 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${gleand.proc.log().slice(-4000)}`);
    });
    const sub = lab.subscribers[0]!;
    // The client's way to the server: through the router's link-local on the port (no RA in the lab).
    const routerLl = /fe80::[0-9a-f:]+/.exec(await ip('-6', 'addr', 'show', 'dev', sub.routerDev, 'scope', 'link'))![0];
    await lab.exec(sub.ns, ['ip', '-6', 'route', 'replace', 'fd00::/64', 'via', routerLl, 'dev', 'eth0']);
    atServer = lab.spawn(lab.server.ns, [PY, '-u', '-c', LISTEN], { name: 'listen6-server' });
    await until('the listener', async () => atServer.log().includes('listening'));
    await until('the client reaches the server before the reboot', async () => {
      await send(sub.ns, lab.server.ipv6, 'before');
      return got(atServer, 'before').length > 0;
    });

    // A reboot: gleand gone, its kernel state gone, no snapshot, no bulk server.
    await reboot();
  }, 180_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('(a) upstream: the client\'s first datagrams are dropped, then pass once gleand verified its lease with dhcpd', async () => {
    const sub = lab.subscribers[0]!;
    const addr = lease.address!;
    const before = await drops();
    let sent = 0;
    await until('the client reaches the server again', async () => {
      await send(sub.ns, lab.server.ipv6, `up-${++sent}`);
      return got(atServer, 'up-').length > 0;
    }, 30_000);
    expect(await drops()).toBeGreaterThan(before); // the first frames were not verified
    expect(got(atServer, 'up-1')).toEqual([]);
    if (process.env['OD_PRINT']) console.log({ sent, arrived: got(atServer, 'up-') });
    // The verify entry, the host route and the permanent neighbour, with the frame's MAC.
    expect(await nft('list', 'set', 'inet', 'gleand', 'allow6')).toContain(`${sub.mac} . ${addr}`);
    expect(await ip('-6', 'route', 'show', 'proto', '201')).toContain(`${addr} dev ${sub.routerDev}`);
    expect(await ip('-6', 'neigh', 'show', 'dev', sub.routerDev)).toMatch(new RegExp(`^${addr} lladdr ${sub.mac} .*PERMANENT`, 'm'));
  });

  it('(b) spoofed IPv6 sources stay blocked and cost a bounded number of LEASEQUERYs at the server', async () => {
    const sub = lab.subscribers[0]!;
    const unleased = 'fd00:1::beef';
    const many = Array.from({ length: 40 }, (_, i) => `fd00:1::${(0x2000 + i).toString(16)}`);
    expect([lease.address]).not.toContain(unleased);
    const capture = await lab.capture(lab.server.ns, lab.server.dev, 'udp port 547 or udp port 546', 'od6-server');
    const started = Date.now();
    const frames = [
      ...Array(100).fill([unleased, sub.mac]), ...many.map((s) => [s, sub.mac]), ...Array(20).fill([lease.address!, SPOOF_MAC]),
    ] as [string, string][];
    await lab.exec(sub.ns, [PY, '-c',
      `from scapy.all import Ether, IPv6, UDP, sendp\n` +
      `frames = ${JSON.stringify(frames)}\n` +
      `sendp([Ether(src=m, dst='${sub.routerMac}')/IPv6(src=s, dst='${lab.server.ipv6}')/UDP(sport=4000, dport=9999)/b'spoof' for s, m in frames], iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
    await until('the on-demand questions to end', async () => {
      const s = await status();
      return s.modules.leasequery.inFlight === 0 && s.modules.leasequery.onDemand.upInFlight === 0;
    }, 60_000);
    const elapsedS = (Date.now() - started) / 1000;
    const pcap = await capture.stop();
    const queried = (await tsharkFields(pcap, 'dhcpv6.msgtype == 14', ['dhcpv6.iaaddr.ip'])).map(([a]) => a!);
    const answered = await tsharkFields(pcap, 'dhcpv6.msgtype == 15', ['udp.dstport']);
    if (process.env['OD_PRINT']) console.log({ queried, answered: answered.length, elapsedS, up: (await status()).modules.leasequery.onDemand.up });
    // One question for the unleased source, however many frames: the negative cache.
    expect(queried.filter((a) => a === unleased)).toHaveLength(1);
    // None for the verified client's address claimed from another MAC.
    expect(queried.filter((a) => a === lease.address)).toHaveLength(0);
    // The 40 distinct sources: at most the port's burst plus its rate over the time taken.
    const distinct = queried.filter((a) => many.includes(a)).length;
    expect(distinct).toBeGreaterThan(0);
    expect(distinct).toBeLessThanOrEqual(UPSTREAM_BURST + Math.ceil(elapsedS * UPSTREAM_PER_S));
    expect(answered.length).toBeGreaterThan(0); // dhcpd answered (to port 546)
    // Nothing spoofed reached the server, and no verify entry was made for any of it.
    expect(got(atServer, 'spoof')).toEqual([]);
    const allow = await nft('list', 'set', 'inet', 'gleand', 'allow6');
    for (const s of [unleased, ...many]) expect(allow).not.toContain(`${s} `);
    expect(allow).not.toContain(SPOOF_MAC);
  });

  it('(c) downstream after another reboot: the first datagram is dropped (no MAC in dhcpd\'s answer), the host route is back, later ones arrive', async () => {
    const sub = lab.subscribers[0]!;
    const addr = lease.address!;
    await reboot();
    const atClient = lab.spawn(sub.ns, [PY, '-u', '-c', LISTEN], { name: 'listen6-client' });
    await until('the client listener', async () => atClient.log().includes('listening'));
    await send(lab.server.ns, addr, 'down-1');
    await until('the host route from the answer', async () => (await ip('-6', 'route', 'show', 'proto', '201')).includes(`${addr} dev ${sub.routerDev}`));
    let sent = 1;
    await until('a datagram at the client', async () => {
      await send(lab.server.ns, addr, `down-${++sent}`);
      return got(atClient, 'down-').length > 0;
    }, 30_000);
    if (process.env['OD_PRINT']) console.log({ sent, arrived: got(atClient, 'down-'), onDemand: (await status()).modules.leasequery.onDemand });
    expect(got(atClient, 'down-').filter((l) => l.endsWith(' down-1'))).toEqual([]); // the held copy had no MAC to go to
    // the client's MAC came from its own first frame upstream (verified on demand)
    await until('the permanent neighbour with the client\'s MAC', async () =>
      new RegExp(`^${addr} lladdr ${sub.mac} .*PERMANENT`, 'm').test(await ip('-6', 'neigh', 'show', 'dev', sub.routerDev)));
    expect(await nft('list', 'set', 'inet', 'gleand', 'allow6')).toContain(`${sub.mac} . ${addr}`);
  });
});
