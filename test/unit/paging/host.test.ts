// The reference host (src/paging/PROTOCOL.md §5.1) against the agent's real core, as
// scripts against time: register, ACK, dormant, a held packet, PAGE, PAGE_RESPONSE,
// delivery; refresh; agent restart; forged and replayed agent messages.
import { describe, expect, it } from 'vitest';
import { signMessage } from '../../../src/paging/auth';
import { PagingHost, RETRY_WAITS_MS } from '../../../src/paging/host';
import { pagingMessage, type PagingBody } from '../../../src/wire/paging';
import { config } from '../relay/kit';
import { AREA_KEY, EPOCH, T0, at, datagram, dormant, hmac, pagingConfig, status, v4 } from './kit';
import { AGENT, LAPTOP_ADDRESS, LAPTOP_KEY, Wire, agentCore, events, laptopSettings } from './host-kit';

const CORRESPONDENT = v4('203.0.113.5');
const decode = (b: Uint8Array) => {
  const d = pagingMessage.decode(b);
  if (!d.ok) throw new Error(JSON.stringify(d.error));
  return d.value;
};

/** A host that wants to sleep and an agent that just started: the first advert registers it. */
function dormantLaptop(o: Parameters<typeof laptopSettings>[0] = {}, text?: string) {
  const c = agentCore(EPOCH, text);
  const w = new Wire(c, new PagingHost(laptopSettings(o)));
  expect(events(w.input({ kind: 'sleep' }, T0))).toEqual([]); // no agent known yet: nothing to send to
  const first = w.run(c.first, [], T0);
  return { c, w, first };
}

const toLaptop = (w: Wire, tag: number, when: number) => w.run(w.c.agent.handle(dormant(datagram(CORRESPONDENT, LAPTOP_ADDRESS, tag)), at(when)), [], at(when));
/** An agent message as someone holding `key` would forge it. */
const forge = (id: string, body: PagingBody, key: Uint8Array, epoch = EPOCH, counter = 1n) => signMessage({ epoch, counter, id, body }, key, hmac);

describe('paging host: register, dormant, page, awake (PROTOCOL.md §5.1)', () => {
  it('registers on the first authenticated advert, sleeps, answers the PAGE and gets the held packets in order', () => {
    const { c, w, first } = dormantLaptop();
    expect(first.reports).toEqual([
      { event: 'advert', area: 'lobby', epoch: EPOCH, intervalS: 30 },
      { event: 'registered', cause: 'sleep', area: 'lobby', lifetimeS: 600, epoch: EPOCH },
      { event: 'dormant' },
    ]);
    const reg = decode(first.hostSent[0]!);
    // The REGISTER carries the agent's epoch learnt from the advert and the clock-seeded counter (§4.2).
    expect(reg).toMatchObject({ epoch: EPOCH, counter: 1_000_001n, id: 'laptop', body: { type: 'register', area: 'lobby', lifetimeS: 600, mode: 1 } });
    expect(w.host.hostState()).toBe('dormant');
    expect(status(c)['hosts']).toEqual({ dormant: 1, paging: 0, active: 0, inactive: 0 });
    // Traffic for the sleeping host: held and paged; the host answers; the agent delivers.
    const paged = toLaptop(w, 1, 1000);
    expect(events(paged)).toEqual(['paged', 'awake']);
    expect(paged.reports[0]).toMatchObject({ attempt: 1 });
    const response = decode(paged.hostSent[0]!);
    expect(response.body).toEqual({ type: 'page-response', paged: BigInt((paged.reports[0] as { counter: string }).counter) });
    expect(paged.delivered.map((b) => b[28])).toEqual([1]);
    expect(status(c)).toMatchObject({ responses: 1, delivered: 1, heldNow: 0, hosts: { active: 1 } });
    expect(w.host.hostState()).toBe('active');
    // Asleep again: a new registration, then the next packet is held and paged again.
    expect(events(w.input({ kind: 'sleep' }, at(2000)))).toEqual(['registered', 'dormant']);
    expect(events(toLaptop(w, 2, 3000))).toEqual(['paged', 'awake']);
    expect(status(c)).toMatchObject({ responses: 2, delivered: 2 });
  });

  it('on a PAGE the reports come first, the PAGE_RESPONSE last: the caller lifts its sleep before the held packets are released', () => {
    const { c, w } = dormantLaptop();
    const out = c.agent.handle(dormant(datagram(CORRESPONDENT, LAPTOP_ADDRESS, 1)), at(1000));
    const page = out.find((a) => a.kind === 'paging-send' && a.port === 'lan1')!;
    const actions = w.host.handle({ kind: 'datagram', payload: (page as { payload: Uint8Array }).payload, from: AGENT }, at(1000));
    expect(actions.map((a) => (a.kind === 'report' ? a.report.event : a.kind))).toEqual(['paged', 'awake', 'send']);
  });

  it('several packets held before the answer arrive in order; a later PAGE attempt is answered again', () => {
    const { w } = dormantLaptop();
    w.cut = true; // the PAGE_RESPONSE is lost
    expect(events(toLaptop(w, 1, 1000))).toEqual(['paged', 'awake']);
    toLaptop(w, 2, 1001);
    toLaptop(w, 3, 1002);
    w.cut = false;
    // The agent pages again after page_interval (2 s); the awake host answers it.
    const again = w.advance(at(3000));
    expect(events(again)).toEqual(['paged']);
    expect(again.reports[0]).toMatchObject({ attempt: 2 });
    expect(again.delivered.map((b) => b[28])).toEqual([1, 2, 3]);
  });

  it('REGISTER is retried after 1, 2, 4 s with a new counter each; then given up, awake', () => {
    const c = agentCore();
    const w = new Wire(c, new PagingHost(laptopSettings()));
    w.cut = true;
    w.input({ kind: 'sleep' }, T0);
    const sends: [number, bigint][] = [];
    const s0 = w.run(c.first, [], T0);
    sends.push(...s0.hostSent.map((b) => [0, decode(b).counter] as [number, bigint]));
    for (let t = 1; t <= 20_000; t += 1) {
      if (w.host.nextDeadline() !== at(t)) continue;
      const s = w.run([], w.host.poll(at(t)), at(t));
      sends.push(...s.hostSent.map((b) => [t, decode(b).counter] as [number, bigint]));
      if (events(s).includes('no-answer')) {
        expect(t).toBe(RETRY_WAITS_MS.reduce((a, b) => a + b, 0));
        break;
      }
    }
    expect(sends).toEqual([[0, 1_000_001n], [1000, 1_000_002n], [3000, 1_000_003n], [7000, 1_000_004n]]);
    expect(w.host.hostState()).toBe('active');
    // The next advert (the host still wants to sleep) registers it once the agent hears it.
    w.cut = false;
    expect(events(w.advance(at(30_000)))).toEqual(['registered', 'dormant']);
  });

  it('an ACK status ≠ 0 leaves it awake and it does not insist', () => {
    const { w, first } = dormantLaptop({ area: 'lobby', addresses: [v4('198.51.100.8')] });
    expect(events(first)).toEqual(['advert', 'refused']);
    expect(first.reports[1]).toEqual({ event: 'refused', status: 2, area: 'lobby' });
    expect(w.host.hostState()).toBe('active');
    expect(w.advance(at(60_000)).hostSent).toEqual([]);
  });
});

