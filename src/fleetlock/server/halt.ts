// Pure halt-policy decisions over one group's state: record a node's verdict, decide whether the
// group halts, resume it. Like the semaphore, these run inside the store's compare-and-swap loop,
// so they are deterministic functions of (state, request, policy, now). The policy's time span is
// measured on the wall clock from each failure's first report: unlike stale expiry, a clock step
// here only widens or narrows a window of hours, it cannot grant a slot twice.
import type { Verdict } from '../protocol.js';
import type { Failure, GroupState, Mutation } from './semaphore.js';

/** A group's halt policy (`halt_after_failures`, `halt_window_secs`). */
export interface HaltPolicy {
  /** Halt once this many failed or rolled-back updates fall within the window; null = never halt. */
  readonly afterFailures: number | null;
  /** The time span failures are counted over, in ms. */
  readonly windowMs: number;
}

/** The default time span: one day. */
export const DEFAULT_HALT_WINDOW_MS = 86_400_000;

/** The policy of a group without `halt_after_failures`: failures are recorded and shown, never halt. */
export const NEVER_HALT: HaltPolicy = Object.freeze({ afterFailures: null, windowMs: DEFAULT_HALT_WINDOW_MS });

/** Most failures kept per group (newest win); far above any sensible K. */
export const MAX_FAILURES = 100;

/** What recording a verdict decided. */
export interface VerdictOutcome {
  /** The group is halted after this verdict. */
  readonly halted: boolean;
  /** This verdict halted it. */
  readonly haltedNow: boolean;
  /** Failures within the window after this verdict. */
  readonly failures: number;
}

/** The failures that count at `nowMs`: reported within the window (a failure stamped in the future by a skewed clock counts). */
export function failuresInWindow(failures: readonly Failure[], windowMs: number, nowMs: number): Failure[] {
  return failures.filter((f) => nowMs - f.atMs <= windowMs);
}

/** Whether a group that is not halted must halt now, given its recorded failures. */
export function shouldHalt(failures: readonly Failure[], policy: HaltPolicy, nowMs: number): boolean {
  return policy.afterFailures !== null && failuresInWindow(failures, policy.windowMs, nowMs).length >= policy.afterFailures;
}

function haltReason(count: number, policy: HaltPolicy, last: Failure): string {
  const cause = last.reason === null ? '' : `: ${last.reason}`;
  const verb = last.result === 'rolled_back' ? 'rolled back' : 'failed';
  return `${count} failed or rolled-back update(s) within ${Math.round(policy.windowMs / 1000)} s (limit ${policy.afterFailures}); last: '${last.id}' ${verb} on ${last.release}${cause}`;
}

/**
 * Records node `id`'s verdict. A failure (`failed` or `rolled_back`) is counted once per node and
 * release, whatever the number of reports (a later report updates its result and reason, not its
 * time); failures outside the window are dropped. A `healthy` verdict withdraws that node's failure
 * for the same release (it retried and came up healthy) but never lifts a halt: only an operator does.
 */
export function recordVerdict(state: GroupState, id: string, verdict: Verdict, policy: HaltPolicy, nowMs: number): Mutation<VerdictOutcome> {
  const halted = state.halt !== undefined;
  const before = state.failures ?? [];
  const same = (f: Failure): boolean => f.id === id && f.release === verdict.release;
  if (verdict.result === 'healthy') {
    const rest = before.filter((f) => !same(f));
    const result = { halted, haltedNow: false, failures: failuresInWindow(rest, policy.windowMs, nowMs).length };
    return { next: rest.length === before.length ? null : { ...state, failures: rest }, result };
  }
  const prior = before.find(same);
  const entry: Failure = { id, release: verdict.release, result: verdict.result, reason: verdict.reason, atMs: prior?.atMs ?? nowMs };
  const failures = failuresInWindow([...before.filter((f) => !same(f)), entry], policy.windowMs, nowMs)
    .sort((a, b) => a.atMs - b.atMs)
    .slice(-MAX_FAILURES);
  const haltNow = !halted && shouldHalt(failures, policy, nowMs);
  const next: GroupState = haltNow
    ? { ...state, failures, halt: { sinceMs: nowMs, reason: haltReason(failures.length, policy, entry) } }
    : { ...state, failures };
  return { next, result: { halted: halted || haltNow, haltedNow: haltNow, failures: failures.length } };
}

/** Lifts a halt and forgets the failures counted so far, so the policy starts afresh; holders are kept. */
export function resumeGroup(state: GroupState): Mutation<{ readonly resumed: boolean }> {
  const resumed = state.halt !== undefined;
  const changed = resumed || (state.failures ?? []).length > 0;
  return { next: changed ? { holders: state.holders } : null, result: { resumed } };
}
