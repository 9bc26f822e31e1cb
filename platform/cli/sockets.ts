import { table } from './table';

/**
 * One row per socket gleand owns, from the drivers' sections of `status`: what gleand
 * read from it and what the kernel dropped before gleand could (its own counters:
 * PACKET_STATISTICS for the packet sockets, SO_MEMINFO sk_drops for the rest). For a
 * subscriber port, SEEN (every frame the DHCP filter passed) = READ + KERNEL-DROPPED
 * + what is still queued.
 */
export interface SocketRow {
  readonly socket: string;
  readonly seen: number | null;
  readonly read: number | null;
  readonly drops: number | null;
}

type Obj = Record<string, unknown>;
const num = (x: unknown): number | null => (typeof x === 'number' ? x : null);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);

export function socketRows(drivers: Obj): SocketRow[] {
  const rows: SocketRow[] = [];
  const packet = (drivers['packet'] ?? {}) as Obj;
  for (const p of list(packet['ports'])) {
    rows.push({ socket: `packet ${String(p['port'])} (${String(p['device'])})`, seen: num(p['seen']), read: num(p['read']), drops: num(p['drops']) });
  }
  const mc = (drivers['multicast'] ?? {}) as Obj;
  for (const d of list(mc['devices'])) {
    rows.push({ socket: `packet igmp/mld ${String(d['port'])} (${String(d['device'])})`, seen: num(d['seen']), read: num(d['read']), drops: num(d['drops']) });
  }
  const udp = (drivers['udp'] ?? {}) as Obj;
  for (const s of list(udp['sockets'])) {
    const name = `udp ${String(s['address']).includes(':') ? `[${String(s['address'])}]` : String(s['address'])}:${String(s['port'])}`;
    rows.push({ socket: s['receives'] === false ? `${name} (send only)` : name, seen: null, read: num(s['read']), drops: num(s['drops']) });
  }
  const kernel = (drivers['kernel'] ?? {}) as Obj;
  for (const s of list(kernel['sockets'])) rows.push({ socket: `netlink ${String(s['socket'])}`, seen: null, read: null, drops: num(s['drops']) });
  const nft = (kernel['nft'] ?? null) as Obj | null;
  if (nft) rows.push({ socket: 'netlink nfnetlink', seen: null, read: null, drops: num(nft['kernelDrops']) });
  const passive = (drivers['passive'] ?? {}) as Obj;
  for (const s of list(passive['kernelDrops'])) {
    rows.push({ socket: `raw ${String(s['device'])} v${String(s['family'])}`, seen: null, read: null, drops: num(s['drops']) });
  }
  return rows;
}

export function renderSockets(drivers: Obj): string {
  const cell = (x: number | null) => (x === null ? '-' : x);
  return table(['SOCKET', 'SEEN', 'READ', 'KERNEL-DROPPED'],
    socketRows(drivers).map((r) => [r.socket, cell(r.seen), cell(r.read), cell(r.drops)]));
}
