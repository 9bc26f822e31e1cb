import { createHmac, randomBytes } from 'node:crypto';
import { createCore } from '../src/core';
import { CONFIG_OPTION, DEFAULT_CONFIG, type Command } from './cli/command';
import { CLIENT_COMMANDS } from './cli/commands';
import { dispatch } from './cli/dispatch';
import { Output } from './cli/output';
import { IdentityDriver } from './identity-driver';
import { JournalDriver } from './journal';
import { createAppliers } from './kernel/appliers';
import { KernelDriver } from './kernel/driver';
import { MetricsDriver } from './metrics-driver';
import { MulticastDriver } from './multicast-driver';
import { MulticastRouting } from './multicast-routing';
import { OnDemandDriver } from './on-demand-driver';
import { PacketDriver } from './packet-driver';
import { PassiveDriver } from './passive-driver';
import { Runtime } from './runtime';
import { TcpDriver } from './tcp-driver';
import { UdpDriver } from './udp-driver';

/**
 * The process entry point: the daemon (`gleand run`) and the CLI that talks to it
 * share one bundle, like odhcpd's single binary. The commands are rows of a table
 * (platform/cli/commands.ts); this file adds `run`, which wires the drivers.
 */
const RUN: Command = {
  name: 'run',
  synopsis: '[-c FILE]',
  summary: `run the daemon (default config ${DEFAULT_CONFIG})`,
  details: 'Logs to stdout/stderr; SIGHUP reloads the config, SIGTERM stops (kernel state stays in place).',
  options: [{ ...CONFIG_OPTION, doc: `the config file (default ${DEFAULT_CONFIG})` }],
  run: async (ctx) => {
    const c = ctx.flags.get('-c') ?? ctx.flags.get('--config');
    // One multicast routing socket pair per namespace: the kernel applier installs the
    // forwarding entries through it, the multicast driver reads its upcalls.
    const routing = new MulticastRouting();
    // The paging agent's boot epoch (RFC 3154 §4.10): wall-clock seconds at this start,
    // never stored on flash, so every restart is a newer epoch and hosts re-register;
    // nothing signed in an earlier run verifies again (src/paging/PROTOCOL.md §3.1).
    const epoch = Math.floor(Date.now() / 1000);
    const hmacSha256 = (key: Uint8Array, data: Uint8Array): Uint8Array => createHmac('sha256', key).update(data).digest();
    const runtime: Runtime = new Runtime({
      configPath: typeof c === 'string' ? c : DEFAULT_CONFIG,
      core: (now) => createCore(now, { random32: () => randomBytes(4).readUInt32BE(0), paging: { hmacSha256, epoch } }).agent,
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
        new MetricsDriver(() => runtime.status()),
      ],
    });
    if (!(await runtime.start())) return 1;
    return runtime.stopped;
  },
};

const COMMANDS: readonly Command[] = [RUN, ...CLIENT_COMMANDS];

async function main(): Promise<void> {
  const out = new Output();
  let code: number;
  try {
    code = await dispatch(process.argv.slice(2), COMMANDS, out);
  } catch (e) {
    process.stderr.write(`gleand: ${e instanceof Error ? e.message : String(e)}\n`);
    code = 1;
  }
  // Everything written must have left before the exit (a pipe drains asynchronously).
  await out.finish();
  process.exit(code);
}

void main();
