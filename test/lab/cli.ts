/**
 * `npm run lab`: a demo lab with three subscribers and real clients, gleand (the built
 * bundle) as their relay in the router namespace, then gleand's status, bindings and
 * kernel routes every 2 s. Ctrl-C tears everything down.
 *
 *   tsx test/lab/cli.ts            the demo
 *   tsx test/lab/cli.ts install    only install the lab's Debian packages if any is missing
 *   tsx test/lab/cli.ts debs       print the Debian package list (one line)
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import {
  createLab,
  ensureLabPackages,
  GLEAND_BUNDLE,
  installUncaughtTeardown,
  LAB_DEBS,
  labGleandConfig,
  requireRootAndNetns,
  type LabClient,
  type LeaseFacts,
} from './lab';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const say = (msg: string): void => console.log(msg);

/**
 * The reader of our stdout may go before we do: `npm run lab | tee lab.log` and Ctrl-C
 * (tee dies first), or `| head`. A write then fails with EPIPE, which Node reports as
 * an 'error' event on the stream; unhandled, that is an uncaught exception, and the lab
 * quit at its next line of output instead of running until Ctrl-C. The lab's work is
 * its namespaces, not its printing: a dead stdout or stderr is ignored, the lab runs on,
 * and the signal handlers of lab.ts tear it down (SIGINT: exit 130).
 */
function surviveGoneReaders(): void {
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function main(): Promise<void> {
  const cmd = process.argv[2] ?? 'demo';
  if (cmd === 'debs') {
    say(LAB_DEBS.join(' '));
    return;
  }
  if (cmd === 'install') {
    const missing = ensureLabPackages(say);
    say(missing.length ? `installed (were missing: ${missing.join(', ')})` : 'all lab packages present');
    return;
  }
  if (cmd !== 'demo') throw new Error(`usage: cli.ts [demo|install|debs]`);

  surviveGoneReaders();
  requireRootAndNetns();
  ensureLabPackages(say);
  installUncaughtTeardown();
  const t0 = Date.now();
  const lab = await createLab({ subscribers: 3, log: process.env['LAB_VERBOSE'] ? say : undefined });
  say(`lab ${lab.prefix} up in ${Date.now() - t0} ms (files in ${lab.dir}; KEEP_LAB=1 keeps them)`);
  if (!fs.existsSync(GLEAND_BUNDLE)) throw new Error(`${GLEAND_BUNDLE} is not built: npm run build (npm run lab does)`);
  const g = lab.startGleand(labGleandConfig(lab));
  say(`gleand pid ${g.pid}, config ${g.configPath}, log ${g.logPath}`);
  const plan: LabClient[] = [
    lab.startClient(0, 'dhclient4'),
    lab.startClient(0, 'dhclient6pd'),
    lab.startClient(1, 'udhcpc'),
    lab.startClient(2, 'dhcpcd'),
  ];
  const waits: Promise<[LabClient, 4 | 6, LeaseFacts]>[] = [];
  for (const c of plan) for (const f of c.families) waits.push(c.waitLease(f, 45_000).then((l) => [c, f, l]));
  const got = await Promise.all(waits);
  say(`leases after ${Date.now() - t0} ms:`);
  const rows = [['subscriber', 'namespace', 'port', 'client', 'v', 'address / prefix', 'lease s']];
  for (const [c, f, l] of got) {
    rows.push([
      c.subscriber.name,
      c.subscriber.ns,
      c.subscriber.routerDev,
      c.kind,
      String(f),
      [l.address ? `${l.address}/${l.prefixLength ?? ''}` : '', l.delegatedPrefix ? `PD ${l.delegatedPrefix}` : '']
        .filter(Boolean)
        .join(' '),
      String(l.leaseTime ?? ''),
    ]);
  }
  say(table(rows));

  for (;;) {
    await sleep(2000);
    if (lab.closing) return;
    if (!g.proc.running()) {
      say(`gleand exited; its log:\n${g.proc.log()}`);
      say('Ctrl-C to tear the lab down.');
      for (;;) await sleep(60_000);
    }
    const gleand = (cmd: string) => new Promise<string>((resolve) => {
      execFile(
        'ip',
        ['netns', 'exec', lab.router.ns, process.execPath, GLEAND_BUNDLE, cmd, '-c', g.configPath],
        { timeout: 5000, encoding: 'utf8' },
        (err, stdout, stderr) => resolve(err ? `${cmd} failed: ${(stderr || err.message).trim()}` : stdout.trimEnd()),
      );
    });
    say(`── ${new Date().toISOString()} gleand status / bindings / routes ──`);
    say(`${await gleand('status')}\n\n${await gleand('bindings')}\n\n${await gleand('routes')}`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
  // the lab's 'exit' hook tears down whatever is still up
});
