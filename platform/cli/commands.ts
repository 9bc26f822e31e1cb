import { formatProblem, formatWarning } from '../../src/config/config';
import { readConfigFile } from '../config-file';
import { controlRequest } from '../control';
import { VERSION } from '../version';
import { renderRoutes } from './bindings';
import { groupsOf, renderGroups, renderMroutes } from './multicast';
import { streamHosts } from './hosts';
import { streamBindings } from './bindings-stream';
import { DAEMON_OPTIONS, JSON_OPTION, UsageError, type Command, type CommandContext } from './command';
import { DEFAULT_WAIT_S, queryExitCode, queryRequest, renderQuery } from './query';
import { HOST_DETAILS, HOST_OPTIONS, runHost } from './host';
import { renderStatus } from './status';

/**
 * The client commands of `gleand`, one row each (`run` is added by platform/main.ts,
 * which wires the daemon). To add a command, add a row here: help, `--help` and the
 * usage errors follow from it.
 */

/** Ask the daemon, print its answer: `--json` as is, else rendered. */
async function ask(ctx: CommandContext, cmd: string, render: (r: never) => string): Promise<number> {
  const result = await controlRequest(ctx.socket(), { cmd });
  await ctx.out.write(ctx.flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n` : `${render(result as never)}\n`);
  return 0;
}

export const CLIENT_COMMANDS: readonly Command[] = [
  {
    name: 'status',
    synopsis: '[--json] [-c FILE|-s SOCK]',
    summary: 'show the running daemon\'s state and per-port counters',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    run: (ctx) => ask(ctx, 'status', renderStatus),
  },
  {
    name: 'bindings',
    synopsis: '[--json] [--port NAME] [--mac MAC] [--address ADDR[/LEN]] [--source SOURCE] [-c FILE|-s SOCK]',
    summary: 'the binding table (address/prefix, port, MAC, expiry), streamed',
    details: 'Filters combine (every one given must match). The human form ends with a count line;\n'
      + '--json prints the matching rows as one JSON array.',
    options: [
      JSON_OPTION,
      { names: ['--port', '-p'], value: 'NAME', doc: 'only bindings on this subscriber port' },
      { names: ['--mac'], value: 'MAC', doc: 'only bindings of this client MAC' },
      { names: ['--address'], value: 'ADDR[/LEN]', doc: 'only bindings that hold ADDR (its address, or a delegated prefix containing it), or lie within ADDR/LEN' },
      { names: ['--source'], value: 'SOURCE', doc: 'only bindings learnt this way: glean, leasequery or static' },
      ...DAEMON_OPTIONS,
    ],
    run: streamBindings,
  },
  {
    name: 'routes',
    synopsis: '[--json] [-c FILE|-s SOCK]',
    summary: 'gleand\'s routes, neighbours and verify entries, read from the kernel',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    run: (ctx) => ask(ctx, 'routes', renderRoutes),
  },
  {
    name: 'groups',
    synopsis: '[PORT] [--json] [-c FILE|-s SOCK]',
    summary: 'IGMP/MLD membership per port and group (filter mode, sources and timers, compatibility, SSM)',
    details: 'PORT narrows the rows to one subscriber port; --json prints the rows as one JSON array.',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    maxArgs: 1,
    run: async (ctx) => {
      const rows = groupsOf(await controlRequest(ctx.socket(), { cmd: 'groups' }), ctx.args[0]);
      await ctx.out.write(ctx.flags.has('--json') ? `${JSON.stringify(rows, null, 2)}\n` : `${renderGroups(rows)}\n`);
      return 0;
    },
  },
  {
    name: 'mroutes',
    synopsis: '[--json] [-c FILE|-s SOCK]',
    summary: 'the kernel\'s multicast forwarding entries with its packet counters (as ip mroute shows them)',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    run: async (ctx) => {
      const r = (await controlRequest(ctx.socket(), { cmd: 'routes' })) as Record<string, unknown> | null;
      await ctx.out.write(ctx.flags.has('--json') ? `${JSON.stringify(r?.['mroutes'] ?? null, null, 2)}\n` : `${renderMroutes(r)}\n`);
      return 0;
    },
  },
  {
    name: 'hosts',
    synopsis: '[--json] [-c FILE|-s SOCK]',
    summary: 'the paging agent\'s tracked hosts (state, area, last page, held packets), streamed',
    details: 'RFC 3154 dormant-host alerting (src/paging/PROTOCOL.md); its counters are in status.\n'
      + '--json prints the rows as one JSON array.',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    run: streamHosts,
  },
  {
    name: 'metrics',
    synopsis: '[-c FILE|-s SOCK]',
    summary: 'every counter in the Prometheus text exposition format',
    details: 'The same text the daemon serves on GET /metrics when metrics_listen is set.',
    options: [...DAEMON_OPTIONS],
    run: async (ctx) => {
      await ctx.out.write(String(await controlRequest(ctx.socket(), { cmd: 'metrics' })));
      return 0;
    },
  },
  {
    name: 'query',
    synopsis: 'ip ADDR|mac MAC|client-id HEX [-6]|duid HEX [-p PORT] [--mac MAC] [--wait S] [--json] [-c FILE|-s SOCK]',
    summary: 'ask the DHCP servers through the daemon (RFC 4388 / RFC 5007 leasequery)',
    details: 'Prints each server\'s answer and the binding installed, or why not. An IPv6 ADDR asks the\n'
      + 'DHCPv6 servers; client-id HEX -6 (or duid HEX) asks them by DUID. Exit 0 when a server\n'
      + '(or the negative cache) answered, 1 otherwise.',
    options: [
      { names: ['-6'], doc: 'client-id HEX is a DHCPv6 DUID' },
      { names: ['-p', '--port'], value: 'PORT', doc: 'ask on behalf of this subscriber port' },
      { names: ['--mac'], value: 'MAC', doc: 'install the binding only if the lease is for this MAC' },
      { names: ['--wait'], value: 'S', doc: `seconds to wait for the servers (default ${DEFAULT_WAIT_S})` },
      JSON_OPTION, ...DAEMON_OPTIONS,
    ],
    maxArgs: 2,
    run: async (ctx) => {
      const request = queryRequest(ctx.args, ctx.flags as Map<string, string | true>);
      if (typeof request === 'string') throw new UsageError(request.replace(/^usage: gleand /, 'expected '));
      const result = (await controlRequest(ctx.socket(), request, Number(request['waitS']) * 1000 + 5000)) as Record<string, unknown>;
      await ctx.out.write(ctx.flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n` : `${renderQuery(result)}\n`);
      return queryExitCode(result);
    },
  },
  {
    name: 'recover',
    synopsis: '[--json] [-c FILE|-s SOCK]',
    summary: 'restore every binding from the DHCPv6 servers now (RFC 5460 bulk leasequery)',
    details: 'Progress shows in status under modules.bulk.recovery. Exit 1 when the run was not started.',
    options: [JSON_OPTION, ...DAEMON_OPTIONS],
    run: async (ctx) => {
      const result = (await controlRequest(ctx.socket(), { cmd: 'recover' })) as Record<string, unknown>;
      await ctx.out.write(ctx.flags.has('--json') ? `${JSON.stringify(result, null, 2)}\n`
        : result['verdict'] === 'started' ? `bulk leasequery restore started: ${(result['servers'] as string[]).join(', ')}\n`
          : `not started: ${String(result['reason'])}\n`);
      return result['verdict'] === 'started' ? 0 : 1;
    },
  },
  {
    name: 'host',
    synopsis: 'register|deregister|listen --id ID --key HEX|--key-file F|--master HEX --area-key [AREA=]HEX[,…] --iface IF '
      + '[--area A] [--lifetime S] [--mode l3|wol|both] [--family 4|6] [--address ADDR,…] [--allow ADDR[/LEN],…] '
      + '[--wake broadcast,multicast] [--port P] [--wait S] [--reason active|inactive] [--awake S] [--on-page CMD] [--on-dormant CMD]',
    summary: 'a paging host (RFC 3154, src/paging/PROTOCOL.md): register, deregister, or listen — sleep and answer pages',
    details: HOST_DETAILS,
    options: HOST_OPTIONS,
    maxArgs: 1,
    run: runHost,
  },
  {
    name: 'check-config',
    synopsis: 'FILE',
    summary: 'validate a UCI file; print every problem (exit 1 when there is one)',
    options: [],
    maxArgs: 1,
    run: async (ctx) => {
      const file = ctx.args[0];
      if (!file) throw new UsageError('check-config needs a FILE');
      const loaded = readConfigFile(file);
      // Warnings (options that do nothing yet) are printed but never fail the check:
      // a file written for a later release must still pass on this one.
      for (const w of loaded.warnings) await ctx.out.write(`${formatWarning(w)}\n`);
      const warned = loaded.warnings.length > 0 ? ` (${loaded.warnings.length} warning(s))` : '';
      if (loaded.ok) { await ctx.out.write(`${file}: ok${warned}\n`); return 0; }
      for (const p of loaded.problems) await ctx.out.write(`${formatProblem(p)}\n`);
      await ctx.out.write(`${file}: ${loaded.problems.length} problem(s)${warned}\n`);
      return 1;
    },
  },
  {
    name: 'version',
    synopsis: '',
    summary: 'print the version',
    options: [],
    run: async (ctx) => { await ctx.out.write(`gleand ${VERSION}\n`); return 0; },
  },
];
