/**
 * The control socket's bounds (platform/control.ts), on a real unix socket in a
 * temporary directory: silent connections cannot keep a speaking client out, a partial
 * request does not move the deadline, and a connection whose request is in progress
 * is never evicted.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ControlServer, controlRequest, MAX_CONNECTIONS } from '../../../platform/control';
import { until } from '../../lab/wait';

const dirs: string[] = [];
const servers: ControlServer[] = [];
const sockets: net.Socket[] = [];

afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

async function serve(handler: (cmd: string) => unknown = () => 'pong'): Promise<{ server: ControlServer; sock: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-ctl-'));
  dirs.push(dir);
  const sock = path.join(dir, 'ctl.sock');
  const server = new ControlServer(sock, handler);
  servers.push(server);
  await server.listen();
  return { server, sock };
}

/** A connection that never sends anything; resolves once connected, records when the server closes it. */
function silent(sock: string): Promise<{ closed: () => boolean; socket: net.Socket }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const s = net.connect(sock);
    sockets.push(s);
    s.on('close', () => { closed = true; });
    s.on('error', () => undefined);
    s.once('connect', () => resolve({ closed: () => closed, socket: s }));
    s.once('error', reject);
  });
}

const counters = (server: ControlServer) => server.status() as Record<string, number>;

describe('control socket bounds', () => {
  it('a client that speaks gets its answer however many connections sit silent; the oldest silent ones are evicted', async () => {
    const { server, sock } = await serve();
    const idle: { closed: () => boolean; socket: net.Socket }[] = [];
    for (let i = 0; i < MAX_CONNECTIONS * 3; i++) idle.push(await silent(sock));
    await until('the server to hold the bound', async () => counters(server)['accepted'] === MAX_CONNECTIONS * 3);
    expect(counters(server)['connections']).toBe(MAX_CONNECTIONS);
    expect(await controlRequest(sock, { cmd: 'ping' })).toBe('pong');
    // Oldest first: the first 2 × bound + 1 are gone, the newest are still open.
    await until('evicted connections to see their close', async () => idle.slice(0, MAX_CONNECTIONS * 2 + 1).every((c) => c.closed()));
    expect(idle[idle.length - 1]!.closed()).toBe(false);
    expect(counters(server)['evicted']).toBeGreaterThanOrEqual(MAX_CONNECTIONS * 2 + 1);
    expect(counters(server)['refused']).toBe(0);
  });

  it('a silent connection, and one that trickles a partial request, is closed at its deadline', async () => {
    const { server, sock } = await serve();
    const quiet = await silent(sock);
    const trickle = await silent(sock);
    const timer = setInterval(() => { if (!trickle.closed()) trickle.socket.write('{'); }, 100);
    try {
      await until('both closed by the server', async () => quiet.closed() && trickle.closed(), 10_000, 50);
    } finally {
      clearInterval(timer);
    }
    expect(counters(server)['idleClosed']).toBe(2);
  });

  it('a connection whose request is in progress is not evicted; with every slot busy the newcomer is refused', async () => {
    let release: (() => void) | null = null;
    const held = new Promise<void>((r) => { release = r; });
    const { server, sock } = await serve(async (cmd) => { if (cmd === 'wait') await held; return cmd; });
    const waiting = Array.from({ length: MAX_CONNECTIONS }, () => controlRequest(sock, { cmd: 'wait' }, 20_000));
    await until('every slot busy', async () => counters(server)['connections'] === MAX_CONNECTIONS && counters(server)['accepted'] === MAX_CONNECTIONS);
    const extra = await silent(sock);
    await until('the newcomer refused', async () => extra.closed());
    expect(counters(server)['refused']).toBeGreaterThanOrEqual(1);
    expect(counters(server)['evicted']).toBe(0);
    release!();
    expect(await Promise.all(waiting)).toEqual(Array(MAX_CONNECTIONS).fill('wait'));
  });

  it('the CLI gives a clear error when nothing listens', async () => {
    await expect(controlRequest('/nonexistent/gleand.sock', { cmd: 'ping' }, 1000)).rejects.toThrow(/cannot reach gleand/);
  });
});
