// Any-source multicast under `asm_policy allow`: an EXCLUDE-mode join of a group outside
// the SSM range names no source, so the forwarding entry can only come from the kernel's
// upcall — the first packet of (S, G) misses (IGMPMSG_NOCACHE / MRT6MSG_NOCACHE), gleand's
// multicast routing socket reads the upcall as `mroute-miss`, the router learns S for the
// group (RFC 3376 §6.3: EXCLUDE forwards every source not excluded) and installs (S, G).
// Judged by the router's kernel (`ip mroute`) and tshark at the subscribers.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, type GleandHandle, type Lab,
} from '../lab/lab';
import { MC, captureData, channelCounts, join, kernelMroute, prepareMulticastLab, startSender } from '../lab/multicast';
import { until } from '../lab/wait';

const G4 = '239.1.2.3';
const G6 = 'ff1e::1:3';

describe('any-source joins: forwarding entries learnt from the kernel\'s upcalls', () => {
  let lab: Lab;
  let gleand: GleandHandle;

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 2, startServers: false });
    await prepareMulticastLab(lab);
    gleand = lab.startGleand(labGleandConfig(lab, {
      extra: `config multicast 'mc'
        option enabled '1'
        option upstream 'wan'
        option asm_policy 'allow'
        option query_response_interval '20'
        option query_interval '10'
`,
    }));
    await gleand.ready();
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('sub0 joins G (EXCLUDE {}), the first packets of (S1, G) and (S2, G) miss, both channels are installed toward sub0 only', async () => {
    const s0 = lab.subscribers[0]!, s1 = lab.subscribers[1]!;
    await join(lab, s0, 4, G4, []);
    await join(lab, s0, 6, G6, []);
    // The groups are in gleand before the first packet (the joins' reports arrived).
    await until('sub0 is a member', async () => (await lab.exec(lab.router.ns,
      [process.execPath, GLEAND_BUNDLE, 'groups', 'sub0', '-c', gleand.configPath])).stdout.includes(G4));
    await startSender(lab, [[MC.s1v4, G4], [MC.s2v4, G4], [MC.s1v6, G6], [MC.s2v6, G6]]);
    await until('every channel installed from its upcall', async () => {
      for (const [s, g] of [[MC.s1v4, G4], [MC.s2v4, G4], [MC.s1v6, G6], [MC.s2v6, G6]] as const) {
        const m = await kernelMroute(lab, s, g);
        if (!m || m.iif !== lab.router.upstreamDev || m.oifs.join() !== s0.routerDev) return false;
      }
      return true;
    }, 15_000);
    const caps = [await captureData(lab, s0), await captureData(lab, s1)];
    const start = (await kernelMroute(lab, MC.s2v4, G4))!.packets;
    await until('20 more packets', async () => (await kernelMroute(lab, MC.s2v4, G4))!.packets >= start + 20, 20_000);
    const [c0, c1] = await Promise.all(caps.map(async (c) => channelCounts(await c.stop())));
    expect(Object.keys(c0!).sort()).toEqual([`${MC.s1v4} ${G4}`, `${MC.s1v6} ${G6}`, `${MC.s2v4} ${G4}`, `${MC.s2v6} ${G6}`].sort());
    expect(c1).toEqual({});
    // The upcalls were read and reached the router (gleand's view, beside the kernel's).
    const st = JSON.parse((await lab.exec(lab.router.ns, [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout);
    expect(st.drivers.kernel.mroutes.upcallsNocache).toBeGreaterThanOrEqual(4);
    expect(st.modules.multicast.counters.sourcesLearnt).toBeGreaterThanOrEqual(4);
  });
});
