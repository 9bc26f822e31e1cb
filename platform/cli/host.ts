import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { deriveHostKey } from '../../src/paging/auth';
import { PagingHost, type HostReport, type HostSettings } from '../../src/paging/host';
import { parseIP, parseIPv4, parseIPv6, parsePrefix } from '../../src/wire/address';
import { PAGING_MODE, PAGING_WAKE, type PagingPrefix } from '../../src/wire/paging';
import { HostRunner, HostSocket } from '../paging-host';
import { EXIT, UsageError, type CommandContext, type CommandOption } from './command';

/**
 * `gleand host register|deregister|listen`: the reference paging host (RFC 3154; the
 * state machine is src/paging/host.ts, the socket platform/paging-host.ts). Every
 * event is one JSON line on stdout, so a script (or an end-to-end test) waits on them.
 */
export const DEFAULT_PAGING_PORT = 3154;
export const DEFAULT_LIFETIME_S = 600;
export const DEFAULT_WAIT_S = 70;
export const DEFAULT_AWAKE_S = 10;

export const HOST_OPTIONS: readonly CommandOption[] = [
  { names: ['--id'], value: 'ID', doc: 'the host id (1..64 printable ASCII, no spaces): its paging_host section, or any id under key_master' },
  { names: ['--key'], value: 'HEX', doc: 'the host key (16..64 octets): paging_host.key, or HMAC-SHA-256(key_master, "gleand paging host key " + ID)' },
  { names: ['--key-file'], value: 'FILE', doc: 'read the host key (hex) from FILE instead' },
  { names: ['--master'], value: 'HEX', doc: 'derive the host key from the paging section\'s key_master (a test bench\'s shortcut)' },
  { names: ['--area-key'], value: '[AREA=]HEX[,…]', doc: 'the key(s) of the areas whose AREA_ADVERTs it trusts; a bare HEX is tried for any area' },
  { names: ['--iface', '-i'], value: 'IF', doc: 'the network device it sleeps behind: the socket is bound to it' },
  { names: ['--area'], value: 'A', doc: 'register in this area only (default: the area of the adverts it hears, followed when it moves)' },
  { names: ['--lifetime'], value: 'S', doc: `registration lifetime asked for, seconds (default ${DEFAULT_LIFETIME_S}; the agent may grant less)` },
  { names: ['--mode'], value: 'l3|wol|both', doc: 'what wakes it: L3 PAGEs, a Wake-on-LAN magic packet, or both (default l3)' },
  { names: ['--family'], value: '4|6', doc: 'IPv4 or IPv6 (default 4)' },
  { names: ['--address'], value: 'ADDR[,…]', doc: 'its addresses to register (default: those of IF in the family, link-local excepted)' },
  { names: ['--allow'], value: 'ADDR[/LEN][,…]', doc: 'the only correspondents whose traffic may wake it (RFC 3154 §4.27; default: any)' },
  { names: ['--wake'], value: 'broadcast,multicast', doc: 'wide-cast traffic that may wake it too (RFC 3154 §4.3; default: none)' },
  { names: ['--port'], value: 'P', doc: `the paging UDP port (default ${DEFAULT_PAGING_PORT})` },
  { names: ['--wait'], value: 'S', doc: `register / deregister: seconds to wait for an AREA_ADVERT (default ${DEFAULT_WAIT_S})` },
  { names: ['--reason'], value: 'active|inactive', doc: 'deregister: active again, or a planned transition to inactive (default inactive)' },
  { names: ['--awake'], value: 'S', doc: `listen: seconds it stays awake after a page before it sleeps again (default ${DEFAULT_AWAKE_S})` },
  { names: ['--on-page'], value: 'CMD', doc: 'listen: run CMD (sh -c) when it wakes — a PAGE, before the PAGE_RESPONSE releases the held packets, or a REGISTER nobody answered ($GLEAND_HOST_CAUSE: page, no-answer)' },
  { names: ['--on-dormant'], value: 'CMD', doc: 'listen: run CMD (sh -c) when it went dormant (its REGISTER acknowledged)' },
];

