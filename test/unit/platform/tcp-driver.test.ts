import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../../src/config/config';
import type { Event } from '../../../src/events';
import type { DriverContext } from '../../../platform/driver';
import { TcpDriver } from '../../../platform/tcp-driver';

const servers: net.Server[] = [];
const drivers: TcpDriver[] = [];
afterEach(async () => {
  for (const d of drivers.splice(0)) await d.stop();
  for (const s of servers.splice(0)) s.close();
});

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

/**
 * Flow control of a bulk stream: a real loopback peer sends more than the window holds;
 * the core's side is a context whose `emit` settles only when the test says the
 * slice's kernel entries are in.
 */
describe('TcpDriver', () => {
  it('hands a stream over in slices with at most one awaiting its kernel entries, reads on as they settle, and reports a peer\'s close after its last octet', async () => {
    const sent = new Uint8Array(100 * 1024).map((_, i) => (i * 7) & 0xff);
    const server = net.createServer((c) => c.end(sent));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;

    const slices: Uint8Array[] = [];
    const release: (() => void)[] = [];
    let closed = false;
    const ctx = {
      emit: (e: Event) => {
        if (e.kind !== 'tcp') return;
        if (e.what === 'closed') closed = true;
        if (e.what !== 'data') return;
        slices.push(Uint8Array.from(e.bytes));
        return new Promise<void>((r) => release.push(r));
      },
      log: () => undefined, desiredState: () => ({}), query: () => undefined,
    } as unknown as DriverContext;
    const d = new TcpDriver();
    drivers.push(d);
    await d.start({ upstreams: [] } as unknown as Config, ctx);
    d.execute({ kind: 'tcp-connect', conn: 1, upstream: 'u', family: 4, destination: Uint8Array.of(127, 0, 0, 1), destinationPort: port });

    await until(() => slices.length === 1);
    // The window is full: nothing more is handed over however long the kernel takes.
    await new Promise((r) => setTimeout(r, 50));
    expect(slices.length).toBe(1);
    expect(closed).toBe(false);
    // Each settled slice lets exactly one more in, until the stream ends.
    for (let i = 0; !closed; i++) {
      release[i]!();
      await until(() => slices.length === i + 2 || closed);
      expect(slices.length - (i + 1)).toBeLessThanOrEqual(1);
    }
    const got = new Uint8Array(slices.reduce((n, s) => n + s.length, 0));
    slices.reduce((at, s) => (got.set(s, at), at + s.length), 0);
    expect(got).toEqual(sent);
    expect(slices.every((s) => s.length <= 8 * 1024)).toBe(true);
    expect((d.status() as { pausedForKernel: number }).pausedForKernel).toBeGreaterThan(0);
  });
});
