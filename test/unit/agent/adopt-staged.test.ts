// After a restart the agent finds the graph target already staged (finalization locked) and adopts
// it instead of staging again; the adopted deployment gets the same confirmation (payload, version,
// booted stream) as a freshly staged one.
import { describe, expect, it } from 'vitest';
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
});
