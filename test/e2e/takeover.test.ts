// Issue 13 items 2 and 4, with a second station on a subscriber's port (Lab.addStation):
//   2. while a real dhclient -6 renews, the station sends a SOLICIT from the client's
//      link-local with its own MAC right after each RENEW (20 races): every REPLY must
//      still reach the client's MAC (tshark on the router port) and the kernel state —
//      neighbours, PD route, verify elements — must still name the client (ip, nft);
//   4. the station forges a RELEASE (v4 and v6) for a real client's lease, from the same
//      port and from another port — broadcast, and unicast to the server from a lease of
//      its own (a verified source) — : no RELEASE may reach the server (tshark at the
//      server) and dhcpd's lease files must keep the leases active; the client's own
//      RELEASE (unicast, RFC 2131 §4.4.4) reaches the server once, relayed by gleand
//      (giaddr set), and frees its lease.
// Judged by the kernel, the wire and dhcpd, never by gleand's view alone.
// E2E_GLEAND_BUNDLE runs another build (a saved build/out) to show the holes before the fix.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab, type LabClient, type LabStation, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

const PY = '/usr/bin/python3'; // Debian's python3 has scapy
const PROTO = '201';
const ROUNDS = 20;
const BUNDLE = process.env['E2E_GLEAND_BUNDLE'] ?? GLEAND_BUNDLE;

