import * as fs from 'node:fs';
import * as net from 'node:net';

/**
 * The control socket: a unix stream socket speaking one JSON object per line.
 *
 *   request:  {"cmd":"status"}\n
 *   response: {"ok":true,"result":{...}}\n   or   {"ok":false,"error":"..."}\n
 *
 * It is root-only (mode 0600) and bounded, so a stuck or hostile local client cannot
 * keep `gleand status` from answering:
 *  - request size (MAX_REQUEST_BYTES);
 *  - MAX_CONNECTIONS open at once;
 *  - a connection must deliver a whole request line within REQUEST_TIMEOUT_MS of being
 *    accepted (and of its previous answer), else it is closed (`idleClosed`). The
 *    deadline is not moved by partial data, so trickling a byte at a time does not
 *    hold a slot either. A connection whose request is being answered (a `gleand
 *    query` waits for the servers) is not idle;
 *  - at the bound, a new connection makes room by closing the oldest idle one
 *    (`evicted`): a client that connects and then speaks (the CLI) always gets a slot,
 *    however many connections sit silent. Only when every slot has a request in
 *    progress is the newcomer closed at once (`refused`).
 * The CLI (`controlRequest`) reconnects when it is closed before its answer, which
 * happens if a burst of newer connections evicts it before its request was read.
 *
 * A large table streams: a request with `"stream":true` whose answer is a list gets
 *
 *   {"ok":true,"stream":true}\n  then one row per line  then  {"end":true,"count":N}\n
 *
 * written as the socket drains, so neither side builds the whole JSON text (200k
 * bindings are tens of MB of it) and the daemon's loop runs between chunks. A reader
 * that stops reading for STREAM_STALL_MS is closed (`stalled`): it would otherwise hold
 * its slot, as it is not idle. A daemon without streaming answers with one `result`
 * line, which `controlStream` reads as well.
 */
export type ControlHandler = (cmd: string, args: Record<string, unknown>) => unknown | Promise<unknown>;

const MAX_REQUEST_BYTES = 64 * 1024;
export const MAX_CONNECTIONS = 32;
export const REQUEST_TIMEOUT_MS = 2000;
export const STREAM_STALL_MS = 10_000;
/** Rows are written in chunks of about this many bytes. */
const STREAM_CHUNK_BYTES = 64 * 1024;

interface Answer {
  readonly head: Record<string, unknown>;
  /** Set for a streamed answer: the rows that follow the head line. */
  readonly rows?: Iterable<unknown>;
}

interface Connection {
  readonly sock: net.Socket;
  /** Requests read and not yet answered. */
  pending: number;
  /** Closes the connection when no request line arrived in time; null while one is answered. */
  deadline: NodeJS.Timeout | null;
}

export class ControlServer {
  private server: net.Server | null = null;
  /** Open connections in the order they were accepted (the oldest idle one is evicted first). */
  private readonly connections = new Set<Connection>();
  private readonly counters = { accepted: 0, answered: 0, idleClosed: 0, evicted: 0, refused: 0, tooLarge: 0, stalled: 0 };

  constructor(private readonly path: string, private readonly handler: ControlHandler) {}

  async listen(): Promise<void> {
    await removeStaleSocket(this.path);
    const server = net.createServer((sock) => this.accept(sock));
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
    for (const c of this.connections) this.drop(c);
    try { fs.unlinkSync(this.path); } catch { /* already gone */ }
  }

  /** Counters for `status` (drivers' neighbour: `control`). */
  status(): Record<string, unknown> {
    return { connections: this.connections.size, maxConnections: MAX_CONNECTIONS, requestTimeoutMs: REQUEST_TIMEOUT_MS, ...this.counters };
  }

