// Which DHCP traffic takes which path through the router (issue 13 items 3 and 8).
//
// 1. On a relay-mode port gleand is the one path for client DHCP: the verify chain drops
//    every datagram to UDP 67 from the port (nft's dhcp_to_relay counter), so neither a
//    spoofed source nor a leased client reaches the server's UDP 67 directly, while the
//    leased client's other traffic passes. Judged at the server with tshark.
// 2. Unicast renewals (dhclient -4 RENEWING, RFC 2131 §4.3.2) are relayed by gleand: the
//    server sees each request exactly once (tshark in the server namespace: no xid twice
//    from one client), from the router with giaddr set, and over several 20 s leases the
//    client never falls back to REBIND and the route, neighbour and verify element stay
//    (ip, nft). dhclient -6 with the Server Unicast option (RFC 8415 §18.2.10) unicasts
//    its RENEW from its link-local; it is relayed, once.
// 3. Passive mode beside ISC dhcrelay is unchanged: the kernel forwards the unicast
//    renewals and gleand renews the binding from the server's DHCPACK as it leaves the port.
// E2E_GLEAND_BUNDLE runs another build (a saved build/out) to show the holes before the fix.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type GleandHandle, type Lab, type LabClient, type LabProcess, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const BUNDLE = process.env['E2E_GLEAND_BUNDLE'] ?? GLEAND_BUNDLE;

/** One DHCP datagram as tshark saw it arrive at the server. */
interface Seen {
  time: number;
  source: string;
  destination: string;
  /** v4: option 53 message type; v6: the message types, outermost first (12,5 = RELAY-FORW of a RENEW). */
  type: string;
  /** v4: chaddr + xid; v6: the client message's transaction id (inside any RELAY-FORW). */
  client: string;
  port: number;
  /** v4: giaddr and ciaddr ('' for v6). */
  giaddr: string;
  ciaddr: string;
}

const FIELDS = ['frame.time_epoch', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst', 'dhcp.option.dhcp', 'dhcp.hw.mac_addr', 'dhcp.id', 'dhcpv6.msgtype', 'dhcpv6.xid',
  'udp.dstport', 'dhcp.ip.relay', 'dhcp.ip.client'];

/** tshark -l in the server namespace, one line per datagram to the DHCP server ports, read back as it runs. */
function serverTap(lab: Lab, filter: string): { proc: LabProcess; seen: () => Seen[] } {
  const proc = lab.spawn(lab.server.ns, [
    'tshark', '-n', '-l', '-i', lab.server.dev, '-f', filter, '-T', 'fields',
    '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,', ...FIELDS.flatMap((f) => ['-e', f]),
  ], { name: 'server-tap' });
  const seen = (): Seen[] => proc.log().split('\n').filter((l) => /^\d+\.\d+\t/.test(l)).map((l) => {
    const [time, src4, src6, dst4, dst6, type4, mac, xid4, type6, xid6, dport, giaddr, ciaddr] = l.split('\t');
    const v6 = (src6 ?? '') !== '';
    return {
      time: Number(time),
      source: v6 ? src6! : src4!,
      destination: v6 ? dst6! : dst4!,
      type: v6 ? type6 ?? '' : type4 ?? '',
      client: v6 ? (xid6 ?? '').split(',').pop()! : `${mac}/${xid4}`,
      port: Number(dport),
      giaddr: giaddr ?? '',
      ciaddr: ciaddr ?? '',
    };
  });
  return { proc, seen };
}

/**
 * Requests that reached the server twice: the same client, xid and message type (the
 * innermost one of a RELAY-FORW) within a second. ISC dhclient -4 keeps one xid for all
 * its renewals, ten seconds apart; a relayed copy and a forwarded one are milliseconds apart.
 */
function duplicates(seen: Seen[]): [Seen, Seen][] {
  const key = (s: Seen) => `${s.client} ${s.type.split(',').pop()}`;
  const out: [Seen, Seen][] = [];
  seen.forEach((a, i) => seen.slice(i + 1).forEach((b) => {
    if (key(a) === key(b) && Math.abs(a.time - b.time) < 1) out.push([a, b]);
  }));
  return out;
}

const events = (lab: Lab, c: LabClient): string[] => {
  try {
    return fs.readFileSync(`${lab.dir}/${c.name}.events`, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[1]!);
  } catch {
    return [];
  }
};

