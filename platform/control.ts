import * as fs from 'node:fs';
import * as net from 'node:net';

/**
 * The control socket: a unix stream socket speaking one JSON object per line.
 *
 *   request:  {"cmd":"status"}\n
 *   response: {"ok":true,"result":{...}}\n   or   {"ok":false,"error":"..."}\n
 *
 * It is root-only (mode 0600) and bounded: request size, concurrent clients and an
 * idle timeout, so a stuck or hostile local client cannot pin the daemon.
 */
export type ControlHandler = (cmd: string, args: Record<string, unknown>) => unknown | Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;
const MAX_CLIENTS = 16;
const IDLE_TIMEOUT_MS = 5000;

export class ControlServer {
  private server: net.Server | null = null;
  private clients = 0;

  constructor(private readonly path: string, private readonly handler: ControlHandler) {}

  async listen(): Promise<void> {
    await removeStaleSocket(this.path);
    const server = net.createServer((sock) => this.accept(sock));
    server.maxConnections = MAX_CLIENTS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      const oldMask = process.umask(0o177);
      server.listen(this.path, () => {
        process.umask(oldMask);
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
  }

  close(): void {
    this.server?.close();
    this.server = null;
    try { fs.unlinkSync(this.path); } catch { /* already gone */ }
  }

  private accept(sock: net.Socket): void {
    this.clients++;
    // Idle means no request waiting for its answer: a `gleand query` waits for servers.
    let pending = 0;
    sock.setTimeout(IDLE_TIMEOUT_MS, () => { if (pending === 0) sock.destroy(); });
    sock.on('close', () => this.clients--);
    sock.on('error', () => sock.destroy());
    let buffered = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
        sock.end(`${JSON.stringify({ ok: false, error: 'request too large' })}\n`);
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        pending++;
        void this.answer(line).then((a) => {
          pending--;
          if (!sock.destroyed) sock.write(`${JSON.stringify(a)}\n`);
        });
      }
    });
  }

  private async answer(line: string): Promise<unknown> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { ok: false, error: 'request is not JSON' };
    }
    if (typeof req !== 'object' || req === null || typeof (req as { cmd?: unknown }).cmd !== 'string') {
      return { ok: false, error: 'request needs a string "cmd"' };
    }
    const { cmd, ...args } = req as { cmd: string } & Record<string, unknown>;
    try {
      return { ok: true, result: await this.handler(cmd, args) };
    } catch (e) {
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }
}

/**
 * A socket file left by a crashed daemon blocks listen(); a live daemon must not be
 * displaced by a second one. Connect first: only a refused connection means stale.
 */
async function removeStaleSocket(path: string): Promise<void> {
  if (!fs.existsSync(path)) return;
  const alive = await new Promise<boolean>((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
  if (alive) throw new Error(`another gleand is already listening on ${path}`);
  fs.unlinkSync(path);
}

/** One request/response round trip, used by the CLI. */
export function controlRequest(path: string, request: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buffered = '';
    const timer = setTimeout(() => { sock.destroy(); reject(new Error(`no answer from ${path} within ${timeoutMs} ms`)); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      try {
        const resp = JSON.parse(buffered.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
        if (resp.ok) resolve(resp.result);
        else reject(new Error(resp.error ?? 'error'));
      } catch (e) {
        reject(e);
      }
    });
    sock.once('error', (e) => { clearTimeout(timer); reject(new Error(`cannot reach gleand at ${path}: ${e.message}`)); });
  });
}
