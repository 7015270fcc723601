// The `update_staged` tick: keep the staged update current (#928) and offered by the graph, respect
// block inhibitors, ask the strategy, respect logged-in users, then finalize. Failure direction,
// deliberately stricter than Zincati: anything we cannot verify (strategy error, session or
// inhibitor query failure, backend status failure) means "do not reboot now" -- never reboot on
// doubt. An operator's "update now" is the way out when logind itself is broken (it serves one tick
// only; known inhibitors still block it). A node that cannot reboot gives its reboot slot back on
// the tick that finds out; only the users' grace period (bounded) keeps it.
import { errorChain } from '../common/errors.js';
import { describeRelease, type Release } from '../graph/release.js';
import { deploymentPayload } from '../ostree/deployment.js';
import { strategyErrorKind } from '../strategies/errors.js';
import { checkForUpdate } from './check.js';
import { DEFAULT_OVERRIDE_INTERACTIVE_CHECK, fileExistsOnDisk, type AgentDeps, type AgentMemory } from './context.js';
import {
  decideInhibitors,
  decideSessions,
  finalizedPendingReboot,
  postponementWarning,
  replacesStaged,
  stagedWithdrawn,
} from './decide.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import { MAX_POSTPONEMENTS, type AgentState } from './state.js';

type Staged = Extract<AgentState, { kind: 'update_staged' }>;
type BlockReason = Extract<AgentEvent, { type: 'finalization_blocked' }>['reason'];
/** Why this tick cannot finalize: the state's reason and one line for logs and "update now". */
interface Block {
  readonly reason: BlockReason;
  readonly because: string;
}

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
  const updateNow = mem.updateNowRequested;
  mem.notFinalizedBecause = null;
  const blocked = async (b: Block): Promise<AgentEvent> => {
    mem.notFinalizedBecause = b.because;
    await releaseSlot(deps, log, signal);
    return { type: 'finalization_blocked', reason: b.reason };
  };

  let set;
  try {
    set = await deps.ostree.status();
  } catch (err: unknown) {
    deps.metrics.finalizationBlocked('backend_unavailable');
    log.error({ event: 'deployments_query_failed', err: err2s(err) }, 'failed to query local deployments; not finalizing');
    return blocked({ reason: 'backend_unavailable', because: `the local deployments could not be queried: ${err2s(err)}` });
  }
  const staged = set.staged;
  if (staged === null || deploymentPayload(staged) !== release.payload) {
    log.warn({ event: 'staged_deployment_lost', release: v }, `staged deployment ${describeRelease(release)} is gone; staging it again`);
    mem.notFinalizedBecause = `the staged deployment ${describeRelease(release)} is gone`;
    await releaseSlot(deps, log, signal);
    return { type: 'staged_deployment_lost' };
  }

  // coreos/zincati#928: look for a newer release, at most once per steady interval (the first
  // staged tick follows the check that found the release) and never in a users' grace period.
  // The same check tells whether the graph still offers the staged release at all.
  const sinceCheckMs = mem.lastCheckMs === null ? Infinity : deps.clock.nowMs() - mem.lastCheckMs;
  const checkDue = sinceCheckMs >= deps.settings.agent.timing.steadyIntervalSecs * 1000;
  if (checkDue && state.postponementsLeft === MAX_POSTPONEMENTS && !updateNow) {
    const outcome = await checkForUpdate(deps, mem, log, signal);
    if (outcome.ok && replacesStaged(outcome.target, release)) {
      log.info(
        { event: 'update_replaced', release: outcome.target.version, replaces: v },
        `newer release ${describeRelease(outcome.target)} replaces staged ${describeRelease(release)}`,
      );
      await releaseSlot(deps, log, signal);
      return { type: 'newer_update_found', release: outcome.target };
    }
    if (outcome.ok) {
      const withdrawn = stagedWithdrawn(outcome.offered, release);
      if (withdrawn && mem.withdrawn !== release.payload) {
        log.warn(
          { event: 'staged_release_withdrawn', release: v },
          `the update graph no longer offers ${describeRelease(release)} from the booted release; removing the staged deployment`,
        );
      }
      mem.withdrawn = withdrawn ? release.payload : null;
    }
  }
  // Remembered across ticks, so a failed removal never turns into a reboot on the next one.
  if (mem.withdrawn === release.payload) return removeWithdrawn(release, deps, mem, log, blocked, signal);

  deps.metrics.finalizationAttempt();
  // Inhibitors first: a node that cannot reboot does not ask for a reboot slot.
  const before = await inhibitorBlock(deps, log, updateNow);
  if (before !== null) return blocked(before);
  if (updateNow) {
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
    // A strategy that hands out slots may have taken one: an inhibitor that appeared meanwhile
    // gives it back at once instead of on the next tick.
    if (deps.strategy.releaseIfHeld !== undefined) {
      const after = await inhibitorBlock(deps, log, false);
      if (after !== null) return blocked(after);
    }
  }

  const sessionEvent = updateNow ? null : await checkSessions(state, deps, log);
  if (sessionEvent !== null) return 'because' in sessionEvent ? blocked(sessionEvent) : sessionEvent;

  // Ours and already unlocked: an earlier finalize unlocked it and then the reboot failed. Any
  // reboot applies it now; retry the reboot, not the unlock (the backend refuses a second unlock).
  const rebootOnly = finalizedPendingReboot(staged, release);
  if (rebootOnly) {
    log.warn({ event: 'reboot_retry', release: v }, `staged deployment '${v}' is already unlocked (finalized, reboot pending); retrying the reboot`);
  } else {
    log.info({ event: 'update_finalizing', release: v }, `staged deployment '${v}' available, proceeding to finalize it`);
  }
  if (deps.health !== undefined && set.booted !== null) {
    // Armed before the reboot it judges: the next boots find the trial (docs/usage/health-checks.md).
    try {
      await deps.health.arm(v, staged, set.booted);
    } catch (err: unknown) {
      log.error({ event: 'health_arm_failed', release: v, err: err2s(err) }, `cannot arm the health check for ${v}: ${err2s(err)}; not finalizing`);
      return blocked({ reason: 'finalize_failed', because: `arming the health check failed: ${err2s(err)}` });
    }
  }
  deps.metrics.finalizeAttempt();
  try {
    await deps.ostree.finalize(release.payload, rebootOnly ? { alreadyUnlocked: true } : undefined);
  } catch (err: unknown) {
    deps.metrics.finalizeFailure();
    log.error({ event: 'finalize_failed', release: v, err: err2s(err) }, `failed to finalize deployment: ${err2s(err)}`);
    return blocked({ reason: 'finalize_failed', because: `finalizing failed: ${err2s(err)}` });
  }
  deps.metrics.finalizationSuccess();
  log.info({ event: 'update_finalized', release: v }, `update finalized: ${v}`);
  return { type: 'update_finalized' };
}

