import * as http from 'node:http';
import type { Action } from '../src/actions';
import type { Binding } from '../src/bindings/binding';
import type { Config } from '../src/config/config';
import type { ListenAddress } from '../src/config/schema';
import { formatIPv4, formatIPv6 } from '../src/wire/address';
import { socketRows } from './cli/sockets';
import type { Driver, DriverContext, DriverQuery, ReloadVerdict } from './driver';
import { EXPOSITION_CONTENT_TYPE, formatExposition } from './metrics-format';
import { Families, statusFamilies } from './metrics-walk';

/**
 * Prometheus metrics: the `status` document in the text exposition format, answered to
 * the control query `metrics` (`gleand metrics`) and, when `metrics_listen` is set, to
 * `GET /metrics` over HTTP. The listener binds only the configured address and is
 * bounded, so a scanner or a stuck scraper cannot hold the daemon's memory or sockets:
 *  - MAX_CONNECTIONS open at once (more are closed on accept, `refused`);
 *  - MAX_REQUEST_BYTES of request head (`tooLarge`: 431); a request with a body is refused (413);
 *  - REQUEST_TIMEOUT_MS to deliver the whole request (`timeouts`: 408), and an idle
 *    keep-alive connection is closed after KEEP_ALIVE_MS;
 *  - one rendering per RENDER_REUSE_MS: counting the bindings walks the whole table, so
 *    scrapes closer together than that get the text of the last one (a scraper polls
 *    every 15 s or more; a client hammering the port costs one walk per second).
 */
export const MAX_CONNECTIONS = 4;
export const MAX_REQUEST_BYTES = 8 * 1024;
export const REQUEST_TIMEOUT_MS = 5000;
const KEEP_ALIVE_MS = 2000;
export const RENDER_REUSE_MS = 1000;

const hostOf = (l: ListenAddress): string => (l.family === 4 ? formatIPv4(l.address) : formatIPv6(l.address));
const labelOf = (l: ListenAddress | undefined): string | null =>
  l ? (l.family === 4 ? `${hostOf(l)}:${l.port}` : `[${hostOf(l)}]:${l.port}`) : null;

export class MetricsDriver implements Driver {
  readonly name = 'metrics';
  readonly actionKinds: readonly Action['kind'][] = [];
  private ctx: DriverContext | null = null;
  private server: http.Server | null = null;
  private listening: string | null = null;
  private last: { text: string; atMs: number } | null = null;
  private readonly counters = { scrapes: 0, notFound: 0, refused: 0, tooLarge: 0, timeouts: 0, badRequests: 0, listenErrors: 0 };

  /** `status`: the runtime's whole status document (this driver's own section included). */
  constructor(private readonly daemonStatus: () => Record<string, unknown>) {}

  async start(config: Config, ctx: DriverContext): Promise<void> {
    this.ctx = ctx;
    await this.bind(config.global.metrics_listen);
  }

  async reconfigure(config: Config): Promise<ReloadVerdict | void> {
    const want = labelOf(config.global.metrics_listen);
    if (want === this.listening) return;
    await this.close();
    const err = await this.bind(config.global.metrics_listen);
    if (err) return { verdict: 'refused', detail: `metrics_listen ${want}: ${err}` };
    return { verdict: 'reinstalled', detail: want ? `metrics on ${want}` : 'metrics listener closed' };
  }

  execute(): void { /* no actions */ }

  async stop(): Promise<void> {
    await this.close();
  }

  status(): Record<string, unknown> {
    return { listening: this.listening ? 1 : 0, address: this.listening, ...this.counters };
  }

  query(what: DriverQuery): Promise<unknown> | undefined {
    return what === 'metrics' ? Promise.resolve(this.render()) : undefined;
  }

  /** The exposition: every status counter, plus the bindings counted by port, family, kind and source. */
  render(): string {
    const status = this.daemonStatus();
    const families = statusFamilies(status, new Families());
    this.addBindings(families);
    this.addSockets(families, status);
    return formatExposition(families.list());
  }

  /**
   * The table keeps one total; the breakdown is counted here, once per scrape, over the
   * table's own iterator (no row objects are built). Bounded labels: ports × 2 × 2 × 3.
   */
  private addBindings(into: Families): void {
    const counts = new Map<string, { b: Binding; n: number }>();
    const entries = this.ctx?.query('journal') as Iterable<Binding> | undefined;
    for (const b of entries ?? []) {
      const key = `${b.port}\0${b.family}\0${b.kind}\0${b.source}`;
      const c = counts.get(key);
      if (c) c.n++;
      else counts.set(key, { b, n: 1 });
    }
    const help = 'Bindings in the table now, by port, family, kind (address or prefix) and source (glean, leasequery, static).';
    if (counts.size === 0) into.add('gleand_bindings', 'gauge', help, [], 0);
    for (const { b, n } of counts.values()) {
      into.add('gleand_bindings', 'gauge', help,
        [['port', b.port], ['family', String(b.family)], ['kind', b.kind], ['source', b.source]], n);
    }
  }

  /** Kernel-socket drops in one family, named as `gleand status` names the sockets. */
  private addSockets(into: Families, status: Record<string, unknown>): void {
    const drivers = (status['drivers'] ?? {}) as Record<string, unknown>;
    for (const r of socketRows(drivers)) {
      if (r.drops === null) continue;
      into.add('gleand_socket_kernel_drops_total', 'counter',
        'Packets the kernel dropped on one of gleand\'s sockets before gleand read them.', [['socket', r.socket]], r.drops);
    }
  }

  /** Listen where configured (nowhere when unset); the error text when it cannot. */
  private bind(listen: ListenAddress | undefined): Promise<string | null> {
    if (!listen) return Promise.resolve(null);
    const server = http.createServer({
      maxHeaderSize: MAX_REQUEST_BYTES,
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_MS,
      // how often Node checks requestTimeout / headersTimeout (default 30 s)
      connectionsCheckingInterval: 500,
    }, (req, res) => this.answer(req, res));
    server.maxConnections = MAX_CONNECTIONS;
    server.on('drop', () => { this.counters.refused++; });
    server.on('clientError', (err: NodeJS.ErrnoException, sock) => {
      if (err.code === 'HPE_HEADER_OVERFLOW') this.counters.tooLarge++;
      else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.counters.timeouts++;
      else this.counters.badRequests++;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large'
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      if (sock.writable) sock.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      else sock.destroy();
    });
    return new Promise((resolve) => {
      server.once('error', (e: Error) => {
        this.counters.listenErrors++;
        this.ctx?.log('error', 'metrics', `cannot listen on ${labelOf(listen)}: ${e.message}`);
        resolve(e.message);
      });
      server.listen({ host: hostOf(listen), port: listen.port, ipv6Only: listen.family === 6 }, () => {
        this.server = server;
        this.listening = labelOf(listen);
        this.ctx?.log('info', 'metrics', `serving /metrics on ${this.listening}`);
        resolve(null);
      });
    });
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.headers['content-length'] && req.headers['content-length'] !== '0' || req.headers['transfer-encoding']) {
      this.counters.tooLarge++;
      res.writeHead(413, { Connection: 'close' }).end();
      return;
    }
    if (path !== '/metrics') {
      this.counters.notFound++;
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('gleand serves /metrics only\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.counters.badRequests++;
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    this.counters.scrapes++;
    const now = performance.now();
    if (!this.last || now - this.last.atMs >= RENDER_REUSE_MS) this.last = { text: this.render(), atMs: now };
    const body = this.last.text;
    res.writeHead(200, { 'Content-Type': EXPOSITION_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private close(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.listening = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}
