/**
 * The first working router: an INCLUDE-mode SSM join on a subscriber port, for IGMPv3 and
 * MLDv2 alike, from the report to the forwarding entry and the upstream report, and out
 * again by BLOCK and by timeout (RFC 3376 §6.4, RFC 4604 §3.1, RFC 4605 §4).
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, T0, at, queries, sent, upReports } from './kit';

const CASES = [
  { family: 4 as const, G: '232.1.1.1', S1: '192.0.2.10', S2: '192.0.2.11', allNodes: '224.0.0.1', src: '198.51.100.1' },
  { family: 6 as const, G: 'ff3e::8000:1', S1: '2001:db8::10', S2: '2001:db8::11', allNodes: 'ff02::1', src: '::' },
];
// Defaults: RV 2, QI 125 s, QRI 10 s, LMQI 1 s: GMI 260 s, LMQT 2 s.
const GMI = 260_000;

describe.each(CASES)('SSM join in INCLUDE mode (family $family)', ({ family, G, S1, S2, allNodes, src }) => {
  it('starts as querier with general queries on every port, [Startup Query Count] of them a quarter QI apart', () => {
    const c = new McCore();
    const gq = sent(c.startup).filter((s) => 'q' in s && s.dst === allNodes);
    expect(gq.map((s) => s.port).sort()).toEqual(['lan1', 'lan2']);
    expect(gq[0]).toMatchObject({ q: 'v3', group: null, s: false, maxRespMs: 10_000, qrv: 2, qqi: 125 });
    const second = sent(c.runUntil(at(125_000 / 4))).filter((s) => 'q' in s && s.dst === allNodes && s.port === 'lan1');
    expect(second).toHaveLength(1);
    // After the startup count, every QI.
    expect(c.agent.nextDeadline()).toBe(at(125_000 / 4 + 125_000));
    if (family === 4) expect(sent(c.startup).find((s) => s.port === 'lan1' && 'q' in s && s.dst === allNodes)).toMatchObject({ src });
  });

  it('IS_IN / ALLOW make (S,G) state, a forwarding entry toward the port and an ALLOW upstream', () => {
    const c = new McCore();
    const out = c.join('lan1', family, [[RT.ALLOW, G, [S1]]], at(1000));
    expect(c.state('lan1', family, G, at(1000))).toBe(`INCLUDE {${S1}:${GMI}}`);
    expect(c.mroutes()).toEqual([`${S1},${G} eth0>eth1`]);
    expect(upReports(out)).toEqual([`ALLOW(${G}: ${S1})`]);
    // Retransmitted once more (RV 2) within the Unsolicited Report Interval (random 0 here).
    expect(upReports(c.poll(at(1000)))).toEqual([`ALLOW(${G}: ${S1})`]);
    // A second port joining the same channel adds an oif, and the upstream hears nothing new.
    expect(upReports(c.join('lan2', family, [[RT.IS_IN, G, [S1, S2]]], at(2000)))).toEqual([`ALLOW(${G}: ${S2})`]);
    expect(c.mroutes()).toEqual([`${S1},${G} eth0>eth1+eth2`, `${S2},${G} eth0>eth2`]);
  });

  it('BLOCK sends group-and-source queries LMQC times; no answer: the source and the group go', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(0));
    c.runUntil(at(1));
    const out = c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(10_000));
    expect(queries(out)).toEqual([`Q(${G}; ${S1})`]);
    expect(sent(out).find((s) => 'q' in s)).toMatchObject({ dst: G, maxRespMs: 1000 });
    expect(c.state('lan1', family, G, at(10_000))).toBe(`INCLUDE {${S1}:2000}`);
    expect(queries(c.runUntil(at(11_000)))).toEqual([`Q(${G}; ${S1})`]);
    const end = c.runUntil(at(12_000));
    expect(c.state('lan1', family, G, at(12_000))).toBe('none');
    expect(c.mroutes()).toEqual([]);
    // The BLOCK and its retransmission (RV 2; the random delay is 0 here).
    expect(upReports(end)).toEqual([`BLOCK(${G}: ${S1})`, `BLOCK(${G}: ${S1})`]);
  });

  it('a report answering the query keeps the channel', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.join('lan1', family, [[RT.BLOCK, G, [S1]]], at(10_000));
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(10_500));
    expect(c.state('lan1', family, G, at(10_500))).toBe(`INCLUDE {${S1}:${GMI} ${S2}:${GMI - 10_500}}`);
    // The retransmission still goes (its count was armed), with S set: the timer is above LMQT again.
    expect(queries(c.runUntil(at(11_000)))).toEqual([`Q(${G}; ${S1}) S`]);
  });

  it('without reports the channel times out after GMI', () => {
    const c = new McCore();
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], T0);
    c.runUntil(at(GMI - 1));
    expect(c.mroutes()).toEqual([`${S1},${G} eth0>eth1`]);
    c.runUntil(at(GMI));
    expect(c.mroutes()).toEqual([]);
  });
});
