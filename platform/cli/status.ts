import { renderKernelEntries } from './kernel-entries';
import { renderMulticastStatus } from './multicast';
import { renderSockets } from './sockets';
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
  const lq = ((s['modules'] ?? {}) as Record<string, unknown>)['leasequery'] as LeasequeryStatus | undefined;
  if (lq) out.push('', renderLeasequery(lq));
  const bulk = ((s['modules'] ?? {}) as Record<string, unknown>)['bulk'] as BulkStatus | undefined;
  if (bulk) out.push('', renderBulk(bulk));
  const mc = renderMulticastStatus((s['drivers'] ?? {}) as Record<string, unknown>, (s['modules'] ?? {}) as Record<string, unknown>);
  if (mc) out.push('', mc);
  const kernel = renderKernelEntries((s['drivers'] ?? {}) as Record<string, unknown>);
  if (kernel) out.push('', kernel);
  out.push('', renderSockets((s['drivers'] ?? {}) as Record<string, unknown>));
  const control = s['control'] as Record<string, number> | null | undefined;
  if (control) {
    out.push('', keyValues([['control connections', `${control['connections']} of ${control['maxConnections']}`],
      ['control closed', `evicted=${control['evicted']} idle=${control['idleClosed']} refused=${control['refused']} too-large=${control['tooLarge']}`]]));
  }
  return out.join('\n');
}

interface BulkStatus {
  enabled: boolean;
  recovery: { state: string; source: string | null; trigger?: string; restored?: number; refreshed?: number; older?: number;
    refused?: Record<string, number>; durationMs?: number | null };
  servers: Record<string, { state: string; received: number; connects: number; retries: number; completed: number;
    lastError: string | null; drops: Record<string, number> }>;
}

/** Recovery progress (issue 8 item 6: bindings restored, source) and bulk leasequery per server (RFC 5460, RFC 6926). */
function renderBulk(b: BulkStatus): string {
  const r = b.recovery;
  const refused = Object.entries(r.refused ?? {}).map(([k, n]) => `${k}=${n}`).join(' ') || '0';
  const drops = (d: Record<string, number>): string => Object.entries(d).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(' ') || '0';
  return [
    keyValues([
      ['bulk leasequery', b.enabled ? 'on' : 'off'],
      ['recovery', `${r.state}${r.source ? ` (${r.source}${r.trigger ? `, ${r.trigger}` : ''})` : ''}`],
      ['restored', r.restored ?? 0],
      ['refreshed (already in place)', r.refreshed ?? 0],
      ['older (other server newer)', r.older ?? 0],
      ['refused leases', refused],
      ['duration', r.durationMs === undefined || r.durationMs === null ? '-' : `${r.durationMs} ms`],
    ]),
    '',
    table(['BULK SERVER', 'STATE', 'RECEIVED', 'CONNECTS', 'RETRIES', 'COMPLETED', 'DROPPED', 'LAST ERROR'],
      Object.entries(b.servers ?? {}).map(([addr, x]) => [addr, x.state, x.received, x.connects, x.retries, x.completed,
        drops(x.drops), x.lastError ?? '-'])),
  ].join('\n');
}

interface LeasequeryServer {
  supports: string; outstanding: number; queued: number; sent: number; retransmitted: number; dropped: number;
  backoff: { state: string; expiresInMs?: number; pollIntervalMs?: number; nextPollInMs?: number | null };
  answers: Record<string, number>;
}
interface LeasequeryStatus {
  enabled: boolean; enabled6?: boolean; inFlight: number; negativeCache: number; installed: number;
  refused: Record<string, number>; servers: Record<string, LeasequeryServer>;
}

/** Leasequery per server (RFC 4388 §6.3): supports, the per-server timer, in flight, answers by type. */
function renderLeasequery(lq: LeasequeryStatus): string {
  const backoff = (b: LeasequeryServer['backoff']): string => b.state === 'running'
    ? `running ${Math.round((b.expiresInMs ?? 0) / 1000)} s`
    : `expired, poll every ${Math.round((b.pollIntervalMs ?? 0) / 1000)} s`;
  const refused = Object.entries(lq.refused ?? {}).map(([k, n]) => `${k}=${n}`).join(' ') || '0';
  return [
    keyValues([
      ['leasequery', `v4 ${lq.enabled ? 'on' : 'off'}, v6 ${lq.enabled6 ? 'on' : 'off'}`],
      ['queries in flight', lq.inFlight],
      ['negative cache', lq.negativeCache],
      ['installed', lq.installed],
      ['refused answers', refused],
    ]),
    '',
    table(['LQ SERVER', 'SUPPORTS', 'BACKOFF', 'OUTSTANDING', 'QUEUED', 'SENT', 'RESENT', 'DROPPED', 'ANSWERS'],
      Object.entries(lq.servers ?? {}).map(([addr, x]) => [addr, x.supports, backoff(x.backoff), x.outstanding, x.queued,
        x.sent, x.retransmitted, x.dropped, Object.entries(x.answers).map(([k, n]) => `${k}=${n}`).join(' ')])),
  ].join('\n');
}
