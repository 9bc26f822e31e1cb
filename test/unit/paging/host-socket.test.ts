// `gleand host register|listen` over real UDP sockets on the loopback device (the socket
// bound to it with SO_BINDTODEVICE, through the addon: `npm run build` first), against
// the agent's real core behind a node:dgram socket — the agent platform's own socket is
// issue 11's other half. Events are waited for, never timed.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Action } from '../../../src/actions';
import { createCore } from '../../../src/core';
import { CLIENT_COMMANDS } from '../../../platform/cli/commands';
import { dispatch } from '../../../platform/cli/dispatch';
import { Output } from '../../../platform/cli/output';
import { until } from '../../lab/wait';
import { signMessage } from '../../../src/paging/auth';
import { parseIP, parseIPv6 } from '../../../src/wire/address';
import { config } from '../relay/kit';

const v6 = (s: string) => parseIPv6(s)!;
import { AREA_KEY, EPOCH, MASTER, T0, at, bind, datagram, dormant, hmac, macOf, pagingConfig, v4 } from './kit';

const LOOP = { 4: '127.0.0.1', 6: '::1' } as const;
const MAC = macOf(7);
const LEASE = v4('198.51.100.7');

/**
 * The agent core behind a UDP socket on 127.0.0.1 (or ::1): what it wide casts to
 * 255.255.255.255 (ff02::1) goes to the host's port on the loopback address instead.
 */
class LoopAgent {
  readonly sock: dgram.Socket;

  constructor(readonly family: 4 | 6 = 4) {
    this.sock = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  }
  readonly c = createCore(T0, { paging: { hmacSha256: hmac, epoch: EPOCH } });
  readonly delivered: Uint8Array[] = [];
  hostPort = 0;
  t = 1;

  async start(): Promise<number> {
    await new Promise<void>((r) => this.sock.bind(0, LOOP[this.family], () => r()));
    this.sock.on('message', (msg, rinfo) => this.apply(this.c.agent.handle({
      kind: 'paging', port: 'lan1', family: this.family, source: parseIP(rinfo.address)!, sourcePort: rinfo.port, mac: MAC, payload: new Uint8Array(msg),
    }, at(this.t++))));
    return this.sock.address().port;
  }

  configure(hostPort: number, lease = LEASE): void {
    this.hostPort = hostPort;
    const first = this.c.agent.handle({ kind: 'config', config: config(pagingConfig()) }, T0);
    // The address it registers is its lease on lan1 (a loopback address is never a binding);
    // the datagrams come from 127.0.0.1, where the ACK goes back.
    if (lease.length === 4) bind({ ...this.c, first: [] }, lease, 'lan1', MAC);
    else {
      const w = this.c.bindings.write([{ op: 'upsert', fields: {
        family: 6, kind: 'address', address: lease, prefixLength: 128, port: 'lan1', mac: MAC, clientId: null, circuitId: null,
        remoteId: null, linkLocal: null, validUntil: null, source: 'glean',
      } }], T0);
      expect(w.changes.length).toBe(1);
    }
    this.apply(first);
  }

  apply(actions: Action[]): void {
    for (const a of actions) {
      if (a.kind === 'paging-send' && a.port === 'lan1' && a.family === this.family) {
        const port = a.destination[0] === 255 || a.destination[0] === 0xff ? this.hostPort : a.destinationPort;
        this.sock.send(a.payload, port, LOOP[this.family]);
      } else if (a.kind === 'link-send' && a.bytes[22] === 0x30) this.delivered.push(a.bytes);
    }
  }

  status = () => this.c.paging.status() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

async function freePort(family: 4 | 6): Promise<number> {
  const s = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  await new Promise<void>((r) => s.bind(0, LOOP[family], () => r()));
  const p = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

function cli(args: string[]) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => { text += d.toString(); });
  const lines = () => text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
  const exit = dispatch(['host', ...args], CLIENT_COMMANDS, new Output(stream));
  return { lines, exit };
}

const agents: LoopAgent[] = [];
afterEach(() => { for (const a of agents.splice(0)) a.sock.close(); });

async function setup(family: 4 | 6 = 4) {
  const agent = new LoopAgent(family);
  agents.push(agent);
  await agent.start();
  const hostPort = await freePort(family);
  const common = ['--id', 'laptop', '--master', MASTER, '--area-key', `lobby=${Buffer.from(AREA_KEY).toString('hex')}`, '--iface', 'lo',
    '--address', '198.51.100.7', '--port', String(hostPort), '--wait', '20'];
  return { agent, hostPort, common };
}

