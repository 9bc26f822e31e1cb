/**
 * Relay benchmark: gleand beside ISC dhcrelay on the same lab topology, with the same
 * generator, in the same run.
 *
 *   client ns ──(veth)── router ns ──(veth)── server ns
 *   dhcpgen (AF_PACKET)   gleand | dhcrelay      dhcpsink (answers every request)
 *
 * For each repetition, each relay, each family and each offered rate of the ladder, the
 * generator sends `rate × seconds` DHCPDISCOVER / SOLICIT from distinct clients and
 * counts the replies that come back. Printed (medians over the repetitions):
 *   forward    requests reaching the server per second of sending (dhcpsink's count)
 *   round trip distinct clients that got their OFFER / ADVERTISE, per second of sending
 *   loss       1 − replies / sent
 *   CPU        µs of relay CPU (utime + stime from /proc/<pid>/stat) per relayed request
 *              (the request and its reply)
 *   RSS        VmRSS from /proc/<pid>/status after each run (max over runs)
 *   status     `status` round trip over gleand's control socket, probed every 25 ms
 *              while the flood runs (max and p99)
 * Env: BENCH_RELAY_RATES (e.g. 5000,10000), BENCH_RELAY_SECONDS, BENCH_RELAY_REPS,
 * BENCH_RELAY_ONLY (gleand | dhcrelay), BENCH_RELAY_FAMILIES (4, 6 or 4,6), BENCH_RELAY_PROFILE (a directory: gleand runs with
 * --cpu-prof there; the profile is written when it stops), BENCH_RELAY_BUNDLE (another
 * build's gleand.js, e.g. a copy of build/out from before a change, to compare in one sitting).
 * Needs root (namespaces), cc, dhcrelay. Nothing here asserts; it prints.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  createLab, GLEAND_BUNDLE, installUncaughtTeardown, labGleandConfig, REPO_ROOT, requireRootAndNetns,
  type Lab, type LabProcess,
} from '../lab/lab';

const RATES = (process.env['BENCH_RELAY_RATES'] ?? '5000,10000,20000,40000,80000').split(',').map(Number);
const SECONDS = Number(process.env['BENCH_RELAY_SECONDS'] ?? 2);
const REPS = Number(process.env['BENCH_RELAY_REPS'] ?? 3);
const FAMILIES = (process.env['BENCH_RELAY_FAMILIES'] ?? '4,6').split(',').map(Number).filter((f): f is Family => f === 4 || f === 6);
const DRAIN_SECONDS = 0.8;
const V6_POOL = 64;
const BUNDLE = process.env['BENCH_RELAY_BUNDLE'] ?? GLEAND_BUNDLE;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

type Relay = 'gleand' | 'dhcrelay';
type Family = 4 | 6;
interface Sample {
  relay: Relay; family: Family; rate: number;
  sent: number; sendSeconds: number; forwarded: number; replies: number; cpuUs: number; rssKiB: number;
  rcvbufErrors: number; answered: number; generator: Record<string, number>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Builds the C helpers with the machine's cc into dir. */
export function buildHelpers(dir: string): { gen: string; sink: string } {
  const out = { gen: path.join(dir, 'dhcpgen'), sink: path.join(dir, 'dhcpsink') };
  for (const [name, file] of [['dhcpgen', out.gen], ['dhcpsink', out.sink]] as const) {
    execFileSync('cc', ['-O2', '-Wall', '-o', file, path.join(__dirname, `${name}.c`), '-lpthread'], { stdio: 'inherit' });
  }
  return out;
}

