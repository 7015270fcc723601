// After a restart the agent finds the graph target already staged (finalization locked) and adopts
// it instead of staging again; the adopted deployment gets the same confirmation (payload, version,
// booted stream) as a freshly staged one.
import { describe, expect, it } from 'vitest';
import { confirmStaged } from '../../../src/agent/decide.js';
import { confirmStaged as clientConfirmStaged } from '../../../src/ostree/client/index.js';
import type { Deployment, DeploymentSet } from '../../../src/ostree/deployment.js';
import { makeAgent } from './harness.js';
import { release, testSettings } from './fixtures.js';

const r1 = release(1);
const r2 = release(2);

describe('src/agent adopting a staged deployment after a restart', () => {
  it('does not adopt a staged deployment on another stream: cleans it up and blocks the release', async () => {
    const t = makeAgent({ booted: r1, staged: { release: r2, locked: true, stream: 'p11' }, target: r2 });
    await t.stepUntil('update_available');
    await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.ostree.state.calls.at(-1)).toBe('cleanupPending');
    expect(t.events()).toContain('update_blocked');
    expect(t.events()).not.toContain('update_staged');
    await t.agent.step();
    expect(t.graph.state.facts.at(-1)!.denylist.has(r2.payload)).toBe(true);
    expect(t.ostree.state.finalized).toBeNull();
  });

  it('does not adopt a staged deployment whose version differs from the graph: a stage failure, abandoned in the end, never finalized', async () => {
    const t = makeAgent({
      booted: r1,
      staged: { release: { ...r2, version: '20269999.0' }, locked: true },
      target: r2,
      settings: testSettings({ maxStageAttempts: 2 }),
    });
    await t.stepUntil('update_available');
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_available', failedAttempts: 1 });
    await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.events()).toContain('update_abandoned');
    expect(t.events()).not.toContain('update_staged');
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.metrics.calls.get('deployFailure')).toHaveLength(2);
  });

  it.each([
    ['no version metadata', { version: null }, 'version_mismatch'],
    ['an origin without a stream', { stream: null }, 'wrong_stream'],
  ] as const)('does not accept a staged deployment with %s: the agent and the client judge alike', (_what, over, verdict) => {
    const dep = (o: Partial<Deployment>): Deployment => ({
      id: 'x', osname: 'altcos', checksum: r2.payload, version: r2.version, origin: 'altcos:altcos/x86_64/sisyphus', stream: 'sisyphus',
      timestampMs: 0, serial: 0, booted: false, staged: false, finalizationLocked: false, pinned: false, ...o,
    });
    const booted = dep({ checksum: r1.payload, version: r1.version, booted: true });
    const staged = dep({ staged: true, finalizationLocked: true, ...over });
    const set: DeploymentSet = { deployments: [staged, booted], booted, staged, rollback: null };
    expect(confirmStaged(set, r2, booted)).toBe(verdict);
    expect(() => clientConfirmStaged(set, r2, true)).toThrow(expect.objectContaining({ code: 'OSTREE_STAGE_MISMATCH' }) as Error);
  });
});
