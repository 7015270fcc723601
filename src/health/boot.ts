// One health run at boot (the I/O shell around decideBoot): count the attempt, run the checks, decide,
// record the decision, then act. Every step is recorded BEFORE its action, so a kill -9 at any point
// is resumed by the next run without a second rollback or a lost verdict.
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { DeploymentSet } from '../ostree/deployment.js';
import { countAttempt, decideBoot, type BootAction } from './decide.js';
import type { CheckOutcome, DeploymentRef, FailedRelease, HealthRecord, LastVerdict, PendingReport, Trial, VerdictKind } from './record.js';
import type { HealthStore } from './store.js';
import { failedSummary, requiredPassed } from './suite.js';

/** The effects a health run performs, each behind a port. */
export interface HealthRunPorts {
  readonly store: HealthStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The backend's deployments. */
  deployments(): Promise<DeploymentSet>;
  /** The checks of this boot. */
  runChecks(): Promise<CheckOutcome[]>;
  /** green.d / red.d hooks. */
  runHooks(set: 'green.d' | 'red.d'): Promise<void>;
  /** Rollback through the backend, which then reboots. */
  rollback(): Promise<void>;
  /** Makes the booted deployment the default by removing the one before it (a fallback made permanent). */
  removePending(): Promise<void>;
  /** Reboots the node. */
  reboot(): Promise<void>;
  /** Shows (text) or removes (null) the MOTD line. */
  motd(text: string | null): Promise<void>;
}

/** What a run ended with; `healthy` is the unit's exit status (0 when healthy). */
export interface HealthRunResult {
  readonly action: BootAction['kind'];
  readonly healthy: boolean;
}

const ref = (d: { checksum: string; serial: number } | null | undefined): DeploymentRef | null => (d ? { payload: d.checksum, serial: d.serial } : null);

function withFailed(r: HealthRecord, t: Trial, reason: string, nowMs: number, rolledBack: boolean): HealthRecord {
  const prior = r.failed.find((f) => f.payload === t.expected.payload);
  const entry: FailedRelease = { release: t.release, payload: t.expected.payload, reason: prior?.reason ?? reason, atMs: prior?.atMs ?? nowMs, rolledBack: rolledBack || (prior?.rolledBack ?? false) };
  return { ...r, failed: [...r.failed.filter((f) => f.payload !== t.expected.payload), entry] };
}