async function dhcpStatus(lab: Lab, gleand: GleandHandle): Promise<Record<string, Record<string, number>>> {
  const r = await lab.exec(lab.router.ns, [process.execPath, BUNDLE, 'status', '--json', '-c', gleand.configPath]);
  return JSON.parse(r.stdout).modules.dhcp.ports;
}

/** Packets an nft counter of gleand's table counted; NaN when there is no such counter (an older build). */
async function nftCounter(lab: Lab, name: string): Promise<number> {
  const r = await lab.exec(lab.router.ns, ['nft', '-j', 'list', 'counter', 'inet', 'gleand', name], { check: false });
  if (r.code !== 0) return NaN;
  return Number(JSON.parse(r.stdout).nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
}

/** The route to the server for a v6 client: the lab sends no RAs, so via the port's link-local. */
async function v6DefaultRoute(lab: Lab, i: number): Promise<void> {
  const sub = lab.subscribers[i]!;
  const ll = await until(`the link-local of ${sub.routerDev}`, async () => {
    const j = JSON.parse((await lab.exec(lab.router.ns, ['ip', '-6', '-j', 'addr', 'show', 'dev', sub.routerDev])).stdout) as
      { addr_info: { local: string }[] }[];
    return j[0]?.addr_info.find((a) => a.local.startsWith('fe80:'))?.local;
  });
  await lab.exec(sub.ns, ['ip', '-6', 'route', 'replace', 'default', 'via', ll, 'dev', 'eth0']);
}

function preflight(): void {
  requireRootAndNetns();
  ensureLabPackages();
  expect(fs.existsSync(BUNDLE), 'npm run build first').toBe(true);
}

describe('a relay-mode port sends client DHCP only through gleand (item 3)', () => {
  let lab: Lab;
  let lease: LeaseFacts;
  let gleand: GleandHandle;

  beforeAll(async () => {
    preflight();
    lab = await createLab({ subscribers: 1 });
    gleand = lab.startGleand(labGleandConfig(lab), { bundle: BUNDLE });
    await gleand.ready();
    lease = await lab.startClient(0, 'dhclient4').waitLease(4, 45_000);
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('100 datagrams to the server\'s UDP 67 from an unleased source and 100 from the leased client: none arrive; the leased client\'s 100 to another port do', async () => {
    const sub = lab.subscribers[0]!;
    const unleased = '10.1.0.250';
    const OTHER_PORT = 6767;
    const tap = serverTap(lab, `(udp dst port 67 or udp dst port ${OTHER_PORT}) and (src host ${unleased} or src host ${lease.address})`);
    await lab.waitForLog(tap.proc, 'Capturing on', 15_000);
    const before = await nftCounter(lab, 'dhcp_to_relay');
    const frames = (src: string, dport: number, tag: string) =>
      `[Ether(src='${sub.mac}', dst='${sub.routerMac}')/IP(src='${src}', dst='${lab.server.ipv4}')/UDP(sport=68, dport=${dport})/b'${tag}' for _ in range(100)]`;
    // The ones to UDP 67 first, then the leased client's to another port on the same path:
    // once the last of those has arrived, any datagram to 67 that got through would have too.
    await lab.exec(sub.ns, ['/usr/bin/python3', '-c',
      `from scapy.all import Ether, IP, UDP, sendp\n` +
      `sendp(${frames(unleased, 67, 'spoofed')}, iface='eth0', verbose=False)\n` +
      `sendp(${frames(lease.address!, 67, 'leased')}, iface='eth0', verbose=False)\n` +
      `sendp(${frames(lease.address!, OTHER_PORT, 'other')}, iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
    const from = (a: string, port: number) => tap.seen().filter((s) => s.source === a && s.port === port).length;
    await until('the leased client\'s 100 datagrams to the other port at the server', async () => from(lease.address!, OTHER_PORT) >= 100, 20_000);
    expect(from(unleased, 67)).toBe(0);
    expect(from(lease.address!, 67)).toBe(0);
    expect(from(lease.address!, OTHER_PORT)).toBe(100);
    // Dropped as DHCP for the relay (gleand read them and found no DHCP message), not as spoofs.
    expect((await nftCounter(lab, 'dhcp_to_relay')) - before).toBeGreaterThanOrEqual(200);
    await tap.proc.stop('SIGINT');
  });

  it('with verify_source off the port is not verified (an unleased source passes), and its client DHCP still goes only through gleand', async () => {
    const sub = lab.subscribers[0]!;
    fs.writeFileSync(gleand.configPath, labGleandConfig(lab, { subscriber: () => ({ verify_source: '0' }) }));
    process.kill(gleand.pid, 'SIGHUP');
    await until('the port out of the verified set', async () =>
      !(await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'ports'])).stdout.includes(sub.routerDev));
    expect((await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'relay_ports'])).stdout).toContain(sub.routerDev);
    const unleased = '10.1.0.251';
    const OTHER_PORT = 6768;
    const tap = serverTap(lab, `(udp dst port 67 or udp dst port ${OTHER_PORT}) and src host ${unleased}`);
    await lab.waitForLog(tap.proc, 'Capturing on', 15_000);
    const frames = (dport: number) =>
      `[Ether(src='${sub.mac}', dst='${sub.routerMac}')/IP(src='${unleased}', dst='${lab.server.ipv4}')/UDP(sport=68, dport=${dport})/b'x' for _ in range(20)]`;
    await lab.exec(sub.ns, ['/usr/bin/python3', '-c',
      `from scapy.all import Ether, IP, UDP, sendp\nsendp(${frames(67)}, iface='eth0', verbose=False)\nsendp(${frames(OTHER_PORT)}, iface='eth0', verbose=False)`,
    ], { timeoutMs: 60_000 });
    const from = (port: number) => tap.seen().filter((x) => x.source === unleased && x.port === port).length;
    await until('the unverified datagrams at the server', async () => from(OTHER_PORT) >= 20, 20_000);
    expect(from(67)).toBe(0);
    await tap.proc.stop('SIGINT');
  });
});

/** Renewals a client made, as its script saw them. */
const renewals = (lab: Lab, c: LabClient, family: 4 | 6, also: string[] = []) =>
  events(lab, c).filter((e) => e === (family === 4 ? 'RENEW' : 'RENEW6') || also.includes(e)).length;
/**
 * ISC dhcrelay -6 (passive mode) relays only what clients multicast, so dhclient -6's
 * link-local unicast RENEW is lost there and the client rebinds at T2 (by multicast).
 */
const V6_PASSIVE_EVENTS = ['REBIND6', 'DEPREF6'];
const LEASE_S = 20;
/** Renewals each client must make: T1 is half the lease, so this covers three lease times. */
const RENEWALS = 6;

function renewalSuite(mode: 'relay' | 'passive'): void {
  describe(`unicast renewals over several ${LEASE_S} s leases, ${mode} mode (item 8)`, () => {
    let lab: Lab;
    let gleand: GleandHandle;
    let tap: ReturnType<typeof serverTap>;
    let c4: LabClient;
    let c6: LabClient;
    let l4: LeaseFacts;
    let l6: LeaseFacts;
    const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;

    beforeAll(async () => {
      preflight();
      lab = await createLab({ subscribers: 2, leaseTime: LEASE_S, dhcp6Unicast: true });
      // The server's veth keeps tx offload on: its unicast replies leave the subscriber
      // port with the UDP checksum unfinished, and gleand must read the kernel's status.
      if (mode === 'passive') await lab.startDhcrelay();
      tap = serverTap(lab, 'udp dst port 67 or udp dst port 547');
      await lab.waitForLog(tap.proc, 'Capturing on', 15_000);
      gleand = lab.startGleand(labGleandConfig(lab, mode === 'passive' ? { subscriber: () => ({ mode: 'passive' }) } : {}), { bundle: BUNDLE });
      await gleand.ready();
      await v6DefaultRoute(lab, 1);
      c4 = lab.startClient(0, 'dhclient4');
      c6 = lab.startClient(1, 'dhclient6napd');
      [l4, l6] = await Promise.all([c4.waitLease(4, 45_000), c6.waitLease(6, 45_000)]);
      await until(`${RENEWALS} renewals of each client`, async () =>
        renewals(lab, c4, 4) >= RENEWALS && renewals(lab, c6, 6, mode === 'passive' ? ['REBIND6'] : []) >= RENEWALS, 3 * 60_000, 1000);
    }, 5 * 60_000);

    afterAll(async () => {
      await lab?.teardown();
    });

    it('the clients renewed, dhclient -4 by unicast, and never had to rebind or start over', async () => {
      // The clients' scripts report a renewal when its reply arrived; the server-side
      // capture prints it a moment later: wait for the capture, then judge.
      // Relay mode: relayed by gleand (ciaddr set); passive: forwarded by the kernel, from the client.
      const v4Renewals = () => tap.seen().filter((s) => s.type === '3' && (mode === 'relay' ? s.ciaddr : s.source) === l4.address).length;
      const v6Renewals = () => tap.seen().filter((s) => s.type === '12,5').length;
      await until('the server-side capture to show the renewals', async () =>
        v4Renewals() >= RENEWALS && (mode === 'passive' || v6Renewals() >= RENEWALS), 10_000).catch(() => undefined);
      for (const [c, family] of [[c4, 4], [c6, 6]] as const) {
        const ev = events(lab, c).filter((e) => !e.startsWith('PREINIT'));
        const bound = family === 4 ? 'BOUND' : 'BOUND6';
        const renew = family === 4 ? 'RENEW' : 'RENEW6';
        const also = family === 6 && mode === 'passive' ? V6_PASSIVE_EVENTS : [];
        expect(ev.filter((e) => e !== renew && e !== bound && !also.includes(e)), `${c.name} events: ${ev.join(' ')}`).toEqual([]);
      }
      const seen = tap.seen();
      if (mode === 'passive') return expect(seen.filter((s) => s.source === l4.address && s.type === '3').length).toBeGreaterThanOrEqual(RENEWALS);
      // dhclient -4 in RENEWING unicasts from its address to the server (ciaddr set); the
      // router drops that and gleand relays it: from the router, with giaddr, never direct.
      const sub0 = lab.subscribers[0]!;
      const renewals4 = seen.filter((s) => s.type === '3' && s.ciaddr === l4.address && s.client.startsWith(sub0.mac));
      expect(renewals4.length).toBeGreaterThanOrEqual(RENEWALS);
      expect(renewals4.filter((s) => s.giaddr !== lab.router.gateway4 || s.source === l4.address)).toEqual([]);
      expect(seen.filter((s) => s.source === l4.address)).toEqual([]);
      // dhclient -6 unicasts its RENEW from its link-local, which no router forwards: it
      // reaches the server relayed (RELAY-FORW 12 of RENEW 5), by gleand or dhcrelay.
      expect(seen.filter((s) => s.type === '12,5').length).toBeGreaterThanOrEqual(RENEWALS);
    });

    if (mode === 'relay') {
      it('each request reached the server exactly once (no xid twice from one client)', () => {
        const toServer = [lab.server.ipv4, lab.server.ipv6];
        const seen = tap.seen().filter((s) => toServer.includes(s.destination) && s.client !== '/' && s.client !== '');
        expect(seen.length).toBeGreaterThan(2 * RENEWALS);
        expect(duplicates(seen).map((d) => d.map((s) => `${s.time} ${s.source}>${s.destination} ${s.type} ${s.client}`))).toEqual([]);
      });
    }

    it(`gleand renewed the v4 binding from the server's DHCPACKs (${mode === 'relay' ? 'relayed' : 'unicast, as they left the port'})`, async () => {
      const ports = await dhcpStatus(lab, gleand);
      const sub0 = ports['sub0']!;
      if (mode === 'passive') return expect(sub0['unicastRenewed'], JSON.stringify(sub0)).toBeGreaterThanOrEqual(RENEWALS);
      // Relay mode: the renewals went through the relay, and their ACKs came back through it.
      expect(sub0['relayed4'], JSON.stringify(sub0)).toBeGreaterThanOrEqual(RENEWALS + 2);
      expect(sub0['replies4'], JSON.stringify(sub0)).toBeGreaterThanOrEqual(RENEWALS + 2);
      expect(sub0['unicastReplies'], JSON.stringify(sub0)).toBe(0);
    });

    it('the routes, neighbours and verify elements are still in the kernel (ip, nft)', async () => {
      const [s0, s1] = lab.subscribers;
      expect(await ip('-4', 'route', 'show', 'proto', '201')).toContain(`${l4.address} dev ${s0!.routerDev} scope link`);
      expect(await ip('-4', 'neigh', 'show', 'nud', 'permanent')).toContain(`${l4.address} dev ${s0!.routerDev} lladdr ${s0!.mac} PERMANENT`);
      const routes6 = await ip('-6', 'route', 'show', 'proto', '201');
      expect(routes6).toMatch(new RegExp(`^${l6.address} dev ${s1!.routerDev} `, 'm'));
      expect(routes6).toContain(`${l6.delegatedPrefix} via fe80::`);
      const allow4 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow4'])).stdout;
      expect(allow4).toContain(`${s0!.mac} . ${l4.address}`);
      const allow6 = (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', 'allow6'])).stdout;
      expect(allow6).toContain(`${s1!.mac} . ${l6.address}`);
    });
  });
}

renewalSuite('relay');
renewalSuite('passive');
