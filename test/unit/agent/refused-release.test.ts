// A release the backend refuses for its signature or content is abandoned at once: no retry every
// few minutes, counted by reason, logged at error priority, and the node stays on the booted release.
import { describe, expect, it } from 'vitest';
import { OstreeCommitRefusedError } from '../../../src/ostree/client/errors.js';
import { makeAgent } from './harness.js';
import { release, testSettings } from './fixtures.js';

const r1 = release(1);
const r2 = release(2);

describe('src/agent and a release refused by verification', () => {
  it('abandons it after the first refusal, counts the reason, logs an error, and never stages it again within abandon_secs', async () => {
    const t = makeAgent({ booted: r1, target: r2, settings: testSettings({ maxStageAttempts: 3 }) });
    t.ostree.state.stageFailures = 10;
    t.ostree.state.stageError = new OstreeCommitRefusedError('unknown_key', `deploy failed: commit ${r2.payload} refused by verification (unknown_key): public key not found`);
    await t.stepUntil('update_available');
    await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.metrics.calls.get('releaseRefused')).toEqual([['unknown_key']]);
    expect(t.metrics.calls.get('releaseAbandoned')).toHaveLength(1);
    const rec = t.logger.records.find((r) => r.fields.event === 'update_refused');
    expect(rec).toMatchObject({ level: 'error', fields: { release: r2.version, reason: 'unknown_key' } });
    // The next checks exclude it: no second stage call, nothing finalized.
    for (let i = 0; i < 5; i++) {
      t.clock.advance(3600_000);
      await t.agent.step();
    }
    expect(t.ostree.state.calls.filter((c) => c.startsWith('stage:'))).toHaveLength(1);
    expect(t.graph.state.facts.at(-1)!.denylist.has(r2.payload)).toBe(true);
    expect(t.ostree.state.finalized).toBeNull();
  });

  it('still retries an ordinary stage failure up to max_stage_attempts', async () => {
    const t = makeAgent({ booted: r1, target: r2, settings: testSettings({ maxStageAttempts: 3 }) });
    t.ostree.state.stageFailures = 1;
    await t.stepUntil('update_available');
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_available', failedAttempts: 1 });
    expect(t.metrics.calls.get('releaseRefused')).toBeUndefined();
  });
});
