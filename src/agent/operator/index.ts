// Public API of the agent's operator surface (re-exports only).
export { createNotifier, noopNotifier, watchdogIntervalMs, type Notifier, type NotifierOptions } from './notify.js';
export { createAgentMetrics, noopMetrics, type AgentMetrics, type FinalizationBlockReason, type FleetLockApi } from './metrics.js';
export { startMetricsServer, parseListenAddress, METRICS_SOCKET_PATH, type MetricsServer, type MetricsServerOptions } from './metrics-server.js';
export { createLogindProbe, isInteractive, blocksShutdown, type SessionProbe, type UserSession, type Inhibitor } from './sessions.js';
export { broadcast, rebootWarning, humanDuration, interactiveCheckOverridden, OVERRIDE_INTERACTIVE_CHECK, type BroadcastResult } from './broadcast.js';
export { startOperatorService, UPDATED1, type OperatorService, type OperatorServiceOptions } from './dbus-service.js';
export { connectUpdated1, type Updated1Client } from './dbus-client.js';
export { startOperatorSurface, type OperatorSurface, type OperatorSurfaceOptions } from './surface.js';
export type { AgentSnapshot, OperatorPort } from './snapshot.js';
export { OperatorError, MetricsListenError, SessionProbeError, DbusServiceError, DbusClientError, OPERATOR_ERROR_CODES } from './errors.js';
