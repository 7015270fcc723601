// Serves the exposition text two ways:
//  - a unix stream socket (Zincati's protocol, not HTTP): on connect we write the text and close;
//    read it with `socat - UNIX-CONNECT:/run/alt-updated/public/metrics.promsock`.
//  - optionally plain HTTP on a loopback TCP address (`agent.metrics.listen`, coreos/zincati#677),
//    `GET /metrics`. Loopback only: the agent is no network service; a node exporter or reverse
//    proxy publishes it further if wanted.
import { chmod, unlink } from 'node:fs/promises';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { isIP } from 'node:net';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer } from 'node:net';
import type { Logger } from '../../common/logger.js';
import { MetricsListenError } from './errors.js';
import { EXPOSITION_CONTENT_TYPE } from './prometheus.js';

/** Default socket path. */
export const METRICS_SOCKET_PATH = '/run/alt-updated/public/metrics.promsock';

/** Options for {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** Unix socket path; removed and re-bound at start. @default METRICS_SOCKET_PATH */
  readonly socketPath?: string;
  /** `HOST:PORT` (IPv6 as `[::1]:PORT`) on a loopback address, or null for socket only. */
  readonly listen: string | null;
  /** Produces the exposition text at scrape time. */
  readonly render: () => string;
  /** Logger for scrape errors. */
  readonly logger: Logger;
}

/** A running metrics server. */
export interface MetricsServer {
  /** The bound TCP address (port resolved when 0 was asked), or null without a listener. */
  readonly tcp: { host: string; port: number } | null;
  /** Stops both listeners and removes the socket file. */
  close(): Promise<void>;
}

/** Splits `HOST:PORT` and checks the host is loopback; throws {@link MetricsListenError}. */
export function parseListenAddress(listen: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(listen);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new MetricsListenError(`agent.metrics.listen: expected HOST:PORT, got '${listen}'`);
  }
  const loopback = host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || (isIP(host) === 6 && host === '::1');
  if (!loopback) throw new MetricsListenError(`agent.metrics.listen: '${host}' is not a loopback address`);
  return { host, port };
}

function listenOn(server: NetServer | HttpServer, arg: string | { host: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    const done = (): void => {
      server.off('error', reject);
      resolve();
    };
    if (typeof arg === 'string') server.listen(arg, done);
    else server.listen(arg.port, arg.host, done);
  });
}

const closeServer = (s: NetServer | HttpServer): Promise<void> => new Promise((resolve) => s.close(() => resolve()));

/** Binds the socket (and the TCP listener when configured); a bind failure is a typed error. */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const path = opts.socketPath ?? METRICS_SOCKET_PATH;
  const log = opts.logger.child({ component: 'operator.metrics' });
  const tcpAddr = opts.listen === null ? null : parseListenAddress(opts.listen);

  // A throwing render() must cost one scrape, never the agent: these callbacks run outside any await.
  const safeRender = (): string | null => {
    try {
      return opts.render();
    } catch (err: unknown) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'failed to render metrics');
      return null;
    }
  };

  const unix = createNetServer((conn) => {
    conn.on('error', (err) => log.debug({ err: err.message }, 'metrics client went away'));
    const body = safeRender();
    if (body === null) conn.destroy();
    else conn.end(body);
  });
  try {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await listenOn(unix, path);
    // Public by design (tmpfiles makes the directory 0775): any local user may scrape.
    await chmod(path, 0o666);
  } catch (err: unknown) {
    await closeServer(unix);
    throw new MetricsListenError(`failed to bind metrics socket '${path}'`, err);
  }

  let http: HttpServer | null = null;
  let tcp: { host: string; port: number } | null = null;
  if (tcpAddr !== null) {
    const server = createHttpServer((req, res) => {
      const url = req.url?.split('?')[0];
      if (url !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      } else if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      } else {
        const body = safeRender();
        if (body === null) {
          res.writeHead(500, { 'content-type': 'text/plain' }).end('failed to render metrics\n');
          return;
        }
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      }
    });
    try {
      await listenOn(server, tcpAddr);
    } catch (err: unknown) {
      await closeServer(unix);
      await unlink(path).catch(() => undefined);
      throw new MetricsListenError(`failed to listen for metrics on '${opts.listen ?? ''}'`, err);
    }
    const a = server.address() as AddressInfo;
    http = server;
    tcp = { host: a.address, port: a.port };
  }

  return {
    tcp,
    close: async () => {
      await closeServer(unix);
      if (http) {
        http.closeAllConnections();
        await closeServer(http);
      }
      await unlink(path).catch(() => undefined);
    },
  };
}