describe('gleand host over real sockets (loopback)', () => {
  it('register: hears the advert, registers, prints the ACK and exits 0; the agent tracks it dormant', async () => {
    const { agent, hostPort, common } = await setup();
    const run = cli(['register', ...common]);
    // dispatch runs the command up to its first await: the host's socket is bound by now.
    agent.configure(hostPort);
    expect(await run.exit).toBe(0);
    expect(run.lines().map((l) => l['event'])).toEqual(['advert', 'registered', 'dormant']);
    expect(run.lines()[1]).toEqual({ event: 'registered', cause: 'sleep', area: 'lobby', lifetimeS: 600, epoch: EPOCH });
    expect(agent.status()['hosts']).toMatchObject({ dormant: 1 });
  });

  it('deregister: after a register, waits for the next advert, DEREGISTER(inactive) acknowledged, exit 0', async () => {
    const { agent, hostPort, common } = await setup();
    const reg = cli(['register', ...common]);
    agent.configure(hostPort);
    expect(await reg.exit).toBe(0);
    const run = cli(['deregister', ...common]);
    // The next AREA_ADVERT (advert_interval 30 s in the agent's time) tells the new process the epoch.
    agent.t = 30_001;
    agent.apply(agent.c.agent.poll(at(30_000)));
    expect(await run.exit).toBe(0);
    expect(run.lines().map((l) => l['event'])).toEqual(['advert', 'deregistered']);
    expect(agent.status()['inactive']).toEqual({ planned: 1 });
  });

  it('register over IPv6 (--family 6): the same exchange on [::]:port bound to lo', async () => {
    const { agent, hostPort, common } = await setup(6);
    const run = cli(['register', ...common, '--family', '6', '--address', '2001:db8:1::7']);
    agent.configure(hostPort, v6('2001:db8:1::7'));
    expect(await run.exit).toBe(0);
    expect(run.lines()[1]).toEqual({ event: 'registered', cause: 'sleep', area: 'lobby', lifetimeS: 600, epoch: EPOCH });
    expect(agent.status()['hosts']).toMatchObject({ dormant: 1 });
  });

  it('listen: dormant, paged, the on-page command runs before the PAGE_RESPONSE, the held packet is delivered', async () => {
    const { agent, hostPort, common } = await setup();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-host-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    const marker = path.join(dir, 'woken');
    const run = cli(['listen', ...common, '--on-page', `echo "$GLEAND_HOST_EVENT" > ${marker}`, '--awake', '3600']);
    agent.configure(hostPort);
    await until('dormant', async () => run.lines().some((l) => l['event'] === 'dormant'));
    agent.apply(agent.c.agent.handle(dormant(datagram(v4('203.0.113.5'), LEASE, 7)), at(agent.t++)));
    await until('the held packet delivered', async () => agent.delivered.length === 1);
    expect(agent.delivered[0]![28]).toBe(7);
    expect(fs.readFileSync(marker, 'utf8')).toBe('awake\n');
    const events = run.lines().map((l) => l['event']);
    expect(events.slice(events.indexOf('paged'))).toEqual(['paged', 'awake', 'hook']);
    expect(run.lines().find((l) => l['event'] === 'hook')).toEqual({ event: 'hook', hook: 'on-page', status: 0 });
    expect(agent.status()).toMatchObject({ responses: 1, delivered: 1 });
    // A forged advert (wrong key) reaches the real socket: counted, reported once, nothing sent.
    const forged = signMessage({ epoch: EPOCH + 1, counter: 1n, id: 'lobby', body: { type: 'advert', intervalS: 30 } }, new Uint8Array(16).fill(9), hmac);
    agent.sock.send(forged, hostPort, LOOP[4]);
    await until('the forgery reported', async () => run.lines().some((l) => l['event'] === 'rejected'));
    expect(run.lines().find((l) => l['event'] === 'rejected')).toEqual({ event: 'rejected', reason: 'bad-mac', count: 1 });
    const sent = agent.status()['received'];
    // SIGTERM: DEREGISTER(inactive), acknowledged, then the counters and exit 0.
    process.emit('SIGTERM');
    expect(await run.exit).toBe(0);
    expect(run.lines().at(-2)).toEqual({ event: 'deregistered', reason: 2 });
    expect(run.lines().at(-1)).toMatchObject({ event: 'stopped', state: 'active', pages: 1 });
    expect(agent.status()['inactive']).toEqual({ planned: 1 });
    expect(agent.status()['received']).toBe(sent + 1);
  });
});
