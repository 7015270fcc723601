// The staged deployment vanished behind the agent's back (a cleanup by someone else, a backend that
// lost it): the agent stages the release again, at once the first time, then with a backoff while the
// losses repeat, so a fight with another tool never becomes a tight stage/lose loop.
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../../src/agent/events.js';
import type { AgentState } from '../../../src/agent/state.js';
import { nextDelayMs } from '../../../src/agent/timing.js';
import { transition } from '../../../src/agent/transition.js';
import { release } from './fixtures.js';

const r = release(3);
const inputs = (random = (): number => 0) => ({ steadyIntervalSecs: 300, random, nowMs: 0, strategyChangeMs: null });
const LOST: AgentEvent = { type: 'staged_deployment_lost' };
const STAGED: AgentEvent = { type: 'update_staged' };

/** One loss: the state after it and the delay (s) before the re-stage tick. */
function lose(staged: AgentState, random?: () => number): { available: AgentState; delaySecs: number } {
  const available = transition(staged, LOST);
  return { available, delaySecs: nextDelayMs(staged, available, inputs(random)) / 1000 };
}

/** Stages `r` fresh from the graph (update_found, update_staged). */
function freshStaged(): AgentState {
  return transition(transition({ kind: 'no_new_update', checkedAtMs: 0 }, { type: 'update_found', release: r }), STAGED);
}

describe('src/agent re-staging after the staged deployment was lost', () => {
  it('stages again at once after the first loss, then backs off 300, 600, 1200 s ... up to 3 h', () => {
    let staged = freshStaged();
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const { available, delaySecs } = lose(staged);
      expect(available).toMatchObject({ kind: 'update_available', release: r, failedAttempts: 0 });
      delays.push(delaySecs);
      staged = transition(available, STAGED);
    }
    expect(delays).toEqual([0, 300, 600, 1200, 2400, 4800, 9600, 10_800, 10_800]);
  });

  it('adds the usual jitter to the backoff', () => {
    const { available } = lose(freshStaged());
    expect(lose(transition(available, STAGED), () => 0.999).delaySecs).toBe(330);
  });

  it.each([
    ['the strategy said no', { type: 'finalization_denied' }],
    ['users were logged in', { type: 'reboot_postponed' }],
    ['a block inhibitor held it back', { type: 'finalization_blocked', reason: 'block_inhibitor' }],
    ['finalizing failed', { type: 'finalization_blocked', reason: 'finalize_failed' }],
  ] as const)('starts over once the staged deployment survived a tick (%s)', (_why, survived) => {
    let staged = freshStaged();
    staged = transition(lose(staged).available, STAGED);
    expect(lose(staged).delaySecs).toBe(300);
    staged = transition(staged, survived);
    expect(lose(staged).delaySecs).toBe(0);
  });

  it('keeps backing off when the tick could not see the deployments at all', () => {
    let staged = freshStaged();
    staged = transition(lose(staged).available, STAGED);
    staged = transition(staged, { type: 'finalization_blocked', reason: 'backend_unavailable' });
    expect(lose(staged).delaySecs).toBe(300);
  });

  it('starts over for a newer release', () => {
    let staged = freshStaged();
    staged = transition(lose(staged).available, STAGED);
    const newer = transition(staged, { type: 'newer_update_found', release: release(4) });
    expect(lose(transition(newer, STAGED)).delaySecs).toBe(0);
  });
});