describe('paging host: refresh and re-registration (RFC 3154 §4.4, §4.10, §4.14)', () => {
  it('refreshes at ¾ of the granted lifetime, so the agent never lets it expire', () => {
    const { c, w } = dormantLaptop({ lifetimeS: 100 });
    const s = w.advance(at(74_999));
    expect(s.hostSent).toEqual([]);
    const r = w.advance(at(75_000));
    expect(r.reports).toEqual([{ event: 're-registered', cause: 'refresh', area: 'lobby', lifetimeS: 100, epoch: EPOCH }]);
    w.advance(at(1_000_000));
    expect(status(c)['hosts']).toEqual({ dormant: 1, paging: 0, active: 0, inactive: 0 });
    expect(status(c)['inactive']).toEqual({});
  });

  it('an agent restart (a newer epoch in its first advert) makes it register again at once', () => {
    const { w } = dormantLaptop();
    const restarted = agentCore(EPOCH + 1);
    w.c = restarted;
    const s = w.run(restarted.first, [], at(5000));
    expect(s.reports).toEqual([{ event: 'advert', area: 'lobby', epoch: EPOCH + 1, intervalS: 30 }, { event: 're-registered', cause: 'epoch', area: 'lobby', lifetimeS: 600, epoch: EPOCH + 1 }]);
    expect(decode(s.hostSent[0]!).epoch).toBe(EPOCH + 1);
    expect(status(restarted)['hosts']).toEqual({ dormant: 1, paging: 0, active: 0, inactive: 0 });
    // And it is paged by the new agent.
    expect(events(toLaptop(w, 1, 6000))).toEqual(['paged', 'awake']);
  });

  it('an unpinned host follows the adverts of its area, not another one on the same port, until its own go silent', () => {
    const hall = `\nconfig paging_area 'hall'\n\tlist port 'lan1'\n\toption key '${Buffer.from(AREA_KEY).toString('hex')}'\n`;
    const { c, w, first } = dormantLaptop({ area: null, anyAreaKey: AREA_KEY, areaKeys: new Map() }, pagingConfig() + hall);
    expect(first.reports.filter((r) => r.event !== 'rejected')).toEqual([
      { event: 'advert', area: 'lobby', epoch: EPOCH, intervalS: 30 },
      { event: 'registered', cause: 'sleep', area: 'lobby', lifetimeS: 600, epoch: EPOCH }, { event: 'dormant' }]);
    expect(w.host.status()['rejected']).toEqual({ 'other-area': 1 });
    w.advance(at(60_000));
    expect(w.host.status()['registrations']).toBe(1);
    // lan1 leaves the lobby: only hall is heard there now, and the host moves (§4.10).
    const moved = pagingConfig().replace("\tlist port 'lan1'\n\tlist port 'lan2'", "\tlist port 'lan2'") + hall;
    w.run(c.agent.handle({ kind: 'config', config: config(moved) }, at(61_000)), [], at(61_000));
    const s = w.advance(at(200_000));
    expect(s.reports.filter((r) => r.event !== 'rejected')).toEqual([
      { event: 'advert', area: 'hall', epoch: EPOCH, intervalS: 30 },
      { event: 're-registered', cause: 'area', area: 'hall', lifetimeS: 600, epoch: EPOCH }]);
    // Its own area went silent at 60 s: it moved at the first hall advert past 1.5 intervals.
    expect(status(c)['hosts']).toMatchObject({ dormant: 1 });
  });

  it('missing three adverts while it wants to sleep and is not registered: REGISTER again (§4.14)', () => {
    const c = agentCore();
    const w = new Wire(c, new PagingHost(laptopSettings()));
    w.input({ kind: 'sleep' }, T0);
    w.cut = true;
    w.run(c.first, [], T0);
    w.advance(at(20_000)); // given up: awake, still wanting to sleep
    expect(w.host.hostState()).toBe('active');
    // From now the adverts do not reach it (the agent's port went quiet): 3 × 30 s after the last one heard.
    const quiet = new Wire(agentCore(), w.host);
    quiet.cut = true;
    expect(w.host.nextDeadline()).toBe(at(90_000));
    const s = quiet.run([], w.host.poll(at(90_000)), at(90_000));
    expect(decode(s.hostSent[0]!).body.type).toBe('register');
  });
});

