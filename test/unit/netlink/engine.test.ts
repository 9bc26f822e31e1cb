import { describe, expect, it } from 'vitest';
import { NLM_F, NLMSG } from '../../../platform/netlink/constants';
import { NetlinkEngine, type EngineStats, type NetlinkResult, type Transport } from '../../../platform/netlink/engine';
import { encodeMessage, splitMessages, type NlMessage } from '../../../platform/netlink/message';
import { ENOBUFS, type OsError } from '../../../platform/netlink/socket';
import { HOST_ORDER, littleEndian } from '../../../platform/byte-order';

/** A socket that records what is sent; the test plays the kernel through engine.receive. */
class FakeSocket implements Transport {
  readonly portId = 4242;
  readonly sent: NlMessage[][] = [];
  refd = false;
  failSend: OsError | null = null;
  send(data: Uint8Array): number | OsError {
    if (this.failSend) return this.failSend;
    this.sent.push(splitMessages(data).messages);
    return data.length;
  }
  ref(on: boolean): void { this.refd = on; }
  close(): void {}
  lastSeq(): number { return this.sent.at(-1)!.at(-1)!.seq; }
}

const int32 = (x: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, x, littleEndian(HOST_ORDER));
  return b;
};
/** NLMSG_ERROR with -errno (0: ACK) and a capped copy of a request header. */
const answer = (seq: number, errno = 0): Uint8Array => {
  const payload = new Uint8Array(20);
  payload.set(int32(-errno), 0);
  payload.set(encodeMessage({ type: 24, flags: 0, seq, pid: 0 }, new Uint8Array(0)), 4);
  return encodeMessage({ type: NLMSG.ERROR, flags: NLM_F.CAPPED, seq, pid: 0 }, payload);
};
const done = (seq: number, flags = 0): Uint8Array => encodeMessage({ type: NLMSG.DONE, flags: NLM_F.MULTI | flags, seq, pid: 0 }, int32(0));
const item = (seq: number, n: number): Uint8Array => encodeMessage({ type: 24, flags: NLM_F.MULTI, seq, pid: 0 }, int32(n));
const frame = (seq: number): Uint8Array => encodeMessage({ type: 26, flags: NLM_F.REQUEST | NLM_F.DUMP, seq, pid: 0 }, new Uint8Array(4));

function setup(timeoutMs = 10_000) {
  const sock = new FakeSocket();
  const stats: EngineStats = { dumps: 0, stray: 0, decodeErrors: 0, overruns: 0 };
  const engine = NetlinkEngine.over(sock, stats, { timeoutMs });
  return { sock, stats, engine };
}

/** A request covering `count` sequence numbers; collects the errors by seq. */
function request(engine: NetlinkEngine, count: number) {
  const first = engine.reserve(count);
  const last = first + count - 1;
  const errors: [number, number][] = [];
  const result = new Promise<NetlinkResult<void>>((resolve) => {
    const p = engine.expect<void>(first, last, (m, finish) => {
      const errno = -new DataView(m.payload.buffer, m.payload.byteOffset).getInt32(0, littleEndian(HOST_ORDER));
      if (errno !== 0) errors.push([m.seq - first, errno]);
      if (m.seq === last) finish({ ok: true, value: undefined });
    }, resolve);
    engine.send(encodeMessage({ type: 24, flags: NLM_F.REQUEST, seq: first, pid: 0 }, new Uint8Array(0)), p);
  });
  return { first, last, errors, result };
}

