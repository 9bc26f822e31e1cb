import { table } from './table';

/** `gleand bindings` is streamed: platform/cli/bindings-stream.ts. */

interface KernelView {
  routes: { dst: string; via: string | null; device: string }[];
  neighbours: { address: string; lladdr: string; device: string }[];
  verify: { source: string; mac: string; device: string }[];
}

/** `gleand routes`: what the kernel holds of gleand's, read back from a netlink dump. */
export function renderRoutes(k: KernelView | null): string {
  if (!k) return 'kernel dump failed';
  return [
    table(['ROUTE', 'VIA', 'DEV'], k.routes.map((r) => [r.dst, r.via ?? '-', r.device])),
    '',
    table(['NEIGHBOUR', 'LLADDR', 'DEV'], k.neighbours.map((n) => [n.address, n.lladdr, n.device])),
    '',
    table(['VERIFY SOURCE', 'MAC', 'DEV'], k.verify.map((v) => [v.source, v.mac, v.device])),
  ].join('\n');
}