describe('paging host: forged and replayed agent messages are ignored and counted (RFC 3154 §3.3, §4.20–§4.22)', () => {
  it('an advert under a wrong key, a replayed advert, a forged and a replayed PAGE: nothing sent, each counted', () => {
    const { c, w, first } = dormantLaptop();
    const advert = first.agentSent.find((a) => a.port === 'lan1' && a.family === 4)!.payload;
    const h = w.host;
    const rx = (payload: Uint8Array, t: number) => h.handle({ kind: 'datagram', payload, from: AGENT }, at(t));
    // A forged advert with a newer epoch would make the host register: under a wrong key it does nothing.
    expect(rx(forge('lobby', { type: 'advert', intervalS: 30 }, new Uint8Array(16).fill(9), EPOCH + 5), 10)).toEqual([
      { kind: 'report', report: { event: 'rejected', reason: 'bad-mac', count: 1 } }]);
    expect(rx(advert, 11)).toEqual([{ kind: 'report', report: { event: 'rejected', reason: 'replay', count: 1 } }]);
    // A PAGE under the area key (any host of the area has it) or a wrong key: not the agent.
    expect(rx(forge('laptop', { type: 'page', attempt: 1 }, AREA_KEY, EPOCH, 99n), 12).filter((a) => a.kind === 'send')).toEqual([]);
    const paged = toLaptop(w, 1, 1000);
    const page = paged.agentSent.find((a) => a.port === 'lan1')!.payload;
    expect(rx(page, 1001).filter((a) => a.kind === 'send')).toEqual([]);
    // A PAGE for another host (wide cast to the area) is no business of this one.
    expect(rx(forge('printer', { type: 'page', attempt: 1 }, LAPTOP_KEY), 1002).filter((a) => a.kind === 'send')).toEqual([]);
    // A REGISTER_ACK answering nothing it sent.
    expect(rx(forge('laptop', { type: 'register-ack', status: 0, lifetimeS: 60, acked: 5n, area: 'lobby' }, LAPTOP_KEY, EPOCH, 1000n), 1003)
      .filter((a) => a.kind === 'send')).toEqual([]);
    expect(rx(new Uint8Array([1, 2, 3]), 1004).filter((a) => a.kind === 'send')).toEqual([]);
    expect(h.status()['rejected']).toEqual({ 'bad-mac': 2, replay: 2, 'other-host': 1, 'unmatched-ack': 1, malformed: 1 });
    expect(status(c)['responses']).toBe(1);
  });

  it('reports a rejection reason at most once per 10 s, but counts every one', () => {
    const { w } = dormantLaptop();
    const bad = forge('lobby', { type: 'advert', intervalS: 30 }, new Uint8Array(16).fill(9));
    const reports = [];
    for (let i = 0; i < 100; i++) reports.push(...w.host.handle({ kind: 'datagram', payload: bad, from: AGENT }, at(i * 100)));
    expect(reports.length).toBe(1);
    expect(w.host.status()['rejected']).toEqual({ 'bad-mac': 100 });
  });

  it('a neighbour holding the area key forges an advert with a huge epoch: the agent\'s PAGEs still count, and the next genuine advert is believed again', () => {
    const { c, w } = dormantLaptop();
    const h = w.host;
    // Dormant: the forged epoch makes it register in that epoch, which no agent answers.
    const forged = w.run([], h.handle({ kind: 'datagram', payload: forge('lobby', { type: 'advert', intervalS: 30 }, AREA_KEY, 0xfffffff0), from: AGENT }, at(100)), at(100));
    expect(decode(forged.hostSent[0]!).epoch).toBe(0xfffffff0);
    expect(status(c)['rejected']).toEqual({ 'stale-epoch': 1 });
    // The agent's genuine PAGE (keyed with the host's key) is still accepted: separate replay state.
    expect(events(toLaptop(w, 1, 200))).toEqual(['paged', 'awake']);
    expect(status(c)['responses']).toBe(1);
    // The PAGE proved the agent's epoch: adverts in it are believed again (not refused as
    // older than the forged one), so the host still notices the agent's next restart.
    expect(events(w.input({ kind: 'sleep' }, at(1000)))).toEqual(['registered', 'dormant']);
    w.advance(at(120_000));
    expect(h.status()['rejected']).toEqual({});
    const restarted = agentCore(EPOCH + 1);
    w.c = restarted;
    expect(events(w.run(restarted.first, [], at(121_000)))).toEqual(['advert', 're-registered']);
  });
});

