// The control socket under thousands of connections that never send a request: the
// CLI still gets its answer (with its normal timeout), and the silent connections are
// closed. Judged by the holder's own count of connections the peer closed and by
// ss(8) in the router namespace, besides gleand's counters.
// Needs root and network namespaces: fails loudly without them, never skips.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, REPO_ROOT, requireRootAndNetns, type GleandHandle, type Lab, type LabProcess } from '../lab/lab';
import { until } from '../lab/wait';

const IDLE = 4000;
/** MAX_CONNECTIONS in platform/control.ts. */
const BOUND = 32;
const HELPER = path.join(REPO_ROOT, 'test', 'e2e', 'helpers', 'idle-connections.py');

interface HolderState { opened: number; failed: number; closedByPeer: number; open: number; ready?: boolean }

describe('control socket bounds', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let holder: LabProcess;
  let sock: string;

  const holderState = (): HolderState | null => {
    const lines = holder.log().split('\n').filter((l) => l.startsWith('{'));
    return lines.length ? JSON.parse(lines[lines.length - 1]!) as HolderState : null;
  };
  const status = async () => lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath], { check: false });

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 1, startServers: false });
    sock = `${lab.dir}/gleand.sock`;
    gleand = lab.startGleand(labGleandConfig(lab));
    await gleand.ready();
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it(`answers status while ${IDLE} connections sit silent, and closes them`, async () => {
    holder = lab.spawn(lab.router.ns, ['/usr/bin/python3', HELPER, sock, String(IDLE)], { name: 'idle-connections' });
    await until('the holder to open its connections', async () => {
      if (!holder.running()) throw new Error(holder.log());
      return holder.log().includes('"ready": true');
    }, 60_000, 50).catch(async (e: Error) => {
      throw new Error(`${e.message}\nholder: ${holder.log()}\n${(await status()).stdout.slice(0, 300)}`);
    });
    const opened = holderState()!.opened;
    expect(opened).toBeGreaterThan(IDLE / 2);

    // At once, while the holder still has every connection open from its side.
    const r = await status();
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as { pid: number; control: Record<string, number> };
    expect(s.pid).toBe(gleand.pid);

    // gleand's side holds at most the bound (ss: accepted sockets on the path).
    const ss = (await lab.exec(lab.router.ns, ['ss', '-xH', 'state', 'connected', 'src', sock])).stdout;
    expect(ss.split('\n').filter((l) => l.trim()).length).toBeLessThanOrEqual(BOUND);

    // Every silent connection is closed by gleand: evicted at the bound or at its deadline.
    await until('every idle connection closed by gleand', async () => holderState()!.closedByPeer === opened, 20_000);
    const after = JSON.parse((await status()).stdout) as { control: Record<string, number> };
    console.log(JSON.stringify({ opened, control: after.control }));
    expect(after.control['evicted']! + after.control['idleClosed']! + after.control['refused']!).toBeGreaterThanOrEqual(opened);
    expect(after.control['idleClosed']).toBeGreaterThan(0);
    expect(after.control['connections']).toBeLessThanOrEqual(BOUND);
    expect(gleand.proc.running()).toBe(true);
    await holder.stop();
  });

  it('a connection that trickles a partial request is closed at its deadline all the same', async () => {
    const r = await lab.exec(lab.router.ns, ['/usr/bin/python3', '-c', [
      'import socket, time, sys',
      's = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)',
      `s.connect(${JSON.stringify(sock)})`,
      'start = time.time()',
      'try:',
      '    for c in b\'{"cmd":"status"\' * 100:',
      '        s.send(bytes([c]))',
      '        time.sleep(0.1)',
      '        if time.time() - start > 20: break',
      'except OSError:',
      '    print("closed by gleand"); sys.exit(0)',
      'print("still open"); sys.exit(1)',
    ].join('\n')], { check: false });
    expect(r.stdout.trim()).toBe('closed by gleand');
  });
});
