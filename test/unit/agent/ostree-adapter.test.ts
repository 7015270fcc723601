import { describe, expect, it } from 'vitest';
import { ostreePort } from '../../../src/agent/adapters/ostree.js';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import type { OstreeClient, StageOptions } from '../../../src/ostree/client/index.js';
import type { DeploymentSet } from '../../../src/ostree/deployment.js';
import { release } from './fixtures.js';

const EMPTY: DeploymentSet = { deployments: [], booted: null, staged: null, rollback: null };

/** A client whose status answers come from `answers` in order (an Error rejects). */
function scriptedClient(answers: (DeploymentSet | Error)[], stageOpts: StageOptions[] = []): OstreeClient {
  const unused = (): Promise<never> => Promise.reject(new Error('not used'));
  return {
    status: () => {
      const a = answers.shift() ?? EMPTY;
      return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
    },
    registerDriver: unused,
    stage: (_r, opts) => (stageOpts.push(opts), unused()),
    finalize: unused,
    cleanupPending: unused,
    rollback: unused,
    close: () => Promise.resolve(),
  };
}

const sample = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('agent rpm-ostree adapter', () => {
  it('counts every deployments query and the failed ones, rethrowing the error unchanged', async () => {
    const down = new Error('backend down');
    const metrics = createAgentMetrics({ processStartMs: 0 });
    const port = ostreePort(scriptedClient([down, EMPTY, down, EMPTY]), metrics);
    await expect(port.status()).rejects.toBe(down);
    await expect(port.status()).resolves.toBe(EMPTY);
    await expect(port.status()).rejects.toBe(down);
    await port.status();
    const text = metrics.render();
    expect(sample(text, 'alt_updated_rpm_ostree_status_attempts_total')).toBe(4);
    expect(sample(text, 'alt_updated_rpm_ostree_status_failures_total')).toBe(2);
  });

  it('leaves the stream confirmation to the agent', async () => {
    const seen: StageOptions[] = [];
    const port = ostreePort(scriptedClient([], seen), createAgentMetrics({ processStartMs: 0 }));
    await port.stage(release(2), { allowDowngrade: false }).catch(() => undefined);
    expect(seen).toEqual([{ allowDowngrade: false, confirmStream: false }]);
  });
});
