// When the next tick runs: a pure function of (previous state, current state) plus injected
// randomness and the strategy's next self-change instant. Zincati's refresh_delay, plus the window fix.
import type { AgentState } from './state.js';

/** Default interval for every state that is not steady polling, in seconds (Zincati: 300). */
export const DEFAULT_REFRESH_SECS = 300;
/** Default tick interval while waiting for users or a block inhibitor, in seconds, no jitter (Zincati: 60). */
export const POSTPONEMENT_SECS = 60;
/** Tick interval once the agent reached its end state, in seconds (Zincati: 3 h). */
export const END_STATE_SECS = 10_800;
/** Cap of the start-up retry backoff (driver registration, first status), in seconds (Zincati: 256). */
export const INIT_BACKOFF_CAP_SECS = 256;

/** Cap of the re-stage backoff after repeated losses of the staged deployment, in seconds (3 h). */
export const RESTAGE_BACKOFF_CAP_SECS = END_STATE_SECS;

/**
 * Delay before staging a release again whose staged deployment vanished `losses` times in a row,
 * in seconds before jitter: none the first time (a one-off cleanup), then 300, 600, 1200 ... s up to
 * {@link RESTAGE_BACKOFF_CAP_SECS}, so a tool that keeps removing it never meets a tight stage loop.
 */
export function restageBackoffSecs(losses: number): number {
  if (losses <= 1) return 0;
  return Math.min(DEFAULT_REFRESH_SECS * 2 ** Math.min(losses - 2, 16), RESTAGE_BACKOFF_CAP_SECS);
}

/** Inputs of the delay computation besides the two states. */
export interface TimingInputs {
  /** `agent.timing.steady_interval_secs`. */
  readonly steadyIntervalSecs: number;
  /** `agent.timing.staged_interval_secs`: retry interval while staged and held back. @default 300 */
  readonly stagedIntervalSecs?: number;
  /** `agent.timing.postponement_interval_secs`: interval while users or an inhibitor hold the reboot. @default 60 */
  readonly postponementSecs?: number;
  /** Uniform random number in [0, 1). */
  readonly random: () => number;
  /** Now, in ms since the epoch. */
  readonly nowMs: number;
  /**
   * The next instant at which the strategy's answer may change by itself (a window opening or, for
   * fleet_lock with windows, closing), or null.
   */
  readonly strategyChangeMs: number | null;
}

/**
 * Zincati's jitter: `delay + max(delay / 100, 1) * R` with R a uniform integer in 0..10, so 0-10 %
 * in 1 % steps with at least 1 s per step.
 */
export function withJitterSecs(delaySecs: number, random: () => number): number {
  const r = Math.min(10, Math.floor(random() * 11));
  return delaySecs + Math.max(Math.floor(delaySecs / 100), 1) * r;
}

/** True when the move from `prev` to `cur` ticks again at once (any kind change but RS -> NNU). */
export function ticksImmediately(prev: AgentState, cur: AgentState): boolean {
  if (prev.kind === cur.kind) return false;
  return !(prev.kind === 'reported_steady' && cur.kind === 'no_new_update');
}

/** Delay before the next tick, in ms. */
export function nextDelayMs(prev: AgentState, cur: AgentState, inputs: TimingInputs): number {
  if (prev.kind === 'update_staged' && cur.kind === 'update_available') {
    const backoff = restageBackoffSecs(cur.stagedLosses);
    if (backoff > 0) return withJitterSecs(backoff, inputs.random) * 1000;
  }
  if (ticksImmediately(prev, cur)) return 0;
  const base = baseDelaySecs(cur, inputs) * 1000;
  // Never sleep through a window opening (a window shorter than the interval would be missed) nor,
  // while a slot is held, through its closing: wake exactly at that instant.
  if (cur.kind === 'update_staged' && inputs.strategyChangeMs !== null) {
    const until = inputs.strategyChangeMs - inputs.nowMs;
    if (until > 0 && until < base) return until;
  }
  return base;
}

function baseDelaySecs(cur: AgentState, inputs: TimingInputs): number {
  switch (cur.kind) {
    case 'start':
      // Retry start-up failures with exponential backoff 1, 2, 4 ... 256 s.
      return Math.min(2 ** Math.max(0, cur.initFailures - 1), INIT_BACKOFF_CAP_SECS);
    case 'reported_steady':
    case 'no_new_update':
      return withJitterSecs(inputs.steadyIntervalSecs, inputs.random);
    case 'update_staged':
      if (cur.waiting === 'active_sessions' || cur.waiting === 'block_inhibitor') return inputs.postponementSecs ?? POSTPONEMENT_SECS;
      return withJitterSecs(inputs.stagedIntervalSecs ?? DEFAULT_REFRESH_SECS, inputs.random);
    case 'end':
      return withJitterSecs(END_STATE_SECS, inputs.random);
    case 'initialized':
    case 'update_available':
    case 'update_finalized':
      return withJitterSecs(DEFAULT_REFRESH_SECS, inputs.random);
  }
}
