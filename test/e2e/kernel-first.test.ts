// Kernel first, then the reply: when a client's DHCP client returns with a lease, its
// very first packet from the leased source must already pass. That needs the host
// route, the permanent neighbour and the source-verification element in the kernel
// *before* gleand hands the ACK / REPLY to the client; a relay that delivers first and
// installs after races its own client.
//
// The packet is sent by the client script itself, right after it put the address on
// eth0 (`onBound`): one ping, one second, no retry. Before any lease the same sources
// are shown to be dropped, so a pass means the state arrived in time, not that
// verification was off. Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type ClientKind, type GleandHandle, type Lab, type LabClient, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

/** Every address in an inclusive range of the last 16 bits (the lab's pools differ only there). */
function range(first: string, last: string, v6: boolean): string[] {
  const lo = v6 ? parseInt(first.split(':').pop()!, 16) : Number(first.split('.').pop());
  const hi = v6 ? parseInt(last.split(':').pop()!, 16) : Number(last.split('.').pop());
  const head = v6 ? first.slice(0, first.lastIndexOf(':') + 1) : first.slice(0, first.lastIndexOf('.') + 1);
  return Array.from({ length: hi - lo + 1 }, (_, i) => `${head}${v6 ? (lo + i).toString(16) : lo + i}`);
}

describe('kernel first, then the reply: a client\'s first packet after its lease passes', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  const cases: { i: number; kind: ClientKind; family: 4 | 6 }[] = [
    { i: 0, kind: 'dhclient4', family: 4 },
    { i: 1, kind: 'udhcpc', family: 4 },
    { i: 2, kind: 'dhclient6', family: 6 },
  ];
  const clients: LabClient[] = [];
  const leases: LeaseFacts[] = [];
  const dropsBefore: number[] = [];

  const drops = async () => {
    const j = JSON.parse((await lab.exec(lab.router.ns, ['nft', '-j', 'list', 'counter', 'inet', 'gleand', 'verify_drop'])).stdout);
    return Number(j.nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
  };

  /** One UDP datagram from each source, from subscriber i's own MAC; returns the drops they caused. */
  const spoofEach = async (i: number, sources: string[]) => {
    const sub = lab.subscribers[i]!;
    const v6 = sources[0]!.includes(':');
    const l3 = v6 ? `IPv6(src=s, dst='${lab.router.gateway6}')` : `IP(src=s, dst='${lab.router.gateway4}')`;
    const before = await drops();
    await lab.exec(sub.ns, ['/usr/bin/python3', '-c',
      `from scapy.all import Ether, IP, IPv6, UDP, sendp\n` +
      `srcs = ${JSON.stringify(sources)}\n` +
      `sendp([Ether(src='${sub.mac}', dst='${sub.routerMac}')/${l3}/UDP(sport=4000, dport=9)/b'gleand' for s in srcs], iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
    return (await drops()) - before;
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: cases.length });
    gleand = lab.startGleand(labGleandConfig(lab)); // verify_source defaults to on
    await gleand.ready();
    await until('the verify chain', async () =>
      (await lab.exec(lab.router.ns, ['nft', 'list', 'counter', 'inet', 'gleand', 'verify_drop'], { check: false })).code === 0);

    // Before any lease: every address the server may lease is dropped from these ports.
    const a = lab.addressing;
    for (const c of cases) {
      dropsBefore[c.i] = await spoofEach(c.i, c.family === 4 ? range(a.range4[0], a.range4[1], false) : range(a.range6[0], a.range6[1], true));
    }

    // The v6 client has a /128 and no RA (the lab turns them off): route via the port's link-local.
    const v6 = cases.find((c) => c.family === 6)!;
    const sub6 = lab.subscribers[v6.i]!;
    const ll = JSON.parse((await lab.exec(lab.router.ns, ['ip', '-6', '-j', 'addr', 'show', 'dev', sub6.routerDev, 'scope', 'link'])).stdout) as
      { addr_info: { local: string }[] }[];
    const routerLL = ll[0]!.addr_info[0]!.local;
    await lab.exec(sub6.ns, ['ip', '-6', 'route', 'replace', 'default', 'via', routerLL, 'dev', 'eth0']);

    for (const c of cases) {
      const target = c.family === 4 ? lab.router.gateway4 : lab.router.gateway6;
      clients[c.i] = lab.startClient(c.i, c.kind, {
        onBound: `date +%s.%N; ping -${c.family} -n -c 1 -W 1 ${target}; rc=$?; date +%s.%N; exit $rc`,
      });
    }
    leases.push(...(await Promise.all(cases.map((c) => clients[c.i]!.waitLease(c.family, 45_000)))));
  }, 180_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('before the lease, every address of the pool is dropped from each port (scapy, nft verify_drop)', () => {
    expect(dropsBefore[0]).toBeGreaterThanOrEqual(100);
    expect(dropsBefore[1]).toBeGreaterThanOrEqual(100);
    expect(dropsBefore[2]).toBeGreaterThanOrEqual(0x1000);
  });

  for (const c of cases) {
    it(`${c.kind}: the first packet from the leased IPv${c.family} address gets its answer (ping -c1 -W1, no retry)`, () => {
      const lease = leases[c.i]!;
      const a = lab.addressing;
      const pool = c.family === 4 ? range(a.range4[0], a.range4[1], false) : range(a.range6[0], a.range6[1], true);
      expect(pool, 'the lease lies in the range shown dropped before').toContain(lease.address);
      const r = clients[c.i]!.onBound(c.family);
      expect(r, 'the client script ran the ping').not.toBeNull();
      // On failure, gleand's own lines about this lease show the order of reply and install.
      const about = gleand.proc.log().split('\n').filter((l) => l.includes(lease.address!)).join('\n');
      expect(r!.code, `ping from ${lease.address} at bind time failed:\n${r!.output}\ngleand about it:\n${about}`).toBe(0);
    });
  }
});