export const HOST_DETAILS = `register: register once, print the REGISTER_ACK, exit 0 (1 refused, no answer, or no advert heard).
deregister: DEREGISTER once (--reason), exit 0 when acknowledged.
listen: register, stay running, answer pages, sleep again --awake S after one, follow a new
agent epoch or area; SIGTERM sends DEREGISTER(inactive) and exits.
Every event is one JSON line on stdout: advert, registered, re-registered, dormant, paged,
awake, refused, deregistered, no-answer, rejected (forged / replayed / other hosts' messages,
at most one line per reason per 10 s), hook (a command's exit status), stopped (counters).
The host learns the agent's address and epoch from the first authenticated AREA_ADVERT.`;

const hmac = (key: Uint8Array, data: Uint8Array): Uint8Array => new Uint8Array(createHmac('sha256', key).update(data).digest());

type Flags = ReadonlyMap<string, string | true>;
const str = (f: Flags, name: string): string | undefined => {
  const v = f.get(name);
  if (v === true) throw new UsageError(`${name} needs a value`);
  return v;
};

function hexKey(text: string, what: string): Uint8Array {
  const t = text.trim();
  if (!/^([0-9a-fA-F]{2}){16,64}$/.test(t)) throw new UsageError(`${what}: 16 to 64 octets in hex expected`);
  return Uint8Array.from(t.match(/../g)!, (h) => parseInt(h, 16));
}

function uint(f: Flags, name: string, dflt: number, min: number, max: number): number {
  const v = str(f, name);
  if (v === undefined) return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`${name}: a whole number ${min}..${max} expected`);
  return Number(v);
}

const list = (v: string | undefined): string[] => (v === undefined ? [] : v.split(',').map((x) => x.trim()).filter((x) => x !== ''));

/** The interface's addresses of `family`, link-local excepted (the agent checks them against DHCP bindings). */
function ifaceAddresses(iface: string, family: 4 | 6): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const a of os.networkInterfaces()[iface] ?? []) {
    if (family === 4 && a.family === 'IPv4') out.push(parseIPv4(a.address)!);
    if (family === 6 && a.family === 'IPv6' && !a.address.startsWith('fe80:')) out.push(parseIPv6(a.address.split('%')[0]!)!);
  }
  return out;
}

export interface HostCli {
  readonly settings: HostSettings;
  readonly iface: string;
  readonly family: 4 | 6;
  readonly port: number;
}