/** The node flags of the init script's procd command line, so the bench runs gleand as a router does. */
export function initScriptNodeFlags(): string[] {
  const init = fs.readFileSync(path.join(REPO_ROOT, 'firmware-image/openwrt/files/etc/init.d/gleand'), 'utf8');
  const m = /procd_set_param command "\$NODE"(.*?)"\$BUNDLE"/.exec(init);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

function cpuTicks(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}
function rssKiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
}
/** The router namespace's UDP RcvbufErrors (datagrams the kernel dropped on a full socket). */
async function rcvbufErrors(lab: Lab): Promise<number> {
  const snmp = (await lab.exec(lab.router.ns, ['cat', '/proc/net/snmp'])).stdout.split('\n').filter((l) => l.startsWith('Udp:'));
  const names = snmp[0]!.split(/\s+/), values = snmp[1]!.split(/\s+/);
  const snmp6 = (await lab.exec(lab.router.ns, ['cat', '/proc/net/snmp6'])).stdout;
  return Number(values[names.indexOf('RcvbufErrors')]) + Number(/Udp6RcvbufErrors\s+(\d+)/.exec(snmp6)?.[1] ?? 0);
}

function statusOnce(sock: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = net.connect(sock);
    let buf = '';
    const timer = setTimeout(() => { s.destroy(); reject(new Error('no answer in 5 s')); }, 5000);
    s.setEncoding('utf8');
    s.once('connect', () => s.write('{"cmd":"status"}\n'));
    s.on('data', (c: string) => {
      buf += c;
      if (!buf.includes('\n')) return;
      clearTimeout(timer);
      s.destroy();
      resolve(performance.now() - t0);
    });
    s.once('error', (e) => { clearTimeout(timer); reject(e); });
  });
}

class Sink {
  private constructor(private readonly proc: LabProcess) {}
  static async start(lab: Lab, bin: string): Promise<Sink> {
    const proc = lab.spawn(lab.server.ns, [bin], { name: 'dhcpsink' });
    await lab.waitForLog(proc, 'dhcpsink: serving');
    return new Sink(proc);
  }
  async counters(): Promise<{ received4: number; received6: number; answered4: number; answered6: number }> {
    const before = this.proc.log().split('\n').length;
    process.kill(this.proc.pid, 'SIGUSR1');
    for (let i = 0; i < 100; i++) {
      await sleep(10);
      const lines = this.proc.log().split('\n').filter((l) => l.startsWith('{'));
      if (this.proc.log().split('\n').length > before && lines.length > 0) return JSON.parse(lines[lines.length - 1]!);
    }
    throw new Error('dhcpsink did not report');
  }
}

interface Running { relay: Relay; pid: Record<Family, number>; stop(): Promise<void>; controlSocket?: string }

async function startGleand(lab: Lab): Promise<Running> {
  const configPath = path.join(lab.dir, 'gleand.conf');
  const controlSocket = path.join(lab.dir, 'gleand.sock');
  fs.writeFileSync(configPath, labGleandConfig(lab, {
    logLevel: 'info', controlSocket,
    // The per-port limit protects the core from one noisy port; here it would measure itself.
    subscriber: () => ({ rate_limit: '100000' }),
  }));
  const prof = process.env['BENCH_RELAY_PROFILE'];
  const profFlags = prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [];
  const proc = lab.spawn(lab.router.ns, [process.execPath, ...initScriptNodeFlags(), ...profFlags, BUNDLE, 'run', '-c', configPath], { name: 'gleand' });
  await lab.waitForLog(proc, /notice main: running/, 15_000);
  // gleand leaves its kernel state in force when it stops (a restart is no outage), and
  // that includes the nft rule dropping client DHCP on relay ports (gleand reads it from
  // its packet sockets): remove its table, so dhcrelay -6 (UDP sockets) is not measured
  // behind it.
  const stop = async () => {
    await proc.stop('SIGTERM', 5000);
    execFileSync('ip', ['netns', 'exec', lab.router.ns, 'nft', 'delete', 'table', 'inet', 'gleand'], { stdio: 'ignore' });
  };
  return { relay: 'gleand', pid: { 4: proc.pid, 6: proc.pid }, stop, controlSocket };
}

async function startDhcrelay(lab: Lab): Promise<Running> {
  const h = await lab.startDhcrelay();
  return { relay: 'dhcrelay', pid: { 4: h.v4!.pid, 6: h.v6!.pid }, stop: () => h.stop() };
}

