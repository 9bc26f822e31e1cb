/**
 * The multicast module's forwarding entries reach the kernel driver two ways: as live
 * `kernel` deltas after every change (a join, a second port, a leave by timeout), and as
 * the `mroutes` kind of the desired state a reconcile diffs against. Both must agree.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/actions';
import type { MrouteEntry } from '../../../src/kernel/mroute';
import { formatAddress } from '../../../src/wire/address';
import { McCore, RT, at } from './kit';

const fmt = (m: MrouteEntry) => `${formatAddress(m.family, m.source)},${formatAddress(m.family, m.group)} ${m.iif}>${m.oifs.join('+')}`;
const mr = (as: readonly Action[], op: 'add' | 'remove' | 'replace'): string[] =>
  as.flatMap((a) => (a.kind === 'kernel' ? a.delta.mroutes[op].map(fmt) : []));

describe('forwarding entries: live deltas and the desired state', () => {
  it.each([4, 6] as const)('IPv%s: join adds, a second port replaces, the timeout removes; desired() follows', (family) => {
    const G = family === 4 ? '232.1.1.1' : 'ff3e::8000:1';
    const S = family === 4 ? '192.0.2.10' : '2001:db8::10';
    const c = new McCore();
    expect(mr(c.startup, 'add')).toEqual([]);
    expect(mr(c.join('lan1', family, [[RT.ALLOW, G, [S]]], at(1000)), 'add')).toEqual([`${S},${G} eth0>eth1`]);
    expect(mr(c.join('lan2', family, [[RT.IS_IN, G, [S]]], at(2000)), 'replace')).toEqual([`${S},${G} eth0>eth1+eth2`]);
    expect([...(c.agent.desiredState().mroutes ?? [])].map(fmt)).toEqual([`${S},${G} eth0>eth1+eth2`]);
    // No report again: each port's source times out at the Group Membership Interval
    // (RFC 3376 §8.4), lan1's a second before lan2's: first one oif goes, then the entry.
    const out = c.runUntil(at(400_000));
    expect(mr(out, 'replace')).toEqual([`${S},${G} eth0>eth2`]);
    expect(mr(out, 'remove')).toEqual([`${S},${G} eth0>eth2`]);
    expect([...(c.agent.desiredState().mroutes ?? [])]).toEqual([]);
  });
});