describe('paging host: what an ACK must answer, and an epoch nobody acknowledges', () => {
  it('an authenticated REGISTER_ACK for a counter it never sent does not make it dormant', () => {
    const c = agentCore();
    const w = new Wire(c, new PagingHost(laptopSettings()));
    w.cut = true;
    w.input({ kind: 'sleep' }, T0);
    w.run(c.first, [], T0);
    expect(w.host.hostState()).toBe('registering');
    const stray = forge('laptop', { type: 'register-ack', status: 0, lifetimeS: 600, acked: 42n, area: 'lobby' }, LAPTOP_KEY, EPOCH, 5000n);
    expect(w.host.handle({ kind: 'datagram', payload: stray, from: AGENT }, at(10))).toEqual([
      { kind: 'report', report: { event: 'rejected', reason: 'unmatched-ack', count: 1 } }]);
    expect(w.host.hostState()).toBe('registering');
  });

  it('a forged newer epoch whose REGISTER nobody answers is dropped: the next genuine advert registers it again', () => {
    const { c, w } = dormantLaptop();
    const forged = forge('lobby', { type: 'advert', intervalS: 30 }, AREA_KEY, 0xfffffff0);
    w.run([], w.host.handle({ kind: 'datagram', payload: forged, from: AGENT }, at(100)), at(100));
    expect(w.host.hostState()).toBe('registering');
    const s = w.advance(at(31_000));
    expect(events(s).filter((e) => e !== 'rejected')).toEqual(['no-answer', 'awake', 'registered', 'dormant']);
    expect(status(c)['hosts']).toMatchObject({ dormant: 1 });
  });
});

describe('paging host: DEREGISTER (RFC 3154 §4.4)', () => {
  it('wake: DEREGISTER(1), the agent tracks it active; stop: DEREGISTER(2), the agent marks it inactive (planned)', () => {
    const { c, w } = dormantLaptop();
    expect(events(w.input({ kind: 'wake' }, at(1000)))).toEqual(['deregistered', 'awake']);
    expect(status(c)['hosts']).toMatchObject({ active: 1, dormant: 0 });
    w.input({ kind: 'sleep' }, at(2000));
    const s = w.input({ kind: 'stop' }, at(3000));
    expect(s.reports).toEqual([{ event: 'deregistered', reason: 2 }]);
    expect(decode(s.hostSent[0]!).body).toEqual({ type: 'deregister', reason: 2 });
    expect(w.host.finished).toBe(true);
    expect(status(c)['inactive']).toEqual({ planned: 1 });
  });

  it('stop before any agent was heard: finished at once, nothing sent', () => {
    const h = new PagingHost(laptopSettings());
    expect(h.handle({ kind: 'stop' }, T0)).toEqual([]);
    expect(h.finished).toBe(true);
  });
});