  private accept(sock: net.Socket): void {
    sock.on('error', () => sock.destroy());
    if (this.connections.size >= MAX_CONNECTIONS && !this.evictOldestIdle()) {
      this.counters.refused++;
      sock.destroy();
      return;
    }
    this.counters.accepted++;
    const c: Connection = { sock, pending: 0, deadline: null };
    this.connections.add(c);
    this.armDeadline(c);
    sock.on('close', () => this.drop(c));
    let buffered = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      if (buffered.length > MAX_REQUEST_BYTES) {
        this.counters.tooLarge++;
        buffered = '';
        sock.end(`${JSON.stringify({ ok: false, error: 'request too large' })}\n`);
        return;
      }
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        c.pending++;
        this.disarmDeadline(c);
        void this.answer(line).then(async (a) => {
          if (!sock.destroyed) await this.send(sock, a);
          c.pending--;
          this.counters.answered++;
          if (!sock.destroyed && c.pending === 0) this.armDeadline(c);
        });
      }
    });
  }

  private armDeadline(c: Connection): void {
    this.disarmDeadline(c);
    c.deadline = setTimeout(() => {
      this.counters.idleClosed++;
      c.sock.destroy();
    }, REQUEST_TIMEOUT_MS);
    c.deadline.unref();
  }

  private disarmDeadline(c: Connection): void {
    if (c.deadline) clearTimeout(c.deadline);
    c.deadline = null;
  }

  /** Close the oldest connection with no request in progress; false when there is none. */
  private evictOldestIdle(): boolean {
    for (const c of this.connections) {
      if (c.pending > 0) continue;
      this.counters.evicted++;
      this.drop(c);
      return true;
    }
    return false;
  }

  private drop(c: Connection): void {
    this.disarmDeadline(c);
    this.connections.delete(c);
    c.sock.destroy();
  }

  private async answer(line: string): Promise<Answer> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return { head: { ok: false, error: 'request is not JSON' } };
    }
    if (typeof req !== 'object' || req === null || typeof (req as { cmd?: unknown }).cmd !== 'string') {
      return { head: { ok: false, error: 'request needs a string "cmd"' } };
    }
    const { cmd, stream, ...args } = req as { cmd: string; stream?: unknown } & Record<string, unknown>;
    try {
      const result = await this.handler(cmd, args);
      if (stream === true && isIterable(result)) return { head: { ok: true, stream: true }, rows: result };
      // A lazy sequence asked for in one line (an older CLI, a script): collected here, at
      // the edge, the one place a whole list is wanted.
      return { head: { ok: true, result: isIterable(result) && !Array.isArray(result) ? [...result] : result } };
    } catch (e) {
      return { head: { ok: false, error: e instanceof Error ? e.message : String(e) } };
    }
  }

  /** Write one answer; a streamed one chunk by chunk, each after the socket drained. */
  private async send(sock: net.Socket, a: Answer): Promise<void> {
    let chunk = `${JSON.stringify(a.head)}\n`;
    if (a.rows) {
      let count = 0;
      for (const row of a.rows) {
        chunk += `${JSON.stringify(row)}\n`;
        count++;
        if (chunk.length < STREAM_CHUNK_BYTES) continue;
        if (!(await this.writeDrained(sock, chunk))) return;
        chunk = '';
        // Let the daemon's own work (packets, timers) run between chunks, even for a fast reader.
        await new Promise((resolve) => setImmediate(resolve));
      }
      chunk += `${JSON.stringify({ end: true, count })}\n`;
    }
    sock.write(chunk);
  }

  /** False when the socket closed, or its reader stalled and it was closed. */
  private writeDrained(sock: net.Socket, text: string): Promise<boolean> {
    if (sock.destroyed) return Promise.resolve(false);
    if (sock.write(text)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); sock.off('drain', onDrain); sock.off('close', onClose); resolve(ok); };
      const onDrain = () => done(true);
      const onClose = () => done(false);
      const timer = setTimeout(() => { this.counters.stalled++; sock.destroy(); done(false); }, STREAM_STALL_MS);
      sock.once('drain', onDrain);
      sock.once('close', onClose);
    });
  }
}