/** Block inhibitors on shutdown; null means "no inhibitor in the way". */
async function inhibitorBlock(deps: AgentDeps, log: Logger, updateNow: boolean): Promise<Block | null> {
  let inhibitors: string[] | null = null;
  let queryError = '';
  try {
    inhibitors = await deps.sessions.blockInhibitors();
  } catch (err: unknown) {
    queryError = err2s(err);
  }
  const decision = decideInhibitors({ inhibitors, updateNow });
  switch (decision) {
    case 'proceed':
      return null;
    case 'proceed_unchecked':
      log.warn(
        { event: 'inhibitor_check_skipped', err: queryError },
        `failed to check for shutdown inhibitors (${queryError}); finalizing anyway, as the operator asked`,
      );
      return null;
    case 'query_failed':
      log.error({ event: 'session_check_failed', err: queryError }, 'failed to check for shutdown inhibitors; not finalizing');
      deps.metrics.finalizationBlocked('session_check_failed');
      return { reason: 'session_check_failed', because: `logind could not be asked for shutdown inhibitors: ${queryError}` };
    case 'blocked': {
      const list = inhibitors ?? [];
      deps.metrics.finalizationBlocked('inhibitor');
      log.warn({ event: 'reboot_blocked', inhibitors: list }, `reboot blocked by ${list.length} shutdown inhibitor(s): ${list.join('; ')}`);
      return { reason: 'block_inhibitor', because: `reboot blocked by ${list.length} shutdown inhibitor(s): ${list.join('; ')}` };
    }
  }
}

