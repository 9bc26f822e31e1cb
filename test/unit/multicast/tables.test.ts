/**
 * Every row of the router state tables, RFC 3376 §6.4.1 (current-state records) and
 * §6.4.2 (filter-mode change and source-list change), and the timer rules of §6.3 /
 * §6.5 — for IGMPv3 and for MLDv2 (RFC 3810 §7.4, the same tables) — as scripts
 * against time. Groups outside the SSM range with `asm_policy allow`, where EXCLUDE
 * mode exists. Timers are shown as ms left; GMI 260 s, LMQT 2 s (the defaults).
 */
import { describe, expect, it } from 'vitest';
import { McCore, RT, at, queries } from './kit';

const ALLOW_ASM = '\toption asm_policy \'allow\'\n';
const FAMILIES = [
  { family: 4 as const, G: '239.1.1.1', S1: '192.0.2.1', S2: '192.0.2.2', S3: '192.0.2.3', S4: '192.0.2.4' },
  { family: 6 as const, G: 'ff0e::1:1', S1: '2001:db8::1', S2: '2001:db8::2', S3: '2001:db8::3', S4: '2001:db8::4' },
];

describe.each(FAMILIES)('RFC 3376 §6.4 router state tables (family $family)', ({ family, G, S1, S2, S3, S4 }) => {
  /** INCLUDE (A = {S1, S2}) from an IS_IN at 0; the row's record B = {S2, S3} at 1 s. */
  const fromInclude = (type: number) => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.runUntil(at(1));
    const out = c.join('lan1', family, [[type, G, [S2, S3]]], at(1000));
    return { c, q: queries(out, 'lan1').filter((x) => !x.startsWith('GQ')), state: c.state('lan1', family, G, at(1000)) };
  };
  /** EXCLUDE (X = {S2}, Y = {S3}) from IS_IN {S1,S2} at 0 and IS_EX {S2,S3} at 1 s; the row's record A = {S3, S4} at 2 s. */
  const fromExclude = (type: number) => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    c.join('lan1', family, [[RT.IS_EX, G, [S2, S3]]], at(1000));
    c.runUntil(at(1001));
    expect(c.state('lan1', family, G, at(2000))).toBe(`EXCLUDE {${S2}:258000} {${S3}} GT=259000`);
    const out = c.join('lan1', family, [[type, G, [S3, S4]]], at(2000));
    return { c, q: queries(out, 'lan1').filter((x) => !x.startsWith('GQ')), state: c.state('lan1', family, G, at(2000)) };
  };

  it('INCLUDE (A) + IS_IN (B) → INCLUDE (A+B); (B)=GMI', () => {
    expect(fromInclude(RT.IS_IN)).toMatchObject({ q: [], state: `INCLUDE {${S1}:259000 ${S2}:260000 ${S3}:260000}` });
  });
  it('INCLUDE (A) + IS_EX (B) → EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Group Timer=GMI', () => {
    expect(fromInclude(RT.IS_EX)).toMatchObject({ q: [], state: `EXCLUDE {${S2}:259000} {${S3}} GT=260000` });
  });
  it('INCLUDE (A) + ALLOW (B) → INCLUDE (A+B); (B)=GMI', () => {
    expect(fromInclude(RT.ALLOW)).toMatchObject({ q: [], state: `INCLUDE {${S1}:259000 ${S2}:260000 ${S3}:260000}` });
  });
  it('INCLUDE (A) + BLOCK (B) → INCLUDE (A); Send Q(G,A*B)', () => {
    expect(fromInclude(RT.BLOCK)).toMatchObject({ q: [`Q(${G}; ${S2})`], state: `INCLUDE {${S1}:259000 ${S2}:2000}` });
  });
  it('INCLUDE (A) + TO_EX (B) → EXCLUDE (A*B, B-A); (B-A)=0; Delete (A-B); Send Q(G,A*B); Group Timer=GMI', () => {
    expect(fromInclude(RT.TO_EX)).toMatchObject({ q: [`Q(${G}; ${S2})`], state: `EXCLUDE {${S2}:2000} {${S3}} GT=260000` });
  });
  it('INCLUDE (A) + TO_IN (B) → INCLUDE (A+B); (B)=GMI; Send Q(G,A-B)', () => {
    expect(fromInclude(RT.TO_IN)).toMatchObject({ q: [`Q(${G}; ${S1})`], state: `INCLUDE {${S1}:2000 ${S2}:260000 ${S3}:260000}` });
  });

  it('EXCLUDE (X,Y) + IS_IN (A) → EXCLUDE (X+A, Y-A); (A)=GMI', () => {
    expect(fromExclude(RT.IS_IN)).toMatchObject({ q: [], state: `EXCLUDE {${S2}:258000 ${S3}:260000 ${S4}:260000} {} GT=259000` });
  });
  it('EXCLUDE (X,Y) + IS_EX (A) → EXCLUDE (A-Y, Y*A); (A-X-Y)=GMI; Delete (X-A); Delete (Y-A); Group Timer=GMI', () => {
    expect(fromExclude(RT.IS_EX)).toMatchObject({ q: [], state: `EXCLUDE {${S4}:260000} {${S3}} GT=260000` });
  });
  it('EXCLUDE (X,Y) + ALLOW (A) → EXCLUDE (X+A, Y-A); (A)=GMI', () => {
    expect(fromExclude(RT.ALLOW)).toMatchObject({ q: [], state: `EXCLUDE {${S2}:258000 ${S3}:260000 ${S4}:260000} {} GT=259000` });
  });
  it('EXCLUDE (X,Y) + BLOCK (A) → EXCLUDE (X+(A-Y), Y); (A-X-Y)=Group Timer; Send Q(G,A-Y)', () => {
    // S4 took the group timer (259 s), above LMQT, so the query lowered it to LMQT.
    expect(fromExclude(RT.BLOCK)).toMatchObject({ q: [`Q(${G}; ${S4})`], state: `EXCLUDE {${S2}:258000 ${S4}:2000} {${S3}} GT=259000` });
  });
  it('EXCLUDE (X,Y) + TO_EX (A) → EXCLUDE (A-Y, Y*A); (A-X-Y)=Group Timer; Delete (X-A); Delete (Y-A); Send Q(G,A-Y); Group Timer=GMI', () => {
    expect(fromExclude(RT.TO_EX)).toMatchObject({ q: [`Q(${G}; ${S4})`], state: `EXCLUDE {${S4}:2000} {${S3}} GT=260000` });
  });
  it('EXCLUDE (X,Y) + TO_IN (A) → EXCLUDE (X+A, Y-A); (A)=GMI; Send Q(G,X-A); Send Q(G)', () => {
    const { c, q, state } = fromExclude(RT.TO_IN);
    expect(q).toEqual([`Q(${G})`, `Q(${G}; ${S2})`]);
    expect(state).toBe(`EXCLUDE {${S2}:2000 ${S3}:260000 ${S4}:260000} {} GT=2000`);
    // [LMQC − 1] = 1 retransmission LMQI later; nobody answers for the group: at LMQT
    // the group timer expires and the group is INCLUDE of the sources still wanted (§6.5).
    expect(queries(c.runUntil(at(3000)), 'lan1')).toEqual([`Q(${G})`, `Q(${G}; ${S2})`]);
    c.runUntil(at(4000));
    expect(c.state('lan1', family, G, at(4000))).toBe(`INCLUDE {${S3}:258000 ${S4}:258000}`);
  });

  it('§6.6.3.1: a report between retransmissions sets the S flag on the next group query', () => {
    const { c } = fromExclude(RT.TO_IN);
    c.join('lan1', family, [[RT.IS_EX, G, []]], at(2500));
    expect(queries(c.runUntil(at(3000)), 'lan1')).toEqual([`Q(${G}) S`]);
  });

  it('§6.5: group timer expiry in EXCLUDE with no source timers running deletes the group', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_EX, G, [S1]]], at(0));
    expect(c.state('lan1', family, G, at(0))).toBe(`EXCLUDE {} {${S1}} GT=260000`);
    c.runUntil(at(259_999));
    expect(c.state('lan1', family, G, at(259_999))).toBe(`EXCLUDE {} {${S1}} GT=1`);
    c.runUntil(at(260_000));
    expect(c.state('lan1', family, G, at(260_000))).toBe('none');
  });

  it('§6.3: a source timer expiring in EXCLUDE moves the source to the exclude list; in INCLUDE it deletes it', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, [S1]]], at(0));
    c.join('lan1', family, [[RT.IS_EX, G, [S1]]], at(100_000));
    c.join('lan1', family, [[RT.IS_EX, G, [S1]]], at(200_000));
    expect(c.state('lan1', family, G, at(200_000))).toBe(`EXCLUDE {${S1}:60000} {} GT=260000`);
    c.runUntil(at(260_000));
    expect(c.state('lan1', family, G, at(260_000))).toBe(`EXCLUDE {} {${S1}} GT=200000`);
    const d = new McCore(ALLOW_ASM);
    d.join('lan1', family, [[RT.IS_IN, G, [S1, S2]]], at(0));
    d.join('lan1', family, [[RT.IS_IN, G, [S2]]], at(1000));
    d.runUntil(at(260_000));
    expect(d.state('lan1', family, G, at(260_000))).toBe(`INCLUDE {${S2}:1000}`);
  });

  it('§6.3 forwarding in EXCLUDE: every source the kernel reports traffic from, except the exclude list', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_EX, G, [S1]]], at(0));
    const miss = (s: string) => c.agent.handle({ kind: 'mroute-miss', family, reason: 'nocache', source: ipOf(s), group: ipOf(G), port: 'wan', upstream: true }, at(10));
    miss(S1);
    miss(S2);
    expect(c.mroutes()).toEqual([`${S2},${G} eth0>eth1`]);
  });

  it('§6.4: records for a group never seen create no state when they ask for nothing (IS_IN {}, BLOCK)', () => {
    const c = new McCore(ALLOW_ASM);
    c.join('lan1', family, [[RT.IS_IN, G, []], [RT.BLOCK, G, [S1]], [RT.TO_IN, G, []], [RT.ALLOW, G, []]], at(0));
    expect(c.state('lan1', family, G, at(0))).toBe('none');
  });
});

import { parseIPv4, parseIPv6 } from '../../../src/wire/address';
const ipOf = (t: string) => (t.includes(':') ? parseIPv6(t)! : parseIPv4(t)!);
