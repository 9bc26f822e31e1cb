import { keyValues, table } from './table';

interface PortCounters {
  bindings: number; relayed4: number; relayed6: number; replies4: number; replies6: number;
  gleaned: number; released: number; dropped: Record<string, number>;
}

interface PortRow { name: string; device: string; upstream?: string; mode?: string; relayV4?: boolean; relayV6?: boolean }

/** Human rendering of the `status` document; `--json` prints the document itself. */
export function renderStatus(s: Record<string, unknown>): string {
  const ports = (s['ports'] ?? {}) as { upstream?: PortRow[]; subscriber?: PortRow[] };
  const out = [
    keyValues([
      ['version', String(s['version'])],
      ['pid', Number(s['pid'])],
      ['config', String(s['configFile'])],
      ['uptime', `${Math.round(Number(s['uptimeMs']) / 1000)} s`],
      ['rss', `${(Number(s['rssBytes']) / 1048576).toFixed(1)} MiB`],
      ['config generation', Number(s['configGeneration'])],
      ['reloads', `${Number(s['reloads'])} applied, ${Number(s['reloadsRefused'])} refused`],
      ['internal errors', Number(s['internalErrors'])],
    ]),
    '',
    table(['UPSTREAM', 'DEVICE'], (ports.upstream ?? []).map((u) => [u.name, u.device])),
    '',
    table(['SUBSCRIBER', 'DEVICE', 'UPSTREAM', 'MODE', 'V4', 'V6'],
      (ports.subscriber ?? []).map((p) => [p.name, p.device, p.upstream ?? '', p.mode ?? '',
        p.relayV4 ? 'on' : 'off', p.relayV6 ? 'on' : 'off'])),
  ];
  const dhcp = ((s['modules'] ?? {}) as Record<string, unknown>)['dhcp'] as
    { bindings?: number; ports?: Record<string, PortCounters> } | undefined;
  if (dhcp?.ports) {
    out.push('', table(['PORT', 'BINDINGS', 'RELAYED4', 'RELAYED6', 'REPLIES4', 'REPLIES6', 'GLEANED', 'RELEASED', 'DROPPED'],
      Object.entries(dhcp.ports).map(([name, c]) => [name, c.bindings, c.relayed4, c.relayed6, c.replies4, c.replies6,
        c.gleaned, c.released,
        Object.entries(c.dropped).map(([reason, n]) => `${reason}=${n}`).join(' ') || '0'])));
  }
  return out.join('\n');
}
