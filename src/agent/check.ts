// One graph check with its side effects: metrics, dead-end notice, rollback protection.
import { errorChain } from '../common/errors.js';
import { describeRelease, type Release } from '../graph/release.js';
import { payloadImage } from '../graph/select.js';
import { deploymentPayload } from '../ostree/deployment.js';
import { strategyErrorKind } from '../strategies/errors.js';
import type { AgentDeps, AgentMemory } from './context.js';
import { acceptTarget } from './decide.js';

/**
 * Outcome of a graph check: the accepted target and the payloads the graph offers from the booted
 * release (null: booted release not in the graph), or `failed` (graph errors never change state).
 */
export type CheckOutcome =
  | { readonly ok: true; readonly target: Release | null; readonly offered: ReadonlySet<string> | null }
  | { readonly ok: false };

/** Checks the graph for an update target, applying the dead-end notice on change. */
export async function checkForUpdate(
  deps: AgentDeps,
  mem: AgentMemory,
  log: AgentDeps['logger'],
  signal?: AbortSignal,
): Promise<CheckOutcome> {
  const booted = mem.booted;
  if (booted === null) return { ok: false };
  const nowMs = deps.clock.nowMs();
  const denylist = new Set([...mem.denylist, ...mem.abandoned.active(nowMs)]);
  deps.metrics.updateCheck();
  let result;
  try {
    result = await deps.graph.check({ booted, denylist, allowDowngrade: deps.settings.updates.allowDowngrade }, signal);
  } catch (err: unknown) {
    const kind = strategyErrorKind(err);
    deps.metrics.updateCheckFailed(kind);
    log.error({ event: 'update_check_failed', kind, err: errorChain(err).join(': ') }, 'failed to check for updates');
    return { ok: false };
  }
  mem.lastCheckMs = nowMs;
  if (result.deadend !== null) await applyDeadend(deps, mem, log, result.deadend.isDeadend, result.deadend.reason);
  if (result.bootedInGraph === false) {
    // Zincati answers "no update" here too (fedora-coreos-tracker#2066); say so instead of silence.
    log.info(
      { event: 'booted_not_in_graph', payload: deploymentPayload(booted), oci: booted.image != null },
      `the booted ${booted.image != null ? 'image' : 'commit'} ${deploymentPayload(booted)} is not in the update graph (a fresh install or a release the server no longer lists); no update`,
    );
  }
  const target = acceptTarget(result.target, booted, denylist);
  const from = booted.image != null ? payloadImage(booted.image.pullspec) : null;
  const to = target !== null ? payloadImage(target.payload) : null;
  if (target !== null && from !== null && to !== null && from !== to) {
    log.info(
      { event: 'update_rebase', release: target.version, from, to },
      `update ${describeRelease(target)} moves from image ${from} to ${to}: it is staged as a rebase`,
    );
  }
  if (result.target !== null && target === null) {
    log.warn(
      { event: 'update_target_ignored', release: result.target.version },
      `target ${describeRelease(result.target)} is booted or denylisted; ignoring it`,
    );
  }
  return { ok: true, target, offered: result.offered ?? null };
}

async function applyDeadend(
  deps: AgentDeps,
  mem: AgentMemory,
  log: AgentDeps['logger'],
  isDeadend: boolean,
  reason: string | null,
): Promise<void> {
  deps.metrics.bootedDeadend(isDeadend);
  if (mem.deadend === isDeadend) return;
  try {
    if (isDeadend) {
      const why = reason ?? 'no reason given';
      await deps.deadend.set(why);
      log.warn({ event: 'deadend_set', reason: why }, `current release detected as dead-end, reason: ${why}`);
    } else {
      await deps.deadend.clear();
      // The first evaluation clears a stale notice silently; only a real change is news.
      if (mem.deadend === true) log.info({ event: 'deadend_cleared' }, 'current release detected as not a dead-end');
    }
    mem.deadend = isDeadend;
  } catch (err: unknown) {
    log.error({ event: 'deadend_notice_failed', err: errorChain(err).join(': ') }, 'failed to update the dead-end notice');
  }
}
