import { describe, expect, it } from 'vitest';
import { MrouteDeltas } from '../../../src/kernel/mroute-delta';
import { MROUTE, mrouteKey, type MrouteEntry } from '../../../src/kernel/mroute';
import { parseIPv4 } from '../../../src/wire/address';

const e = (src: string, oifs: string[]): MrouteEntry => ({ family: 4, source: parseIPv4(src)!, group: parseIPv4('232.1.1.1')!, iif: 'up0', oifs });
const mroutes = (as: ReturnType<MrouteDeltas['update']>) => (as[0] as { delta: { mroutes: unknown } } | undefined)?.delta.mroutes;

describe('MrouteDeltas: live deltas of derived forwarding entries', () => {
  it('a join adds, another port joining replaces (same (S, G), other oifs), a leave removes; no change is no action', () => {
    const d = new MrouteDeltas();
    expect(mroutes(d.update([e('10.0.0.2', ['eth1'])]))).toEqual({ add: [e('10.0.0.2', ['eth1'])], remove: [], replace: [] });
    expect(d.update([e('10.0.0.2', ['eth1'])])).toEqual([]);
    expect(mroutes(d.update([e('10.0.0.2', ['eth1', 'eth2'])]))).toEqual({ add: [], remove: [], replace: [e('10.0.0.2', ['eth1', 'eth2'])] });
    expect(mroutes(d.update([]))).toEqual({ add: [], remove: [e('10.0.0.2', ['eth1', 'eth2'])], replace: [] });
    const a = d.update([e('10.0.0.3', ['eth1'])]);
    expect(a[0]).toMatchObject({ kind: 'kernel', delta: { routes: { add: [] }, neighbours: { add: [] }, verifies: { add: [] } } });
  });

  it('updateChannels diffs only the named channels: the others keep their entries, and a later full update agrees', () => {
    const d = new MrouteDeltas();
    const g2 = (src: string, oifs: string[]): MrouteEntry => ({ ...e(src, oifs), group: parseIPv4('232.1.1.2')! });
    d.update([e('10.0.0.2', ['eth1']), g2('10.0.0.2', ['eth1'])]);
    const k1 = mrouteKey('10.0.0.2', '232.1.1.1');
    expect(k1).toBe(MROUTE.key(e('10.0.0.2', [])));
    // Channel 1 gains a port; channel 2 is not named, so nothing of it is removed.
    expect(mroutes(d.updateChannels([[k1, e('10.0.0.2', ['eth1', 'eth2'])]]))).toEqual({ add: [], remove: [], replace: [e('10.0.0.2', ['eth1', 'eth2'])] });
    // The same interfaces again (another array): no change, no action.
    expect(d.updateChannels([[k1, e('10.0.0.2', ['eth1', 'eth2'])]])).toEqual([]);
    expect(d.update([e('10.0.0.2', ['eth1', 'eth2']), g2('10.0.0.2', ['eth1'])])).toEqual([]);
    // A channel no port forwards any more: named with null, its entry goes.
    expect(mroutes(d.updateChannels([[k1, null]]))).toEqual({ add: [], remove: [e('10.0.0.2', ['eth1', 'eth2'])], replace: [] });
    expect([...d.entries()]).toEqual([g2('10.0.0.2', ['eth1'])]);
    expect(d.update([g2('10.0.0.2', ['eth1'])])).toEqual([]);
  });
});
