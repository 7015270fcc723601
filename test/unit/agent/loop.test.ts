import { describe, expect, it } from 'vitest';
import { makeAgent } from './harness.js';
import { release } from './fixtures.js';

const flush = async (n = 20): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('src/agent/loop', () => {
  it('sleeps through the clock between ticks, checks on request, and stops on abort', async () => {
    const t = makeAgent({ target: null });
    const ac = new AbortController();
    const running = t.agent.run(ac.signal);
    await flush();
    expect(t.agent.state.kind).toBe('no_new_update');
    const checks = t.graph.state.facts.length;
    expect(checks).toBe(1);

    // Nothing happens until the steady interval elapses.
    t.clock.advance(299_000);
    await flush();
    expect(t.graph.state.facts.length).toBe(1);
    t.clock.advance(31_000 + 1000);
    await flush();
    expect(t.graph.state.facts.length).toBe(2);

    // "check now" wakes the sleeping loop and resolves after that tick.
    t.graph.state.target = release(5);
    await t.agent.checkNow();
    expect(t.graph.state.facts.length).toBe(3);
    await flush();
    expect(t.agent.state.kind).not.toBe('no_new_update');

    ac.abort();
    await running;
    expect(t.notifier.sent.slice(-2)).toEqual(['STATUS=', 'STOPPING=1']);
    await expect(t.agent.checkNow()).rejects.toMatchObject({ code: 'AGENT_STOPPED' });
  });

  it('runs a check requested during a tick right after it, without sleeping', async () => {
    const t = makeAgent();
    await t.stepUntil('no_new_update');
    const ac = new AbortController();
    const requested = t.agent.checkNow(); // before the loop sleeps: must not wait 300 s
    const running = t.agent.run(ac.signal);
    await requested;
    await flush();
    expect(t.graph.state.facts.length).toBe(3);
    ac.abort();
    await running;
  });
});
