/**
 * Lab helpers for dormant-host alerting (RFC 3154; src/paging/PROTOCOL.md): the paging
 * sections of gleand's config, a "sleeping NIC" for a host namespace (an nftables input
 * filter that lets only the paging port and / or Wake-on-LAN through, as a NIC in a low
 * power state passes only its wake frames), and the real host (`gleand host listen`)
 * started in a subscriber's namespace. Judged with tshark and nft, not gleand's view.
 */
import { GLEAND_BUNDLE, tsharkFields, type Lab, type LabProcess, type LabSubscriber } from './lab';

export const PAGING_PORT = 3154;
export const WOL_PORT = 9;
/** Test keys (hex, 32 octets): the paging section's key_master and the area's key. */
export const MASTER_HEX = '6d61737465722d6b65792d666f722d7468652d706167696e672d6c61622d2121';
export const AREA_HEX = '617265612d6b65792d666f722d746865206c6f6262792d6172656121212121ff';
export const AREA = 'lobby';
/** The host's table in its own namespace: removed on the page (or by the WoL waker). */
export const SLEEP_TABLE = 'sleep';

/** `config paging` + one area holding every subscriber port of the lab. */
export function pagingSections(lab: Lab, o: {
  pagesMax?: number; pageIntervalS?: number; advertIntervalS?: number; areaPageRate?: number; heldTotal?: number;
} = {}): string {
  return `
config paging
        option enabled '1'
        option port '${PAGING_PORT}'
        option key_master '${MASTER_HEX}'
        option advert_interval '${o.advertIntervalS ?? 2}'
        option pages_max '${o.pagesMax ?? 3}'
        option page_interval '${o.pageIntervalS ?? 1}'
        option wakeups_per_hour '100'
${o.areaPageRate ? `        option area_page_rate '${o.areaPageRate}'\n` : ''}${o.heldTotal ? `        option held_total '${o.heldTotal}'\n` : ''}
config paging_area '${AREA}'
${lab.subscribers.map((s) => `        list port '${s.name}'`).join('\n')}
        option key '${AREA_HEX}'
`;
}

/**
 * The sleeping NIC as an nft script for the host's namespace: every input packet is
 * dropped but the paging port (`l3`: a host that keeps listening, time-slotted) or only
 * Wake-on-LAN (`wol`: the NIC passes its magic packet alone), and ARP (a sleeping NIC
 * with ARP offload still answers it).
 */
export function sleepScript(mode: 'l3' | 'wol'): string {
  const pass = mode === 'l3' ? `udp dport ${PAGING_PORT} accept` : `udp dport ${WOL_PORT} accept`;
  return `add table inet ${SLEEP_TABLE}\n`
    + `add chain inet ${SLEEP_TABLE} input { type filter hook input priority -400; policy drop; }\n`
    + `add rule inet ${SLEEP_TABLE} input ${pass}\n`
    // Neighbour discovery passes, as ARP does (an inet table never sees ARP): NICs with
    // ND offload answer it asleep, and the host must reach the router to answer a page.
    + `add rule inet ${SLEEP_TABLE} input icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n`;
}

export interface PagingHostOptions {
  readonly id: string;
  readonly mode: 'l3' | 'wol';
  readonly awakeS?: number;
  readonly family?: 4 | 6;
  /** Wide-cast traffic that may wake it (RFC 3154 §4.3): `--wake`. */
  readonly wake?: 'broadcast' | 'multicast' | 'broadcast,multicast';
}

/**
 * `gleand host listen` in the subscriber's namespace: on going dormant it puts the
 * sleeping-NIC filter in place, on a page it lifts it (before its PAGE_RESPONSE releases
 * the held packets). Its stdout is one JSON line per event.
 */
export function startPagingHost(lab: Lab, sub: LabSubscriber, o: PagingHostOptions): LabProcess {
  const script = sleepScript(o.mode).replace(/\n/g, '\\n');
  const onDormant = `printf '${script}' | nft -f -`;
  // Idempotent: in WoL mode the waker may have lifted it already.
  const onPage = `nft delete table inet ${SLEEP_TABLE} 2>/dev/null; true`;
  return lab.spawn(sub.ns, [process.execPath, GLEAND_BUNDLE, 'host', 'listen', '--id', o.id, '--master', MASTER_HEX,
    '--area-key', AREA_HEX, '--iface', sub.dev, '--mode', o.mode, '--family', String(o.family ?? 4), '--port', String(PAGING_PORT),
    '--awake', String(o.awakeS ?? 3600), ...(o.wake ? ['--wake', o.wake] : []), '--on-dormant', onDormant, '--on-page', onPage],
  { name: `paging-host-${o.id}` });
}

/** The JSON events a host process printed so far. */
export function hostEvents(p: LabProcess): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of p.log().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a partial line still being written
    }
  }
  return out;
}

/**
 * A Wake-on-LAN "NIC" for the host namespace: a UDP socket on port 9 that, on a magic
 * packet naming `mac` (six 0xff, then the MAC sixteen times), lifts the sleeping filter
 * and prints `woke`.
 */
export function wolWakerScript(mac: string): string {
  const m = mac.split(':').map((x) => `\\x${x}`).join('');
  return `import socket, subprocess
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('0.0.0.0', ${WOL_PORT}))
print('listening', flush=True)
magic = b'\\xff' * 6 + b'${m}' * 16
while True:
    d, a = s.recvfrom(4096)
    if magic in d:
        subprocess.run(['nft', 'delete', 'table', 'inet', '${SLEEP_TABLE}'])
        print('woke', flush=True)
`;
}

/** Paging messages in a capture: [frame time, source, destination, type, udp payload hex]. */
export async function pagingFrames(pcap: string): Promise<{ time: number; src: string; dst: string; type: number; payload: string }[]> {
  const rows = await tsharkFields(pcap, `udp.dstport == ${PAGING_PORT} || udp.srcport == ${PAGING_PORT}`,
    ['frame.time_relative', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'udp.payload']);
  return rows.map(([t, src, dst, src6, dst6, hex]) => {
    const payload = (hex ?? '').replace(/:/g, '');
    return { time: Number(t), src: src || src6 || '', dst: dst || dst6 || '', type: parseInt(payload.slice(2, 4), 16), payload };
  });
}

/** The paging message types (PROTOCOL.md §3.1). */
export const TYPE = { ADVERT: 1, REGISTER: 2, REGISTER_ACK: 3, DEREGISTER: 4, PAGE: 5, PAGE_RESPONSE: 6 } as const;
