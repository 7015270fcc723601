// The `update_staged` tick: keep the staged update current (#928), ask the strategy, respect block
// inhibitors and logged-in users, then finalize. Failure direction, deliberately stricter than
// Zincati: anything we cannot verify (strategy error, session or inhibitor query failure, backend
// status failure) means "do not reboot now" -- never reboot on doubt. The override file (or an
// operator's "update now") is the way out when logind itself is broken.
import { errorChain } from '../common/errors.js';
import { describeRelease } from '../graph/release.js';
import { strategyErrorKind } from '../strategies/errors.js';
import { checkForUpdate } from './check.js';
import { DEFAULT_OVERRIDE_INTERACTIVE_CHECK, fileExistsOnDisk, type AgentDeps, type AgentMemory } from './context.js';
import { decideSessions, postponementWarning, replacesStaged } from './decide.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import { MAX_POSTPONEMENTS, type AgentState } from './state.js';
import { POSTPONEMENT_SECS } from './timing.js';

type Staged = Extract<AgentState, { kind: 'update_staged' }>;

const err2s = (err: unknown): string => errorChain(err).join(': ');

/** Runs one `update_staged` tick. */
export async function tickStaged(
  state: Staged,
  deps: AgentDeps,
  mem: AgentMemory,
  log: Logger,
  signal?: AbortSignal,
): Promise<AgentEvent> {
  const { release } = state;
  const v = release.version;

  let set;
  try {
    set = await deps.ostree.status();
  } catch (err: unknown) {
    deps.metrics.finalizationBlocked('backend_unavailable');
    log.error({ event: 'deployments_query_failed', err: err2s(err) }, 'failed to query local deployments; not finalizing');
    return { type: 'finalization_blocked', reason: 'backend_unavailable' };
  }
  if (set.staged === null || set.staged.checksum !== release.payload) {
    log.warn({ event: 'staged_deployment_lost', release: v }, `staged deployment ${describeRelease(release)} is gone; staging it again`);
    await releaseSlot(deps, log, signal);
    return { type: 'staged_deployment_lost' };
  }

  // coreos/zincati#928: look for a newer release, at most once per steady interval (the first
  // staged tick follows the check that found the release) and never in a users' grace period.
  const sinceCheckMs = mem.lastCheckMs === null ? Infinity : deps.clock.nowMs() - mem.lastCheckMs;
  const checkDue = sinceCheckMs >= deps.settings.agent.timing.steadyIntervalSecs * 1000;
  if (checkDue && state.postponementsLeft === MAX_POSTPONEMENTS && !mem.updateNowRequested) {
    const outcome = await checkForUpdate(deps, mem, log, signal);
    if (outcome.ok && replacesStaged(outcome.target, release)) {
      log.info(
        { event: 'update_replaced', release: outcome.target.version, replaces: v },
        `newer release ${describeRelease(outcome.target)} replaces staged ${describeRelease(release)}`,
      );
      await releaseSlot(deps, log, signal);
      return { type: 'newer_update_found', release: outcome.target };
    }
  }

  deps.metrics.finalizationAttempt();
  if (mem.updateNowRequested) {
    log.info({ event: 'update_now', release: v }, 'finalization requested by the operator; bypassing the update strategy');
  } else {
    const nowMs = deps.clock.nowMs();
    let allowed: boolean;
    try {
      allowed = await deps.strategy.canFinalize(nowMs, signal);
    } catch (err: unknown) {
      const kind = strategyErrorKind(err);
      deps.metrics.canFinalize('error');
      deps.metrics.strategyError(kind);
      log.error({ event: 'strategy_error', kind, err: err2s(err) }, `update strategy failed, not finalizing: ${err2s(err)}`);
      return { type: 'finalization_denied' };
    }
    deps.metrics.canFinalize(allowed ? 'allow' : 'deny');
    if (!allowed) {
      if (state.waiting !== 'strategy') {
        log.info({ event: 'finalization_denied', release: v }, `update staged: ${v}; reboot pending due to update strategy`);
      }
      return { type: 'finalization_denied' };
    }
  }

  let inhibitors: string[];
  try {
    inhibitors = await deps.sessions.blockInhibitors();
  } catch (err: unknown) {
    log.error({ event: 'session_check_failed', err: err2s(err) }, 'failed to check for shutdown inhibitors; not finalizing');
    deps.metrics.finalizationBlocked('session_check_failed');
    return { type: 'finalization_blocked', reason: 'session_check_failed' };
  }
  if (inhibitors.length > 0) {
    deps.metrics.finalizationBlocked('inhibitor');
    log.warn({ event: 'reboot_blocked', inhibitors }, `reboot blocked by ${inhibitors.length} shutdown inhibitor(s): ${inhibitors.join('; ')}`);
    return { type: 'finalization_blocked', reason: 'block_inhibitor' };
  }

  const sessionEvent = await checkSessions(state, deps, mem, log);
  if (sessionEvent !== null) return sessionEvent;

  log.info({ event: 'update_finalizing', release: v }, `staged deployment '${v}' available, proceeding to finalize it`);
  deps.metrics.finalizeAttempt();
  try {
    await deps.ostree.finalize(release.payload);
  } catch (err: unknown) {
    deps.metrics.finalizeFailure();
    log.error({ event: 'finalize_failed', release: v, err: err2s(err) }, `failed to finalize deployment: ${err2s(err)}`);
    return { type: 'finalization_blocked', reason: 'finalize_failed' };
  }
  deps.metrics.finalizationSuccess();
  mem.updateNowRequested = false;
  log.info({ event: 'update_finalized', release: v }, `update finalized: ${v}`);
  return { type: 'update_finalized' };
}

