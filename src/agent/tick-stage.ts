// The `update_available` tick: adopt an existing locked staged deployment of the target (stateless
// restart), or replace another staged one, stage, and confirm; abandon after repeated failures.
import { AltError, errorChain } from '../common/errors.js';
import { strategyErrorKind } from '../strategies/errors.js';
import { AbandonList } from '../graph/abandon.js';
import { OstreeCommitRefusedError } from '../ostree/client/errors.js';
import { describeRelease } from '../graph/release.js';
import type { AgentDeps, AgentMemory } from './context.js';
import { checkStaged, confirmStaged } from './decide.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import type { AgentState } from './state.js';

type Available = Extract<AgentState, { kind: 'update_available' }>;

/** Runs one `update_available` tick. */
export async function tickStage(
  state: Available,
  deps: AgentDeps,
  mem: AgentMemory,
  log: Logger,
  signal?: AbortSignal,
): Promise<AgentEvent> {
  const { release } = state;
  const booted = mem.booted;
  const fail = (reason: string, err?: unknown): AgentEvent => {
    deps.metrics.deployFailure();
    const attempts = state.failedAttempts + 1;
    const detail = err === undefined ? reason : `${reason}: ${errorChain(err).join(': ')}`;
    if (attempts >= deps.settings.updates.maxStageAttempts) {
      const nowMs = deps.clock.nowMs();
      // Earlier abandonments keep their own deadlines; this one is skipped for `updates.abandon_secs`.
      mem.abandoned = new AbandonList(deps.settings.updates.abandonSecs * 1000, mem.abandoned.entries()).abandon(release.payload, nowMs);
      deps.metrics.releaseAbandoned();
      log.error(
        { event: 'update_abandoned', release: release.version, attempts, skipSecs: deps.settings.updates.abandonSecs, err: detail },
        `persistent deploy failure detected, target release '${release.version}' abandoned for ${deps.settings.updates.abandonSecs} s`,
      );
      return { type: 'update_abandoned', checkedAtMs: mem.lastCheckMs ?? nowMs };
    }
    // `code`/`kind` of the backend error (e.g. OSTREE_BACKEND_GONE / ostree_backend_gone) for alerting.
    const code = err instanceof AltError ? err.code : null;
    const kind = err === undefined ? 'precondition' : strategyErrorKind(err);
    log.error({ event: 'stage_failed', release: release.version, attempts, code, kind, err: detail }, `failed to stage deployment: ${detail}`);
    return { type: 'stage_failed' };
  };
  // Refused for its signature or content: retrying cannot help until the release is re-published,
  // so it is abandoned at once (not after max_stage_attempts tries every few minutes).
  const refused = (err: OstreeCommitRefusedError): AgentEvent => {
    deps.metrics.deployFailure();
    deps.metrics.releaseRefused(err.reason);
    deps.metrics.releaseAbandoned();
    const nowMs = deps.clock.nowMs();
    mem.abandoned = new AbandonList(deps.settings.updates.abandonSecs * 1000, mem.abandoned.entries()).abandon(release.payload, nowMs);
    log.error(
      { event: 'update_refused', release: release.version, payload: release.payload, reason: err.reason, skipSecs: deps.settings.updates.abandonSecs, err: err.message },
      `release ${describeRelease(release)} refused by verification (${err.reason}); abandoned for ${deps.settings.updates.abandonSecs} s, staying on the booted release`,
    );
    return { type: 'update_abandoned', checkedAtMs: mem.lastCheckMs ?? nowMs };
  };
  if (booted === null) return fail('no booted deployment known');

  let set;
  try {
    set = await deps.ostree.status();
  } catch (err: unknown) {
    return fail('failed to query local deployments', err);
  }
  // A staged deployment of this release from before a restart is adopted instead of staged again,
  // but only after the same confirmation a fresh stage gets (version, booted stream).
  const adopted = checkStaged(set, release) === 'adoptable';
  if (!adopted) {
    if (set.staged !== null) {
      try {
        await deps.ostree.cleanupPending();
        log.info(
          { event: 'pending_deployment_removed', replacedBy: release.version, payload: set.staged.checksum },
          `removed pending deployment ${set.staged.version ?? '?'} to stage ${release.version}`,
        );
      } catch (err: unknown) {
        return fail('failed to remove the pending deployment', err);
      }
    }
    deps.metrics.deployAttempt();
    log.info({ event: 'stage_started', release: release.version, attempt: state.failedAttempts + 1 }, `staging ${describeRelease(release)}`);
    try {
      await deps.ostree.stage(release, { allowDowngrade: deps.settings.updates.allowDowngrade }, signal);
      set = await deps.ostree.status();
    } catch (err: unknown) {
      if (err instanceof OstreeCommitRefusedError) return refused(err);
      return fail('failed to stage deployment', err);
    }
  }
  const confirmation = confirmStaged(set, release, booted);
  switch (confirmation) {
    case 'ok':
      log.info(
        { event: 'update_staged', release: release.version, adopted },
        adopted
          ? `found ${describeRelease(release)} already staged with finalization locked; adopting it`
          : `update staged: ${describeRelease(release)}`,
      );
      return { type: 'update_staged' };
    case 'wrong_stream': {
      // A release on another stream is never right for this node: remove it and block it for good.
      log.error(
        { event: 'update_blocked', release: release.version, adopted, expected: booted.stream, found: set.staged?.stream ?? null },
        `pending deployment ${release.version} expected to be on stream '${booted.stream ?? '?'}', but found '${set.staged?.stream ?? '?'}' instead`,
      );
      try {
        await deps.ostree.cleanupPending();
      } catch (err: unknown) {
        log.error({ event: 'cleanup_failed', err: errorChain(err).join(': ') }, 'failed to remove the wrong-stream deployment');
      }
      mem.denylist.add(release.payload);
      deps.metrics.deployFailure();
      deps.metrics.releaseAbandoned();
      log.warn({ event: 'update_abandoned', release: release.version, reason: 'wrong_stream' }, `abandoned and blocked deployment '${release.version}'`);
      return { type: 'update_abandoned', checkedAtMs: mem.lastCheckMs ?? deps.clock.nowMs() };
    }
    case 'missing':
      return fail('staged deployment not found after staging');
    case 'version_mismatch':
      return fail(`staged deployment version '${set.staged?.version ?? '?'}' differs from '${release.version}'`);
  }
}
