// Source verification in nftables, end to end: a router namespace with two subscriber
// namespaces on veths, NftVerify driven inside the router namespace (test/e2e/nft-tool.ts
// under `ip netns exec`: a Node process cannot switch namespaces), checked with nft(8)
// itself and with frames sent by scapy. Needs root; fails loudly without it, never skips.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import * as readline from 'node:readline';

const REPO = path.resolve(__dirname, '../..');
const PY = '/usr/bin/python3'; // Debian's python3 has scapy; the pyenv one on PATH does not
const P = `gv${randomBytes(2).toString('hex')}`;
const NS = { router: `${P}-r`, a: `${P}-a`, b: `${P}-b` };
const TABLE = 'gleand';
const OBS = 'gvobs';

const mA = '02:00:00:aa:00:01';
const mB = '02:00:00:bb:00:01';
const mX = '02:00:00:ee:00:01';
const routerA = '02:00:00:0a:00:01';
const routerB = '02:00:00:0b:00:01';

const leaseA4 = { device: 'ra', mac: mA, prefix: '10.1.0.10/32' };
const leaseA6 = { device: 'ra', mac: mA, prefix: '2001:db8:100::/56' };
const leaseA6ll = { device: 'ra', mac: mA, prefix: 'fe80::aa:1/128' };
const leaseB4 = { device: 'rb', mac: mB, prefix: '10.2.0.20/32' };

function sh(args: string[], input?: string): string {
  return execFileSync(args[0]!, args.slice(1), { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60_000 });
}
const inNs = (ns: string, args: string[], input?: string): string => sh(['ip', 'netns', 'exec', ns, ...args], input);

function requireRoot(): void {
  const uid = process.getuid?.();
  if (uid !== 0) throw new Error(`NFT E2E FAILED: needs root (uid is ${String(uid)}) to create namespaces and load nftables`);
  try {
    sh(['nft', '--version']);
    sh([PY, '-c', 'import scapy']);
  } catch (e) {
    throw new Error(`NFT E2E FAILED: needs nft and ${PY} with scapy: ${(e as Error).message}`);
  }
}

/** The NftVerify driver in the router namespace: one JSON line out, one JSON line back. */
class Worker {
  private readonly lines: AsyncIterator<string>;
  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }
  static start(ns: string): Worker {
    const child = spawn('ip', ['netns', 'exec', ns, 'npx', 'tsx', 'test/e2e/nft-tool.ts'], { cwd: REPO, stdio: 'pipe' });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 8192) stderr = stderr.slice(-8192);
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) console.error(`nft worker exited ${code}: ${stderr}`);
    });
    return new Worker(child);
  }
  async call(cmd: Record<string, unknown>): Promise<any> {
    this.child.stdin.write(`${JSON.stringify(cmd)}\n`);
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`worker: no answer to ${String(cmd.op)}`)), 30_000).unref());
    const r = await Promise.race([this.lines.next(), timeout]);
    if (r.done === true) throw new Error('worker closed its output');
    return JSON.parse(r.value);
  }
  /** Closing stdin ends the driver; SIGTERM to our own child (by handle) only if it hangs. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.child.stdin.end();
    const t = setTimeout(() => this.child.kill('SIGTERM'), 5_000);
    await exited;
    clearTimeout(t);
  }
}

interface Probe {
  readonly port: number; // UDP destination port: names the case in the router's observer set
  readonly from: 'a' | 'b';
  readonly mac: string;
  readonly src: string;
  readonly dst?: string;
  readonly sport?: number;
}

/** Sends 3 copies of each probe as raw Ethernet frames from the subscriber's eth0. */
function send(probes: readonly Probe[]): void {
  for (const from of ['a', 'b'] as const) {
    const mine = probes.filter((p) => p.from === from);
    if (mine.length === 0) continue;
    const dstMac = from === 'a' ? routerA : routerB;
    const frames = mine.map((p) => {
      const v6 = p.src.includes(':');
      const dst = p.dst ?? (v6 ? '2001:db8:ffff::1' : from === 'a' ? '10.1.0.1' : '10.2.0.1');
      const ip = v6 ? `IPv6(src='${p.src}',dst='${dst}')` : `IP(src='${p.src}',dst='${dst}')`;
      const dmac = dst.startsWith('ff02') ? '33:33:00:01:00:02' : dst === '255.255.255.255' ? 'ff:ff:ff:ff:ff:ff' : dstMac;
      return `Ether(src='${p.mac}',dst='${dmac}')/${ip}/UDP(sport=${p.sport ?? 40000},dport=${p.port})/Raw(b'gleand')`;
    });
    inNs(NS[from], [PY, '-c', `from scapy.all import *\nsendp([${frames.join(',')}]*3, iface='eth0', verbose=0)`]);
  }
}

