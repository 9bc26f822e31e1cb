// MLD after Duplicate Address Detection: a subscriber port whose link-local is still
// tentative when gleand starts. RFC 4862 §5.4: a tentative address is not used for
// communication, and RFC 3810 §5.1.14 wants MLD queries from a link-local, so gleand must
// stay silent while DAD runs and take the querier role as soon as DAD ends (the kernel's
// RTM_NEWADDR without IFA_F_TENTATIVE), not at the next reload. Judged by tshark on the
// subscriber's wire: the kernel's DAD probes and gleand's queries, in the order they left.
// Needs root: fails loudly, never skips.
import * as fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createLab, ensureLabPackages, GLEAND_BUNDLE, labGleandConfig, requireRootAndNetns, tsharkFields,
  type Capture, type GleandHandle, type Lab,
} from '../lab/lab';
import { until } from '../lab/wait';

/** The port's only link-local, added with DAD on (documentation-style fe80:: interface id). */
const LINK_LOCAL = 'fe80::dad:1';
/** DAD probes, one a second (RFC 4862 §5.1 DupAddrDetectTransmits, RetransTimer): long enough for gleand to start inside it. */
const DAD_TRANSMITS = 15;

describe('MLD querier after DAD', () => {
  let lab: Lab;
  let gleand: GleandHandle;
  let wire: Capture;
  const ns = () => lab.router.ns;
  const dev = () => lab.subscribers[0]!.routerDev;
  const tentative = async (address: string) =>
    (await lab.exec(ns(), ['ip', '-6', 'addr', 'show', 'dev', dev(), 'tentative'])).stdout.includes(address);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const mld = async (): Promise<any> => JSON.parse((await lab.exec(ns(), [process.execPath, GLEAND_BUNDLE, 'status', '--json', '-c', gleand.configPath])).stdout)
    ['modules']['multicast']['ports'][lab.subscribers[0]!.name]['MLD'];
  /** DAD probes for `address` (Neighbour Solicitations from ::, RFC 4862 §5.4.2) and MLD queries (RFC 3810 §5.1), by frame number. */
  const wireOrder = async (pcap: string, address: string) => ({
    probes: (await tsharkFields(pcap, `icmpv6.type == 135 and ipv6.src == :: and icmpv6.nd.ns.target_address == ${address}`, ['frame.number']))
      .map(([n]) => Number(n)),
    queries: (await tsharkFields(pcap, 'icmpv6.type == 130', ['frame.number', 'ipv6.src', 'icmpv6.mld.multicast_address']))
      .map(([n, src, g]) => ({ n: Number(n), src, group: g })),
  });

  beforeAll(async () => {
    requireRootAndNetns();
    ensureLabPackages();
    expect(fs.existsSync(GLEAND_BUNDLE), 'npm run build first').toBe(true);
    lab = await createLab({ subscribers: 1, startServers: false });
  });

  afterAll(async () => {
    await lab?.teardown();
  });

  it('sends no MLD query from a tentative link-local, and queries from it once DAD has ended', async () => {
    const sub = lab.subscribers[0]!;
    // The lab turns DAD off everywhere; this port has it on, slow, and no other link-local.
    await lab.exec(ns(), ['sysctl', '-qw', `net.ipv6.conf.${dev()}.accept_dad=1`, `net.ipv6.conf.${dev()}.dad_transmits=${DAD_TRANSMITS}`,
      `net.ipv6.neigh.${dev()}.retrans_time_ms=1000`]);
    await lab.exec(ns(), ['ip', '-6', 'addr', 'flush', 'dev', dev(), 'scope', 'link']);
    wire = await lab.capture(sub.ns, sub.dev, 'ip6 and not udp', 'mc-dad-sub0');
    await lab.exec(ns(), ['ip', '-6', 'addr', 'add', `${LINK_LOCAL}/64`, 'dev', dev()]);
    gleand = lab.startGleand(labGleandConfig(lab, {
      extra: `config multicast 'mc'
        option enabled '1'
        option upstream 'wan'
        option query_interval '10'
        option query_response_interval '20'
`,
    }));
    await gleand.ready();
    // The case under test needs gleand running before DAD ends; say so rather than pass vacuously.
    expect(await tentative(LINK_LOCAL), `DAD on ${dev()} ended before gleand ran; raise DAD_TRANSMITS`).toBe(true);
    await until('DAD to end', async () => !(await tentative(LINK_LOCAL)), (DAD_TRANSMITS + 10) * 1000);
    // gleand's view is only the wait condition; the wire below is the judge.
    await until('gleand MLD querier on the port', async () => {
      const m = await mld();
      return m['querier'] === true && m['address'] === LINK_LOCAL;
    }, 15_000);
    const { probes, queries } = await wireOrder(await wire.stop(), LINK_LOCAL);
    expect(probes.length).toBe(DAD_TRANSMITS);
    const lastProbe = Math.max(...probes);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      expect(q.n, `query from ${q.src} while ${LINK_LOCAL} was tentative`).toBeGreaterThan(lastProbe);
      expect(q.src).toBe(LINK_LOCAL);
    }
    expect(queries.some((q) => q.group === '::')).toBe(true); // a general query
  });

  it('a link-local removed leaves the port without querier; one added later takes the role once its DAD ends', async () => {
    const sub = lab.subscribers[0]!;
    await lab.exec(ns(), ['ip', '-6', 'addr', 'del', `${LINK_LOCAL}/64`, 'dev', dev()]);
    // RFC 3810 §7.6.2 (as RFC 3376 §6.6.2): no address of our own, no querier.
    await until('gleand without an MLD address', async () => (await mld())['address'] === null, 15_000);
    expect((await mld())['querier']).toBe(false);
    const next = 'fe80::dad:2';
    wire = await lab.capture(sub.ns, sub.dev, 'ip6 and not udp', 'mc-dad-sub0-next');
    await lab.exec(ns(), ['ip', '-6', 'addr', 'add', `${next}/64`, 'dev', dev()]);
    await until('DAD of the new address to end', async () => !(await tentative(next)), (DAD_TRANSMITS + 10) * 1000);
    await until('gleand MLD querier from the new address', async () => {
      const m = await mld();
      return m['querier'] === true && m['address'] === next;
    }, 15_000);
    const { probes, queries } = await wireOrder(await wire.stop(), next);
    expect(probes.length).toBe(DAD_TRANSMITS);
    expect(queries.length).toBeGreaterThan(0);
    for (const q of queries) {
      expect(q.n).toBeGreaterThan(Math.max(...probes));
      expect(q.src).toBe(next);
    }
    expect(queries.some((q) => q.group === '::')).toBe(true);
  });
});