describe('netlink request engine', () => {
  it('matches answers to a waiter by its sequence range; the rest is stray', async () => {
    const { engine, stats, sock } = setup();
    const a = request(engine, 3);
    const b = request(engine, 1);
    expect(b.first).toBe(a.last + 1);
    expect(sock.refd).toBe(true);
    engine.receive(0, [answer(a.first + 1, 17), answer(b.first), answer(9999)]);
    expect(await b.result).toEqual({ ok: true, value: undefined });
    engine.receive(0, [answer(a.last)]);
    expect(await a.result).toEqual({ ok: true, value: undefined });
    expect(a.errors).toEqual([[1, 17]]);
    expect(stats.stray).toBe(1);
    expect(sock.refd).toBe(false);
    engine.receive(0, [answer(a.last)]); // late: nobody waits any more
    expect(stats.stray).toBe(2);
  });

  it('wraps sequence numbers before 2^32 - 1 and never uses 0', () => {
    const { engine } = setup();
    engine.reserve(0xfffffff0);
    expect(engine.reserve(0x20)).toBe(1);
  });

  it('times a request out', async () => {
    const { engine } = setup(20);
    expect(await request(engine, 2).result).toEqual({ ok: false, error: { kind: 'timeout', afterMs: 20 } });
  });

  it('a send error fails the request with the OS error', async () => {
    const { engine, sock } = setup();
    sock.failSend = { op: 'sendto', errno: 11, code: 'EAGAIN' };
    expect(await request(engine, 1).result).toEqual({ ok: false, error: { kind: 'os', error: sock.failSend } });
  });

  it('collects a dump up to NLMSG_DONE and runs dumps one at a time', async () => {
    const { engine, sock, stats } = setup();
    const first = engine.dump(frame);
    const second = engine.dump(frame);
    await Promise.resolve();
    expect(sock.sent).toHaveLength(1);
    const s1 = sock.lastSeq();
    engine.receive(0, [Uint8Array.from([...item(s1, 1), ...item(s1, 2)]), done(s1)]);
    const r1 = await first;
    expect(r1.ok && r1.value.map((m) => m.payload[0])).toEqual([1, 2]);
    await new Promise((r) => setTimeout(r, 0));
    expect(sock.sent).toHaveLength(2);
    const s2 = sock.lastSeq();
    expect(s2).toBeGreaterThan(s1);
    engine.receive(0, [done(s2)]);
    expect(await second).toEqual({ ok: true, value: [] });
    expect(stats.dumps).toBe(2);
  });

  it('ENOBUFS fails pending requests with overrun and re-runs the dump', async () => {
    const { engine, sock, stats } = setup();
    const req = request(engine, 4);
    const dump = engine.dump(frame);
    await new Promise((r) => setTimeout(r, 0));
    const s1 = sock.lastSeq();
    engine.receive(0, [item(s1, 1)]);
    engine.receive(ENOBUFS, []);
    expect(await req.result).toEqual({ ok: false, error: { kind: 'overrun' } });
    await new Promise((r) => setTimeout(r, 0));
    const s2 = sock.lastSeq();
    expect(s2).not.toBe(s1);
    engine.receive(0, [item(s1, 9), item(s2, 7), done(s2)]); // the lost dump's tail is stray
    const r = await dump;
    expect(r.ok && r.value.map((m) => m.payload[0])).toEqual([7]);
    expect(stats).toEqual({ dumps: 2, stray: 1, decodeErrors: 0, overruns: 1 });
  });

  it('dumpEach hands each message over as it arrives, and says when an overrun re-runs the dump', async () => {
    const { engine, sock } = setup();
    const seen: number[] = [];
    let restarts = 0;
    const dump = engine.dumpEach(frame, (m) => seen.push(m.payload[0]!), () => { restarts++; seen.length = 0; });
    await new Promise((r) => setTimeout(r, 0));
    const s1 = sock.lastSeq();
    engine.receive(0, [item(s1, 1), item(s1, 2)]);
    expect(seen).toEqual([1, 2]); // before the dump is done: nothing is collected
    engine.receive(ENOBUFS, []);
    await new Promise((r) => setTimeout(r, 0));
    const s2 = sock.lastSeq();
    expect(restarts).toBe(1);
    engine.receive(0, [item(s2, 7), item(s2, 8), done(s2)]);
    expect(await dump).toEqual({ ok: true, value: 2 });
    expect(seen).toEqual([7, 8]);
  });

  it('an interrupted dump is re-run, and reported after the retries', async () => {
    const { engine, sock } = setup();
    const dump = engine.dump(frame);
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 0));
      engine.receive(0, [done(sock.lastSeq(), NLM_F.DUMP_INTR)]);
    }
    expect(await dump).toEqual({ ok: false, error: { kind: 'interrupted' } });
    expect(sock.sent).toHaveLength(4);
  });

  it('a dump that ends in an error answer reports the errno', async () => {
    const { engine, sock } = setup();
    const dump = engine.dump(frame);
    await new Promise((r) => setTimeout(r, 0));
    engine.receive(0, [answer(sock.lastSeq(), 2)]);
    const r = await dump;
    expect(!r.ok && r.error).toMatchObject({ kind: 'errno', errno: 2, code: 'ENOENT' });
  });

  it('close fails what is pending, and what comes after', async () => {
    const { engine } = setup();
    const req = request(engine, 2);
    engine.close();
    expect(await req.result).toEqual({ ok: false, error: { kind: 'closed' } });
    expect(await engine.dump(frame)).toEqual({ ok: false, error: { kind: 'closed' } });
    expect(engine.closed).toBe(true);
  });

  it('counts datagrams that do not frame and other receive errors', () => {
    const { engine, stats } = setup();
    engine.receive(0, [Uint8Array.of(1, 2, 3)]);
    engine.receive(90 /* EMSGSIZE */, []);
    expect(stats.decodeErrors).toBe(2);
  });
});