async function runOnce(lab: Lab, gen: string, sink: Sink, r: Running, family: Family, rate: number, tag: number, latencies: number[]): Promise<Sample> {
  const pid = r.pid[family];
  const s0 = await sink.counters();
  const cpu0 = cpuTicks(pid);
  const drops0 = await rcvbufErrors(lab);
  let probing = r.controlSocket !== undefined;
  const probe = (async () => {
    while (probing) {
      const t = performance.now();
      try { latencies.push(await statusOnce(r.controlSocket!)); } catch { latencies.push(5000); }
      await sleep(Math.max(0, 25 - (performance.now() - t)));
    }
  })();
  const out = await lab.exec(lab.subscribers[0]!.ns, [gen, '-i', 'eth0', '-f', String(family), '-r', String(rate),
    '-d', String(SECONDS), '-w', String(DRAIN_SECONDS), '-t', String(tag & 0xff), '-p', String(V6_POOL)], { timeoutMs: 60_000 });
  probing = false;
  await probe;
  const g = JSON.parse(out.stdout.trim().split('\n').pop()!) as { sent: number; sendSeconds: number; replies: number } & Record<string, number>;
  const s1 = await sink.counters();
  const key = family === 4 ? 'received4' : 'received6';
  return {
    relay: r.relay, family, rate, sent: g.sent, sendSeconds: g.sendSeconds,
    forwarded: s1[key] - s0[key], replies: g.replies,
    answered: s1[family === 4 ? 'answered4' : 'answered6'] - s0[family === 4 ? 'answered4' : 'answered6'], generator: g,
    cpuUs: ((cpuTicks(pid) - cpu0) / CLK_TCK) * 1e6, rssKiB: rssKiB(pid),
    rcvbufErrors: (await rcvbufErrors(lab)) - drops0,
  };
}

async function main(): Promise<void> {
  requireRootAndNetns();
  installUncaughtTeardown();
  if (!fs.existsSync(BUNDLE)) throw new Error(`${BUNDLE}: npm run build first`);
  const load0 = os.loadavg();
  const lab = await createLab({ subscribers: 1, startServers: false });
  try {
    const bins = buildHelpers(lab.dir);
    const sink = await Sink.start(lab, bins.sink);
    // The v6 clients' link-locals are resolved once (see dhcpgen.c: the pool).
    const pool = execFileSync(bins.gen, ['-P', '-p', String(V6_POOL)], { encoding: 'utf8' }).trim().split('\n');
    const port = lab.subscribers[0]!.routerDev;
    for (const line of pool) {
      const [ll, mac] = line.split(' ');
      await lab.exec(lab.router.ns, ['ip', '-6', 'neigh', 'replace', ll!, 'lladdr', mac!, 'dev', port, 'nud', 'permanent']);
    }
    const samples: Sample[] = [];
    const latencies: number[] = [];
    let tag = 1;
    const t0 = Date.now();
    for (let rep = 0; rep < REPS; rep++) {
      for (const relay of (['gleand', 'dhcrelay'] as const).filter((r) => !process.env['BENCH_RELAY_ONLY'] || r === process.env['BENCH_RELAY_ONLY'])) {
        const r = relay === 'gleand' ? await startGleand(lab) : await startDhcrelay(lab);
        try {
          for (const family of FAMILIES) {
            for (const rate of RATES) {
              const s = await runOnce(lab, bins.gen, sink, r, family, rate, tag++, latencies);
              samples.push(s);
              process.stderr.write(`  rep ${rep + 1} ${relay.padEnd(8)} v${family} ${String(rate).padStart(6)}/s: ` +
                `fwd ${s.forwarded}/${s.sent}, replies ${s.replies}, cpu ${(s.cpuUs / Math.max(1, s.forwarded)).toFixed(1)} µs/msg, ` +
                `rcvbuf drops ${s.rcvbufErrors}, server answered ${s.answered}, generator ${JSON.stringify(s.generator)}\n`);
            }
          }
          if (relay === 'gleand') {
            const status = JSON.parse(execFileSync('ip', ['netns', 'exec', lab.router.ns, process.execPath, BUNDLE, 'status', '--json', '-s', r.controlSocket!], { encoding: 'utf8' }));
            process.stderr.write(`  gleand status drivers: ${JSON.stringify(status.drivers?.udp ?? {})}\n`);
          }
        } finally {
          await r.stop();
        }
      }
    }
    const load1 = os.loadavg();
    report(samples, latencies, load0, load1, (Date.now() - t0) / 1000);
  } finally {
    await lab.teardown();
  }
}

