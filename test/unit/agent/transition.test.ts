import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { AgentEvent, EventType } from '../../../src/agent/events.js';
import { STATE_KINDS, type AgentState, type StateKind } from '../../../src/agent/state.js';
import { ALLOWED_EDGES, IllegalTransitionError, transition } from '../../../src/agent/transition.js';
import { release } from './fixtures.js';

const r1 = release(1);
const r2 = release(2);

const SAMPLE_STATES: Record<StateKind, AgentState> = {
  start: { kind: 'start', initFailures: 0 },
  initialized: { kind: 'initialized' },
  reported_steady: { kind: 'reported_steady' },
  no_new_update: { kind: 'no_new_update', checkedAtMs: 1 },
  update_available: { kind: 'update_available', release: r1, failedAttempts: 3, stagedLosses: 0 },
  update_staged: { kind: 'update_staged', release: r1, postponementsLeft: 4, waiting: 'active_sessions', stagedLosses: 0 },
  update_finalized: { kind: 'update_finalized', release: r1 },
  end: { kind: 'end', release: r1 },
};

const SAMPLE_EVENTS: Record<EventType, AgentEvent> = {
  init_failed: { type: 'init_failed' },
  initialized: { type: 'initialized' },
  steady_report_failed: { type: 'steady_report_failed' },
  steady_reported: { type: 'steady_reported' },
  update_check_failed: { type: 'update_check_failed' },
  no_update: { type: 'no_update', checkedAtMs: 5 },
  update_found: { type: 'update_found', release: r2 },
  stage_failed: { type: 'stage_failed' },
  update_abandoned: { type: 'update_abandoned', checkedAtMs: 6 },
  update_staged: { type: 'update_staged' },
  newer_update_found: { type: 'newer_update_found', release: r2 },
  staged_deployment_lost: { type: 'staged_deployment_lost' },
  staged_withdrawn: { type: 'staged_withdrawn', checkedAtMs: 7 },
  finalization_denied: { type: 'finalization_denied' },
  finalization_blocked: { type: 'finalization_blocked', reason: 'block_inhibitor' },
  reboot_postponed: { type: 'reboot_postponed' },
  update_finalized: { type: 'update_finalized' },
  end: { type: 'end' },
  idle: { type: 'idle' },
};

describe('src/agent/transition', () => {
  const cases = STATE_KINDS.flatMap((from) =>
    (Object.keys(SAMPLE_EVENTS) as EventType[]).map((event) => {
      const edge = ALLOWED_EDGES.find((e) => e.from === from && e.event === event);
      return { from, event, to: edge?.to ?? null };
    }),
  );

  it.each(cases.filter((c) => c.to !== null))('allows $from --$event--> $to', ({ from, event, to }) => {
    expect(transition(SAMPLE_STATES[from], SAMPLE_EVENTS[event]).kind).toBe(to);
  });

  it.each(cases.filter((c) => c.to === null))('rejects $event in $from with IllegalTransitionError', ({ from, event }) => {
    const run = (): AgentState => transition(SAMPLE_STATES[from], SAMPLE_EVENTS[event]);
    expect(run).toThrow(IllegalTransitionError);
    try {
      run();
    } catch (err) {
      expect(err).toMatchObject({ code: 'AGENT_ILLEGAL_TRANSITION', from, event });
    }
  });

  it('lists every (from, event) pair at most once', () => {
    const keys = ALLOWED_EDGES.map((e) => `${e.from}/${e.event}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('counts failed stage attempts and starts a fresh counter for a new release', () => {
    expect(transition(SAMPLE_STATES.update_available, SAMPLE_EVENTS.stage_failed)).toMatchObject({ failedAttempts: 4, release: r1 });
    expect(transition(SAMPLE_STATES.no_new_update, SAMPLE_EVENTS.update_found)).toEqual({ kind: 'update_available', release: r2, failedAttempts: 0, stagedLosses: 0 });
  });

  it('resets postponements when the strategy denies and decrements them on a postponement', () => {
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.finalization_denied)).toMatchObject({ postponementsLeft: 10, waiting: 'strategy' });
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.reboot_postponed)).toMatchObject({ postponementsLeft: 3, waiting: 'active_sessions' });
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.finalization_blocked)).toMatchObject({ postponementsLeft: 4, waiting: 'block_inhibitor' });
  });

  it('replaces the staged release with a newer one (issue-928)', () => {
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.newer_update_found)).toEqual({ kind: 'update_available', release: r2, failedAttempts: 0, stagedLosses: 0 });
  });

  it('stages the same release again when its deployment was lost', () => {
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.staged_deployment_lost)).toEqual({ kind: 'update_available', release: r1, failedAttempts: 0, stagedLosses: 1 });
  });

  it('goes back to polling when the graph withdrew the staged release', () => {
    expect(transition(SAMPLE_STATES.update_staged, SAMPLE_EVENTS.staged_withdrawn)).toEqual({ kind: 'no_new_update', checkedAtMs: 7 });
  });

  it('counts start-up failures for the backoff', () => {
    expect(transition({ kind: 'start', initFailures: 2 }, SAMPLE_EVENTS.init_failed)).toEqual({ kind: 'start', initFailures: 3 });
  });

  it('docs/development/agent-states.dot lists exactly the allowed edges', () => {
    const dot = readFileSync(new URL('../../../docs/development/agent-states.dot', import.meta.url), 'utf8');
    const edges = [...dot.matchAll(/^\s*(\w+)\s*->\s*(\w+)\s*\[label="(\w+)"\]/gm)].map((m) => `${m[1]} -${m[3]}-> ${m[2]}`);
    const table = ALLOWED_EDGES.map((e) => `${e.from} -${e.event}-> ${e.to}`);
    expect(edges.sort()).toEqual([...table].sort());
  });
});

describe('docs/usage/logging.md', () => {
  it('documents every lifecycle event the agent core and strategies log', async () => {
    const { readdirSync } = await import('node:fs');
    const doc = readFileSync(new URL('../../../docs/usage/logging.md', import.meta.url), 'utf8');
    const files = [
      ...readdirSync(new URL('../../../src/agent/', import.meta.url)).filter((f) => f.endsWith('.ts')).map((f) => `../../../src/agent/${f}`),
      '../../../src/strategies/fleet-lock.ts',
    ];
    const events = new Set<string>();
    for (const f of files) {
      for (const m of readFileSync(new URL(f, import.meta.url), 'utf8').matchAll(/\{ event: '([a-z_]+)'/g)) events.add(m[1]!);
    }
    expect(events.size).toBeGreaterThan(30);
    const missing = [...events].filter((e) => !doc.includes(`| \`${e}\` |`));
    expect(missing).toEqual([]);
  });
});
