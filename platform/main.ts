import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { formatProblem, formatWarning } from '../src/config/config';
import { parseUci } from '../src/config/uci';
import { parseArgs } from './cli/args';
import { renderBindings, renderRoutes } from './cli/bindings';
import { groupsOf, renderGroups, renderMroutes } from './cli/multicast';
import { QUERY_USAGE, queryExitCode, queryRequest, renderQuery } from './cli/query';
import { renderStatus } from './cli/status';
import { readConfigFile } from './config-file';
import { controlRequest } from './control';
import { createCore } from '../src/core';
import { IdentityDriver } from './identity-driver';
import { JournalDriver } from './journal';
import { createAppliers } from './kernel/appliers';
import { KernelDriver } from './kernel/driver';
import { MulticastDriver } from './multicast-driver';
import { MulticastRouting } from './multicast-routing';
import { OnDemandDriver } from './on-demand-driver';
import { PacketDriver } from './packet-driver';
import { PassiveDriver } from './passive-driver';
import { Runtime } from './runtime';
import { TcpDriver } from './tcp-driver';
import { UdpDriver } from './udp-driver';
import { VERSION } from './version';

/**
 * The process entry point: the daemon (`gleand run`) and the CLI that talks to it
 * share one bundle, like odhcpd's single binary.
 */
const DEFAULT_CONFIG = '/etc/config/gleand';
const DEFAULT_SOCKET = '/var/run/gleand.sock';

const USAGE = `usage: gleand <command> [options]

  run [-c FILE]                    run the daemon (default config ${DEFAULT_CONFIG})
  status [--json] [-c FILE|-s SOCK]  show the running daemon's state and per-port counters
  bindings [--json] [-c FILE|-s SOCK]  the binding table (address/prefix, port, MAC, expiry)
  routes [--json] [-c FILE|-s SOCK]  gleand's routes, neighbours and verify entries, read from the kernel
  groups [PORT] [--json] [-c FILE|-s SOCK]  IGMP/MLD membership per port and group (mode, sources, timers)
  mroutes [--json] [-c FILE|-s SOCK]  the kernel's multicast forwarding entries (as ip mroute shows them)
  ${QUERY_USAGE}
                                   ask the DHCP servers through the daemon (RFC 4388 / RFC 5007 leasequery);
                                   prints each server's answer and the binding installed, or why not
  recover [--json] [-c FILE|-s SOCK]  restore every binding from the DHCPv6 servers now (RFC 5460
                                   bulk leasequery); progress in status under modules.bulk.recovery
  check-config FILE                validate a UCI file; print every problem
  version                          print the version
`;

/**
 * The control socket: `-s`, else the one the config names, else the default. The
 * file is only read for `control_socket`, so `status` still finds the daemon while
 * the file on disk holds an edit the daemon refused.
 */
function socketPath(flags: Map<string, string | true>): string {
  const s = flags.get('-s') ?? flags.get('--socket');
  if (typeof s === 'string') return s;
  const c = flags.get('-c') ?? flags.get('--config');
  if (typeof c === 'string') {
    try {
      const { doc } = parseUci(fs.readFileSync(c, 'utf8'));
      const global = doc.sections.find((sec) => sec.type === 'global');
      const st = global?.statements.filter((x) => x.name === 'control_socket').pop();
      if (st) return st.value;
    } catch { /* unreadable: fall through to the default */ }
  }
  return DEFAULT_SOCKET;
}

async function query(cmd: string, flags: Map<string, string | true>, render: (r: Record<string, unknown>) => string) {
  const result = (await controlRequest(socketPath(flags), { cmd })) as Record<string, unknown>;
  process.stdout.write(flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n` : `${render(result)}\n`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const { positional, flags } = parseArgs(argv, new Set(['-c', '--config', '-s', '--socket', '-p', '--port', '--mac', '--wait']));
  const [command, ...rest] = positional;
  switch (command) {
    case 'run': {
      const c = flags.get('-c') ?? flags.get('--config');
      // One multicast routing socket pair per namespace: the kernel applier installs the
      // forwarding entries through it, the multicast driver reads its upcalls.
      const routing = new MulticastRouting();
      const runtime = new Runtime({
        configPath: typeof c === 'string' ? c : DEFAULT_CONFIG,
        core: (now) => createCore(now, { random32: () => randomBytes(4).readUInt32BE(0) }).agent,
        drivers: () => [
          new IdentityDriver(),
          new KernelDriver((rtnl) => createAppliers(rtnl, routing)),
          new JournalDriver(),
          new PacketDriver(),
          new UdpDriver(),
          new PassiveDriver(),
          new TcpDriver(),
          // After the kernel driver: its ruleset creates the chain the verify chain jumps to.
          new OnDemandDriver(),
          new MulticastDriver(routing),
        ],
      });
      if (!(await runtime.start())) return 1;
      return runtime.stopped;
    }
    case 'status':
      return query('status', flags, renderStatus);
    case 'bindings':
      return query('bindings', flags, (r) => renderBindings(r as unknown as Record<string, unknown>[]));
    case 'routes':
      return query('routes', flags, (r) => renderRoutes(r as never));
    case 'groups': {
      const result = await controlRequest(socketPath(flags), { cmd: 'groups' });
      const rows = groupsOf(result, rest[0]);
      process.stdout.write(flags.has('--json') ? `${JSON.stringify(rows, null, 2)}\n` : `${renderGroups(rows)}\n`);
      return 0;
    }
    case 'mroutes': {
      const result = (await controlRequest(socketPath(flags), { cmd: 'routes' })) as Record<string, unknown> | null;
      process.stdout.write(flags.has('--json') ? `${JSON.stringify(result?.['mroutes'] ?? null, null, 2)}\n` : `${renderMroutes(result)}\n`);
      return 0;
    }
    case 'query': {
      const request = queryRequest(rest, flags);
      if (typeof request === 'string') { process.stderr.write(`${request}\n`); return 2; }
      const result = (await controlRequest(socketPath(flags), request, Number(request['waitS']) * 1000 + 5000)) as Record<string, unknown>;
      process.stdout.write(flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n` : `${renderQuery(result)}\n`);
      return queryExitCode(result);
    }
    case 'recover': {
      const result = (await controlRequest(socketPath(flags), { cmd: 'recover' })) as Record<string, unknown>;
      process.stdout.write(flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n`
        : result['verdict'] === 'started' ? `bulk leasequery restore started: ${(result['servers'] as string[]).join(', ')}\n`
          : `not started: ${String(result['reason'])}\n`);
      return result['verdict'] === 'started' ? 0 : 1;
    }
    case 'check-config': {
      const file = rest[0];
      if (!file) { process.stderr.write(USAGE); return 2; }
      const loaded = readConfigFile(file);
      // Warnings (options that do nothing yet) are printed but never fail the check:
      // a file written for a later release must still pass on this one.
      for (const w of loaded.warnings) process.stdout.write(`${formatWarning(w)}\n`);
      const warned = loaded.warnings.length > 0 ? ` (${loaded.warnings.length} warning(s))` : '';
      if (loaded.ok) { process.stdout.write(`${file}: ok${warned}\n`); return 0; }
      for (const p of loaded.problems) process.stdout.write(`${formatProblem(p)}\n`);
      process.stdout.write(`${file}: ${loaded.problems.length} problem(s)${warned}\n`);
      return 1;
    }
    case 'version':
      process.stdout.write(`gleand ${VERSION}\n`);
      return 0;
    case 'help': case undefined:
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    default:
      process.stderr.write(`gleand: unknown command '${command}'\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => { process.stderr.write(`gleand: ${e.message}\n`); process.exit(1); },
);
