import { describe, expect, it } from 'vitest';
import { lockPort } from '../../../src/agent/adapters/lock.js';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import type { FleetLockClient } from '../../../src/fleetlock/client.js';

const params = { id: 'node1', group: 'default' };

/** A FleetLock client whose replies are scripted per API. */
function scriptedClient(fail: { preReboot?: unknown; steadyState?: unknown }): FleetLockClient {
  return {
    preReboot: async () => {
      if (fail.preReboot !== undefined) throw fail.preReboot;
    },
    steadyState: async () => {
      if (fail.steadyState !== undefined) throw fail.steadyState;
    },
    reportVerdict: async () => ({ groupHalted: false }),
    close: async () => undefined,
  };
}

const sample = (text: string, name: string, labels: string): number | undefined => {
  const m = new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('agent FleetLock adapter', () => {
  it('counts each request by API and rethrows errors unchanged, counted by their kind', async () => {
    const denied = Object.assign(new Error('no slot'), { kind: 'failed_lock_semaphore' });
    const metrics = createAgentMetrics({ processStartMs: 0 });
    const port = lockPort(scriptedClient({ preReboot: denied }), metrics);
    await port.steadyState(params);
    await expect(port.preReboot(params)).rejects.toBe(denied);
    await expect(port.preReboot(params)).rejects.toBe(denied);
    const text = metrics.render();
    expect(sample(text, 'alt_updated_strategy_fleet_lock_requests_total', 'api="steady_state"')).toBe(1);
    expect(sample(text, 'alt_updated_strategy_fleet_lock_requests_total', 'api="pre_reboot"')).toBe(2);
    expect(sample(text, 'alt_updated_strategy_fleet_lock_errors_total', 'api="pre_reboot",kind="failed_lock_semaphore"')).toBe(2);
    expect(sample(text, 'alt_updated_strategy_fleet_lock_errors_total', 'api="steady_state",kind="failed_lock_semaphore"')).toBeUndefined();
  });

  it('counts an error without a metric-safe kind as client_failed_request', async () => {
    const metrics = createAgentMetrics({ processStartMs: 0 });
    const port = lockPort(scriptedClient({ steadyState: Object.assign(new Error('x'), { kind: 'Bad Kind!' }) }), metrics);
    await expect(port.steadyState(params)).rejects.toThrow('x');
    expect(sample(metrics.render(), 'alt_updated_strategy_fleet_lock_errors_total', 'api="steady_state",kind="client_failed_request"')).toBe(1);
  });
});
