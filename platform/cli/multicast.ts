import { keyValues, table } from './table';

type Obj = Record<string, unknown>;
const str = (x: unknown, dash = '-'): string => (x === undefined || x === null || x === '' ? dash : String(x));
const list = (x: unknown): Obj[] => (Array.isArray(x) ? (x as Obj[]) : []);
/** A timer in milliseconds as seconds; null is "no timer" (an INCLUDE group has none, RFC 3376 §6.2.1). */
const secs = (ms: unknown): string => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '-');

/** A source with its timer, as `10.0.0.2 (250 s)`; a bare address when the row has no timer. */
function sourceCell(s: unknown): string {
  if (typeof s === 'string') return s;
  const o = (s ?? {}) as Obj;
  const addr = str(o['source']);
  const t = o['timerMs'];
  const fwd = o['forwarding'] === false ? ', blocked' : '';
  return typeof t === 'number' ? `${addr} (${secs(t)}${fwd})` : `${addr}${fwd ? ' (blocked)' : ''}`;
}

/**
 * `gleand groups [port]`: the membership the router holds per port and group (RFC 3376
 * §6, RFC 3810 §7): filter mode, the sources with their timers, the group timer, the
 * compatibility mode (v1/v2/v3 hosts present, RFC 3376 §7.3.2) and whether the group is
 * SSM (RFC 4604 §2). Rows come from the core's `groups` query; `port` narrows them.
 */
export function renderGroups(rows: unknown, port?: string): string {
  const all = list(groupsOf(rows, port));
  return table(['PORT', 'GROUP', 'MODE', 'COMPAT', 'SSM', 'TIMER', 'SOURCES'], all.map((r) => [
    str(r['port']), str(r['group']), str(r['filterMode']), str(r['compatibility']),
    r['ssm'] === true ? 'yes' : r['ssm'] === false ? 'no' : '-', secs(r['groupTimerMs']),
    (Array.isArray(r['sources']) ? (r['sources'] as unknown[]) : []).map(sourceCell).join(' ') || '-',
  ]));
}

/** The rows of the core's `groups` answer (`{ groups: [...] }`), only those of `port` when given. */
export function groupsOf(answer: unknown, port?: string): Obj[] {
  const rows = list(Array.isArray(answer) ? answer : ((answer ?? {}) as Obj)['groups']);
  return port === undefined ? rows : rows.filter((r) => r['port'] === port);
}

/**
 * `gleand mroutes`: the kernel's multicast forwarding entries (MFC), read back by a dump
 * of RTNL_FAMILY_IPMR / IP6MR — what `ip mroute show` prints — with the kernel's packet
 * counters.
 */
export function renderMroutes(k: Obj | null): string {
  if (!k) return 'kernel dump failed';
  return table(['SOURCE', 'GROUP', 'IIF', 'OIFS', 'PACKETS', 'BYTES', 'WRONG-IF'], list(k['mroutes']).map((m) => [
    str(m['source']), str(m['group']), str(m['iif']), str(m['oifs']), str(m['packets']), str(m['bytes']), str(m['wrongIf']),
  ]));
}

/**
 * The multicast part of `gleand status`: per device what was received and sent, the
 * forwarding entries applied and the kernel's upcalls, and the core's counters when its
 * module reports them.
 */
export function renderMulticastStatus(drivers: Obj, modules: Obj): string | null {
  const mc = drivers['multicast'] as Obj | undefined;
  const kernel = (drivers['kernel'] ?? {}) as Obj;
  const mr = kernel['mroutes'] as Obj | undefined;
  if (!mc || list(mc['devices']).length === 0) return null;
  const out = [
    table(['MULTICAST PORT', 'DEVICE', 'ROLE', 'IGMP-IN', 'MLD-IN', 'SENT', 'KERNEL-DROPPED'], list(mc['devices']).map((d) => [
      str(d['port']), str(d['device']), d['upstream'] ? 'upstream' : 'subscriber', str(d['igmp']), str(d['mld']), str(d['sent']), str(d['drops']),
    ])),
  ];
  const pairs: [string, string | number][] = [
    ['multicast sends refused', `no-socket=${str(mc['noSocket'], '0')} not-group=${str(mc['notMulticast'], '0')} no-source=${str(mc['noSourceAddress'], '0')}`],
    ['mroute misses (upcalls)', `${str(mc['misses'], '0')} (unknown vif ${str(mc['missesUnknownVif'], '0')})`],
  ];
  if (mr) {
    pairs.push(['forwarding entries', `added=${str(mr['mfcAdded'], '0')} removed=${str(mr['mfcRemoved'], '0')} refused=${str(mr['mfcErrors'], '0')}`]);
    if (mr['openError']) pairs.push(['multicast routing socket', `not held: ${str(mr['openError'])} (retried at every reconcile)`]);
    const problems = list(mr['vifProblems']);
    if (problems.length) pairs.push(['vif problems', problems.join('; ')]);
  }
  out.push('', keyValues(pairs));
  const core = modules['multicast'] as Obj | undefined;
  if (core?.['ports']) out.push('', renderRouterPorts(core['ports'] as Record<string, Record<string, Obj>>));
  if (core?.['counters']) {
    const c = core['counters'] as Obj;
    out.push('', keyValues([['IGMP/MLD dropped before the router', reasons(c['dropped'])],
      ['unknown port / router off', `${n(c['unknownPort'])} / ${n(c['disabled'])}`]]));
  }
  return out.join('\n');
}

const n = (x: unknown): number => (typeof x === 'number' ? x : 0);
const reasons = (x: unknown): string =>
  Object.entries((x ?? {}) as Record<string, number>).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${v}`).join(' ') || '0';

/**
 * The router's counters per port and protocol (the core's `multicast` module): querier
 * or not, groups held, what was received, the queries sent, the joins the SSM rules
 * ignored (RFC 4604 §3.1 EXCLUDE, §3.5 IGMPv1/v2 and MLDv1 reports, §3.7 leaves), the
 * bounds hit and the drops by reason.
 */
function renderRouterPorts(ports: Record<string, Record<string, Obj>>): string {
  const rows: (string | number)[][] = [];
  for (const [port, fams] of Object.entries(ports)) {
    for (const [fam, st] of Object.entries(fams)) {
      const c = (st['counters'] ?? {}) as Obj;
      const rx = (c['received'] ?? {}) as Obj;
      const tx = (c['sent'] ?? {}) as Obj;
      rows.push([port, fam, st['querier'] ? 'yes' : `no (${str(st['otherQuerier'])})`, n(st['groups']),
        `${n(rx['reports'])}/${n(rx['oldReports'])}/${n(rx['leaves'])}`,
        `${n(tx['generalQueries'])}/${n(tx['groupQueries'])}/${n(tx['sourceQueries'])}`,
        `${n(c['ssmExcludeIgnored'])}/${n(c['ssmOldReportIgnored'])}/${n(c['ssmLeaveIgnored'])}`,
        `${n(c['groupLimit'])}/${n(c['sourceLimit'])}`, reasons(c['dropped'])]);
    }
  }
  return table(['ROUTER PORT', 'PROTO', 'QUERIER', 'GROUPS', 'RX REP/OLD/LEAVE', 'TX GQ/GSQ/GSSQ', 'SSM-IGNORED EX/OLD/LEAVE',
    'LIMIT G/S', 'DROPPED'], rows);
}
