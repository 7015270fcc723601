// The verdict on one boot, as a pure function of facts: the trial record, the booted and default
// deployments, the rollback target and the checks' result (docs/usage/health-checks.md has the table).
import { sameDeployment, type DeploymentRef, type HealthRecord, type Trial } from './record.js';

/** What the health run knows when it decides. */
export interface BootFacts {
  /** The update on trial, or null. */
  readonly trial: Trial | null;
  /** This boot's id. */
  readonly bootId: string;
  /** The booted deployment. */
  readonly booted: DeploymentRef;
  /** The deployment the boot loader boots by default (first non-staged one), or null. */
  readonly defaultDeployment: DeploymentRef | null;
  /** The deployment `Rollback` would make the default (the one after the booted one), or null. */
  readonly rollbackTarget: DeploymentRef | null;
  /** True when every required check passed. */
  readonly healthy: boolean;
  /** Summary of the failed required checks (empty when healthy). */
  readonly failedSummary: string;
  /** True when the trial's release was already rolled back once (at most one automatic rollback). */
  readonly rolledBackBefore: boolean;
}

/** The decided action; the shell records it first, then performs it. */
export type BootAction =
  /** Nothing on trial and the checks passed. */
  | { readonly kind: 'healthy' }
  /** Nothing to judge yet: the trial was armed in this very boot. */
  | { readonly kind: 'wait_reboot' }
  /** The trial's deployment booted and passed: disarm, report healthy. */
  | { readonly kind: 'disarm_healthy' }
  /** The trial was armed but its deployment never became the default (finalize did not happen). */
  | { readonly kind: 'disarm_stale'; readonly reason: string }
  /** Red, budget left: reboot into the same deployment once more. */
  | { readonly kind: 'reboot_retry'; readonly attempt: number; readonly maxAttempts: number; readonly reason: string }
  /** Red, budget spent: roll back to `to` and reboot. */
  | { readonly kind: 'rollback'; readonly to: DeploymentRef; readonly reason: string }
  /** The rollback was done in an earlier run but the reboot did not happen: reboot only. */
  | { readonly kind: 'reboot_after_rollback' }
  /** The node booted the rollback target: the release failed; `healthy` is this boot's result. */
  | { readonly kind: 'rolled_back'; readonly healthy: boolean }
  /** Booted another deployment than the trial's (boot loader or person fell back): make it permanent. */
  | { readonly kind: 'accept_fallback'; readonly reason: string; readonly healthy: boolean }
  /** Terminal: red and nothing automatic is left to do. */
  | { readonly kind: 'manual_intervention'; readonly reason: string };

const short = (d: DeploymentRef): string => `${d.payload.slice(0, 12)}.${d.serial}`;

/**
 * Whether `d` is what the requested rollback made the default. A backend without an exact reorder
 * (alt-ostreed without python3-gi's OSTree: Debian's ostree 2022.7 has no `admin set-default`)
 * re-deploys the target commit under a new serial, so the previous release's commit counts too,
 * unless it is the trial's own commit (a re-deploy of one commit is told apart by serial only).
 */
function isRollbackTarget(d: DeploymentRef | null, t: Trial): boolean {
  const to = t.rollbackTo;
  if (d === null || to === null) return false;
  return sameDeployment(d, to) || (d.payload === to.payload && d.payload !== t.expected.payload);
}

/** Counts this boot as an attempt of the trial when it booted the expected deployment in a new boot. */
export function countAttempt(trial: Trial, bootId: string, booted: DeploymentRef): Trial {
  if (!sameDeployment(trial.expected, booted) || bootId === trial.armedBootId || bootId === trial.lastBootId) return trial;
  return { ...trial, attempts: trial.attempts + 1, lastBootId: bootId };
}