/** UDP destination ports the router saw after verification (observer at priority 0). */
function seen(): number[] {
  const j = JSON.parse(inNs(NS.router, ['nft', '-j', 'list', 'set', 'inet', OBS, 'seen'])) as { nftables: any[] };
  const set = j.nftables.find((x) => x.set !== undefined)?.set;
  return ((set?.elem ?? []) as unknown[]).map((e) => (typeof e === 'number' ? e : Number((e as any).elem?.val ?? e))).sort((x, y) => x - y);
}

const settle = (ms = 300): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('nft source verification (namespaces, nfnetlink, scapy)', () => {
  let worker: Worker | null = null;
  const created: string[] = [];

  beforeAll(async () => {
    requireRoot();
    for (const ns of Object.values(NS)) {
      sh(['ip', 'netns', 'add', ns]);
      created.push(ns);
    }
    const R = NS.router;
    for (const [side, dev, rmac, smac, addr4, addr6] of [
      ['a', 'ra', routerA, mA, '10.1.0.1/24', '2001:db8:ffff::1/64'],
      ['b', 'rb', routerB, mB, '10.2.0.1/24', '2001:db8:fffe::1/64'],
    ] as const) {
      sh(['ip', '-n', R, 'link', 'add', dev, 'address', rmac, 'type', 'veth', 'peer', 'name', 'eth0', 'address', smac, 'netns', NS[side]]);
      sh(['ip', '-n', R, 'addr', 'add', addr4, 'dev', dev]);
      sh(['ip', '-n', R, 'addr', 'add', addr6, 'dev', dev, 'nodad']);
      sh(['ip', '-n', R, 'link', 'set', dev, 'up']);
      sh(['ip', '-n', NS[side], 'link', 'set', 'eth0', 'up']);
      sh(['ip', '-n', NS[side], 'link', 'set', 'lo', 'up']);
    }
    sh(['ip', '-n', NS.a, 'addr', 'add', '10.1.0.10/24', 'dev', 'eth0']);
    // What got past verification: a set of UDP destination ports, filled by the packet path.
    inNs(R, ['nft', '-f', '-'], [
      `table inet ${OBS} {`,
      `  set seen { type inet_service; size 1024; flags dynamic; }`,
      `  chain pre { type filter hook prerouting priority 0; policy accept;`,
      `    udp dport { 67, 547, 40000-40999 } add @seen { udp dport }`,
      `  }`,
      `}`,
    ].join('\n'));
    worker = Worker.start(R);
    expect(await worker.call({ op: 'open', table: TABLE })).toEqual({ ok: true });
  });

  afterAll(async () => {
    try {
      await worker?.stop();
    } finally {
      for (const ns of created) {
        try {
          sh(['ip', 'netns', 'del', ns]);
        } catch (e) {
          console.error(`could not delete namespace ${ns}: ${(e as Error).message}`);
        }
      }
    }
  });

  it('recreates a table of the previous layout (pipapo interval sets)', async () => {
    inNs(NS.router, ['nft', '-f', '-'], [
      `table inet ${TABLE} {`,
      `  set allow4 { typeof meta iif . ether saddr . ip saddr; flags interval; }`,
      `  set allow6 { typeof meta iif . ether saddr . ip6 saddr; flags interval; }`,
      `  chain verify { meta iif . ether saddr . ip saddr @allow4 accept; }`,
      `}`,
    ].join('\n'));
    expect(await worker!.call({ op: 'ensure', ports: ['ra', 'rb'] })).toEqual({ ok: true, value: { recreated: true } });
    const s4 = inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow4']);
    expect(s4).toContain('type iface_index . ether_addr . ipv4_addr');
    expect(s4).not.toContain('flags interval');
  });

  it('creates the ruleset idempotently and fills the ports and relay_ports sets', async () => {
    expect(await worker!.call({ op: 'ensure', ports: ['ra', 'rb'], relayPorts: ['ra'] })).toEqual({ ok: true, value: { recreated: false } });
    const text = inNs(NS.router, ['nft', 'list', 'table', 'inet', TABLE]);
    expect(text).toContain('type filter hook prerouting priority raw; policy accept;');
    expect(text).toContain('iif @ports jump verify');
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'ports'])).toMatch(/elements = \{ "ra", "rb" \}|elements = \{ "rb", "ra" \}/);
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'relay_ports'])).toMatch(/elements = \{ "ra" \}/);
    // relay-mode ports: client DHCP is gleand's, dropped and counted on its own counter
    expect(text).toContain('iif @relay_ports meta nfproto ipv4 udp dport 67 counter name "dhcp_to_relay" drop');
    expect(text).toContain('iif @relay_ports meta nfproto ipv6 udp dport 547 counter name "dhcp_to_relay" drop');
    expect(text).not.toContain('fib daddr type local');
    expect(text).toContain('counter name "verify_drop" drop');
    expect(text).not.toContain('flags interval');
  });

  it('adds entries over nfnetlink, a prefix in the set of its length; nft(8) lists them', async () => {
    const r = await worker!.call({ op: 'add', entries: [leaseA4, leaseA6, leaseA6ll, leaseB4] });
    expect(r).toEqual({ applied: 4, already: 0, failures: [] });
    const s4 = inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow4']);
    expect(s4).toContain(`"ra" . ${mA} . 10.1.0.10`);
    expect(s4).toContain(`"rb" . ${mB} . 10.2.0.20`);
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow6'])).toContain(`"ra" . ${mA} . fe80::aa:1`);
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow6_56'])).toContain(`"ra" . ${mA} . 2001:db8:100::`);
    // the /56 set's rule sits in verify_prefix, jumped to after the host sets and before the drop
    expect(inNs(NS.router, ['nft', 'list', 'chain', 'inet', TABLE, 'verify_prefix']))
      .toContain('iif . ether saddr . ip6 saddr & ffff:ffff:ffff:ff00:: @allow6_56 accept');
    const verify = inNs(NS.router, ['nft', 'list', 'chain', 'inet', TABLE, 'verify']).split('\n').map((l) => l.trim())
      .filter((l) => l !== '' && l !== '}' && !l.endsWith('{'));
    const at = (s: string) => verify.findIndex((l) => l.includes(s));
    expect(at('@allow6 accept')).toBeGreaterThan(at('@allow4 accept'));
    expect(at('jump verify_prefix')).toBeGreaterThan(at('@allow6 accept'));
    expect(at('counter name "verify_drop" drop')).toBe(verify.length - 1);
  });

  it('dumps back exactly what was added', async () => {
    const d = await worker!.call({ op: 'dump' });
    expect(d.ok).toBe(true);
    expect(d.skipped).toEqual([]);
    expect(d.orphans).toBe(0);
    expect(new Set(d.entries.map((e: unknown) => JSON.stringify(e)))).toEqual(
      new Set([leaseA4, leaseB4, leaseA6, leaseA6ll].map((e) => JSON.stringify(e))),
    );
  });

  it('streams a dump of thousands of elements, many datagrams per set, each entry handed over once (dumpEach)', async () => {
    const many = Array.from({ length: 3000 }, (_, i) => ({
      device: 'rb', mac: `02:00:00:cc:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`,
      prefix: `10.2.${100 + (i >> 8)}.${i & 0xff}/32`,
    }));
    expect(await worker!.call({ op: 'add', entries: many })).toEqual({ applied: 3000, already: 0, failures: [] });
    const listed = (set: string) =>
      (JSON.parse(inNs(NS.router, ['nft', '-j', 'list', 'set', 'inet', TABLE, set])).nftables.find((x: any) => x.set)?.set.elem ?? []).length;
    const inKernel = listed('allow4') + listed('allow6') + listed('allow6_56');
    expect(inKernel).toBe(3004); // nft(8)'s count, not gleand's
    const streamed = await worker!.call({ op: 'dumpEach' });
    expect(streamed.ok).toBe(true);
    expect(streamed.restarts).toBe(0);
    expect(streamed.skipped).toEqual([]);
    expect(streamed.entries).toHaveLength(inKernel);
    const all = new Set([leaseA4, leaseB4, leaseA6, leaseA6ll, ...many].map((e) => JSON.stringify(e)));
    expect(new Set(streamed.entries.map((e: unknown) => JSON.stringify(e)))).toEqual(all);
    expect(await worker!.call({ op: 'remove', entries: many })).toEqual({ applied: 3000, already: 0, failures: [] });
    expect((await worker!.call({ op: 'dumpEach' })).entries).toHaveLength(4);
  });

  it('a restart (new NftVerify, ensureRuleset) keeps the elements and re-creates the prefix rules', async () => {
    expect(await worker!.call({ op: 'open', table: TABLE })).toEqual({ ok: true });
    inNs(NS.router, ['nft', 'flush', 'chain', 'inet', TABLE, 'verify_prefix']); // as if the rules were lost
    expect(await worker!.call({ op: 'ensure', ports: ['ra', 'rb'] })).toEqual({ ok: true, value: { recreated: false } });
    const d = await worker!.call({ op: 'dump' });
    expect(d.entries).toHaveLength(4);
    expect(inNs(NS.router, ['nft', 'list', 'chain', 'inet', TABLE, 'verify_prefix'])).toContain('@allow6_56 accept');
  });

  it('passes leased sources and drops everything else from a subscriber port', async () => {
    inNs(NS.router, ['nft', 'flush', 'set', 'inet', OBS, 'seen']);
    const before = await worker!.call({ op: 'counter' });
    expect(before.ok).toBe(true);
    const drop: Probe[] = [
      { port: 40002, from: 'a', mac: mA, src: '10.1.0.11' }, // not leased
      { port: 40003, from: 'a', mac: mX, src: '10.1.0.10' }, // leased, other MAC
      { port: 40004, from: 'a', mac: mB, src: '10.2.0.20' }, // B's lease (and MAC) sent from port A
      { port: 40006, from: 'a', mac: mA, src: '2001:db8:101::1' }, // outside the /56
      { port: 40007, from: 'a', mac: mA, src: '2001:db8:200::1', dst: 'ff02::1:2', sport: 546 }, // unleased global to the DHCPv6 group
      { port: 40013, from: 'a', mac: mA, src: 'fe80::bad' }, // a link-local not leased
      { port: 40014, from: 'a', mac: mX, src: '2001:db8:100:5::1' }, // inside the /56, other MAC
      { port: 40015, from: 'b', mac: mA, src: '2001:db8:100:5::1' }, // inside the /56, A's MAC, from port B
      { port: 40016, from: 'b', mac: mA, src: 'fe80::aa:1' }, // A's link-local from port B
    ];
    send([
      { port: 40001, from: 'a', mac: mA, src: '10.1.0.10' },
      { port: 40005, from: 'a', mac: mA, src: '2001:db8:100:5::1' },
      { port: 40017, from: 'a', mac: mA, src: '2001:db8:100:ff:ffff:ffff:ffff:ffff' }, // last address of the /56
      { port: 40008, from: 'a', mac: mA, src: 'fe80::aa:1' }, // the leased link-local
      { port: 67, from: 'a', mac: mX, src: '0.0.0.0', dst: '255.255.255.255', sport: 68 },
      { port: 547, from: 'a', mac: mX, src: 'fe80::1', dst: 'ff02::1:2', sport: 546 },
      { port: 40009, from: 'b', mac: mB, src: '10.2.0.20' },
      ...drop,
    ]);
    await settle();
    expect(seen()).toEqual([67, 547, 40001, 40005, 40008, 40009, 40017]);
    const after = await worker!.call({ op: 'counter' });
    expect(after.packets - before.packets).toBeGreaterThanOrEqual(3 * drop.length);
    // nft(8) reads the same counter
    expect(inNs(NS.router, ['nft', 'list', 'counter', 'inet', TABLE, 'verify_drop'])).toMatch(/packets [1-9]/);
    // and the real stack: subscriber A pings the router from its leased address
    inNs(NS.a, ['ping', '-c', '2', '-W', '2', '-i', '0.3', '10.1.0.1']);
  });

  it('a relay-mode port: every client DHCP datagram is dropped (dhcp_to_relay), whatever its source and destination; a passive port admits only the broadcast', async () => {
    const packets = (counter: string): number => {
      const j = JSON.parse(inNs(NS.router, ['nft', '-j', 'list', 'counter', 'inet', TABLE, counter])) as { nftables: any[] };
      return Number(j.nftables.find((x) => x.counter !== undefined).counter.packets);
    };
    expect(await worker!.call({ op: 'ensure', ports: ['ra', 'rb'], relayPorts: ['ra'] })).toEqual({ ok: true, value: { recreated: false } });
    inNs(NS.router, ['nft', 'flush', 'set', 'inet', OBS, 'seen']);
    const before = packets('dhcp_to_relay');
    const dhcp: Probe[] = [
      { port: 67, from: 'a', mac: mX, src: '0.0.0.0', dst: '255.255.255.255', sport: 68 }, // a DISCOVER's broadcast
      { port: 67, from: 'a', mac: mA, src: '10.1.0.10', dst: '10.1.0.1', sport: 68 }, // leased, to the router itself
      { port: 67, from: 'a', mac: mA, src: '10.1.0.10', dst: '10.2.0.20', sport: 68 }, // leased, through it (a RENEWING client)
      { port: 67, from: 'a', mac: mX, src: '10.1.0.99', dst: '10.2.0.20', sport: 67 }, // a lower relay's, unleased
      { port: 547, from: 'a', mac: mX, src: 'fe80::1', dst: 'ff02::1:2', sport: 546 }, // a SOLICIT's multicast
      { port: 547, from: 'a', mac: mA, src: 'fe80::aa:1', dst: '2001:db8:fffe::1', sport: 546 }, // leased link-local, unicast
      { port: 547, from: 'a', mac: mA, src: '2001:db8:100::1', dst: '2001:db8:fffe::1', sport: 546 }, // leased prefix, unicast
    ];
    send([...dhcp, { port: 40020, from: 'a', mac: mA, src: '10.1.0.10', dst: '10.2.0.20', sport: 68 }]);
    await settle();
    expect(seen()).toEqual([40020]); // the leased source's other traffic still passes
    expect(packets('dhcp_to_relay') - before).toBe(3 * dhcp.length);
    // The passive port keeps what its own relay needs: the broadcast; not an unleased unicast to the router.
    inNs(NS.router, ['nft', 'flush', 'set', 'inet', OBS, 'seen']);
    const dropped = packets('verify_drop');
    send([{ port: 67, from: 'b', mac: mX, src: '10.2.0.99', dst: '10.2.0.1', sport: 68 }]);
    await settle();
    expect(seen()).toEqual([]);
    expect(packets('verify_drop') - dropped).toBe(3);
    send([{ port: 67, from: 'b', mac: mX, src: '0.0.0.0', dst: '255.255.255.255', sport: 68 }]);
    await settle();
    expect(seen()).toEqual([67]);
    expect(packets('dhcp_to_relay') - before).toBe(3 * dhcp.length);
    // A relay port without verify_source (in relay_ports, not in ports): its client DHCP
    // is still dropped (gleand relays it), and its other traffic is not verified at all.
    expect(await worker!.call({ op: 'ensure', ports: ['rb'], relayPorts: ['ra'] })).toEqual({ ok: true, value: { recreated: false } });
    inNs(NS.router, ['nft', 'flush', 'set', 'inet', OBS, 'seen']);
    const unverified = packets('dhcp_to_relay');
    send([dhcp[2]!, { port: 40021, from: 'a', mac: mX, src: '10.1.0.99', dst: '10.2.0.20', sport: 68 }]);
    await settle();
    expect(seen()).toEqual([40021]);
    expect(packets('dhcp_to_relay') - unverified).toBe(3);
    // Port A back to passive mode: relay_ports emptied in the same transaction as ports.
    expect(await worker!.call({ op: 'ensure', ports: ['ra', 'rb'] })).toEqual({ ok: true, value: { recreated: false } });
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'relay_ports'])).not.toContain('elements');
  });

  it('reports the kernel\'s answers to duplicate add and missing delete', async () => {
    const p = await worker!.call({ op: 'probe', entry: leaseA4 });
    expect(p).toMatchObject({ ok: true, addExisting: 'ok', deleteExisting: 'ok', addBack: 'ok' });
    expect(p.addExistingExcl).toMatch(/^EEXIST @\d+$/);
    expect(p.deleteMissing).toMatch(/^ENOENT @\d+$/);
    // through the API: a repeated add is applied (idempotent); a /57 inside the /56 is
    // another key in another set (allow6_57, created for it); an unknown device fails alone
    const r = await worker!.call({
      op: 'add',
      entries: [leaseA4, { device: 'ra', mac: mA, prefix: '2001:db8:100::/57' }, { device: 'rb', mac: mB, prefix: '10.2.0.21/32' }, { device: 'nope0', mac: mA, prefix: '10.9.0.0/16' }],
    });
    expect(r.applied).toBe(3);
    expect(r.failures.map((f: any) => [f.index, f.error.kind])).toEqual([[3, 'unknown-device']]);
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow6_57'])).toContain(`"ra" . ${mA} . 2001:db8:100::`);
    // one batch over three sets, two of the elements missing (one of them in a length set
    // that does not exist): each failure is set aside by its extended ACK, the rest applies
    const rm = await worker!.call({ op: 'remove', entries: [
      { device: 'rb', mac: mB, prefix: '10.2.0.21/32' }, { device: 'rb', mac: mB, prefix: '10.2.0.99/32' },
      { device: 'ra', mac: mA, prefix: '2001:db8:300::/48' }, { device: 'ra', mac: mA, prefix: '2001:db8:100::/57' },
    ] });
    expect(rm).toEqual({ applied: 2, already: 2, failures: [] });
  });

  it('removing the entries drops the leased traffic', async () => {
    const r = await worker!.call({ op: 'remove', entries: [leaseA4, leaseA6, leaseA6ll] });
    expect(r).toEqual({ applied: 3, already: 0, failures: [] });
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow4'])).not.toContain('10.1.0.10');
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow6_56'])).not.toContain('2001:db8:100');
    expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', TABLE, 'allow6'])).not.toContain('fe80::aa:1');
    inNs(NS.router, ['nft', 'flush', 'set', 'inet', OBS, 'seen']);
    send([
      { port: 40010, from: 'a', mac: mA, src: '10.1.0.10' },
      { port: 40011, from: 'a', mac: mA, src: '2001:db8:100:5::1' },
      { port: 40018, from: 'a', mac: mA, src: 'fe80::aa:1' },
      { port: 40012, from: 'b', mac: mB, src: '10.2.0.20' }, // B still leased
      { port: 67, from: 'a', mac: mA, src: '0.0.0.0', dst: '255.255.255.255', sport: 68 }, // can ask again
    ]);
    await settle();
    expect(seen()).toEqual([67, 40012]);
    expect(() => inNs(NS.a, ['ping', '-c', '1', '-W', '1', '10.1.0.1'])).toThrow();
    const d = await worker!.call({ op: 'dump' });
    expect(d.entries).toEqual([leaseB4]);
  });
  // The daemon's applier with the daemon's monitor: nft(8) loads the ruleset and creates
  // a prefix-length set from another netlink socket. Taken for someone else's change, each
  // started a repair, and one during a bulk restore fell through to a full diff with the
  // live batches applied inside it (twice the CPU and memory). Its own table, deleted after.
  it('nft(8) run by the applier (ruleset load, a new prefix-length set) is not taken for a change by someone else; `nft delete element` is', async () => {
    const table = 'gleand_own';
    try {
      expect(await worker!.call({ op: 'applierStart', table, ports: ['ra', 'rb'] })).toEqual({ ok: true });
      const added = await worker!.call({ op: 'applierAdd', entries: [leaseA6, { device: 'rb', mac: mB, prefix: '2001:db8:200::/48' }, leaseB4] });
      expect(added).toEqual({ applied: 3, failures: [], noDevice: 0, missed: [] });
      // nft(8) itself shows the sets it created
      expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', table, 'allow6_56'])).toContain('2001:db8:100::');
      expect(inNs(NS.router, ['nft', 'list', 'set', 'inet', table, 'allow6_48'])).toContain('2001:db8:200::');
      const ours = await worker!.call({ op: 'notes' });
      expect(ours.ok).toBe(true);
      const NEWSET = 9;
      const NEWRULE = 6;
      // the monitor did see nft's transactions: the table, its sets and rules
      expect(ours.notes.filter((n: any) => n.msg === NEWSET).length).toBeGreaterThanOrEqual(5);
      expect(ours.notes.some((n: any) => n.msg === NEWRULE)).toBe(true);
      expect(ours.notes.filter((n: any) => n.concerns)).toEqual([]);
      // someone else's change to the table is still seen
      inNs(NS.router, ['nft', 'delete', 'element', 'inet', table, 'allow4', `{ "rb" . ${mB} . 10.2.0.20 }`]);
      const theirs = await worker!.call({ op: 'notes' });
      expect(theirs.notes.filter((n: any) => n.concerns).length).toBeGreaterThan(0);
    } finally {
      inNs(NS.router, ['nft', 'delete', 'table', 'inet', table]);
    }
  });
});
