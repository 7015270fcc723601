// Starts the agent's operator surface in one call for the composition root: the metrics socket
// (+ optional loopback HTTP) and the org.altlinux.Updated1 D-Bus service.
// Failure policy, as Zincati's: a metrics socket that cannot be bound is fatal (the caller exits
// non-zero and systemd restarts it); a D-Bus service that cannot start is logged and the agent keeps
// updating the host without it.
import { errorChain } from '../../common/errors.js';
import type { Logger } from '../../common/logger.js';
import { startOperatorService, type OperatorService } from './dbus-service.js';
import { METRICS_SOCKET_PATH, startMetricsServer, type MetricsServer } from './metrics-server.js';
import type { OperatorPort } from './snapshot.js';

/** Options for {@link startOperatorSurface}. */
export interface OperatorSurfaceOptions {
  /** The agent. */
  readonly port: OperatorPort;
  /** D-Bus address for the service; null = system bus. */
  readonly busAddress: string | null;
  /** Produces the metrics text (e.g. `createAgentMetrics(...).render`). */
  readonly renderMetrics: () => string;
  /** `agent.metrics.listen` (loopback `HOST:PORT`) or null. */
  readonly metricsListen: string | null;
  /** Metrics socket path. @default METRICS_SOCKET_PATH */
  readonly metricsSocketPath?: string;
  /** Process logger. */
  readonly logger: Logger;
}

/** The running surface. */
export interface OperatorSurface {
  /** The metrics listeners (for the bound TCP port). */
  readonly metrics: MetricsServer;
  /** True when the D-Bus service runs. */
  readonly dbusAvailable: boolean;
  /** Emits PropertiesChanged for what changed since the last call; call after each agent step. */
  publish(): void;
  /** Stops everything; never throws. */
  close(): Promise<void>;
}

/** Starts metrics (fatal on failure) and the D-Bus service (logged on failure). */
export async function startOperatorSurface(opts: OperatorSurfaceOptions): Promise<OperatorSurface> {
  const metrics = await startMetricsServer({
    socketPath: opts.metricsSocketPath ?? METRICS_SOCKET_PATH,
    listen: opts.metricsListen,
    render: opts.renderMetrics,
    logger: opts.logger,
  });
  let service: OperatorService | null = null;
  try {
    service = await startOperatorService({ busAddress: opts.busAddress, port: opts.port, logger: opts.logger });
  } catch (err: unknown) {
    opts.logger.error({ component: 'operator.dbus', err: errorChain(err) }, `failed to start D-Bus service: ${errorChain(err).join(': ')}`);
  }
  return {
    metrics,
    dbusAvailable: service !== null,
    publish: () => service?.publish(),
    close: async () => {
      await service?.close().catch(() => undefined);
      await metrics.close().catch(() => undefined);
    },
  };
}
