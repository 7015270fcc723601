// Adapts the FleetLock HTTP client (src/fleetlock/client.ts) to the strategy's LockPort, counting
// requests and errors by API and kind (Zincati's fleet_lock metrics).
import type { FleetLockClient } from '../../fleetlock/client.js';
import type { LockClientParams, LockPort } from '../../strategies/types.js';
import type { Metrics } from '../ports.js';

function kindOf(err: unknown): string {
  const k = (err as { kind?: unknown } | null)?.kind;
  return typeof k === 'string' && /^[a-z0-9_]{1,64}$/.test(k) ? k : 'client_failed_request';
}

/** Wraps `client` so every call is counted in `metrics`; errors are rethrown unchanged. */
export function lockPort(client: FleetLockClient, metrics: Metrics): LockPort {
  return {
    async preReboot(params: LockClientParams, signal?: AbortSignal): Promise<void> {
      metrics.fleetLockRequest('pre_reboot');
      try {
        await client.preReboot(params, signal);
      } catch (err: unknown) {
        metrics.fleetLockError('pre_reboot', kindOf(err));
        throw err;
      }
    },
    async steadyState(params: LockClientParams, signal?: AbortSignal): Promise<void> {
      metrics.fleetLockRequest('steady_state');
      try {
        await client.steadyState(params, signal);
      } catch (err: unknown) {
        metrics.fleetLockError('steady_state', kindOf(err));
        throw err;
      }
    },
  };
}