/** A list (or a lazy sequence: a table's iterator), not a string or a plain object. */
const isIterable = (x: unknown): x is Iterable<unknown> =>
  Array.isArray(x) || (typeof x === 'object' && x !== null && typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function');

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

/**
 * One request/response round trip, used by the CLI. A connection closed before its
 * answer (evicted by a burst of newer connections, see ControlServer) or refused while
 * the listen backlog is full (EAGAIN) is tried again, until `timeoutMs`.
 */
export function controlRequest(path: string, request: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let last = 'no answer';
    const attempt = () => {
      const left = end - Date.now();
      if (left <= 0) { reject(unreachable(`no answer from ${path} within ${timeoutMs} ms (${last})`)); return; }
      oneRoundTrip(path, request, left).then(resolve, (e: Error & { retry?: boolean }) => {
        if (!e.retry) { reject(e); return; }
        last = e.message;
        setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

function oneRoundTrip(path: string, request: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buffered = '';
    let settled = false;
    const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); f(); } };
    const retry = (message: string) => settle(() => reject(Object.assign(new Error(message), { retry: true })));
    const timer = setTimeout(() => { sock.destroy(); retry('timed out'); }, timeoutMs);
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf('\n');
      if (nl < 0) return;
      sock.end();
      settle(() => {
        try {
          const resp = JSON.parse(buffered.slice(0, nl)) as { ok: boolean; result?: unknown; error?: string };
          if (resp.ok) resolve(resp.result);
          else reject(new Error(resp.error ?? 'error'));
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    sock.once('close', () => retry('closed before answering'));
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EAGAIN' || e.code === 'ECONNRESET' || e.code === 'EPIPE') retry(`connect: ${e.code}`);
      else settle(() => reject(unreachable(`cannot reach gleand at ${path}: ${e.message}`)));
    });
  });
}

/** The daemon could not be reached (no socket, refused, no answer in time): `gleand` exits 3 for it. */
export interface UnreachableError extends Error { readonly unreachable: true }
const unreachable = (message: string): UnreachableError => Object.assign(new Error(message), { unreachable: true as const });
export const isUnreachable = (e: unknown): e is UnreachableError => e instanceof Error && (e as { unreachable?: unknown }).unreachable === true;

/**
 * A request whose answer is a list, streamed (see ControlServer): `onRow` is called for
 * each row in order, and the socket is not read while the promise it returns is
 * pending (the CLI's stdout is full), so rows never pile up in memory. Resolves with
 * the row count. `timeoutMs` bounds the wait for the answer to begin; once rows flow,
 * the daemon's stall bound and the socket's close end a stuck stream.
 */
export function controlStream(path: string, request: Record<string, unknown>,
  onRow: (row: unknown) => Promise<void> | void, timeoutMs = 5000): Promise<number> {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    let last = 'no answer';
    const attempt = () => {
      const left = end - Date.now();
      if (left <= 0) { reject(unreachable(`no answer from ${path} within ${timeoutMs} ms (${last})`)); return; }
      oneStream(path, request, onRow, left).then(resolve, (e: Error & { retry?: boolean }) => {
        if (!e.retry) { reject(e); return; }
        last = e.message;
        setTimeout(attempt, 20);
      });
    };
    attempt();
  });
}

function oneStream(path: string, request: Record<string, unknown>, onRow: (row: unknown) => Promise<void> | void,
  timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(path);
    let buffered = '';
    let headSeen = false;
    let streaming = false;
    let rows = 0;
    let settled = false;
    let working: Promise<void> = Promise.resolve();
    const settle = (f: () => void) => { if (!settled) { settled = true; clearTimeout(timer); sock.destroy(); f(); } };
    const fail = (e: Error) => settle(() => reject(e));
    const retry = (message: string) => fail(Object.assign(new Error(message), { retry: true }));
    const timer = setTimeout(() => retry('timed out'), timeoutMs);
    const row = async (r: unknown) => { rows++; await onRow(r); };
    /** One line of the answer; false when the answer is complete. */
    const line = async (text: string): Promise<boolean> => {
      const msg = JSON.parse(text) as Record<string, unknown>;
      if (!headSeen) {
        headSeen = true;
        clearTimeout(timer);
        if (msg['ok'] !== true) throw new Error(typeof msg['error'] === 'string' ? msg['error'] : 'error');
        if (msg['stream'] === true) { streaming = true; return true; }
        // a daemon that does not stream: the whole list in one line
        const result = msg['result'];
        if (!Array.isArray(result)) throw new Error('the answer is not a list');
        for (const r of result) await row(r);
        return false;
      }
      if (msg['end'] === true) return false;
      await row(msg);
      return true;
    };
    sock.setEncoding('utf8');
    sock.once('connect', () => sock.write(`${JSON.stringify({ ...request, stream: true })}\n`));
    sock.on('data', (chunk: string) => {
      buffered += chunk;
      sock.pause();
      working = working.then(async () => {
        let nl: number;
        while (!settled && (nl = buffered.indexOf('\n')) >= 0) {
          const text = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (!(await line(text))) { settle(() => resolve(rows)); return; }
        }
        if (!settled) sock.resume();
      }).catch((e: Error) => fail(e));
    });
    sock.once('close', () => {
      void working.then(() => {
        if (settled) return;
        // Closed before anything was answered (evicted, see ControlServer): ask again.
        if (!headSeen) retry('closed before answering');
        else fail(new Error(`gleand closed the stream after ${rows} row(s)${streaming ? '' : ' (no end)'}`));
      });
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EAGAIN' || e.code === 'ECONNRESET' || e.code === 'EPIPE') { if (!headSeen) retry(`connect: ${e.code}`); }
      else if (!headSeen) fail(unreachable(`cannot reach gleand at ${path}: ${e.message}`));
    });
  });
}
