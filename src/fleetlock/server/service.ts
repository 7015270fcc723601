// alt-fleetlockd HTTP service: routing, stale-lock sweeper, config reload, and the listener (plain
// or TLS). Built from injected dependencies so tests run it in-process with a ManualClock.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { constants as cryptoConstants } from 'node:crypto';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { MonotonicClock } from '../../common/clock.js';
import { errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { parseRequestTarget } from '../../common/request-target.js';
import { ADMIN_PREFIX, handleAdmin } from './admin.js';
import type { ServerConfig } from './config.js';
import { sendError, sendText } from './http-util.js';
import { createFleetLockMetrics, type FleetLockMetrics } from './metrics.js';
import { handleProtocol, policyOf, reportExpired, type ProtocolDeps } from './protocol-routes.js';
import { expireStale } from './semaphore.js';
import type { LockStore } from './store.js';
import { loadServerTls, requireClientCert, type ServerTlsMaterial } from './tls.js';

/** Dependencies of the service. */
export interface FleetLockServiceDeps {
  /** Initial configuration. */
  readonly config: ServerConfig;
  /** Opened lock store (the service does not close it). */
  readonly store: LockStore;
  /** Time source (ManualClock in tests); the embedded store takes its monotonic time from it too. */
  readonly clock: MonotonicClock;
  /** Logger. */
  readonly logger: Logger;
}

/** The request handler plus the operations around it. */
export interface FleetLockService {
  /** node:http request listener. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Applies a new configuration: groups, slots, tokens, windows, expiry, admin token. */
  reload(config: ServerConfig): void;
  /** Releases stale holders of every group now; resolves to how many were released. */
  sweep(): Promise<number>;
  /** Sweeps every `sweepIntervalMs` (per the injected clock) until `signal` aborts. */
  runSweeper(signal: AbortSignal): Promise<void>;
  /** The metric counters. */
  readonly metrics: FleetLockMetrics;
}

/** Creates the service. */
export function createFleetLockService(deps: FleetLockServiceDeps): FleetLockService {
  let config = deps.config;
  const metrics = createFleetLockMetrics();
  const logger = deps.logger;
  const pdeps: ProtocolDeps = { config: () => config, store: deps.store, clock: deps.clock, logger, metrics };

  const metricsText = async (): Promise<string> => {
    let holders: Map<string, number> | null = null;
    let halted = new Set<string>();
    const oldestSinceMs = new Map<string, number>();
    try {
      const all = await deps.store.readAll();
      holders = new Map([...all].map(([g, s]) => [g, s.holders.length]));
      for (const [g, s] of all) if (s.holders.length > 0) oldestSinceMs.set(g, Math.min(...s.holders.map((h) => h.sinceMs)));
      halted = new Set([...all].filter(([, s]) => s.halt !== undefined).map(([g]) => g));
    } catch (err: unknown) {
      logger.warn({ err: errorChain(err) }, 'metrics: cannot read the lock store');
    }
    const slots = new Map([...config.groups].map(([n, g]) => [n, g.slots]));
    return metrics.render({ slots, holders, halted, oldestSinceMs, nowMs: deps.clock.nowMs(), engine: deps.store.engine });
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const target = parseRequestTarget(req.url);
    if (target === null) {
      req.resume();
      return sendError(res, 'invalid_request_target', `request target ${JSON.stringify((req.url ?? '').slice(0, 64))} is not a valid URL`);
    }
    const path = target.pathname;
    if (path === '/v1/pre-reboot') return handleProtocol(pdeps, 'pre-reboot', req, res);
    if (path === '/v1/steady-state') return handleProtocol(pdeps, 'steady-state', req, res);
    if (path === '/v1/verdict') return handleProtocol(pdeps, 'verdict', req, res);
    if (path === ADMIN_PREFIX || path.startsWith(`${ADMIN_PREFIX}/`)) return handleAdmin(pdeps, path, req, res);
    req.resume();
    if (path === '/metrics' && req.method === 'GET') {
      return sendText(res, 200, await metricsText(), 'text/plain; version=0.0.4; charset=utf-8');
    }
    if (path === '/healthz' && req.method === 'GET') {
      try {
        await deps.store.health();
        return sendText(res, 200, `ok ${deps.store.engine}\n`);
      } catch (err: unknown) {
        return sendText(res, 503, `store unavailable: ${errorChain(err).join(': ')}\n`);
      }
    }
    return sendError(res, 'not_found', `no route ${req.method ?? ''} ${path}`);
  };

  const sweep = async (): Promise<number> => {
    const all = await deps.store.readAll();
    let released = 0;
    for (const [name, g] of config.groups) {
      const state = all.get(name);
      if (g.staleAfterMs === null || !state || state.holders.length === 0) continue;
      // The store reads idle times inside the mutation (fresh); nothing expired means no write.
      const r = await deps.store.mutate(name, (s, idle) => expireStale(s, policyOf(g), idle));
      reportExpired(pdeps, name, r.expired);
      released += r.expired.length;
    }
    return released;
  };

  return {
    metrics,
    handle(req, res) {
      route(req, res).catch((err: unknown) => {
        logger.error({ err: errorChain(err) }, 'request failed');
        if (!res.headersSent) sendError(res, 'internal_error', 'internal error');
        else res.destroy();
      });
    },
    reload(next) {
      const restart: string[] = [];
      if (JSON.stringify(next.listen) !== JSON.stringify(config.listen)) restart.push('listen');
      if (JSON.stringify(next.tls) !== JSON.stringify(config.tls)) restart.push('tls');
      if (JSON.stringify(next.store) !== JSON.stringify(config.store)) restart.push('store');
      if (restart.length > 0) logger.warn({ keys: restart }, 'configuration reload: these keys need a restart to take effect');
      config = next;
      logger.info({ event: 'config_reloaded', groups: [...next.groups.keys()] }, 'configuration reloaded');
    },
    sweep,
    async runSweeper(signal) {
      while (!signal.aborted) {
        try {
          await deps.clock.sleep(config.sweepIntervalMs, signal);
        } catch {
          return;
        }
        await sweep().catch((err: unknown) => logger.warn({ err: errorChain(err) }, 'stale-lock sweep failed'));
      }
    },
  };
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:40123/`. */
  readonly url: string;
  /** Bound port. */
  readonly port: number;
  /** Stops accepting, ends idle keep-alive connections, and waits for in-flight requests. */
  close(): Promise<void>;
}

/**
 * Listens on `config.listen` (TLS when configured, with client certificates required when
 * `tls.client_ca_file` is set) and serves `service`. `tls` is the material read at start-up; when
 * absent it is read here.
 */
export async function listen(config: ServerConfig, service: FleetLockService, tls?: ServerTlsMaterial | null): Promise<RunningServer> {
  let server: Server;
  const material = tls === undefined ? await loadServerTls(config.tls) : tls;
  if (material) {
    const { cert, key, clientCa } = material;
    // The handshake lets a client without a certificate through (rejectUnauthorized: false) so that
    // requireClientCert can answer it with an error that says why; no request is served unverified.
    // No session tickets: Node reports a resumed session as `authorized` whatever the first
    // handshake found (even without a certificate), so nothing may be resumed.
    server =
      clientCa === null
        ? createHttpsServer({ cert, key }, service.handle)
        : createHttpsServer(
            { cert, key, ca: clientCa, requestCert: true, rejectUnauthorized: false, secureOptions: cryptoConstants.SSL_OP_NO_TICKET },
            requireClientCert(service.handle),
          );
  } else {
    server = createHttpServer(service.handle);
  }
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.listen.port, config.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `${config.tls ? 'https' : 'http'}://${host}:${addr.port}/`,
    port: addr.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}
