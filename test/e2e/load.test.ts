// Correctness under load (no timing assertions): 2,000 clients, DHCPv4 and DHCPv6 at once,
// sent as fast as the project's generator (test/bench/dhcpgen.c, exchange mode: DISCOVER →
// OFFER → REQUEST → ACK, SOLICIT → ADVERTISE → REQUEST → REPLY) sends them, through gleand
// to real ISC dhcpd. Every client that completed its exchange must have its kernel entries
// (ip route, ip neigh, nft list set), and gleand's counters must match what the server
// namespace (nft counters) and the client side (the generator) counted.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, type GleandHandle, type Lab,
} from '../lab/lab';
import { until } from '../lab/wait';
import { buildHelpers } from '../bench/relay';

const CLIENTS_PER_FAMILY = 1000;
const PROTO = '201';

interface GenResult { sent: number; replies: number; frames: number; completed: number; foreign: number }
interface Completed { family: 4 | 6; mac: string; address: string }

describe('2,000 clients as fast as the generator sends, through gleand to ISC dhcpd', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  const gen: Record<4 | 6, GenResult> = {} as Record<4 | 6, GenResult>;
  const completed: Completed[] = [];
  let status: {
    modules: { dhcp: { ports: Record<string, { relayed4: number; relayed6: number; replies4: number; replies6: number }> } };
    drivers: { udp: { received4: number; received6: number; sockets: { address: string; receives: boolean; drops: number }[] } };
  };
  const server: Record<string, number> = {};
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 1, startServers: false });
    // A pool for every client: giaddr's subnet and a /20 share one network (dhcpd allocates
    // from the shared network of the giaddr's subnet).
    fs.writeFileSync(lab.server.dhcpd4ConfPath, `authoritative;
default-lease-time 600;
max-lease-time 3600;
ping-check false;
stash-agent-options true;
subnet 10.0.0.0 netmask 255.255.255.0 { }
shared-network load {
  subnet 10.1.0.0 netmask 255.255.255.0 { }
  subnet 10.2.0.0 netmask 255.255.240.0 {
    range 10.2.0.10 10.2.15.250;
    option routers 10.1.0.1;
    option subnet-mask 255.255.240.0;
  }
}
`);
    // Count what reaches and leaves the server namespace, as the server side's own tally.
    await lab.exec(lab.server.ns, ['nft', '-f', '-'], { input: `table inet loadcount {
  counter in4 {}
  counter in6 {}
  counter out4 {}
  counter out6 {}
  chain input { type filter hook input priority 0; udp dport 67 counter name in4; udp dport 547 counter name in6; }
  chain output { type filter hook output priority 0; udp sport 67 counter name out4; udp sport 547 counter name out6; }
}
` });
    await lab.startServers();
    gleand = lab.startGleand(labGleandConfig(lab, {
      logLevel: 'info',
      subscriber: () => ({ rate_limit: '100000', max_bindings: '100000', subnet4: ['10.2.0.0/20'] }),
    }));
    await gleand.ready();
    const bins = buildHelpers(lab.dir);
    const run = async (family: 4 | 6) => {
      const out = path.join(lab.dir, `completed${family}.txt`);
      const r = await lab.exec(lab.subscribers[0]!.ns, [bins.gen, '-i', 'eth0', '-f', String(family), '-n', String(CLIENTS_PER_FAMILY),
        '-r', '1000000', '-x', '-w', '10', '-p', '0', '-t', String(family), '-o', out], { timeoutMs: 60_000 });
      gen[family] = JSON.parse(r.stdout.trim().split('\n').pop()!) as GenResult;
      for (const line of fs.readFileSync(out, 'utf8').split('\n').filter(Boolean)) {
        const [f, mac, address] = line.split(' ');
        completed.push({ family: Number(f) as 4 | 6, mac: mac!, address: address! });
      }
    };
    await Promise.all([run(4), run(6)]);
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath]);
    status = JSON.parse(r.stdout);
    const counters = JSON.parse((await lab.exec(lab.server.ns, ['nft', '-j', 'list', 'counters', 'table', 'inet', 'loadcount'])).stdout) as
      { nftables: { counter?: { name: string; packets: number } }[] };
    for (const x of counters.nftables) if (x.counter) server[x.counter.name] = x.counter.packets;
    console.log(`load: client side v4 ${JSON.stringify(gen[4])}, v6 ${JSON.stringify(gen[6])}; server side ${JSON.stringify(server)}`);
  }, 150_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('sent every request and completed exchanges in both families', () => {
    for (const f of [4, 6] as const) {
      expect(gen[f].sent).toBe(CLIENTS_PER_FAMILY);
      expect(gen[f].foreign).toBe(0);
      expect(gen[f].completed, `v${f}: ${JSON.stringify(gen[f])}`).toBeGreaterThan(0);
    }
    expect(completed.length).toBe(gen[4].completed + gen[6].completed);
    expect(gleand.proc.running()).toBe(true);
  });

  it('installed a host route, a permanent neighbour and a verify element for every client that got its ACK / REPLY', async () => {
    const port = lab.subscribers[0]!.routerDev;
    const want = completed.length;
    // Kernel entries follow the replies; wait for the last of them, then compare one by one.
    await until('every host route', async () =>
      ((await ip('-4', 'route', 'show', 'proto', PROTO)).trim().split('\n').filter(Boolean).length +
        (await ip('-6', 'route', 'show', 'proto', PROTO)).trim().split('\n').filter(Boolean).length) >= want, 30_000);
    const routes = new Set([...(await ip('-4', 'route', 'show', 'proto', PROTO)).split('\n'), ...(await ip('-6', 'route', 'show', 'proto', PROTO)).split('\n')]
      .map((l) => l.split(' ')[0]));
    const neigh = `${await ip('-4', 'neigh', 'show', 'nud', 'permanent')}${await ip('-6', 'neigh', 'show', 'nud', 'permanent')}`;
    const neighbours = new Set(neigh.split('\n').map((l) => l.split(' ').slice(0, 5).join(' ')));
    const set4 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout;
    const set6 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow6'])).stdout;
    const missing: string[] = [];
    for (const c of completed) {
      if (!routes.has(c.address)) missing.push(`route ${c.address}`);
      if (!neighbours.has(`${c.address} dev ${port} lladdr ${c.mac}`)) missing.push(`neighbour ${c.address} ${c.mac}`);
      if (!(c.family === 4 ? set4 : set6).includes(`"${port}" . ${c.mac} . ${c.address}`)) missing.push(`verify ${c.address}`);
    }
    expect(missing.slice(0, 20), `${missing.length} missing of ${completed.length * 3}`).toEqual([]);
  });

  it('status counts what the server side received and the client side got', () => {
    const port = status.modules.dhcp.ports['sub0']!;
    expect(port.relayed4).toBe(server['in4']);
    expect(port.relayed6).toBe(server['in6']);
    expect(port.replies4).toBe(gen[4].frames);
    expect(port.replies6).toBe(gen[6].frames);
    // Every reply the server sent was read by gleand or counted as dropped by the kernel.
    const udp = status.drivers.udp;
    const drops = (family: 4 | 6) => udp.sockets.filter((s) => s.receives && s.address.includes(family === 4 ? '.' : ':'))
      .reduce((n, s) => n + s.drops, 0);
    expect(udp.received4 + drops(4)).toBe(server['out4']);
    expect(udp.received6 + drops(6)).toBe(server['out6']);
  });
});
