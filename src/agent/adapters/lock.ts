// Adapts the FleetLock HTTP client (src/fleetlock/client.ts) to the strategy's LockPort, counting
// requests and errors by API and kind (Zincati's fleet_lock metrics).
import type { FleetLockClient } from '../../fleetlock/client.js';
import type { LockClientParams, LockPort } from '../../strategies/types.js';
import type { FleetLockApi } from '../operator/metrics.js';
import type { Metrics } from '../ports.js';

function kindOf(err: unknown): string {
  const k = (err as { kind?: unknown } | null)?.kind;
  return typeof k === 'string' && /^[a-z0-9_]{1,64}$/.test(k) ? k : 'client_failed_request';
}

/** Wraps `client` so every call is counted in `metrics`; errors are rethrown unchanged. */
export function lockPort(client: FleetLockClient, metrics: Metrics): LockPort {
  const counted = async (api: FleetLockApi, call: () => Promise<void>): Promise<void> => {
    metrics.fleetLockRequest(api);
    try {
      await call();
    } catch (err: unknown) {
      metrics.fleetLockError(api, kindOf(err));
      throw err;
    }
  };
  return {
    preReboot: (params: LockClientParams, signal?: AbortSignal) => counted('pre_reboot', () => client.preReboot(params, signal)),
    steadyState: (params: LockClientParams, signal?: AbortSignal) => counted('steady_state', () => client.steadyState(params, signal)),
  };
}