/** Every flag checked before a socket is opened: a usage error is exit 2, whatever the network. */
export function hostSettings(f: Flags, now = Date.now()): HostCli {
  const id = str(f, '--id');
  if (!id || !/^[\x21-\x7e]{1,64}$/.test(id)) throw new UsageError('--id ID is needed (1..64 printable ASCII)');
  const keyText = str(f, '--key');
  const keyFile = str(f, '--key-file');
  const master = str(f, '--master');
  if ([keyText, keyFile, master].filter((x) => x !== undefined).length !== 1) throw new UsageError('one of --key, --key-file or --master is needed');
  const key = master !== undefined ? deriveHostKey(hexKey(master, '--master'), id, hmac)
    : hexKey(keyText ?? readKeyFile(keyFile!), keyText !== undefined ? '--key' : keyFile!);
  const areaKeys = new Map<string, Uint8Array>();
  let anyAreaKey: Uint8Array | null = null;
  for (const item of list(str(f, '--area-key'))) {
    const eq = item.indexOf('=');
    if (eq < 0) anyAreaKey = hexKey(item, '--area-key');
    else areaKeys.set(item.slice(0, eq), hexKey(item.slice(eq + 1), `--area-key ${item.slice(0, eq)}`));
  }
  if (areaKeys.size === 0 && !anyAreaKey) throw new UsageError('--area-key is needed: adverts are authenticated with the area key (RFC 3154 §4.21)');
  const iface = str(f, '--iface') ?? str(f, '-i');
  if (!iface) throw new UsageError('--iface IF is needed');
  const area = str(f, '--area') ?? null;
  if (area !== null && !/^[\x21-\x7e]{1,64}$/.test(area)) throw new UsageError('--area: 1..64 printable ASCII');
  const modeText = str(f, '--mode') ?? 'l3';
  const mode = ({ l3: PAGING_MODE.L3, wol: PAGING_MODE.WOL, both: PAGING_MODE.BOTH } as Record<string, number>)[modeText];
  if (mode === undefined) throw new UsageError('--mode: l3, wol or both');
  const family = uint(f, '--family', 4, 4, 6);
  if (family !== 4 && family !== 6) throw new UsageError('--family: 4 or 6');
  let wake = 0;
  for (const w of list(str(f, '--wake'))) {
    if (w === 'broadcast') wake |= PAGING_WAKE.BROADCAST;
    else if (w === 'multicast') wake |= PAGING_WAKE.MULTICAST;
    else throw new UsageError('--wake: broadcast and/or multicast');
  }
  const correspondents: PagingPrefix[] = list(str(f, '--allow')).map((a) => {
    const p = a.includes('/') ? parsePrefix(a) : null;
    const bare = a.includes('/') ? null : parseIP(a);
    if (p) return { address: p.address, length: p.length };
    if (bare) return { address: bare, length: bare.length * 8 };
    throw new UsageError(`--allow: ${a} is no address or prefix`);
  });
  if (correspondents.length > 8) throw new UsageError('--allow: at most 8');
  const given = list(str(f, '--address')).map((a) => {
    const b = family === 4 ? parseIPv4(a) : parseIPv6(a);
    if (!b) throw new UsageError(`--address: ${a} is no IPv${family} address`);
    return b;
  });
  const addresses = given.length > 0 ? given : ifaceAddresses(iface, family);
  if (addresses.length === 0) throw new Error(`${iface} has no IPv${family} address to register (give --address)`);
  const settings: HostSettings = {
    id, key, areaKeys, anyAreaKey, area, mode, wake, correspondents, addresses: addresses.slice(0, 8), hmac,
    lifetimeS: uint(f, '--lifetime', DEFAULT_LIFETIME_S, 1, 65535),
    // PROTOCOL.md §4.2: the counter grows across the host's life; the wall clock in µs
    // does so across restarts without a file (one message per µs would be needed to catch up).
    counterSeed: BigInt(now) * 1000n,
  };
  return { settings, iface, family, port: uint(f, '--port', DEFAULT_PAGING_PORT, 1, 65535) };
}

function readKeyFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`--key-file: ${(e as Error).message}`);
  }
}

/** Runs `cmd` with sh; its output goes to stderr (stdout is the event stream). → exit status */
function hook(cmd: string, r: HostReport, id: string): Promise<number> {
  const cause = 'cause' in r ? r.cause : '';
  return new Promise((resolve) => {
    const env = { ...process.env, GLEAND_HOST_EVENT: r.event, GLEAND_HOST_CAUSE: cause, GLEAND_HOST_ID: id };
    const p = spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 2, 2], env });
    p.on('error', () => resolve(127));
    p.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** One event as one JSON line, flushed at once: a test waits on it while the command runs on. */
function printer(ctx: CommandContext) {
  return async (o: Record<string, unknown>): Promise<void> => {
    await ctx.out.write(`${JSON.stringify(o)}\n`);
    await ctx.out.finish();
  };
}

/** A machine on its socket, and the promise of the command's exit status. */
function start(cli: HostCli, onReport: (r: HostReport, finish: (code: number) => void) => Promise<void>) {
  let finish!: (code: number) => void;
  const done = new Promise<number>((r) => { finish = r; });
  const host = new PagingHost(cli.settings);
  let runner: HostRunner | null = null;
  const socket = HostSocket.open(cli.iface, cli.family, cli.port, (payload, from) => runner?.datagram(payload, from));
  runner = new HostRunner(host, socket, (r) => onReport(r, finish));
  return { host, runner, done, finish };
}

/**
 * register / deregister: one exchange, then exit. The machine waits for an advert by
 * itself before a REGISTER; a DEREGISTER is asked for once the advert told the epoch.
 */