describe('a second station on a subscriber port (issue 13 items 2 and 4)', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let v6client: LabClient;
  let v4client: LabClient;
  let lease6: LeaseFacts;
  let lease4: LeaseFacts;
  let st0: LabStation; // on sub0's port, beside the DHCPv6 client
  let st1: LabStation; // on sub1's port, beside the DHCPv4 client
  let port0: Capture;
  let server: Capture;

  /** The DHCPv6 client's link-local (sub0's eth0). */
  const linkLocal0 = async () => (await lab.exec(lab.subscribers[0]!.ns, ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']))
    .stdout.match(/inet6 (fe80::[0-9a-f:]+)\//)![1]!;
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nftSet = async (set: string) => (await lab.exec(lab.router.ns, ['nft', 'list', 'set', 'inet', 'gleand', set])).stdout;
  /** Packets an nft counter of gleand's table counted; NaN when there is no such counter (an older build). */
  const nftCounter = async (name: string) => {
    const r = await lab.exec(lab.router.ns, ['nft', '-j', 'list', 'counter', 'inet', 'gleand', name], { check: false });
    if (r.code !== 0) return NaN;
    return Number(JSON.parse(r.stdout).nftables.find((x: { counter?: unknown }) => x.counter).counter.packets);
  };
  /** The body of the last block dhcpd wrote for `head` (`lease 10.1.0.100`, `iaaddr fd00:1::1000`): its current state. */
  const lastBlock = (file: string, head: string): string => {
    const text = fs.readFileSync(file, 'utf8');
    const at = text.lastIndexOf(`${head} {`);
    return at < 0 ? '' : text.slice(at, text.indexOf('}', at));
  };

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    // Renewals every ~2 s (dhcpd sets T1 = 0.5, T2 = 0.8 × the preferred lifetime), each
    // extending the lease (no reuse of a young lease: dhcp-cache-threshold 0), so twenty
    // races take under a minute.
    const conf = fs.readFileSync(lab.server.dhcpd6ConfPath, 'utf8');
    fs.writeFileSync(lab.server.dhcpd6ConfPath, conf.replace('allow leasequery;',
      'allow leasequery;\npreferred-lifetime 4;\ndhcpv6-set-tee-times true;\ndhcp-cache-threshold 0;'));
    await lab.startDhcpd(6);
    st0 = await lab.addStation(0);
    st1 = await lab.addStation(1);
    port0 = await lab.capture(lab.router.ns, lab.subscribers[0]!.routerDev, 'udp port 546 or udp port 547', 'port0');
    server = await lab.capture(lab.server.ns, lab.server.dev, 'udp port 67 or udp port 547', 'server');
    gleand = lab.startGleand(labGleandConfig(lab), { bundle: BUNDLE });
    await gleand.ready();
    v6client = lab.startClient(0, 'dhclient6napd');
    v4client = lab.startClient(1, 'udhcpc');
    [lease6, lease4] = await Promise.all([v6client.waitLease(6, 45_000), v4client.waitLease(4, 45_000)]);
  }, 120_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  describe('item 2: link-local takeover during RENEW', () => {
    let races: string[] = [];
    let replies: string[][] = [];

    beforeAll(async () => {
      const script = path.join(__dirname, 'takeover-race.py');
      const race = lab.spawn(lab.subscribers[0]!.ns, [PY, script, st0.ns, st0.mac, String(ROUNDS), await linkLocal0()], { name: 'race' });
      // A client whose replies were taken stops renewing on time (it rebinds): the races
      // that did happen are judged below, and the count fails on its own.
      await lab.waitForLog(race, /^done$/m, 150_000).catch(() => race.stop());
      races = [...race.log().matchAll(/renew-xid ([0-9a-f]{6})/g)].map((m) => m[1]!);
      console.log(race.log().split('\n').filter((l) => l.startsWith('race')).join('\n'));
      // Each race's RENEW answered (or given up on) before the capture is read.
      const last = races.at(-1) ?? '000000';
      await until('the REPLY to the last raced RENEW', async () => {
        const seen = await tsharkFields(port0.pcapPath, `dhcpv6.msgtype == 7 && dhcpv6.xid == 0x${last}`, ['eth.dst']);
        return seen.length > 0;
      }, 30_000, 250).catch(() => undefined);
      await port0.stop();
      replies = await tsharkFields(port0.pcapPath, 'udp.dstport == 546', ['eth.dst', 'dhcpv6.msgtype', 'dhcpv6.xid']);
    }, 240_000);

    it(`raced ${ROUNDS} RENEWs of the real client with a SOLICIT from its link-local and another MAC`, () => {
      expect(races).toHaveLength(ROUNDS);
      expect(new Set(races).size).toBe(ROUNDS);
    });

    it('every REPLY to a raced RENEW went to the client\'s MAC; the station got only answers to its own SOLICITs (tshark)', () => {
      const sub = lab.subscribers[0]!;
      expect(races.length).toBeGreaterThan(0);
      for (const xid of races) {
        const to = replies.filter(([, type, x]) => type === '7' && x === `0x${xid}`).map(([dst]) => dst);
        expect(to.length, `REPLY to RENEW ${xid}`).toBeGreaterThan(0);
        expect(new Set(to), `REPLY to RENEW ${xid}`).toEqual(new Set([sub.mac]));
      }
      const toStation = replies.filter(([dst]) => dst === st0.mac);
      expect(toStation.length).toBeGreaterThan(0);
      expect(toStation.every(([, type]) => type === '2')).toBe(true); // ADVERTISE to its SOLICITs only
    });

    it('the client still holds its lease and the kernel state still names its MAC (ip -6 neigh, ip -6 route, nft)', async () => {
      const sub = lab.subscribers[0]!;
      const ll = await linkLocal0();
      const neigh = await ip('-6', 'neigh', 'show', 'proto', PROTO);
      expect(neigh).toContain(`${lease6.address} dev ${sub.routerDev} lladdr ${sub.mac} PERMANENT`);
      expect(neigh).toContain(`${ll} dev ${sub.routerDev} lladdr ${sub.mac} PERMANENT`);
      expect(neigh).not.toContain(st0.mac);
      const routes = await ip('-6', 'route', 'show', 'proto', PROTO);
      expect(routes).toContain(`${lease6.delegatedPrefix} via ${ll} dev ${sub.routerDev}`);
      const allow6 = await nftSet('allow6');
      expect(allow6).toContain(`"${sub.routerDev}" . ${sub.mac} . ${lease6.address}`);
      expect(allow6).not.toContain(st0.mac);
      const [pd, len] = lease6.delegatedPrefix!.split('/');
      const allowPd = await nftSet(`allow6_${len}`);
      expect(allowPd).toContain(`"${sub.routerDev}" . ${sub.mac} . ${pd}`);
      expect(allowPd).not.toContain(st0.mac);
      expect(v6client.proc.running()).toBe(true);
    });
  });

  describe('item 4: forged RELEASE from a second station', () => {
    const serverReleases = async () => ({
      v4: await tsharkFields(server.pcapPath, 'dhcp.option.dhcp == 7', ['ip.src', 'dhcp.ip.relay', 'dhcp.ip.client']),
      v6: await tsharkFields(server.pcapPath, 'dhcpv6.msgtype == 8', ['dhcpv6.peeraddr']),
    });
    /** scapy from a station: one DHCP frame, broadcast (so only the relay can carry it on). */
    const sendFrom = async (station: LabStation, layers: string) => {
      await lab.exec(station.ns, [PY, '-c', `from scapy.all import *\nsendp(${layers}, iface='eth0', verbose=False)`]);
    };
    const forge4 = (station: LabStation) => sendFrom(station,
      `Ether(src='${station.mac}', dst='ff:ff:ff:ff:ff:ff')/IP(src='${lease4.address}', dst='255.255.255.255')/UDP(sport=68, dport=67)/` +
      `BOOTP(op=1, chaddr=bytes.fromhex('${lab.subscribers[1]!.mac.replace(/:/g, '')}'), ciaddr='${lease4.address}', xid=0x4242)/` +
      `DHCP(options=[('message-type', 'release'), ('server_id', '${lab.server.ipv4}'), 'end'])`);
    let ids: { duid: string; serverDuid: string; iaids: string[] };
    const forge6 = (station: LabStation) => {
      const [pd, len] = lease6.delegatedPrefix!.split('/');
      const opt = (code: number, data: string) => `struct.pack('!HH', ${code}, len(${data})) + ${data}`;
      const na = opt(5, `socket.inet_pton(socket.AF_INET6, '${lease6.address}') + bytes(8)`);
      const pfx = opt(26, `bytes(8) + bytes([${len}]) + socket.inet_pton(socket.AF_INET6, '${pd}')`);
      const body = [
        opt(1, `bytes.fromhex('${ids.duid}')`), opt(2, `bytes.fromhex('${ids.serverDuid}')`), opt(8, `bytes(2)`),
        opt(3, `bytes.fromhex('${ids.iaids[0]}') + bytes(8) + ${na}`), opt(25, `bytes.fromhex('${ids.iaids[1]}') + bytes(8) + ${pfx}`),
      ].join(' + ');
      return sendFrom(station, `Ether(src='${station.mac}', dst='33:33:00:01:00:02')/IPv6(src='fe80::99', dst='ff02::1:2', hlim=1)/` +
        `UDP(sport=546, dport=547)/Raw(b'\\x08\\x42\\x42\\x42' + ${body})`).then(() => undefined);
    };

    beforeAll(async () => {
      // The client's DUID, the server's and the IAIDs, as its own REPLYed REQUEST/RENEW carried them (tshark).
      const [renew] = await tsharkFields(port0.pcapPath, 'dhcpv6.msgtype == 5', ['dhcpv6.duid.bytes', 'dhcpv6.iaid']);
      const [duid, serverDuid] = renew![0]!.split(',');
      ids = { duid: duid!.replace(/:/g, ''), serverDuid: serverDuid!.replace(/:/g, ''), iaids: renew![1]!.split(',').map((x) => x.replace(/^0x/, '').padStart(8, '0')) };
    });

    it('forged DHCPv4 RELEASE for the udhcpc client\'s lease, from its port and from another: none reaches dhcpd, the lease stays active', async () => {
      await forge4(st1); // same port, another MAC
      await forge4(st0); // another port
      // A broadcast the relay drops leaves no trace to wait for; a DISCOVER sent after it
      // through the same relay marks that everything before it was handled.
      await sendFrom(st1, `Ether(src='${st1.mac}', dst='ff:ff:ff:ff:ff:ff')/IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67)/` +
        `BOOTP(op=1, chaddr=bytes.fromhex('${st1.mac.replace(/:/g, '')}'), xid=0x5151)/DHCP(options=[('message-type', 'discover'), 'end'])`);
      await until('the marker DISCOVER at the server', async () =>
        (await tsharkFields(server.pcapPath, 'dhcp.id == 0x5151', ['frame.number'])).length > 0, 15_000);
      expect((await serverReleases()).v4).toEqual([]);
      expect(lastBlock(lab.server.dhcpd4LeasesPath, `lease ${lease4.address}`)).toMatch(/binding state active;/);
    });

    it('forged DHCPv6 RELEASE (the client\'s DUID, IA_NA and IA_PD), from its port and from another: none reaches dhcpd, the leases stay active', async () => {
      await forge6(st0);
      await forge6(st1);
      await sendFrom(st0, `Ether(src='${st0.mac}', dst='33:33:00:01:00:02')/IPv6(src='fe80::99', dst='ff02::1:2', hlim=1)/` +
        `UDP(sport=546, dport=547)/DHCP6_Solicit(trid=0x515151)/DHCP6OptClientId(duid=DUID_LL(lladdr='${st0.mac}'))/DHCP6OptElapsedTime()`);
      await until('the marker SOLICIT at the server', async () =>
        (await tsharkFields(server.pcapPath, 'dhcpv6.xid == 0x515151', ['frame.number'])).length > 0, 15_000);
      expect((await serverReleases()).v6).toEqual([]);
      expect(lastBlock(lab.server.dhcpd6LeasesPath, `iaaddr ${lease6.address}`)).toMatch(/binding state active;/);
      expect(lastBlock(lab.server.dhcpd6LeasesPath, `iaprefix ${lease6.delegatedPrefix}`)).toMatch(/binding state active;/);
    });

    // The hole a review found: a station with a lease of its own sends from a verified
    // source, so the kernel used to forward its unicast RELEASE (RFC 2131 §4.4.4) for the
    // neighbour's address past the guard. On a relay port the verify chain now drops it
    // and gleand's guard judges it like a broadcast one.
    it('a station with a lease of its own unicasts a forged RELEASE for its neighbour\'s lease to dhcpd: none arrives, the lease stays active', async () => {
      const sub = lab.subscribers[1]!;
      const script = path.join(lab.dir, 'station1-udhcpc.sh');
      fs.writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && echo "$ip" > '${script}.ip'\nexit 0\n`, { mode: 0o755 });
      await lab.exec(st1.ns, ['udhcpc', '-f', '-q', '-n', '-i', 'eth0', '-s', script, '-t', '20', '-T', '1', '-A', '1'], { timeoutMs: 60_000 });
      const own = fs.readFileSync(`${script}.ip`, 'utf8').trim();
      expect(own).not.toBe(lease4.address);
      // Its source is verified: port . its MAC . its address is in the allow set.
      await until('the station\'s verify element', async () => (await nftSet('allow4')).includes(`${st1.mac} . ${own}`), 15_000);
      const dropsBefore = await nftCounter('dhcp_to_relay');
      await sendFrom(st1,
        `Ether(src='${st1.mac}', dst='${sub.routerMac}')/IP(src='${own}', dst='${lab.server.ipv4}')/UDP(sport=68, dport=67)/` +
        `BOOTP(op=1, chaddr=bytes.fromhex('${sub.mac.replace(/:/g, '')}'), ciaddr='${lease4.address}', xid=0x6161)/` +
        `DHCP(options=[('message-type', 'release'), ('server_id', '${lab.server.ipv4}'), 'end'])`);
      // The kernel forwards faster than the relay relays: once a DISCOVER the station
      // broadcasts after it has reached dhcpd through gleand, a forwarded RELEASE would have too.
      await sendFrom(st1, `Ether(src='${st1.mac}', dst='ff:ff:ff:ff:ff:ff')/IP(src='0.0.0.0', dst='255.255.255.255')/UDP(sport=68, dport=67)/` +
        `BOOTP(op=1, chaddr=bytes.fromhex('${st1.mac.replace(/:/g, '')}'), xid=0x6262)/DHCP(options=[('message-type', 'discover'), 'end'])`);
      await until('the marker DISCOVER at the server', async () =>
        (await tsharkFields(server.pcapPath, 'dhcp.id == 0x6262', ['frame.number'])).length > 0, 15_000);
      expect((await serverReleases()).v4).toEqual([]);
      expect(lastBlock(lab.server.dhcpd4LeasesPath, `lease ${lease4.address}`)).toMatch(/binding state active;/);
      expect((await nftCounter('dhcp_to_relay')) - dropsBefore).toBeGreaterThanOrEqual(1);
    });

    // udhcpc unicasts its RELEASE to the server (RFC 2131 §4.4.4): on a relay port gleand
    // relays it (the verify chain drops the unicast), so it reaches dhcpd once, with giaddr.
    it('the client\'s own RELEASE (udhcpc, SIGUSR2) reaches dhcpd once, relayed by gleand, and frees the lease', async () => {
      process.kill(v4client.proc.pid, 'SIGUSR2');
      await until('dhcpd to free the lease', async () =>
        /binding state free;/.test(lastBlock(lab.server.dhcpd4LeasesPath, `lease ${lease4.address}`)), 15_000);
      // The capture file lags dhcpd's lease file: wait for it too before counting.
      await until('the client\'s RELEASE in the server capture', async () => (await serverReleases()).v4.length > 0, 15_000);
      const releases = (await serverReleases()).v4;
      expect(releases.map(([, giaddr, ciaddr]) => [giaddr, ciaddr])).toEqual([[lab.router.gateway4, lease4.address]]);
      expect(releases[0]![0]).not.toBe(lease4.address); // from the router, not straight from the client
    });
  });
});