/** The users' grace period; null means "go ahead and finalize". */
async function checkSessions(state: Staged, deps: AgentDeps, mem: AgentMemory, log: Logger): Promise<AgentEvent | null> {
  const exists = deps.fileExists ?? fileExistsOnDisk;
  const overridePath = deps.overrideInteractiveCheckPath ?? DEFAULT_OVERRIDE_INTERACTIVE_CHECK;
  if (mem.updateNowRequested) return null;
  if (await exists(overridePath)) {
    log.info({ event: 'session_check_skipped', path: overridePath }, `override file ${overridePath} present; not waiting for users`);
    return null;
  }
  let sessions;
  try {
    sessions = await deps.sessions.interactiveSessions();
  } catch (err: unknown) {
    log.error({ event: 'session_check_failed', err: err2s(err) }, 'failed to check for interactive sessions; not finalizing');
    deps.metrics.finalizationBlocked('session_check_failed');
    return { type: 'finalization_blocked', reason: 'session_check_failed' };
  }
  deps.metrics.activeUsers(sessions.length);
  const decision = decideSessions({ sessions, overrideActive: false, postponementsLeft: state.postponementsLeft });
  if (decision === 'finalize') return null;
  if (decision === 'finalize_grace_over') {
    log.warn({ event: 'grace_period_over' }, 'reached end of grace period while waiting for interactive sessions');
    return null;
  }
  const left = state.postponementsLeft;
  if (left === MAX_POSTPONEMENTS) {
    log.warn({ event: 'grace_period_started' }, `interactive sessions detected, entering grace period (maximum ${(MAX_POSTPONEMENTS * POSTPONEMENT_SECS) / 60} minutes)`);
  } else if (left === 1) {
    log.warn({ event: 'grace_period_last' }, 'last attempt to wait for the end of all interactive sessions');
  }
  const message = postponementWarning(state.release, left, POSTPONEMENT_SECS);
  if (message !== null) {
    try {
      await deps.sessions.warn(message);
    } catch (err: unknown) {
      log.warn({ event: 'session_warning_failed', err: err2s(err) }, 'failed to warn interactive sessions');
    }
  }
  deps.metrics.postponed();
  deps.metrics.finalizationBlocked('active_usersessions');
  log.info(
    { event: 'reboot_postponed', sessions: sessions.length, postponementsLeft: left - 1 },
    `reboot postponed for ${sessions.length} interactive session(s), ${left - 1} postponement(s) left`,
  );
  return { type: 'reboot_postponed' };
}

async function releaseSlot(deps: AgentDeps, log: Logger, signal?: AbortSignal): Promise<void> {
  if (deps.strategy.releaseIfHeld === undefined) return;
  try {
    await deps.strategy.releaseIfHeld(signal);
  } catch (err: unknown) {
    log.warn({ event: 'lock_release_failed', kind: strategyErrorKind(err), err: err2s(err) }, 'failed to release the reboot slot');
  }
}
