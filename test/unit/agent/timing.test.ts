import { describe, expect, it } from 'vitest';
import type { AgentState } from '../../../src/agent/state.js';
import { nextDelayMs, ticksImmediately, withJitterSecs } from '../../../src/agent/timing.js';
import { release } from './fixtures.js';
import { seededRandom } from './harness.js';

const r = release(3);
const S = {
  start0: { kind: 'start', initFailures: 0 },
  initialized: { kind: 'initialized' },
  rs: { kind: 'reported_steady' },
  nnu: { kind: 'no_new_update', checkedAtMs: 0 },
  ua: { kind: 'update_available', release: r, failedAttempts: 1, stagedLosses: 0 },
  usDenied: { kind: 'update_staged', release: r, postponementsLeft: 10, waiting: 'strategy', stagedLosses: 0 },
  usPostponed: { kind: 'update_staged', release: r, postponementsLeft: 7, waiting: 'active_sessions', stagedLosses: 0 },
  usInhibited: { kind: 'update_staged', release: r, postponementsLeft: 10, waiting: 'block_inhibitor', stagedLosses: 0 },
  uf: { kind: 'update_finalized', release: r },
  end: { kind: 'end', release: null },
} satisfies Record<string, AgentState>;

const NOW = Date.UTC(2026, 2, 29, 0, 0, 0);
const fixed = (v: number) => () => v;
const inputs = (random: () => number, over: { strategyChangeMs?: number | null; steady?: number } = {}) => ({
  steadyIntervalSecs: over.steady ?? 300,
  random,
  nowMs: NOW,
  strategyChangeMs: over.strategyChangeMs ?? null,
});

describe('src/agent/timing', () => {
  it.each([
    ['start', 'initialized', S.start0, S.initialized, true],
    ['initialized', 'reported_steady', S.initialized, S.rs, true],
    ['reported_steady', 'no_new_update (the one exception)', S.rs, S.nnu, false],
    ['no_new_update', 'update_available', S.nnu, S.ua, true],
    ['update_available', 'update_staged', S.ua, S.usDenied, true],
    ['update_staged', 'update_finalized', S.usDenied, S.uf, true],
    ['update_finalized', 'end', S.uf, S.end, true],
    ['no_new_update', 'no_new_update', S.nnu, S.nnu, false],
    ['update_staged', 'update_staged with another payload', S.usDenied, S.usPostponed, false],
  ] as const)('%s -> %s ticks immediately: %s', (_a, _b, prev, cur, immediate) => {
    expect(ticksImmediately(prev, cur)).toBe(immediate);
    if (immediate) expect(nextDelayMs(prev, cur, inputs(fixed(0.99)))).toBe(0);
  });

  it.each([
    [300, 0, 300],
    [300, 0.999, 330],
    [300, 0.5, 315],
    [10_800, 0, 10_800],
    [10_800, 0.999, 11_880],
    [50, 0.999, 60], // max(delay/100, 1) = 1 s per step
    [1, 0.999, 11],
    [35, 0.5, 40],
  ])('jitter of %i s with random %f gives %i s', (delay, rnd, expected) => {
    expect(withJitterSecs(delay, fixed(rnd))).toBe(expected);
  });

  it('keeps jitter within 0..10 % in whole 1 % steps for many seeded draws', () => {
    const random = seededRandom(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = withJitterSecs(300, random);
      expect(v).toBeGreaterThanOrEqual(300);
      expect(v).toBeLessThanOrEqual(330);
      expect((v - 300) % 3).toBe(0);
      seen.add(v);
    }
    expect(seen.size).toBe(11);
  });

  it.each([
    ['reported_steady (check failed)', S.rs, S.rs, 300, 330],
    ['no_new_update', S.nnu, S.nnu, 300, 330],
    ['update_staged denied by the strategy', S.usDenied, S.usDenied, 300, 330],
    ['update_staged postponing for users (no jitter)', S.usDenied, S.usPostponed, 60, 60],
    ['update_staged blocked by an inhibitor (no jitter)', S.usInhibited, S.usInhibited, 60, 60],
    ['update_available retry', S.ua, S.ua, 300, 330],
    ['initialized retry', S.initialized, S.initialized, 300, 330],
    ['end', S.end, S.end, 10_800, 11_880],
  ] as const)('%s waits %i..%i s', (_n, prev, cur, lo, hi) => {
    expect(nextDelayMs(prev, cur, inputs(fixed(0)))).toBe(lo * 1000);
    expect(nextDelayMs(prev, cur, inputs(fixed(0.9999)))).toBe(hi * 1000);
  });

  it('uses the configured steady interval in the polling states only', () => {
    expect(nextDelayMs(S.rs, S.nnu, inputs(fixed(0), { steady: 35 }))).toBe(35_000);
    expect(nextDelayMs(S.nnu, S.nnu, inputs(fixed(0), { steady: 3600 }))).toBe(3_600_000);
    expect(nextDelayMs(S.usDenied, S.usDenied, inputs(fixed(0), { steady: 35 }))).toBe(300_000);
  });

  it('retries a held-back staged update at agent.timing.staged_interval_secs when configured', () => {
    expect(nextDelayMs(S.usDenied, S.usDenied, { ...inputs(fixed(0)), stagedIntervalSecs: 20 })).toBe(20_000);
    expect(nextDelayMs(S.usDenied, S.usPostponed, { ...inputs(fixed(0)), stagedIntervalSecs: 20 })).toBe(60_000);
  });

  it('waits for users and inhibitors at agent.timing.postponement_interval_secs when configured, without jitter', () => {
    expect(nextDelayMs(S.usDenied, S.usPostponed, { ...inputs(seededRandom(7)), postponementSecs: 5 })).toBe(5_000);
    expect(nextDelayMs(S.usDenied, S.usDenied, { ...inputs(fixed(0)), postponementSecs: 5 })).toBe(300_000);
  });

  it.each([
    [1, 1],
    [2, 2],
    [3, 4],
    [9, 256],
    [20, 256],
  ])('retries start-up after failure %i in %i s', (failures, secs) => {
    const s: AgentState = { kind: 'start', initFailures: failures };
    expect(nextDelayMs(s, s, inputs(fixed(0.5)))).toBe(secs * 1000);
  });

  it('ticks at a window start that comes before the next regular tick', () => {
    const inTwoMinutes = NOW + 120_000;
    expect(nextDelayMs(S.usDenied, S.usDenied, inputs(fixed(0), { strategyChangeMs: inTwoMinutes }))).toBe(120_000);
  });

  it('ignores a window start after the next regular tick, in the past, or outside update_staged', () => {
    expect(nextDelayMs(S.usDenied, S.usDenied, inputs(fixed(0), { strategyChangeMs: NOW + 3_600_000 }))).toBe(300_000);
    expect(nextDelayMs(S.usDenied, S.usDenied, inputs(fixed(0), { strategyChangeMs: NOW - 1 }))).toBe(300_000);
    expect(nextDelayMs(S.nnu, S.nnu, inputs(fixed(0), { strategyChangeMs: NOW + 1000 }))).toBe(300_000);
  });
});
