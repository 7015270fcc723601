// The agent's side of the boot health verdict (issue 15): it arms the trial before it finalizes,
// never finalizes when arming fails, and never stages a release the node recorded as failed.
import { describe, expect, it } from 'vitest';
import type { HealthPort } from '../../../src/agent/ports.js';
import type { Deployment } from '../../../src/ostree/deployment.js';
import { release } from './fixtures.js';
import { makeAgent } from './harness.js';

const r1 = release(1);
const r2 = release(2);

function recordingHealth(failed: { release: string; payload: string; reason: string; rolledBack: boolean }[] = [], manual: string | null = null) {
  const h = { armed: [] as { release: string; staged: Deployment; booted: Deployment }[], armFails: false, finalizedAtArm: [] as number[] };
  const port: HealthPort = {
    facts: () => Promise.resolve({ failed, manual, lastVerdict: manual === null ? null : 'manual_intervention', failedChecks: [] }),
    arm: (rel, staged, booted) => {
      if (h.armFails) return Promise.reject(new Error('disk full'));
      h.armed.push({ release: rel, staged, booted });
      return Promise.resolve();
    },
  };
  return { port, h };
}

describe('agent + health record', () => {
  it('arms the trial of the staged deployment before finalizing it', async () => {
    const { port, h } = recordingHealth();
    const t = makeAgent({ booted: r1, target: r2, health: port });
    const finalize = t.ostree.port.finalize.bind(t.ostree.port);
    let armedBeforeFinalize = false;
    t.ostree.port.finalize = (c, o) => ((armedBeforeFinalize = h.armed.length === 1), finalize(c, o));
    await t.stepUntil('end');
    expect(armedBeforeFinalize).toBe(true);
    expect(h.armed.map((a) => [a.release, a.staged.checksum, a.booted.checksum])).toEqual([[r2.version, r2.payload, r1.payload]]);
  });

  it('does not finalize when the trial cannot be recorded', async () => {
    const { port, h } = recordingHealth();
    h.armFails = true;
    const t = makeAgent({ booted: r1, target: r2, health: port });
    let finalized = 0;
    t.ostree.port.finalize = () => (finalized++, Promise.resolve());
    await t.stepUntil('update_staged');
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(finalized).toBe(0);
    expect(t.agent.state.kind).toBe('update_staged');
    expect(t.events()).toContain('health_arm_failed');
  });

  it('never stages a release recorded as failed', async () => {
    const { port } = recordingHealth([{ release: r2.version, payload: r2.payload, reason: 'app failed', rolledBack: true }]);
    const t = makeAgent({ booted: r1, target: r2, health: port });
    await t.stepUntil('no_new_update');
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.events()).toContain('failed_release_denylisted');
    expect(t.metrics.calls.get('health')).toEqual([[{ failedReleases: 1, rollbacks: 1, manualIntervention: false, lastVerdict: null }]]);
  });

  it("shows this boot's verdict and failed checks in its status snapshot (D-Bus HealthVerdict)", async () => {
    const { port } = recordingHealth([{ release: r2.version, payload: r2.payload, reason: 'app failed', rolledBack: true }]);
    const withChecks: HealthPort = {
      ...port,
      facts: async () => ({ ...(await port.facts()), lastVerdict: 'rolled_back', failedChecks: [{ name: 'app.sh', outputTail: 'port 80 closed\n' }] }),
    };
    const t = makeAgent({ booted: r1, target: r2, health: withChecks });
    expect(t.agent.snapshot().healthVerdict).toBeNull();
    await t.stepUntil('no_new_update');
    expect(t.agent.snapshot()).toMatchObject({ healthVerdict: 'rolled_back', healthFailedChecks: [{ name: 'app.sh', outputTail: 'port 80 closed\n' }] });
  });

  it('does nothing on a boot the health verdict left in manual intervention', async () => {
    const { port } = recordingHealth([], 'app.sh failed');
    const t = makeAgent({ booted: r1, target: r2, health: port });
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(t.agent.state.kind).toBe('start');
    expect(t.events()).toContain('health_unhealthy_boot');
    expect(t.events()).not.toContain('update_found');
  });
});