/** Removes the staged deployment of a release the graph withdrew. */
async function removeWithdrawn(
  release: Release,
  deps: AgentDeps,
  mem: AgentMemory,
  log: Logger,
  blocked: (b: Block) => Promise<AgentEvent>,
  signal?: AbortSignal,
): Promise<AgentEvent> {
  try {
    await deps.ostree.cleanupPending();
  } catch (err: unknown) {
    deps.metrics.finalizationBlocked('backend_unavailable');
    log.error(
      { event: 'staged_cleanup_failed', release: release.version, err: err2s(err) },
      `failed to remove the withdrawn staged deployment ${describeRelease(release)}; not finalizing, retrying: ${err2s(err)}`,
    );
    return blocked({ reason: 'backend_unavailable', because: `the graph withdrew ${describeRelease(release)} and its removal failed: ${err2s(err)}` });
  }
  mem.withdrawn = null;
  mem.notFinalizedBecause = `the update graph withdrew ${describeRelease(release)}; the staged deployment was removed`;
  log.info(
    { event: 'pending_deployment_removed', release: release.version, payload: release.payload, reason: 'withdrawn' },
    `removed the staged deployment of withdrawn release ${describeRelease(release)}`,
  );
  await releaseSlot(deps, log, signal);
  return { type: 'staged_withdrawn', checkedAtMs: mem.lastCheckMs ?? deps.clock.nowMs() };
}

/** The users' grace period: null means "go ahead and finalize", a Block means "cannot tell". */
async function checkSessions(state: Staged, deps: AgentDeps, log: Logger): Promise<AgentEvent | Block | null> {
  const exists = deps.fileExists ?? fileExistsOnDisk;
  const overridePath = deps.overrideInteractiveCheckPath ?? DEFAULT_OVERRIDE_INTERACTIVE_CHECK;
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
    return { reason: 'session_check_failed', because: `logind could not be asked for interactive sessions: ${err2s(err)}` };
  }
  deps.metrics.activeUsers(sessions.length);
  const decision = decideSessions({ sessions, overrideActive: false, postponementsLeft: state.postponementsLeft });
  if (decision === 'finalize') return null;
  if (decision === 'finalize_grace_over') {
    log.warn({ event: 'grace_period_over' }, 'reached end of grace period while waiting for interactive sessions');
    return null;
  }
  const left = state.postponementsLeft;
  const every = deps.settings.agent.timing.postponementIntervalSecs;
  if (left === MAX_POSTPONEMENTS) {
    log.warn({ event: 'grace_period_started' }, `interactive sessions detected, entering grace period (maximum ${graceText(MAX_POSTPONEMENTS * every)})`);
  } else if (left === 1) {
    log.warn({ event: 'grace_period_last' }, 'last attempt to wait for the end of all interactive sessions');
  }
  const message = postponementWarning(state.release, left, every);
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

/** A grace period for the log: whole minutes as Zincati words it ("10 minutes"), otherwise seconds. */
function graceText(secs: number): string {
  return secs % 60 === 0 ? `${secs / 60} minutes` : `${secs} s`;
}

async function releaseSlot(deps: AgentDeps, log: Logger, signal?: AbortSignal): Promise<void> {
  if (deps.strategy.releaseIfHeld === undefined) return;
  try {
    await deps.strategy.releaseIfHeld(signal);
  } catch (err: unknown) {
    log.warn({ event: 'lock_release_failed', kind: strategyErrorKind(err), err: err2s(err) }, 'failed to release the reboot slot');
  }
}
