/**
 * `gleand bindings` pieces: the filter (platform/cli/bindings-filter.ts), the streamed
 * table (platform/cli/table.ts StreamTable), and the control socket's streamed answer
 * (platform/control.ts `stream`) read back by `controlStream`, slow reader included.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bindingMatches, parseBindingFilter, type BindingFilter } from '../../../platform/cli/bindings-filter';
import { StreamTable, table } from '../../../platform/cli/table';
import * as net from 'node:net';
import { ControlServer, controlRequest, controlStream, STREAM_STALL_MS } from '../../../platform/control';
import { until } from '../../lab/wait';

const filter = (args: Record<string, string>): BindingFilter => {
  const f = parseBindingFilter(new Map(Object.entries(args)));
  if (typeof f === 'string') throw new Error(f);
  return f;
};
const row = (binding: string, port = 'lan1', mac = '02:00:00:00:00:01', source = 'glean') => ({ binding, port, mac, source });

describe('bindings filter', () => {
  it('--address: the binding holding an address, a delegated prefix containing it, or the bindings within a prefix', () => {
    const f = filter({ '--address': '2001:db8:100:142::1' });
    expect(bindingMatches(f, row('2001:db8:100:100::/56'))).toBe(true);
    expect(bindingMatches(f, row('2001:db8:100:200::/56'))).toBe(false);
    expect(bindingMatches(f, row('2001:db8:100:142::1/128'))).toBe(true);
    expect(bindingMatches(f, row('10.0.0.1/32'))).toBe(false);
    const within = filter({ '--address': '10.64.1.0/24' });
    expect(bindingMatches(within, row('10.64.1.200/32'))).toBe(true);
    expect(bindingMatches(within, row('10.64.2.1/32'))).toBe(false);
    // a /23 boundary: the mask of a partial octet
    const odd = filter({ '--address': '10.64.2.0/23' });
    expect(bindingMatches(odd, row('10.64.3.9/32'))).toBe(true);
    expect(bindingMatches(odd, row('10.64.4.9/32'))).toBe(false);
  });

  it('--port, --source exactly; --mac in any case; all given must match', () => {
    const f = filter({ '--port': 'lan2', '--mac': '02:00:00:00:00:AB', '--source': 'leasequery' });
    expect(bindingMatches(f, row('10.0.0.1/32', 'lan2', '02:00:00:00:00:ab', 'leasequery'))).toBe(true);
    expect(bindingMatches(f, row('10.0.0.1/32', 'lan1', '02:00:00:00:00:ab', 'leasequery'))).toBe(false);
    expect(bindingMatches(f, row('10.0.0.1/32', 'lan2', '02:00:00:00:00:ac', 'leasequery'))).toBe(false);
    expect(bindingMatches(f, row('10.0.0.1/32', 'lan2', '02:00:00:00:00:ab', 'glean'))).toBe(false);
  });

  it('says what is wrong with a bad filter', () => {
    expect(parseBindingFilter(new Map([['--address', '10.1.2']]))).toMatch(/not an IPv4 or IPv6 address/);
    expect(parseBindingFilter(new Map([['--mac', '02:00']]))).toMatch(/not a MAC/);
    expect(parseBindingFilter(new Map([['--source', 'dhcp']]))).toMatch(/not a source/);
    expect(parseBindingFilter(new Map<string, string | true>([['--port', true]]))).toMatch(/needs a port/);
  });
});

describe('StreamTable', () => {
  it('prints a short table as table() does', async () => {
    let out = '';
    const t = new StreamTable(['A', 'BB'], async (s) => { out += s; });
    await t.row(['x', 1]);
    await t.row(['longer', 22]);
    await t.end();
    expect(out).toBe(`${table(['A', 'BB'], [['x', 1], ['longer', 22]])}\n`);
  });

  it('keeps the widths of its first rows for the rest', async () => {
    let out = '';
    const t = new StreamTable(['A', 'B'], async (s) => { out += s; });
    for (let i = 0; i < StreamTable.WIDTH_SAMPLE; i++) await t.row(['a', 'b']);
    const before = out;
    expect(before.split('\n')).toHaveLength(StreamTable.WIDTH_SAMPLE + 2);
    await t.row(['wider', 'b']);
    await t.end();
    expect(out.slice(before.length)).toBe('wider  b\n');
  });
});

describe('streamed control answers', () => {
  const dirs: string[] = [];
  const servers: ControlServer[] = [];
  afterEach(() => {
    for (const s of servers.splice(0)) s.close();
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  const serve = async (rows: Iterable<unknown>) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gleand-ctls-'));
    dirs.push(dir);
    const sock = path.join(dir, 'ctl.sock');
    const server = new ControlServer(sock, () => rows);
    servers.push(server);
    await server.listen();
    return { server, sock };
  };

  it('delivers every row in order, to a reader slower than the daemon', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i) => ({ i, pad: 'x'.repeat(40) }));
    const { server, sock } = await serve(rows);
    const got: number[] = [];
    const n = await controlStream(sock, { cmd: 'bindings' }, async (r) => {
      got.push((r as { i: number }).i);
      // a full stdout: the reader waits now and then
      if (got.length % 2000 === 0) await new Promise((res) => setImmediate(res));
    });
    expect(n).toBe(20_000);
    expect(got).toEqual(rows.map((r) => r.i));
    expect(server.status()['stalled']).toBe(0);
  });

  it('a request without "stream" still gets one result line', async () => {
    const { sock } = await serve([{ a: 1 }]);
    expect(await controlRequest(sock, { cmd: 'bindings' })).toEqual([{ a: 1 }]);
  });

  it('a reader that stops reading is closed after STREAM_STALL_MS, and its slot freed', async () => {
    const rows = Array.from({ length: 100_000 }, (_, i) => ({ i, pad: 'x'.repeat(200) }));
    const { server, sock } = await serve(rows);
    const c = net.connect(sock);
    c.on('error', () => undefined);
    c.once('connect', () => { c.write('{"cmd":"bindings","stream":true}\n'); c.pause(); });
    await until('the stalled stream closed', async () => (server.status()['stalled'] === 1 ? true : null), STREAM_STALL_MS + 10_000);
    expect(server.status()['connections']).toBe(0);
    c.destroy();
  }, STREAM_STALL_MS + 20_000);

  it('a lazy sequence (the core\'s bindings answer) is made row by row as it is written, never whole', async () => {
    let made = 0;
    function* lazy() { for (let i = 0; i < 100_000; i++) { made++; yield { i, pad: 'x'.repeat(40) }; } }
    const { sock } = await serve(lazy());
    let madeAtFirstRow = -1;
    const n = await controlStream(sock, { cmd: 'bindings' }, (r) => {
      if ((r as { i: number }).i === 0) madeAtFirstRow = made;
    });
    expect(n).toBe(100_000);
    expect(made).toBe(100_000);
    // The first chunk reached the reader after about STREAM_CHUNK_BYTES of rows were made.
    expect(madeAtFirstRow).toBeGreaterThan(0);
    expect(madeAtFirstRow).toBeLessThan(10_000);
  });

  it('a lazy sequence asked for without "stream" is collected into one result line', async () => {
    function* lazy() { for (let i = 0; i < 3; i++) yield { i }; }
    const { sock } = await serve(lazy());
    expect(await controlRequest(sock, { cmd: 'bindings' })).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }]);
  });

  it('an empty table is an empty stream', async () => {
    const { sock } = await serve([]);
    const got: unknown[] = [];
    expect(await controlStream(sock, { cmd: 'bindings' }, (r) => { got.push(r); })).toBe(0);
    expect(got).toEqual([]);
  });
});
