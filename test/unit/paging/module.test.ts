// The paging module (RFC 3154) as scripts against time: host messages and diverted
// packets in at instants, the exact sends out.
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import type { DivertEntry } from '../../../src/kernel/divert';
import { createCore } from '../../../src/core';
import { PAGING_ACK_STATUS } from '../../../src/wire/paging';
import { magicPayload } from '../../../src/paging/wol';
import { BASE_CONFIG, config } from '../relay/kit';
import {
  AREA_KEY, EPOCH, Host, PAGING_PORT, PRINTER_KEY, T0, at, bind, datagram, dormant, kinds, links, macOf, pagingConfig, pagingCore,
  read, sent, status, v4, type PagingCore,
} from './kit';

const CORRESPONDENT = v4('203.0.113.5');

function withLaptop(text?: string) {
  const c = pagingCore(text);
  const laptop = new Host('laptop', v4('198.51.100.7'), macOf(7), 'lan1');
  bind(c, laptop.address, 'lan1', laptop.mac);
  return { c, laptop };
}

function registered(text?: string, o: Parameters<Host['register']>[0] = {}) {
  const { c, laptop } = withLaptop(text);
  const out = c.agent.handle(laptop.event(laptop.register(o)), T0);
  expect(read(sent(out)[0]!.payload, laptop.key).body).toMatchObject({ type: 'register-ack', status: 0 });
  return { c, laptop, out };
}

/** The divert entries a batch of actions adds and removes, as text. */
const diverts = (out: readonly Action[]) => {
  const k = out.filter((a): a is Extract<Action, { kind: 'kernel' }> => a.kind === 'kernel');
  const text = (d: DivertEntry) => ('wake' in d ? `${d.wake} ${d.port}` : [...d.address].join('.'));
  return { add: k.flatMap((a) => a.delta.diverts.add.map(text)), remove: k.flatMap((a) => a.delta.diverts.remove.map(text)) };
};
const toLaptop = (c: PagingCore, tag: number, when = T0, source = CORRESPONDENT) => c.agent.handle(dormant(datagram(source, v4('198.51.100.7'), tag)), when);

describe('paging: inert without a paging section', () => {
  it('no timer, nothing sent, diverted packets ignored and counted', () => {
    const c = createCore(T0, { paging: { hmacSha256: () => new Uint8Array(32), epoch: 1 } });
    expect(c.agent.handle({ kind: 'config', config: config(BASE_CONFIG) }, T0)).toEqual([]);
    expect(c.paging.nextDeadline()).toBeNull();
    expect(c.agent.handle(dormant(datagram(CORRESPONDENT, v4('198.51.100.7'), 1)), T0)).toEqual([]);
    expect(c.paging.status()).toEqual({ enabled: false, ready: true, ignored: 1 });
    expect([...c.paging.diverted()]).toEqual([]);
  });

  it('enabled without the platform\'s HMAC: one error line, and still inert', () => {
    const c = pagingCore(pagingConfig(), false);
    expect(c.first.map((a) => a.kind)).toEqual(['log']);
    expect(c.paging.nextDeadline()).toBeNull();
  });
});

describe('paging: turned off by a reload', () => {
  it('forgets every host, drops what was held (one line), and is inert again', () => {
    const { c } = registered();
    toLaptop(c, 1, at(1000));
    const off = c.agent.handle({ kind: 'config', config: config(pagingConfig().replace("option enabled '1'", "option enabled '0'")) }, at(2000));
    expect(off).toEqual([expect.objectContaining({ kind: 'kernel' }), expect.objectContaining({ kind: 'log', fields: { hosts: 1, held: 1 } })]);
    // every divert goes with paging (src/kernel/divert.ts)
    expect(diverts(off)).toEqual({ add: [], remove: ['198.51.100.7'] });
    expect(c.paging.nextDeadline()).toBeNull();
    expect(toLaptop(c, 2, at(3000))).toEqual([]);
    expect([...c.paging.diverted()]).toEqual([]);
  });
});