/** Runs the health verdict for boot `bootId`. Throws only when the record or the backend cannot be read. */
export async function runHealth(p: HealthRunPorts, bootId: string): Promise<HealthRunResult> {
  const log = p.logger;
  let rec = await p.store.read();
  const set = await p.deployments();
  if (set.booted === null) throw new Error('no booted deployment: the health verdict needs a booted ostree system');
  const booted = ref(set.booted)!;
  if (rec.trial !== null) {
    const counted = countAttempt(rec.trial, bootId, booted);
    if (counted !== rec.trial) {
      rec = { ...rec, trial: counted };
      await p.store.write(rec); // before the checks: a boot that hangs in them still counts
      log.info({ event: 'health_attempt', release: counted.release, attempt: counted.attempts, max: counted.maxAttempts }, `boot attempt ${counted.attempts} of ${counted.maxAttempts} for ${counted.release}`);
    }
  }
  const checks = await p.runChecks();
  const healthy = requiredPassed(checks);
  const summary = failedSummary(checks);
  const t = rec.trial;
  const action = decideBoot({
    trial: t,
    bootId,
    booted,
    defaultDeployment: ref(set.deployments.find((d) => !d.staged)),
    rollbackTarget: ref(set.rollback),
    healthy,
    failedSummary: summary,
    rolledBackBefore: t !== null && rec.failed.some((f) => f.payload === t.expected.payload && f.rolledBack),
  });
  const now = p.clock.nowMs();
  const last = (verdict: VerdictKind, reason: string | null, release = t?.release ?? null): LastVerdict => ({ verdict, release, bootId, atMs: now, reason, checks });
  const report = (result: PendingReport['result'], reason: string | null): PendingReport => ({ result, release: t!.release, reason, atMs: now });
  const red = async (reason: string): Promise<void> => {
    await p.motd(`alt-updated: this boot is unhealthy (health checks RED): ${reason}\n`);
    await p.runHooks('red.d');
  };
  const green = async (): Promise<void> => {
    await p.motd(null);
    await p.runHooks('green.d');
  };
  log.info({ event: 'health_verdict', action: action.kind, release: t?.release ?? null, healthy }, `health verdict: ${action.kind}`);

  switch (action.kind) {
    case 'wait_reboot':
      return { action: action.kind, healthy };
    case 'healthy':
      await p.store.write({ ...rec, manual: null, last: last('healthy', null, rec.last?.release ?? null) });
      await green();
      return { action: action.kind, healthy: true };
    case 'disarm_healthy':
      await p.store.write({ ...rec, trial: null, manual: null, last: last('healthy', null), report: report('healthy', null) });
      log.info({ event: 'health_green', release: t!.release }, `${t!.release} is healthy; trial disarmed`);
      await green();
      return { action: action.kind, healthy: true };
    case 'disarm_stale': {
      log.warn({ event: 'health_trial_stale', release: t!.release }, `trial disarmed: ${action.reason}`);
      await p.store.write({ ...rec, trial: null });
      return runHealthUnarmed(p, bootId, healthy, summary, checks);
    }
    case 'reboot_retry':
      await p.store.write({ ...rec, last: last('rebooting', action.reason) });
      log.warn({ event: 'health_reboot_retry', release: t!.release, attempt: action.attempt, max: action.maxAttempts }, `${t!.release} is unhealthy (${action.reason}); rebooting for attempt ${action.attempt + 1} of ${action.maxAttempts}`);
      await red(action.reason);
      await p.reboot();
      return { action: action.kind, healthy: false };
    case 'rollback': {
      const trial: Trial = { ...t!, phase: 'rollback_requested', rollbackTo: action.to, rollbackBootId: bootId };
      await p.store.write({ ...withFailed(rec, t!, action.reason, now, true), trial, last: last('rolling_back', action.reason) });
      log.error({ event: 'health_rollback_requested', release: t!.release, to: action.to.payload, reason: action.reason }, `rolling back from ${t!.release}: ${action.reason}`);
      await red(action.reason);
      await p.rollback();
      return { action: action.kind, healthy: false };
    }
    case 'reboot_after_rollback':
      log.warn({ event: 'health_reboot_retry', release: t!.release }, `the rollback from ${t!.release} is done but the reboot did not happen; rebooting`);
      await p.reboot();
      return { action: action.kind, healthy: false };
    case 'rolled_back': {
      const reason = rec.failed.find((f) => f.payload === t!.expected.payload)?.reason ?? 'rolled back';
      if (action.healthy) {
        await p.store.write({ ...rec, trial: null, manual: null, last: last('rolled_back', reason), report: report('rolled_back', reason) });
        log.warn({ event: 'health_rolled_back', release: t!.release, reason }, `rolled back from ${t!.release}; the previous deployment is healthy`);
        await green();
        return { action: action.kind, healthy: true };
      }
      const why = `unhealthy after rolling back from ${t!.release}: ${summary}`;
      await p.store.write({ ...rec, trial: null, manual: why, last: last('manual_intervention', why), report: report('rolled_back', reason) });
      log.error({ event: 'health_manual_intervention', release: t!.release, reason: why }, `manual intervention required: ${why}`);
      await red(why);
      return { action: action.kind, healthy: false };
    }
    case 'accept_fallback': {
      await p.store.write(withFailed(rec, t!, action.reason, now, false)); // denylisted before anything else
      log.error({ event: 'health_fallback', release: t!.release, reason: action.reason }, `update to ${t!.release} failed: ${action.reason}; keeping the booted deployment`);
      if (set.deployments.find((d) => !d.staged)?.checksum === t!.expected.payload) await p.removePending();
      const after = withFailed(rec, t!, action.reason, now, false);
      const manual = action.healthy ? null : `unhealthy after falling back from ${t!.release}: ${summary}`;
      await p.store.write({ ...after, trial: null, manual, last: last(manual === null ? 'fallback' : 'manual_intervention', manual ?? action.reason), report: report('failed', action.reason) });
      if (manual === null) await green();
      else await red(manual);
      return { action: action.kind, healthy: action.healthy };
    }
    case 'manual_intervention': {
      const keepTrial = t !== null && t.phase === 'rollback_requested';
      const base = t !== null && !keepTrial ? { ...withFailed(rec, t, action.reason, now, false), trial: null, report: report('failed', action.reason) } : rec;
      await p.store.write({ ...base, manual: action.reason, last: last('manual_intervention', action.reason) });
      log.error({ event: 'health_manual_intervention', release: t?.release ?? null, reason: action.reason }, `manual intervention required: ${action.reason}`);
      await red(action.reason);
      return { action: action.kind, healthy: false };
    }
  }
}

async function runHealthUnarmed(p: HealthRunPorts, bootId: string, healthy: boolean, summary: string, checks: CheckOutcome[]): Promise<HealthRunResult> {
  const rec = await p.store.read();
  const last: LastVerdict = { verdict: healthy ? 'healthy' : 'manual_intervention', release: null, bootId, atMs: p.clock.nowMs(), reason: healthy ? null : summary, checks };
  await p.store.write({ ...rec, manual: healthy ? null : summary, last });
  if (healthy) {
    await p.motd(null);
    await p.runHooks('green.d');
  } else {
    p.logger.error({ event: 'health_manual_intervention', release: null, reason: summary }, `manual intervention required: boot is unhealthy and no update is on trial: ${summary}`);
    await p.motd(`alt-updated: this boot is unhealthy (health checks RED): ${summary}\n`);
    await p.runHooks('red.d');
  }
  return { action: 'disarm_stale', healthy };
}