function report(samples: Sample[], latencies: number[], load0: number[], load1: number[], seconds: number): void {
  const pick = (relay: Relay, family: Family, rate: number) => samples.filter((s) => s.relay === relay && s.family === family && s.rate === rate);
  const fwd = (ss: Sample[]) => median(ss.map((s) => s.forwarded / s.sendSeconds));
  const rt = (ss: Sample[]) => median(ss.map((s) => s.replies / s.sendSeconds));
  const loss = (ss: Sample[]) => median(ss.map((s) => 1 - s.replies / s.sent));
  const cpu = (ss: Sample[]) => median(ss.map((s) => s.cpuUs / Math.max(1, s.forwarded)));
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 2 : 1)}%`;
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  console.log(`relay: gleand ${BUNDLE} (node ${initScriptNodeFlags().join(' ')}) vs ISC dhcrelay, ${REPS} repetitions of ${SECONDS} s per rate, medians; ` +
    `load average ${load0[0]!.toFixed(2)} before, ${load1[0]!.toFixed(2)} after (${os.cpus().length} cores, shared); ${seconds.toFixed(0)} s`);
  const head = ['fam', 'offered', 'fwd gleand', 'fwd dhcrelay', 'ratio', 'rt gleand', 'rt dhcrelay', 'ratio', 'loss g', 'loss d', 'cpu µs/msg g', 'cpu d', 'rcvbuf drops g/d'];
  const rows: string[][] = [];
  for (const family of FAMILIES) {
    for (const rate of RATES) {
      const g = pick('gleand', family, rate), d = pick('dhcrelay', family, rate);
      rows.push([`v${family}`, k(rate), k(fwd(g)), k(fwd(d)), ratio(fwd(g), fwd(d)), k(rt(g)), k(rt(d)), ratio(rt(g), rt(d)),
        pct(loss(g)), pct(loss(d)), cpu(g).toFixed(1), cpu(d).toFixed(1),
        `${median(g.map((s) => s.rcvbufErrors))}/${median(d.map((s) => s.rcvbufErrors))}`]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(line(head));
  for (const r of rows) console.log(line(r));
  for (const family of FAMILIES) {
    const best = (relay: Relay, f: (ss: Sample[]) => number) => Math.max(...RATES.map((r) => f(pick(relay, family, r))));
    const held = (relay: Relay) => {
      const ok = RATES.filter((r) => loss(pick(relay, family, r)) < 0.01);
      return ok.length ? k(Math.max(...ok)) : 'none';
    };
    console.log(`v${family}: saturation forward gleand ${k(best('gleand', fwd))}/s, dhcrelay ${k(best('dhcrelay', fwd))}/s ` +
      `(${ratio(best('gleand', fwd), best('dhcrelay', fwd))}); round trip gleand ${k(best('gleand', rt))}/s, dhcrelay ${k(best('dhcrelay', rt))}/s ` +
      `(${ratio(best('gleand', rt), best('dhcrelay', rt))}); highest offered rate with < 1% loss: gleand ${held('gleand')}, dhcrelay ${held('dhcrelay')}`);
  }
  const rss = (relay: Relay, family: Family) => (Math.max(...samples.filter((s) => s.relay === relay && s.family === family).map((s) => s.rssKiB)) / 1024).toFixed(1);
  console.log(`RSS (max after a run): gleand ${rss('gleand', FAMILIES[0]!)} MiB (one process, v${FAMILIES.join('+v')}); ` +
    FAMILIES.map((f) => `dhcrelay -${f} ${rss('dhcrelay', f)} MiB`).join(', '));
  console.log(`gleand status round trip during the floods: ${latencies.length} probes, p50 ${median(latencies).toFixed(1)} ms, ` +
    `p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms (target < 100 ms)`);
}

if (require.main === module) {
  main().catch((e) => { console.error(e); process.exitCode = 1; });
}
