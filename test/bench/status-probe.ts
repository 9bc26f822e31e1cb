/**
 * `status` latency of a live daemon, measured from another process (the daemon's event
 * loop is what is measured, so the prober must not share it): round trips one after
 * another, 5 ms apart, until told to stop. Issue 7 item 3: every answer within 100 ms.
 */
import { spawn } from 'node:child_process';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** `status` round trips from a separate process, one after another, until told to stop. */
export function statusProbe(sock: string) {
  const code = `
    const net = require('node:net');
    const lat = []; let stop = false;
    process.on('message', () => { stop = true; });
    const one = () => new Promise((res) => {
      const t = process.hrtime.bigint(); const s = net.connect(${JSON.stringify(sock)}); let buf = '';
      s.setEncoding('utf8'); s.on('connect', () => s.write('{"cmd":"status"}\\n'));
      s.on('data', (d) => { buf += d; if (buf.includes('\\n')) { lat.push(Number(process.hrtime.bigint() - t) / 1e6); s.end(); res(); } });
      s.on('error', () => res());
    });
    (async () => { while (!stop) { await one(); await new Promise((r) => setTimeout(r, 5)); } process.send(lat, () => process.exit(0)); })();`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let stopped: Promise<number[]> | null = null;
  return {
    /** The latencies (ms) of every answer; once only, later calls get the same list. */
    stop: () => (stopped ??= new Promise<number[]>((resolve) => { child.once('message', (m) => resolve(m as number[])); child.send('stop'); })),
  };
}

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : NaN;
};
export const latency = (xs: number[]) => `${xs.length} answers, p50 ${quantile(xs, 0.5).toFixed(1)} ms, p99 ${quantile(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;


/**
 * How long the event loop of this process was held, from inside: perf_hooks' delay
 * histogram (wall time, 10 ms resolution: on a loaded machine it includes the time the
 * process waited for a CPU), and the CPU time the process used between two ticks of a
 * 5 ms timer (a tick waits for whatever holds the loop, so its largest gaps are the
 * longest blocks in CPU time, which the machine's load does not stretch; it includes
 * V8's helper threads, so it errs high).
 */
export function loopDelay() {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const cpuGaps: number[] = [];
  let last = process.cpuUsage();
  const tick = setInterval(() => {
    const now = process.cpuUsage();
    cpuGaps.push((now.user - last.user + now.system - last.system) / 1000);
    last = now;
  }, 5);
  return {
    stop: (): string => {
      h.disable();
      clearInterval(tick);
      const ms = (ns: number) => (ns / 1e6).toFixed(1);
      return `loop delay p99 ${ms(h.percentile(99))} ms, max ${ms(h.max)} ms; ` +
        `loop held (CPU between 5 ms ticks) p99 ${quantile(cpuGaps, 0.99).toFixed(1)} ms, max ${Math.max(...cpuGaps).toFixed(1)} ms`;
    },
  };
}