async function once(ctx: CommandContext, cli: HostCli, action: 'register' | 'deregister', f: Flags): Promise<number> {
  const reasonText = str(f, '--reason') ?? 'inactive';
  if (reasonText !== 'active' && reasonText !== 'inactive') throw new UsageError('--reason: active or inactive');
  const waitS = uint(f, '--wait', DEFAULT_WAIT_S, 1, 86400);
  const print = printer(ctx);
  let asked = false;
  let waitTimer: NodeJS.Timeout | undefined;
  const run = start(cli, async (r, finish) => {
    await print({ ...r });
    if (r.event === 'advert') clearTimeout(waitTimer);
    if (action === 'register') {
      if (r.event === 'registered' || r.event === 're-registered') finish(EXIT.ok);
      if (r.event === 'refused' || r.event === 'no-answer') finish(EXIT.problem);
      return;
    }
    if (r.event === 'advert' && !asked) {
      asked = true;
      // Not awaited: this report is being applied, the input queues behind it.
      void run.runner.input({ kind: reasonText === 'active' ? 'wake' : 'stop' });
    }
    if (r.event === 'deregistered') finish(EXIT.ok);
    if (r.event === 'no-answer') finish(EXIT.problem);
  });
  waitTimer = setTimeout(() => {
    process.stderr.write(`gleand: no authenticated AREA_ADVERT heard on ${cli.iface} in ${waitS} s\n`);
    run.finish(EXIT.problem);
  }, waitS * 1000);
  if (action === 'register') await run.runner.input({ kind: 'sleep' });
  const code = await run.done;
  clearTimeout(waitTimer);
  run.runner.stop();
  return code;
}

/**
 * listen: sleep, answer pages, sleep again `--awake` s after waking; hooks run before
 * the machine goes on (on `awake`, before the PAGE_RESPONSE releases the held packets).
 * SIGTERM / SIGINT: DEREGISTER(inactive), exit once it is answered or given up.
 */
async function listen(ctx: CommandContext, cli: HostCli, f: Flags): Promise<number> {
  const awakeS = uint(f, '--awake', DEFAULT_AWAKE_S, 0, 86400);
  const onPage = str(f, '--on-page');
  const onDormant = str(f, '--on-dormant');
  const print = printer(ctx);
  const id = cli.settings.id;
  let stopping = false;
  let awakeTimer: NodeJS.Timeout | null = null;
  const run = start(cli, async (r, finish) => {
    await print({ ...r });
    // Awake by a PAGE, or because no agent answered its REGISTER (nobody holds its traffic now).
    if (r.event === 'awake' && onPage !== undefined) await print({ event: 'hook', hook: 'on-page', status: await hook(onPage, r, id) });
    if (r.event === 'dormant' && onDormant !== undefined) await print({ event: 'hook', hook: 'on-dormant', status: await hook(onDormant, r, id) });
    if (r.event === 'awake' && !stopping) {
      if (awakeTimer) clearTimeout(awakeTimer);
      awakeTimer = setTimeout(() => { awakeTimer = null; void run.runner.input({ kind: 'sleep' }); }, awakeS * 1000);
    }
    if (r.event === 'refused') finish(EXIT.problem);
    if (stopping && run.host.finished) finish(r.event === 'deregistered' ? EXIT.ok : EXIT.problem);
  });
  const stop = () => {
    if (stopping) return;
    stopping = true;
    if (awakeTimer) clearTimeout(awakeTimer);
    // No agent heard yet: nothing to deregister, finished at once (no report follows).
    void run.runner.input({ kind: 'stop' }).then(() => { if (run.host.finished) run.finish(EXIT.ok); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await run.runner.input({ kind: 'sleep' });
  const code = await run.done;
  if (awakeTimer) clearTimeout(awakeTimer);
  process.off('SIGTERM', stop);
  process.off('SIGINT', stop);
  run.runner.stop();
  await print({ event: 'stopped', ...run.host.status() });
  return code;
}

export async function runHost(ctx: CommandContext): Promise<number> {
  const action = ctx.args[0];
  if (action !== 'register' && action !== 'deregister' && action !== 'listen') throw new UsageError('register, deregister or listen expected');
  const cli = hostSettings(ctx.flags);
  return action === 'listen' ? listen(ctx, cli, ctx.flags) : once(ctx, cli, action, ctx.flags);
}
