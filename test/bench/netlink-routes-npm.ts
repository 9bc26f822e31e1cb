/**
 * Child of netlink-routes.ts: the same routes through the npm `netlink` package's
 * request API (createRtNetlink().newRoute), 64 requests outstanding. Runs in its own
 * process because that package terminates the process on ENOBUFS. Prints one JSON line.
 */
import { performance } from 'node:perf_hooks';
import { createRtNetlink } from 'netlink';
import { parseIPv6 } from '../../src/wire/address';
import { pdPrefix } from './netlink-routes-shared';

const N = Number(process.env.GN_BENCH_ROUTES ?? 100_000);
const IFINDEX = Number(process.env.GN_BENCH_IFINDEX);
const PROTO = Number(process.env.GN_BENCH_PROTO);
const WINDOW = 64;

async function main(): Promise<void> {
  const sock = createRtNetlink();
  const gw = Buffer.from(parseIPv6('fe80::1')!);
  let ok = 0;
  let failed = 0;
  let firstError: string | undefined;
  let next = 0;
  const t = performance.now();
  const worker = async (): Promise<void> => {
    while (next < N) {
      const i = next++;
      try {
        await sock.newRoute(
          { family: 10, dstLen: 56, table: 254, protocol: PROTO, scope: 'UNIVERSE', type: 'UNICAST' },
          { dst: Buffer.from(parseIPv6(pdPrefix(i))!), gateway: gw, oif: IFINDEX },
          { flags: 0x400 | 0x200 } as never,
        );
        ok++;
      } catch (e) {
        failed++;
        firstError ??= String(e);
      }
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, worker));
  const ms = performance.now() - t;
  console.log(JSON.stringify({ ms, ok, failed, firstError }));
  process.exit(0);
}

void main();
