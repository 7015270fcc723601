// Pure decisions of the tick handlers: every input is a fact gathered by the tick, every output a
// value the tick acts on. No I/O, no clock.
import type { Release } from '../graph/release.js';
import { deploymentPayload, stagedMismatch, type Deployment, type DeploymentSet } from '../ostree/deployment.js';
import type { AgentEvent } from './events.js';
import type { InteractiveSession } from './ports.js';
import { MAX_POSTPONEMENTS, type StateKind } from './state.js';

/**
 * Rollback protection, defence in depth over the graph adapter: a target equal to the booted or
 * any denylisted deployment is never chosen.
 */
export function acceptTarget(target: Release | null, booted: Deployment, denylist: ReadonlySet<string>): Release | null {
  if (target === null) return null;
  if (target.payload === deploymentPayload(booted) || denylist.has(target.payload)) return null;
  return target;
}

/** Every non-staged deployment (booted, rollback, other finalized ones) is never an update target. */
export function initialDenylist(set: DeploymentSet): string[] {
  return set.deployments.filter((d) => !d.staged).map(deploymentPayload);
}

/** True when the graph's `target` should replace the staged `release` (coreos/zincati#928). */
export function replacesStaged(target: Release | null, staged: Release): target is Release {
  return target !== null && target.payload !== staged.payload && target.ageIndex > staged.ageIndex;
}

/** What the backend shows for a release we want staged. */
export type StagedCheck = 'adoptable' | 'other_staged' | 'none';

/** Whether the staged deployment is `release` with finalization locked (adopt it, no re-stage). */
export function checkStaged(set: DeploymentSet, release: Release): StagedCheck {
  const s = set.staged;
  if (s === null) return 'none';
  if (deploymentPayload(s) === release.payload && s.finalizationLocked) return 'adoptable';
  return 'other_staged';
}

/** Result of confirming a stage call against the backend's deployments. */
export type StageConfirmation = 'ok' | 'missing' | 'version_mismatch' | 'wrong_stream';

/**
 * Confirms the pending deployment is `release`, on the booted stream (Zincati's checks, through the
 * one `stagedMismatch` the rpm-ostree client uses too), whether freshly staged or adopted.
 */
export function confirmStaged(set: DeploymentSet, release: Release, booted: Deployment): StageConfirmation {
  switch (stagedMismatch(set, release, booted)) {
    case null:
      return 'ok';
    case 'missing':
    case 'checksum':
      return 'missing';
    case 'version':
      return 'version_mismatch';
    case 'stream':
      return 'wrong_stream';
  }
}

/** What to do about logged-in users once the strategy allowed finalization. */
export type SessionDecision = 'finalize' | 'postpone' | 'finalize_grace_over';

/** Zincati's grace period: postpone while interactive sessions exist, up to `MAX_POSTPONEMENTS` times. */
export function decideSessions(facts: {
  sessions: readonly InteractiveSession[];
  overrideActive: boolean;
  postponementsLeft: number;
}): SessionDecision {
  if (facts.overrideActive || facts.sessions.length === 0) return 'finalize';
  return facts.postponementsLeft > 0 ? 'postpone' : 'finalize_grace_over';
}

/** Renders a duration like `10 minutes` or `1 minute`. */
export function humanMinutes(minutes: number): string {
  return minutes === 1 ? '1 minute' : `${minutes} minutes`;
}

/**
 * The tty warning for a postponement, written on the first and the last one only (as Zincati);
 * null for the postponements in between.
 */
export function postponementWarning(release: Release, postponementsLeft: number, postponeSecs: number): string | null {
  if (postponementsLeft !== MAX_POSTPONEMENTS && postponementsLeft !== 1) return null;
  const left = humanMinutes(Math.round((postponementsLeft * postponeSecs) / 60));
  return (
    `New update ${release.version} is available and has been deployed.\n` +
    'If permitted by the update strategy, alt-updated will reboot into this update when all ' +
    `interactive users have logged out, or in ${left}, whichever comes earlier. ` +
    'Please log out of all active sessions in order to let the auto-update process continue.'
  );
}

/** Whether the staged deployment is `release` already unlocked: finalized, pending a reboot. */
export function finalizedPendingReboot(staged: Deployment, release: Release): boolean {
  return deploymentPayload(staged) === release.payload && !staged.finalizationLocked;
}

/**
 * True when a graph that knows the booted release no longer offers `staged` as an allowed target
 * from it (pulled, edge removed, denylisted). `offered` null or absent: nothing is known, keep it.
 */
export function stagedWithdrawn(offered: ReadonlySet<string> | null | undefined, staged: Release): boolean {
  return offered !== null && offered !== undefined && !offered.has(staged.payload);
}

/** What to do about block inhibitors; `inhibitors` null means logind could not be asked. */
export type InhibitorDecision = 'proceed' | 'blocked' | 'query_failed' | 'proceed_unchecked';

/**
 * Known block inhibitors always block. An unanswered query blocks ("never reboot on doubt") unless
 * an operator's "update now" serves this tick: the one escape that works with logind broken.
 */
export function decideInhibitors(facts: { inhibitors: readonly string[] | null; updateNow: boolean }): InhibitorDecision {
  if (facts.inhibitors === null) return facts.updateNow ? 'proceed_unchecked' : 'query_failed';
  return facts.inhibitors.length > 0 ? 'blocked' : 'proceed';
}

/**
 * Why the tick that served "update now" did not finalize, or null when it did (or when an earlier
 * tick already had: the request arrived while the finalizing tick ran): the tick's own reason when
 * it gave one, else the event it ended with.
 */
export function updateNowRefusal(from: StateKind, event: AgentEvent['type'] | null, because: string | null): string | null {
  if (event === 'update_finalized' || from === 'update_finalized' || from === 'end') return null;
  if (because !== null) return because;
  return event === null ? 'the tick failed unexpectedly (see the agent log)' : `the tick ended with '${event}'`;
}
