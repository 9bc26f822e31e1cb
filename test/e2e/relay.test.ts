// gleand as the relay in the lab: real ISC dhcpd, real dhclient/udhcpc/dhcpcd clients.
// What gleand put on the wire is judged by tshark; the kernel state it installed is
// checked with ip(8), never with gleand's own view. Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LabClient, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const PROTO = '201';

describe('gleand relays for real clients and installs the kernel state', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let upstream: Capture;
  let port0: Capture;
  let clients: LabClient[];
  const leases: LeaseFacts[] = [];
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const cli = async (...argv: string[]) =>
    (await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, ...argv, '-c', gleand.configPath])).stdout;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 4 });
    upstream = await lab.capture(lab.router.ns, lab.router.upstreamDev, 'udp port 67 or udp port 547', 'relay-up');
    port0 = await lab.capture(lab.router.ns, lab.subscribers[0]!.routerDev, 'udp port 67 or udp port 68', 'relay-p0');
    gleand = lab.startGleand(labGleandConfig(lab, {
      subscriber: (s) => ({ remote_id: `rid-${s.name}`, remote_id_v6: `rid6-${s.name}`, circuit_id: `cid-${s.name}` }),
    }));
    await gleand.ready();
    clients = [
      lab.startClient(0, 'dhclient4'),
      lab.startClient(1, 'udhcpc'),
      lab.startClient(2, 'dhcpcd4'),
      lab.startClient(3, 'dhclient6napd'),
    ];
    leases.push(...(await Promise.all(clients.map((c) => c.waitLease(undefined, 45_000)))));
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('every client got a lease through gleand', () => {
    for (const l of leases.slice(0, 3)) expect(l.address).toMatch(/^10\.1\.0\.\d+$/);
    expect(leases[3]!.address).toMatch(/^fd00:1::/);
    expect(leases[3]!.delegatedPrefix).toMatch(/^2001:db8:1[0-9a-f]{2}:[0-9a-f]{0,2}00::\/56$/);
    expect(gleand.proc.running()).toBe(true);
  });

  it('installed a /32 host route and a permanent neighbour per IPv4 lease (ip route, ip neigh)', async () => {
    const routes = await ip('-4', 'route', 'show', 'proto', PROTO);
    const neigh = await ip('-4', 'neigh', 'show', 'nud', 'permanent');
    for (const i of [0, 1, 2]) {
      const sub = lab.subscribers[i]!;
      expect(routes).toContain(`${leases[i]!.address} dev ${sub.routerDev} scope link`);
      expect(neigh).toContain(`${leases[i]!.address} dev ${sub.routerDev} lladdr ${sub.mac} PERMANENT proto ${PROTO}`);
    }
    expect(routes.trim().split('\n')).toHaveLength(3);
  });

  it('installed the IA_NA host route and the PD route via the client link-local (ip -6 route)', async () => {
    const sub = lab.subscribers[3]!;
    const routes = await ip('-6', 'route', 'show', 'proto', PROTO);
    expect(routes).toMatch(new RegExp(`^${leases[3]!.address} dev ${sub.routerDev} `, 'm'));
    const pd = new RegExp(`^${leases[3]!.delegatedPrefix!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} via (fe80::[0-9a-f:]+) dev ${sub.routerDev} `, 'm');
    const via = pd.exec(routes)?.[1];
    expect(via, routes).toBeDefined();
    // the next hop is the client's own link-local, resolved by a permanent entry (no ND)
    const ll = (await lab.exec(sub.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])).stdout;
    expect(ll).toContain(`${via}/64`);
    expect(await ip('-6', 'neigh', 'show', 'nud', 'permanent')).toContain(`${via} dev ${sub.routerDev} lladdr ${sub.mac} PERMANENT proto ${PROTO}`);
  });

  it('holds a source-verification element per lease in nftables (nft list set)', async () => {
    const set4 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout;
    for (const i of [0, 1, 2]) {
      const sub = lab.subscribers[i]!;
      expect(set4).toContain(`"${sub.routerDev}" . ${sub.mac} . ${leases[i]!.address}`);
    }
    const set6 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow6'])).stdout;
    const sub = lab.subscribers[3]!;
    expect(set6).toContain(`"${sub.routerDev}" . ${sub.mac} . ${leases[3]!.address}`);
    // a delegated prefix lives in the set of its length, keyed by the prefix itself
    const [pdAddress, pdLength] = leases[3]!.delegatedPrefix!.split('/');
    const setPd = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', `allow6_${pdLength}`])).stdout;
    expect(setPd).toContain(`"${sub.routerDev}" . ${sub.mac} . ${pdAddress}`);
  });

  describe('source verification against spoofed sources (scapy)', () => {
    const drops = async () => {
      const j = JSON.parse((await lab.exec(lab.router.ns, ['nft', '-j', 'list', 'counter', 'inet', 'gleand', 'verify_drop'])).stdout);
      return Number(j.nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
    };
    /** Three UDP datagrams from subscriber `i` with the given Ethernet and IP sources; returns the drops they caused. */
    const send = async (i: number, etherSrc: string, src: string) => {
      const sub = lab.subscribers[i]!;
      const v6 = src.includes(':');
      const l3 = v6 ? `IPv6(src='${src}', dst='${lab.router.gateway6}')` : `IP(src='${src}', dst='${lab.router.gateway4}')`;
      const before = await drops();
      await lab.exec(sub.ns, ['/usr/bin/python3', '-c',
        `from scapy.all import Ether, IP, IPv6, UDP, sendp\n` +
        `sendp(Ether(src='${etherSrc}', dst='${sub.routerMac}')/${l3}/UDP(sport=4000, dport=9)/b'gleand', iface='eth0', count=3, verbose=False)`]);
      return (await drops()) - before;
    };
    const ping = async (i: number, dst: string) =>
      (await lab.exec(lab.subscribers[i]!.ns, ['ping', '-c', '1', '-W', '2', dst], { check: false })).code;

    it('passes leased traffic: a ping from the leased address gets its answer', async () => {
      expect(await ping(0, lab.router.gateway4)).toBe(0);
      expect(await send(0, lab.subscribers[0]!.mac, leases[0]!.address!)).toBe(0);
    });
    it('drops another port\'s address', async () => {
      expect(await send(0, lab.subscribers[0]!.mac, leases[2]!.address!)).toBeGreaterThanOrEqual(3);
    });
    it('drops an unleased address', async () => {
      expect(await send(0, lab.subscribers[0]!.mac, '10.1.0.250')).toBeGreaterThanOrEqual(3);
    });
    it('drops the right address from another MAC', async () => {
      expect(await send(0, '02:00:00:00:09:09', leases[0]!.address!)).toBeGreaterThanOrEqual(3);
    });
    it('passes the IA_NA address and any address in the delegated prefix; drops the rest', async () => {
      const mac = lab.subscribers[3]!.mac;
      expect(await send(3, mac, leases[3]!.address!)).toBe(0);
      expect(await send(3, mac, leases[3]!.delegatedPrefix!.replace('::/56', '::42'))).toBe(0);
      expect(await send(3, mac, '2001:db8:ffff::1')).toBeGreaterThanOrEqual(3);
      expect(await send(3, '02:00:00:00:09:09', leases[3]!.address!)).toBeGreaterThanOrEqual(3);
    });
  });

  it('put well-formed relay messages on the wire with options 82, 18, 37 and 53 (tshark)', async () => {
    const pcap = await upstream.stop();
    const bad = await tsharkFields(pcap, '_ws.malformed || _ws.expert.severity >= "warning"', ['frame.number', '_ws.expert.message']);
    expect(bad).toEqual([]);
    const v4 = await tsharkFields(pcap, 'dhcp.option.dhcp == 1 || dhcp.option.dhcp == 3', [
      'ip.src', 'dhcp.ip.relay', 'dhcp.hops',
      'dhcp.option.agent_information_option.agent_circuit_id', 'dhcp.option.agent_information_option.agent_remote_id',
      'dhcp.option.agent_information_option.relay_agent_id',
    ]);
    expect(v4.length).toBeGreaterThanOrEqual(6); // DISCOVER + REQUEST from three clients
    const hex = (s: string) => Buffer.from(s).toString('hex');
    const cids = new Set(v4.map((r) => r[3]));
    for (const s of lab.subscribers.slice(0, 3)) expect(cids).toContain(hex(`cid-${s.name}`));
    for (const r of v4) {
      expect(r[1]).toBe(lab.router.gateway4); // giaddr
      expect(r[2]).toBe('1');                 // hops counted
      expect(r[4]).toBe(hex(`rid-${Buffer.from(r[3]!, 'hex').toString().slice(4)}`));
      expect(r[5]).toMatch(/^0004[0-9a-f]{32}$/); // 82.12 relay-id: our DUID-UUID
    }
    const v6 = await tsharkFields(pcap, 'dhcpv6.msgtype == 12', [
      'dhcpv6.linkaddr', 'dhcpv6.peeraddr', 'dhcpv6.interface_id', 'dhcpv6.remoteid.enterprise', 'dhcpv6.option.type',
    ]);
    expect(v6.length).toBeGreaterThanOrEqual(2); // SOLICIT + REQUEST
    for (const r of v6) {
      expect(r[0]).toBe(lab.router.gateway6);
      expect(r[1]).toMatch(/^fe80::/);
      expect(r[2]).toBe(hex('sub3'));
      expect(r[3]).toBe('32473');
      const types = r[4]!.split(',');
      for (const t of ['18', '37', '53', '79', '9']) expect(types).toContain(t);
    }
    const repl = await tsharkFields(pcap, 'dhcpv6.msgtype == 13', ['dhcpv6.interface_id']);
    expect(repl.length).toBeGreaterThanOrEqual(2);
  });

  it('delivered DHCPv4 replies to the client without option 82 (tshark on the subscriber port)', async () => {
    const pcap = await port0.stop();
    const replies = await tsharkFields(pcap, 'dhcp.option.dhcp == 2 || dhcp.option.dhcp == 5', [
      'ip.src', 'eth.dst', 'dhcp.option.agent_information_option.agent_circuit_id',
    ]);
    expect(replies.length).toBeGreaterThanOrEqual(2);
    for (const r of replies) {
      expect(r[0]).toBe(lab.router.gateway4);
      expect(['ff:ff:ff:ff:ff:ff', lab.subscribers[0]!.mac]).toContain(r[1]);
      expect(r[2]).toBe('');
    }
    expect(await tsharkFields(pcap, '_ws.malformed || _ws.expert.severity >= "warning"', ['frame.number'])).toEqual([]);
  });

  it('reports bindings and per-port counters over the CLI', async () => {
    const rows = JSON.parse(await cli('bindings', '--json')) as { binding: string; port: string; mac: string }[];
    expect(rows.map((r) => r.binding).sort()).toEqual([
      `${leases[0]!.address}/32`, `${leases[1]!.address}/32`, `${leases[2]!.address}/32`,
      `${leases[3]!.address}/128`, leases[3]!.delegatedPrefix,
    ].sort());
    const status = JSON.parse(await cli('status', '--json'));
    expect(status.modules.dhcp.ports.sub0.relayed4).toBeGreaterThanOrEqual(2);
    expect(status.modules.dhcp.ports.sub3.relayed6).toBeGreaterThanOrEqual(2);
    expect(status.modules.dhcp.ports.sub3.bindings).toBe(2);
  });

  it('a hand-deleted route comes back at the next reconcile, and nothing is installed twice', async () => {
    const sub = lab.subscribers[0]!;
    await ip('route', 'del', `${leases[0]!.address}/32`, 'dev', sub.routerDev);
    expect(await ip('-4', 'route', 'show', 'proto', PROTO)).not.toContain(leases[0]!.address);
    process.kill(gleand.pid, 'SIGHUP'); // a reload reconciles at once
    await until('the route to come back', async () => (await ip('-4', 'route', 'show', 'proto', PROTO)).includes(`${leases[0]!.address} dev`));
    const routes = (await ip('-4', 'route', 'show', 'proto', PROTO)).trim().split('\n');
    expect(routes).toHaveLength(3);
    expect(new Set(routes).size).toBe(3);
  });

  it('a DHCPRELEASE removes the binding and its kernel state', async () => {
    const addr = leases[1]!.address!;
    process.kill(clients[1]!.proc.pid, 'SIGUSR2'); // udhcpc: release the lease
    await until('the route to go', async () => !(await ip('-4', 'route', 'show', 'proto', PROTO)).includes(`${addr} dev`));
    expect(await ip('-4', 'neigh', 'show', 'nud', 'permanent')).not.toContain(`${addr} dev`);
    expect((await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout).not.toContain(` . ${addr}`);
  });

  it('after a restart with no snapshot and no recovery window it keeps no state it no longer knows, and re-learns without duplicates', async () => {
    await gleand.stop('SIGTERM');
    // a graceful stop leaves kernel state for the next start to reconcile
    expect(await ip('-4', 'route', 'show', 'proto', PROTO)).toContain(`${leases[0]!.address} dev`);
    // (test/e2e/restart.test.ts covers the default: the snapshot brings every binding back)
    const noRecovery = fs.readFileSync(gleand.configPath, 'utf8')
      .replace(/option snapshot '[^']*'/, "option snapshot ''")
      .replace("config global 'main'", "config global 'main'\n        option recovery_window '0'");
    gleand = lab.startGleand(noRecovery);
    // the new process knows no binding and keeps nothing for a recovery: all removed
    // Routes, neighbours and verify elements leave in one reconcile but not one netlink
    // message: wait for all of them, each judged by ip / nft.
    await until('stale state to go', async () => (await ip('route', 'show', 'proto', PROTO)) === '' &&
      (await ip('-6', 'route', 'show', 'proto', PROTO)) === '' &&
      (await ip('neigh', 'show', 'proto', PROTO)) === '' &&
      !(await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout.includes('elements'));
    // a client that asks again is gleaned again: exactly one route for it
    await clients[0]!.stop();
    const again = await lab.startClient(0, 'dhclient4').waitLease(4, 30_000);
    await until('the route to be back', async () => (await ip('-4', 'route', 'show', 'proto', PROTO)).includes(`${again.address} dev`));
    expect((await ip('-4', 'route', 'show', 'proto', PROTO)).trim().split('\n')).toHaveLength(1);
  });
});
