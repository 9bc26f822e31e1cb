// Subscriber ports with tx checksum offload on, as every veth, VM tap and virtio port has
// by default: a client's UDP leaves its stack with the checksum unfinished
// (CHECKSUM_PARTIAL) and reaches gleand's packet socket that way. gleand must take the
// kernel's word (PACKET_AUXDATA tp_status) instead of dropping the frame as malformed.
// Judged by tshark (checksums on the wire), dhcpd's lease files and ip(8) in the router.
// Needs root: fails loudly, never skips.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns,
  type Capture, type GleandHandle, type Lab, type LeaseFacts,
} from '../lab/lab';

const PROTO = '201';

/** tshark with UDP checksum validation on: [udp.srcport, udp.checksum.status] per frame (1 good, 0 bad). */
async function udpChecksums(pcap: string, filter: string): Promise<{ sport: number; status: string }[]> {
  const { stdout } = await promisify(execFile)('tshark', ['-n', '-r', pcap, '-o', 'udp.check_checksum:TRUE',
    '-Y', filter, '-T', 'fields', '-e', 'udp.srcport', '-e', 'udp.checksum.status']);
  return stdout.split('\n').filter((l) => l).map((l) => {
    const [sport, status] = l.split('\t');
    return { sport: Number(sport), status: status ?? '' };
  });
}

describe('DHCP through subscriber ports with checksum offload on', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let cap4: Capture;
  let cap6: Capture;
  let lease4: LeaseFacts;
  let lease6: LeaseFacts;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2 });
    cap4 = await lab.capture(lab.subscribers[0]!.ns, 'eth0', 'udp port 67 or udp port 68', 'csum-p0');
    cap6 = await lab.capture(lab.subscribers[1]!.ns, 'eth0', 'udp port 546 or udp port 547', 'csum-p1');
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
    const c4 = lab.startClient(0, 'dhclient4');
    const c6 = lab.startClient(1, 'dhclient6napd');
    [lease4, lease6] = await Promise.all([c4.waitLease(4, 45_000), c6.waitLease(6, 45_000)]);
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('the subscriber veths keep tx checksum offload on (ethtool -k)', async () => {
    for (const sub of lab.subscribers) {
      const k = (await lab.exec(sub.ns, ['ethtool', '-k', 'eth0'])).stdout;
      expect(k).toMatch(/^tx-checksumming: on/m);
    }
  });

  it('dhclient -6 (IA_NA + IA_PD) got its lease: in dhcpd6.leases and routed in the router (ip -6 route)', async () => {
    expect(lease6.address).toMatch(/^fd00:1::/);
    expect(lease6.delegatedPrefix).toMatch(/^2001:db8:1[0-9a-f]{2}:[0-9a-f]{0,2}00::\/56$/);
    const leases = fs.readFileSync(lab.server.dhcpd6LeasesPath, 'utf8');
    expect(leases).toContain(`iaaddr ${lease6.address}`);
    expect(leases).toContain(`iaprefix ${lease6.delegatedPrefix}`);
    const routes = (await lab.exec(lab.router.ns, ['ip', '-6', 'route', 'show', 'proto', PROTO])).stdout;
    const dev = lab.subscribers[1]!.routerDev;
    expect(routes).toMatch(new RegExp(`^${lease6.address} dev ${dev} `, 'm'));
    expect(routes).toContain(`${lease6.delegatedPrefix!} via fe80::`);
  });

  it('dhclient -4 got its lease: in dhcpd4.leases and routed in the router (ip route)', async () => {
    expect(lease4.address).toMatch(/^10\.1\.0\.\d+$/);
    expect(fs.readFileSync(lab.server.dhcpd4LeasesPath, 'utf8')).toContain(`lease ${lease4.address} {`);
    const routes = (await lab.exec(lab.router.ns, ['ip', '-4', 'route', 'show', 'proto', PROTO])).stdout;
    expect(routes).toContain(`${lease4.address} dev ${lab.subscribers[0]!.routerDev} scope link`);
  });

  it('the client sent unfinished checksums (tshark: bad) and every frame gleand wrote carries a correct one', async () => {
    const six = await udpChecksums(await cap6.stop(), 'udp');
    const fromClient = six.filter((f) => f.sport === 546);
    const fromGleand = six.filter((f) => f.sport === 547);
    // dhclient -6 sends through a UDP socket: with offload on, its frames are unfinished.
    expect(fromClient.length).toBeGreaterThan(0);
    expect(fromClient.every((f) => f.status === '0'), JSON.stringify(fromClient)).toBe(true);
    // gleand writes its frames whole (packet socket): they must verify.
    expect(fromGleand.length).toBeGreaterThan(0);
    expect(fromGleand.every((f) => f.status === '1'), JSON.stringify(fromGleand)).toBe(true);
    const four = await udpChecksums(await cap4.stop(), 'udp.srcport == 67');
    expect(four.length).toBeGreaterThan(0);
    expect(four.every((f) => f.status === '1'), JSON.stringify(four)).toBe(true);
  });
});
