// `alt_updated_update_agent_pending_update_since_timestamp` (the AltUpdatedNodeStuckOnOldRelease
// alert, packaging/prometheus/alt-updated.rules.yml): set once when the agent first holds a release
// it has not booted, kept while it stages and waits, cleared when the graph withdraws it.
import { describe, expect, it } from 'vitest';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import { makeAgent } from './harness.js';
import { release } from './fixtures.js';

const PENDING = /^alt_updated_update_agent_pending_update_since_timestamp (\S+)$/m;

describe('the pending-update metric of the agent loop', () => {
  it('is never set on a node with nothing to update to', async () => {
    const t = makeAgent({ booted: release(1), target: null });
    await t.stepUntil('no_new_update');
    await t.agent.step();
    expect(t.metrics.calls.get('updatePending')).toBeUndefined();
  });

  it('keeps the first time a release was offered through staging, and clears when it is withdrawn', async () => {
    const t = makeAgent({ booted: release(1), target: null });
    await t.stepUntil('no_new_update');
    t.clock.advance(300_000);
    t.graph.state.target = release(2);
    const offeredAt = t.clock.nowMs();
    await t.stepUntil('update_available');
    t.strategy.state.canFinalize = false;
    t.clock.advance(300_000);
    await t.stepUntil('update_staged');
    // A newer release published while the node waits does not restart the clock.
    t.graph.state.target = release(3);
    t.clock.advance(300_000);
    await t.agent.step();
    expect(t.metrics.calls.get('updatePending')).toEqual([[offeredAt]]);

    t.graph.state.target = null;
    const check = t.graph.port.check.bind(t.graph.port);
    t.graph.port.check = async (facts, signal) => ({ ...(await check(facts, signal)), offered: new Set() });
    t.clock.advance(300_000);
    await t.stepUntil('no_new_update');
    expect(t.metrics.calls.get('updatePending')).toEqual([[offeredAt], [null]]);
  });

  it('renders 0 until an update is pending, then its unix seconds, then 0 again', () => {
    const m = createAgentMetrics({ processStartMs: 0 });
    expect(PENDING.exec(m.render())?.[1]).toBe('0');
    m.updatePending(1_790_000_000_900);
    expect(PENDING.exec(m.render())?.[1]).toBe('1790000000');
    m.updatePending(null);
    expect(PENDING.exec(m.render())?.[1]).toBe('0');
  });
});