/** The verdict on this boot (`trial` already passed through {@link countAttempt}). */
export function decideBoot(f: BootFacts): BootAction {
  const t = f.trial;
  if (t === null) {
    return f.healthy ? { kind: 'healthy' } : { kind: 'manual_intervention', reason: `boot is unhealthy and no update is on trial: ${f.failedSummary}` };
  }
  if (t.phase === 'armed' && f.bootId === t.armedBootId) return { kind: 'wait_reboot' };
  const onExpected = sameDeployment(f.booted, t.expected);

  if (t.phase === 'rollback_requested') {
    if (isRollbackTarget(f.booted, t)) return { kind: 'rolled_back', healthy: f.healthy };
    if (onExpected) {
      if (isRollbackTarget(f.defaultDeployment, t)) return { kind: 'reboot_after_rollback' };
      // Requested in this boot and not done: the first Rollback may still be running in the backend;
      // a second one would swap the deployments back (no double rollback).
      if (f.bootId === t.rollbackBootId) return { kind: 'manual_intervention', reason: 'a rollback requested in this boot did not complete' };
      if (f.rollbackTarget === null) return { kind: 'manual_intervention', reason: 'rollback requested but no rollback deployment is left' };
      return { kind: 'rollback', to: f.rollbackTarget, reason: `resuming the requested rollback of ${t.release}` };
    }
    return { kind: 'accept_fallback', reason: `booted ${short(f.booted)} while rolling back ${t.release}`, healthy: f.healthy };
  }

  if (!onExpected) {
    if (sameDeployment(f.defaultDeployment, t.expected)) {
      return {
        kind: 'accept_fallback',
        reason: `booted ${short(f.booted)} instead of ${t.release} (${short(t.expected)}): the boot loader or a person fell back`,
        healthy: f.healthy,
      };
    }
    return { kind: 'disarm_stale', reason: `${t.release} (${short(t.expected)}) never became the default deployment` };
  }
  if (f.healthy) return { kind: 'disarm_healthy' };
  if (t.attempts < t.maxAttempts) return { kind: 'reboot_retry', attempt: t.attempts, maxAttempts: t.maxAttempts, reason: f.failedSummary };
  if (f.rolledBackBefore) return { kind: 'manual_intervention', reason: `${t.release} is unhealthy and was already rolled back once: ${f.failedSummary}` };
  if (f.rollbackTarget === null || sameDeployment(f.rollbackTarget, f.booted)) {
    return { kind: 'manual_intervention', reason: `${t.release} is unhealthy and there is no deployment to roll back to: ${f.failedSummary}` };
  }
  return { kind: 'rollback', to: f.rollbackTarget, reason: `${t.release} failed its health checks on ${t.attempts} boot(s): ${f.failedSummary}` };
}

/**
 * Whether the health run never ran in boot `bootId` although a trial armed in an earlier boot waits
 * for it: alt-updated-health.service is not enabled (or not installed) on this host. The agent is
 * ordered after boot-complete.target, which the health unit is ordered before, so once the agent
 * runs, an enabled unit has judged the boot (counted the attempt, or written its verdict).
 */
export function healthNotRunThisBoot(r: HealthRecord, bootId: string): boolean {
  const t = r.trial;
  if (t === null || r.manual !== null || t.armedBootId === bootId) return false;
  return t.lastBootId !== bootId && t.rollbackBootId !== bootId && r.last?.bootId !== bootId;
}

/**
 * Whether boot `bootId` is healthy enough to give a FleetLock reboot slot back: not when it needs
 * manual intervention, not while a trial armed in an earlier boot is still unjudged, not when this
 * boot's last verdict is red; otherwise yes (a node that never armed a trial keeps today's behaviour).
 */
export function bootHealthy(r: HealthRecord, bootId: string): boolean {
  if (r.manual !== null) return false;
  if (r.trial !== null && r.trial.armedBootId !== bootId) return false;
  const l = r.last;
  return l === null || l.bootId !== bootId || l.verdict === 'healthy' || l.verdict === 'rolled_back' || l.verdict === 'fallback';
}