describe('paging: AREA_ADVERT (RFC 3154 §4.10, §4.21)', () => {
  it('at once on every port of the area, both families, signed with the area key; then every advert_interval', () => {
    const c = pagingCore();
    const first = sent(c.first);
    expect(first.map((s) => [s.port, s.family, s.destinationPort])).toEqual([['lan1', 4, PAGING_PORT], ['lan1', 6, PAGING_PORT], ['lan2', 4, PAGING_PORT], ['lan2', 6, PAGING_PORT]]);
    expect([...first[0]!.destination]).toEqual([255, 255, 255, 255]);
    expect([...first[1]!.destination]).toEqual([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const m = read(first[0]!.payload, AREA_KEY);
    expect(m).toMatchObject({ epoch: EPOCH, counter: 1n, id: 'lobby', body: { type: 'advert', intervalS: 30 } });
    expect(c.paging.nextDeadline()).toBe(at(30_000));
    expect(c.agent.poll(at(29_999))).toEqual([]);
    const again = sent(c.agent.poll(at(30_000)));
    expect(again.length).toBe(4);
    expect(read(again[0]!.payload, AREA_KEY).counter).toBe(2n);
  });
});

describe('paging: REGISTER (RFC 3154 §4.3, §4.20)', () => {
  it('a bound host is tracked dormant and acknowledged unicast, signed with its key', () => {
    const { c, laptop } = withLaptop();
    const out = c.agent.handle(laptop.event(laptop.register()), T0);
    expect(kinds(out)).toEqual(['paging-send', 'kernel']);
    const ack = sent(out)[0]!;
    expect([ack.port, [...ack.destination].join('.'), ack.destinationPort]).toEqual(['lan1', '198.51.100.7', 40000]);
    // unicast at Ethernet too: to the MAC of the frame it answers (no ARP toward a host about to sleep)
    expect([...ack.destinationMac!]).toEqual([...laptop.mac]);
    expect(read(ack.payload, laptop.key).body).toEqual({ type: 'register-ack', status: 0, lifetimeS: 600, acked: 1n, area: 'lobby' });
    expect(status(c)['hosts']).toEqual({ dormant: 1, paging: 0, active: 0, inactive: 0 });
    // after the ack, its address is diverted to gleand (the kernel entry, src/kernel/divert.ts)
    expect(diverts(out)).toEqual({ add: ['198.51.100.7'], remove: [] });
    expect([...(c.agent.desiredState().diverts ?? [])].map((d) => ('wake' in d ? d.port : [...d.address].join('.')))).toEqual(['198.51.100.7']);
    expect([...c.paging.diverted()]).toEqual([{ family: 4, address: laptop.address }]);
    expect(c.paging.nextDeadline()).toBe(at(30_000)); // the advert; the lifetime ends at 600 s
  });

  it('a forged message (wrong key) is dropped, counted and never answered', () => {
    const { c, laptop } = withLaptop();
    const forged = laptop.sign({ type: 'register', mode: 3, wake: 0, lifetimeS: 600, area: 'lobby', addresses: [laptop.address], correspondents: [] },
      { key: new Uint8Array(16).fill(1) });
    expect(kinds(c.agent.handle(laptop.event(forged), T0))).toEqual([]);
    expect(status(c)['rejected']).toEqual({ 'bad-mac': 1 });
    expect(status(c)['hosts']['dormant']).toBe(0);
  });

  it('a replayed REGISTER, a stale epoch and a host playing agent are rejected and counted', () => {
    const { c, laptop } = withLaptop();
    const reg = laptop.register();
    expect(kinds(c.agent.handle(laptop.event(reg), T0))).toEqual(['paging-send', 'kernel']);
    expect(kinds(c.agent.handle(laptop.event(reg), at(1)))).toEqual([]);
    const stale = laptop.sign({ type: 'deregister', reason: 1 }, { epoch: EPOCH - 1 });
    expect(kinds(c.agent.handle(laptop.event(stale), at(2)))).toEqual([]);
    const page = laptop.sign({ type: 'page', attempt: 1 });
    expect(kinds(c.agent.handle(laptop.event(page), at(3)))).toEqual([]);
    expect(kinds(c.agent.handle(laptop.event(new Uint8Array([1, 2, 3])), at(4)))).toEqual([]);
    expect(status(c)['rejected']).toEqual({ replay: 1, 'stale-epoch': 1, 'agent-message': 1, malformed: 1 });
  });

  it('addresses must be bound to the host on the REGISTER\'s port with the frame\'s MAC', () => {
    const { c, laptop } = withLaptop();
    const other = c.agent.handle(laptop.event(laptop.register(), { mac: macOf(8) }), T0);
    expect(read(sent(other)[0]!.payload, laptop.key).body).toMatchObject({ status: PAGING_ACK_STATUS.NOT_BOUND, lifetimeS: 0 });
    // A second id on the same machine cannot take over an address the first registered.
    expect(kinds(c.agent.handle(laptop.event(laptop.register()), T0))).toEqual(['paging-send', 'kernel']);
    const twin = new Host('twin', laptop.address, laptop.mac, 'lan1');
    const t = c.agent.handle(twin.event(twin.register()), T0);
    expect(read(sent(t)[0]!.payload, twin.key).body).toMatchObject({ status: PAGING_ACK_STATUS.NOT_BOUND });
    expect(status(c)['refused']).toEqual({ 'not-bound': 2 });
  });

  it('an area the port is not in, and a full table, are refused', () => {
    const { c, laptop } = withLaptop(pagingConfig('\toption max_hosts \'1\'\n'));
    const wrong = c.agent.handle(laptop.event(laptop.register({ area: 'nowhere' })), T0);
    expect(read(sent(wrong)[0]!.payload, laptop.key).body).toMatchObject({ status: PAGING_ACK_STATUS.UNKNOWN_AREA });
    expect(kinds(c.agent.handle(laptop.event(laptop.register()), T0))).toEqual(['paging-send', 'kernel']);
    const second = new Host('second', v4('198.51.100.8'), macOf(8), 'lan2');
    bind(c, second.address, 'lan2', second.mac);
    const full = c.agent.handle(second.event(second.register()), T0);
    expect(read(sent(full)[0]!.payload, second.key).body).toMatchObject({ status: PAGING_ACK_STATUS.FULL });
  });

  it('a customised area (paging_host with ports, §4.18) is paged on its own ports only', () => {
    const c = pagingCore();
    const printer = new Host('printer', v4('198.51.100.9'), macOf(9), 'lan3', PRINTER_KEY);
    bind(c, printer.address, 'lan3', printer.mac);
    const out = c.agent.handle(printer.event(printer.register({ mode: 1 })), T0);
    expect(read(sent(out)[0]!.payload, PRINTER_KEY).body).toMatchObject({ status: 0, area: '~custom' });
    const page = sent(c.agent.handle(dormant(datagram(CORRESPONDENT, printer.address, 1)), at(10)));
    expect(page.map((s) => s.port)).toEqual(['lan3']);
    expect(read(page[0]!.payload, PRINTER_KEY).body).toEqual({ type: 'page', attempt: 1 });
  });
});

describe('paging: hold, page, deliver in order (RFC 3154 §3.2, §4.11, §4.13, §4.15)', () => {
  it('the first packet pages on every port of the area and wakes by WoL; the answer releases every held packet in order', () => {
    const { c, laptop } = registered();
    const t1 = at(1000);
    const out = toLaptop(c, 1, t1);
    expect(kinds(out)).toEqual(['paging-send', 'paging-send', 'link-send']);
    const pages = sent(out);
    expect(pages.map((p) => [p.port, p.family, [...p.destination].join('.'), p.destinationPort])).toEqual([
      ['lan1', 4, '255.255.255.255', PAGING_PORT], ['lan2', 4, '255.255.255.255', PAGING_PORT]]);
    const page = read(pages[0]!.payload, laptop.key);
    expect(page.body).toEqual({ type: 'page', attempt: 1 });
    const wol = links(out)[0]!;
    expect([wol.port, wol.family, [...wol.destinationMac]]).toEqual(['lan1', 4, [...laptop.mac]]);
    expect([...wol.bytes.subarray(28)]).toEqual([...magicPayload(laptop.mac)]);
    expect(toLaptop(c, 2, at(1001))).toEqual([]);
    expect(toLaptop(c, 3, at(1002))).toEqual([]);
    expect(status(c)['heldNow']).toBe(3);
    const answer = c.agent.handle(laptop.event(laptop.sign({ type: 'page-response', paged: page.counter })), at(1500));
    expect(kinds(answer)).toEqual(['link-send', 'link-send', 'link-send', 'kernel']);
    // the held packets first, then the divert is lifted (§4.15: nothing overtakes them)
    expect(diverts(answer)).toEqual({ add: [], remove: ['198.51.100.7'] });
    const delivered = links(answer);
    expect(delivered.map((d) => d.bytes[28])).toEqual([1, 2, 3]);
    expect(delivered.every((d) => d.port === 'lan1' && d.bytes[8] === 63)).toBe(true);
    expect([...delivered[0]!.destinationMac]).toEqual([...laptop.mac]);
    expect([...c.paging.diverted()]).toEqual([]);
    // Diverted before the divert was lifted: delivered at once, after the held ones.
    expect(links(toLaptop(c, 4, at(1600))).map((d) => d.bytes[28])).toEqual([4]);
    expect(status(c)).toMatchObject({ held: 3, delivered: 4, deliveredLate: 1, responses: 1, pages: 1, wol: 1, heldNow: 0 });
  });

  it('L3 only (mode 1): no WoL frame (§4.13: paging works without L2 support)', () => {
    const { c } = registered(undefined, { mode: 1 });
    expect(kinds(toLaptop(c, 1, at(1000)))).toEqual(['paging-send', 'paging-send']);
  });

  it('a response to no page of this wake-up is rejected', () => {
    const { c, laptop } = registered();
    expect(kinds(c.agent.handle(laptop.event(laptop.sign({ type: 'page-response', paged: 1n })), at(10)))).toEqual([]);
    expect(status(c)['rejected']).toEqual({ 'unmatched-response': 1 });
  });

  it('per-host bound: what does not fit is dropped and counted, the rest delivered', () => {
    const { c, laptop } = registered();
    const page = read(sent(toLaptop(c, 1, at(1000)))[0]!.payload, laptop.key);
    for (let i = 2; i <= 6; i++) toLaptop(c, i, at(1000 + i));
    expect(status(c)['dropped']).toEqual({ 'held-per-address': 2 });
    const answer = c.agent.handle(laptop.event(laptop.sign({ type: 'page-response', paged: page.counter })), at(2000));
    expect(links(answer).map((d) => d.bytes[28])).toEqual([1, 2, 3, 4]);
  });
});

describe('paging: unanswered, expiry and deregistration (RFC 3154 §3.1, §4.4)', () => {
  it('pages with backoff (2 s, 4 s), then inactive after pages_max: held dropped, never paged again, forgotten after inactive_hold', () => {
    const { c } = registered(undefined, { mode: 1 });
    expect(sent(toLaptop(c, 1, at(1000))).length).toBe(2);
    toLaptop(c, 2, at(1100));
    expect(sent(c.agent.poll(at(2999)))).toEqual([]);
    const second = sent(c.agent.poll(at(3000)));
    expect(second.length).toBe(2);
    expect(sent(c.agent.poll(at(6999)))).toEqual([]);
    expect(sent(c.agent.poll(at(7000))).length).toBe(2);
    expect(sent(c.agent.poll(at(14_999)))).toEqual([]);
    const end = c.agent.poll(at(15_000));
    expect(kinds(end)).toEqual([]);
    expect(status(c)).toMatchObject({ pages: 3, inactive: { unanswered: 1 }, dropped: { unanswered: 2 }, hosts: { inactive: 1 } });
    expect(toLaptop(c, 3, at(16_000))).toEqual([]);
    expect(status(c)['dropped']).toEqual({ unanswered: 2, inactive: 1 });
    expect([...c.paging.diverted()].length).toBe(1);
    c.agent.poll(at(75_000));
    expect(status(c)['hosts']).toEqual({ dormant: 0, paging: 0, active: 0, inactive: 0 });
    expect(toLaptop(c, 4, at(76_000))).toEqual([]);
    expect(status(c)['dropped']['not-tracked']).toBe(1);
  });

  it('a registration not refreshed within its lifetime makes the host inactive', () => {
    const { c } = registered(undefined, { lifetimeS: 10 });
    c.agent.poll(at(9_999));
    expect(status(c)['hosts']['dormant']).toBe(1);
    c.agent.poll(at(10_000));
    expect(status(c)).toMatchObject({ hosts: { inactive: 1 }, inactive: { expired: 1 } });
  });

  it('DEREGISTER active delivers what was held; DEREGISTER inactive drops it (planned)', () => {
    const { c, laptop } = registered();
    toLaptop(c, 1, at(1000));
    const out = c.agent.handle(laptop.event(laptop.sign({ type: 'deregister', reason: 1 })), at(1100));
    expect(kinds(out)).toEqual(['link-send', 'paging-send', 'kernel']);
    expect(read(sent(out)[0]!.payload, laptop.key).body).toMatchObject({ type: 'register-ack', status: 0, lifetimeS: 0 });
    c.agent.handle(laptop.event(laptop.register()), at(1200));
    toLaptop(c, 2, at(1300));
    const off = c.agent.handle(laptop.event(laptop.sign({ type: 'deregister', reason: 2 })), at(1400));
    expect(kinds(off)).toEqual(['paging-send']);
    expect(status(c)).toMatchObject({ inactive: { planned: 1 }, dropped: { planned: 1 }, hosts: { inactive: 1 } });
  });
});

describe('paging: DoS bounds (RFC 3154 §3.1, §3.3, §4.27)', () => {
  it('a correspondent the host did not name never causes a page nor a held packet', () => {
    const { c } = registered(undefined, { correspondents: [{ address: v4('203.0.113.0'), length: 24 }] });
    expect(toLaptop(c, 1, at(1000), v4('192.0.2.99'))).toEqual([]);
    expect(status(c)).toMatchObject({ dropped: { correspondent: 1 }, pages: 0, heldNow: 0 });
    expect(sent(toLaptop(c, 2, at(1001))).length).toBe(2);
  });

  it('wake-ups per host per hour are capped; the next hour pages again', () => {
    const { c, laptop } = registered(undefined, { mode: 1 });
    let t = 1000;
    for (let i = 0; i < 3; i++) {
      const page = read(sent(toLaptop(c, i, at(t)))[0]!.payload, laptop.key);
      c.agent.handle(laptop.event(laptop.sign({ type: 'page-response', paged: page.counter })), at(t + 10));
      c.agent.handle(laptop.event(laptop.register({ mode: 1 })), at(t + 20));
      t += 1000;
    }
    expect(toLaptop(c, 9, at(t))).toEqual([]);
    expect(status(c)).toMatchObject({ wakeups: 3, dropped: { 'wake-cap': 1 } });
    c.agent.handle(laptop.event(laptop.register({ mode: 1 })), at(3_599_000));
    expect(sent(toLaptop(c, 10, at(3_601_000))).length).toBe(2);
  });

  it('pages per area are rate-limited: a page beyond the bucket waits for the next token', () => {
    const c = pagingCore(pagingConfig('\toption area_page_rate \'2\'\n'));
    const hosts = [7, 8, 10].map((n) => new Host(`h${n}`, v4(`198.51.100.${n}`), macOf(n), 'lan1'));
    for (const h of hosts) {
      bind(c, h.address, 'lan1', h.mac);
      c.agent.handle(h.event(h.register({ mode: 1 })), T0);
    }
    const out = hosts.flatMap((h, i) => c.agent.handle(dormant(datagram(CORRESPONDENT, h.address, i)), at(100)));
    expect(sent(out).length).toBe(4); // two hosts × two ports
    expect(status(c)['pagesDeferred']).toBe(1);
    expect(c.paging.nextDeadline()).toBe(at(600));
    expect(sent(c.agent.poll(at(600))).length).toBe(2);
  });

  it('wide-cast traffic on a port wakes only hosts there that asked for it (§4.3)', () => {
    const { c } = registered(undefined, { wake: 1, mode: 1 });
    expect(c.agent.handle(dormant(datagram(CORRESPONDENT, v4('224.0.0.251'), 1), 'lan1'), at(10))).toEqual([]);
    expect(sent(c.agent.handle(dormant(datagram(CORRESPONDENT, v4('255.255.255.255'), 1), 'lan1'), at(20))).length).toBe(2);
    expect(c.agent.handle(dormant(datagram(CORRESPONDENT, v4('255.255.255.255'), 1), 'lan2'), at(30))).toEqual([]);
    expect(status(c)).toMatchObject({ wideCastWakes: 1, dropped: { 'wide-cast': 2 } });
  });

  it('asks the kernel to watch wide cast toward a port while a dormant host there wants it; a directed broadcast wakes it (§4.3)', () => {
    const { c, out } = registered(undefined, { wake: 1, mode: 1 });
    // Dormant with the broadcast bit: the watch is a kernel entry next to the address.
    expect(diverts(out)).toEqual({ add: ['broadcast lan1', '198.51.100.7'], remove: [] });
    expect([...c.paging.diverted()]).toContainEqual({ wake: 'broadcast', port: 'lan1' });
    // The kernel copies a directed broadcast only because its route said broadcast: on a port, it counts as one.
    const woke = c.agent.handle(dormant(datagram(CORRESPONDENT, v4('198.51.100.255'), 1), 'lan1'), at(10));
    expect(sent(woke).length).toBe(2);
    // Paged: no longer dormant, the watch goes with its last host.
    expect(diverts(woke)).toEqual({ add: [], remove: ['broadcast lan1'] });
    expect(status(c)).toMatchObject({ wideCastWakes: 1 });
  });
});

describe('paging: reload (RFC 3154 §4.14)', () => {
  it('keeps hosts, their replay state and held packets; a host whose area is gone is inactive', () => {
    const { c, laptop } = registered();
    toLaptop(c, 1, at(1000));
    const reg = laptop.register();
    c.agent.handle({ kind: 'config', config: config(pagingConfig('\toption page_interval \'5\'\n')) }, at(1100));
    expect(status(c)).toMatchObject({ hosts: { paging: 1 }, heldNow: 1 });
    c.agent.handle(laptop.event(reg), at(1200));
    expect(kinds(c.agent.handle(laptop.event(reg), at(1300)))).toEqual([]);
    const noArea = pagingConfig().replace(/config paging_area 'lobby'[\s\S]*?(?=config paging_host)/, '');
    c.agent.handle({ kind: 'config', config: config(noArea) }, at(2000));
    expect(status(c)).toMatchObject({ hosts: { inactive: 1 }, inactive: { reconfigured: 1 } });
  });
});

describe('paging: gleand hosts (the `hosts` control query)', () => {
  it('one JSON-safe row per tracked host: state, area, addresses, last page, packets held now', () => {
    const { c } = registered();
    toLaptop(c, 1, at(1000));
    toLaptop(c, 2, at(1001));
    const rows = [...(c.agent.query('hosts', at(1500)) as Iterable<Record<string, unknown>>)];
    expect(rows).toEqual([expect.objectContaining({
      id: 'laptop', state: 'paging', area: 'lobby', port: 'lan1', addresses: ['198.51.100.7'], pagesSent: 1, lastPageAgoMs: 500, held: 2,
    })]);
    expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
  });
});
