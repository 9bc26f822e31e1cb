// Restore after a reboot by bulk leasequery (RFC 5460, RFC 6926): real ISC dhcpd -6 hands
// out an address and a delegated prefix, and dhcpd -4 an address, through gleand; the
// lab's bulk responder serves dhcpd's own lease files over TCP 547 and TCP 67. Then a "reboot": gleand killed, its routes, neighbours and
// nft table flushed, the snapshot removed. The restarted gleand must put every PD route,
// host route, neighbour and verify entry back before any client renews — judged with
// `ip` and `nft`, and the client's own event log (no RENEW), not with gleand's view.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, REPO_ROOT, requireRootAndNetns,
  type GleandHandle, type Lab, type LabClient, type LabProcess, type LeaseFacts,
} from '../lab/lab';
import { until } from '../lab/wait';

describe('bulk leasequery restore after a reboot', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let responder: LabProcess;
  let client: LabClient;
  let client4: LabClient;
  let lease: LeaseFacts;
  let lease4: LeaseFacts;
  let pd: LeaseFacts;
  const ip = async (...argv: string[]) => (await lab.exec(lab.router.ns, ['ip', ...argv])).stdout;
  const nft = async () => (await lab.exec(lab.router.ns, ['nft', 'list', 'table', 'inet', 'gleand'], { check: false })).stdout;

  /** What a reboot must bring back, read from the kernel. */
  async function kernelState() {
    const routes = await ip('-6', 'route', 'show', 'proto', '201');
    const neigh = await ip('-6', 'neigh', 'show', 'proto', '201');
    const routes4 = await ip('-4', 'route', 'show', 'proto', '201');
    const neigh4 = await ip('-4', 'neigh', 'show', 'nud', 'permanent');
    const sets = await nft();
    const dev = lab.subscribers[0]!.routerDev;
    const mac = lab.subscribers[0]!.mac;
    const ll = /fe80::[0-9a-f:]+/.exec(await lab.exec(lab.subscribers[0]!.ns, ['ip', '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link']).then((r) => r.stdout))![0];
    return {
      hostRoute: routes.includes(`${lease.address} dev ${dev}`),
      pdRoute: routes.includes(`${pd.delegatedPrefix} via ${ll} dev ${dev}`),
      neighbour: neigh.includes(`${lease.address} dev ${dev} lladdr ${lab.subscribers[0]!.mac}`),
      verifyAddress: sets.includes(`. ${lab.subscribers[0]!.mac} . ${lease.address}`),
      // nft prints a prefix element of the /56 set by its address
      verifyPrefix: new RegExp(`set allow6_56 \\{[^}]*${lab.subscribers[0]!.mac} \\. ${pd.delegatedPrefix!.split('/')[0]}`).test(sets),
      // the DHCPv4 lease (RFC 6926): host route, neighbour, allow4 element
      hostRoute4: routes4.includes(`${lease4.address} dev ${dev}`),
      neighbour4: neigh4.includes(`${lease4.address} dev ${dev} lladdr ${mac}`),
      verify4: new RegExp(`set allow4 \\{[^}]*${mac} \\. ${lease4.address!.replace(/\./g, '\\.')}\\b`).test(sets),
    };
  }
  const all = (s: Record<string, boolean>) => Object.values(s).every(Boolean);
  const renewals = () => ['dhclient6napd', 'dhclient4'].map((k) => fs.readFileSync(path.join(lab.dir, `${lab.subscribers[0]!.name}-${k}.events`), 'utf8')
    .split('\n').filter((l) => /RENEW|REBIND/.test(l)).length).reduce((a, b) => a + b, 0);

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 1 });
    // The port sends a remote-id, and gleand also asks by it and by the port's link-address.
    gleand = lab.startGleand(labGleandConfig(lab, {
      subscriber: () => ({ remote_id: 'cpe-0' }),
      extra: `config leasequery\n        list bulk_link_address '${lab.router.gateway6}'\n        list bulk_remote_id 'cpe-0'\n`,
    }));
    await gleand.ready();
    client = lab.startClient(0, 'dhclient6napd');
    client4 = lab.startClient(0, 'dhclient4');
    lease = await client.waitLease(6, 45_000);
    lease4 = await client4.waitLease(4, 45_000);
    pd = await until('the delegated prefix', async () => {
      try { const t = fs.readFileSync(path.join(lab.dir, `${lab.subscribers[0]!.name}-dhclient6napd.lease6pd`), 'utf8');
        const m = /new_ip6_prefix=(\S+)/.exec(t); return m ? { ...lease, delegatedPrefix: m[1]! } : null; } catch { return null; }
    }, 45_000);
    // dhcpd wrote both leases with the relay options gleand sent (the responder's source).
    await until('dhcpd6 lease file with relay data', async () => {
      const t = fs.readFileSync(lab.server.dhcpd6LeasesPath, 'utf8');
      return /iaprefix[\s\S]*set lab-rid = "[0-9a-f:]+"/.test(t) && /iaaddr[\s\S]*set lab-iid = "[0-9a-f:]+"/.test(t);
    }, 20_000);
    // dhcpd -4 stashed the option 82 gleand sent, relay-id included (stash-agent-options).
    await until('dhcpd4 lease file with relay data', async () => {
      const t = fs.readFileSync(lab.server.dhcpd4LeasesPath, 'utf8');
      return t.includes(`lease ${lease4.address} {`) && /option agent\.unknown-12 [0-9a-f:]+;/.test(t);
    }, 20_000);
    await until('the kernel state', async () => all(await kernelState()), 20_000);
    responder = lab.spawn(lab.server.ns, [
      path.join(REPO_ROOT, 'node_modules', '.bin', 'tsx'), path.join(REPO_ROOT, 'test', 'lab', 'bulk-responder.ts'),
      '--leases', lab.server.dhcpd6LeasesPath, '--allow', `${lab.router.ipv6},${lab.router.ipv4}`, '--link-address', lab.router.gateway6,
      '--leases4', lab.server.dhcpd4LeasesPath,
    ], { name: 'bulk-responder' });
    await lab.waitForLog(responder, 'listening on 547 and 67', 20_000);
  }, 180_000);

  afterAll(async () => {
    await lab?.teardown();
  });

  it('a requester not allowed is closed right after accept (RFC 5460 §8.1)', async () => {
    const r = await lab.exec(lab.server.ns, ['bash', '-c', `exec 3<>/dev/tcp/${lab.server.ipv6}/547 && cat <&3; echo done`], { check: false });
    expect(r.stdout).toContain('done');
    await until('the refusal', async () => /refused \S+ not-allowed/.test(responder.log()));
  });

  it('DHCPv4: a requester not allowed gets DHCPLEASEQUERYDONE NotAllowed (RFC 6926 §6.2.2)', async () => {
    // An independent requester (python, not gleand's codec): one DHCPBULKLEASEQUERY by relay-id.
    const py = `
import socket, struct
s = socket.create_connection(('${lab.server.ipv4}', 67), timeout=10)
m = bytearray(236); m[0] = 1; m[4:8] = struct.pack('!I', 0x4242)
m += bytes([99, 130, 83, 99, 53, 1, 14, 82, 4, 12, 2, 0, 1, 255])
s.sendall(struct.pack('!H', len(m)) + m)
h = s.recv(2); n = struct.unpack('!H', h)[0]; r = b''
while len(r) < n: r += s.recv(n - len(r))
o = r[240:]; opts = {}; i = 0
while i < len(o) and o[i] != 255:
    opts[o[i]] = o[i + 2:i + 2 + o[i + 1]]; i += 2 + o[i + 1]
print('op', r[0], 'xid', hex(struct.unpack('!I', r[4:8])[0]), 'type', opts[53][0], 'status', opts[151][0])
`;
    const r = await lab.exec(lab.server.ns, ['python3', '-c', py]);
    expect(r.stdout.trim()).toBe('op 2 xid 0x4242 type 15 status 4');
    await until('the refusal', async () => /query4 xid=16962 status=4 not-allowed/.test(responder.log()));
  });

  it('reboot: every PD route, host route, neighbour and verify entry is back from the servers before any renewal', async () => {
    const renewedBefore = renewals();
    await gleand.stop('SIGKILL');
    // What a reboot loses: gleand's routes and neighbours, its nft table, the tmpfs snapshot.
    await lab.exec(lab.router.ns, ['ip', '-6', 'route', 'flush', 'proto', '201']);
    await lab.exec(lab.router.ns, ['ip', '-6', 'neigh', 'flush', 'dev', lab.subscribers[0]!.routerDev, 'nud', 'all']);
    await lab.exec(lab.router.ns, ['ip', '-4', 'route', 'flush', 'proto', '201']);
    await lab.exec(lab.router.ns, ['ip', '-4', 'neigh', 'flush', 'dev', lab.subscribers[0]!.routerDev, 'nud', 'all']);
    await lab.exec(lab.router.ns, ['nft', 'delete', 'table', 'inet', 'gleand']);
    fs.rmSync(path.join(lab.dir, 'snapshot'), { recursive: true, force: true });
    const gone = await kernelState();
    expect(gone).toEqual({
      hostRoute: false, pdRoute: false, neighbour: false, verifyAddress: false, verifyPrefix: false, hostRoute4: false, neighbour4: false, verify4: false,
    });

    gleand = lab.startGleand(fs.readFileSync(gleand.configPath, 'utf8'));
    await gleand.ready();
    const back = await until('the kernel state restored', async () => { const s = await kernelState(); return all(s) ? s : null; }, 30_000);
    expect(back).toEqual({
      hostRoute: true, pdRoute: true, neighbour: true, verifyAddress: true, verifyPrefix: true, hostRoute4: true, neighbour4: true, verify4: true,
    });
    expect(renewals()).toBe(renewedBefore); // no client renewed meanwhile: the servers' data did it
    // the responder answered gleand's query by Relay-ID with both bindings
    expect(responder.log()).toMatch(/query xid=\d+ type=3 bindings=2/);
    expect(responder.log()).toMatch(/answered xid=\d+ bindings=2/);
    // and gleand's DHCPv4 bulk query by relay-id (RFC 6926) with the v4 binding
    expect(responder.log()).toMatch(/accepted4 10\.0\.0\.1\n/);
    expect(responder.log()).toMatch(/query4 xid=\d+ by=relay-id bindings=1/);
    expect(responder.log()).toMatch(/answered4 xid=\d+ bindings=1/);
    // then by place (bulk_link_address, bulk_remote_id), each after the previous ended: the
    // link holds both v6 bindings, the remote-id the v4 one (dhcpd stored option 82.2)
    expect(responder.log()).toMatch(/query xid=\d+ type=4 bindings=2/);
    expect(responder.log()).toMatch(/query4 xid=\d+ by=remote-id bindings=1/);
    expect(responder.log()).toMatch(/query xid=\d+ type=5 bindings=0/); // no remote_id_v6 sent: none
    // and gleand says where they came from
    const status = JSON.parse((await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout);
    expect(status.modules.bulk.recovery).toMatchObject({ state: 'finished', source: 'bulk-leasequery', trigger: 'start', restored: 3, refreshed: 3 });
    if (process.env['BULK_PRINT']) console.log(JSON.stringify(status.modules.bulk, null, 1));
    expect(status.modules.bulk.servers[lab.server.ipv4]).toMatchObject({ family: 4, state: 'done', queries: 2, completed: 2, received: 2 });
  }, 90_000);

  it('gleand recover asks again on demand', async () => {
    const before = (responder.log().match(/query xid=/g) ?? []).length;
    const r = await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'recover', '-c', gleand.configPath]);
    expect(r.stdout).toMatch(/bulk leasequery restore started: fd00::2/);
    await until('a second query', async () => (responder.log().match(/query xid=/g) ?? []).length > before);
  });
});
