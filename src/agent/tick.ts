// One tick: gather facts from the ports, call the pure decisions, perform the effects, and return
// the event for the transition function. A tick never throws for an expected failure; every
// failure becomes an event that keeps the agent where it is (and never reboots).
import { assertNever, errorChain } from '../common/errors.js';
import { describeRelease, shortPayload } from '../graph/release.js';
import { deploymentPayload } from '../ostree/deployment.js';
import { strategyErrorKind } from '../strategies/errors.js';
import { checkForUpdate } from './check.js';
import type { AgentDeps, AgentMemory } from './context.js';
import { initialDenylist } from './decide.js';
import type { AgentEvent } from './events.js';
import type { Logger } from './ports.js';
import type { AgentState } from './state.js';
import { tickStage } from './tick-stage.js';
import { tickStaged } from './tick-staged.js';

/** Runs one tick in `state` and returns what happened. */
export async function runTick(
  state: AgentState,
  deps: AgentDeps,
  mem: AgentMemory,
  log: Logger,
  signal?: AbortSignal,
): Promise<AgentEvent> {
  switch (state.kind) {
    case 'start':
      return tickStart(deps, mem, log);
    case 'initialized':
      return tickInitialized(deps, mem, log, signal);
    case 'reported_steady':
    case 'no_new_update': {
      const outcome = await checkForUpdate(deps, mem, log, signal);
      if (!outcome.ok) return { type: 'update_check_failed' };
      if (outcome.target === null) {
        log.debug({ event: 'no_update', booted: mem.booted?.version ?? null }, 'no update available');
        return { type: 'no_update', checkedAtMs: deps.clock.nowMs() };
      }
      log.info(
        { event: 'update_found', release: outcome.target.version, payload: outcome.target.payload },
        `target release '${outcome.target.version}' selected, proceeding to stage it`,
      );
      return { type: 'update_found', release: outcome.target };
    }
    case 'update_available':
      return tickStage(state, deps, mem, log, signal);
    case 'update_staged':
      return tickStaged(state, deps, mem, log, signal);
    case 'update_finalized':
      log.info(
        { event: 'update_applied', release: state.release.version },
        `update applied, waiting for reboot: ${describeRelease(state.release)}`,
      );
      return { type: 'end' };
    case 'end':
      return { type: 'idle' };
    default:
      return assertNever('agent state', state);
  }
}

async function tickStart(deps: AgentDeps, mem: AgentMemory, log: Logger): Promise<AgentEvent> {
  const enabled = deps.settings.updates.enabled;
  try {
    if (enabled) {
      log.info({}, 'registering as the update driver');
      await deps.ostree.registerDriver();
    }
  } catch (err: unknown) {
    deps.metrics.registerDriverFailure();
    log.error({ event: 'driver_registration_failed', err: errorChain(err).join(': ') }, 'failed to register as the update driver');
    return { type: 'init_failed' };
  }
  let set;
  try {
    set = await deps.ostree.status();
  } catch (err: unknown) {
    log.error({ event: 'deployments_query_failed', err: errorChain(err).join(': ') }, 'failed to query local deployments');
    return { type: 'init_failed' };
  }
  if (set.booted === null) {
    // Without a booted deployment there is no "current release": never guess, retry later.
    log.error({ event: 'deployments_query_failed' }, 'no booted deployment found; the host is not updatable yet');
    return { type: 'init_failed' };
  }
  mem.booted = set.booted;
  for (const checksum of initialDenylist(set)) {
    if (mem.denylist.has(checksum)) continue;
    mem.denylist.add(checksum);
    const d = set.deployments.find((x) => deploymentPayload(x) === checksum);
    log.info(
      { event: 'deployment_denylisted', payload: checksum, version: d?.version ?? null },
      `deployment ${d?.version ?? '?'} (${shortPayload(checksum)}) will be excluded from being a future update target`,
    );
  }
  if (deps.health !== undefined) {
    // Releases that failed their boot verdict are never staged again (issue 15); an unreadable record
    // could hide one, so the start is retried instead of guessing.
    let facts;
    try {
      facts = await deps.health.facts();
    } catch (err: unknown) {
      log.error({ event: 'health_record_unreadable', err: errorChain(err).join(': ') }, `cannot read the health record: ${errorChain(err).join(': ')}`);
      return { type: 'init_failed' };
    }
    mem.health = { verdict: facts.lastVerdict, failedChecks: facts.failedChecks };
    deps.metrics.health({ failedReleases: facts.failed.length, rollbacks: facts.failed.filter((f) => f.rolledBack).length, manualIntervention: facts.manual !== null, lastVerdict: facts.lastVerdict });
    if (facts.manual !== null) {
      // The unit only Wants= boot-complete.target, so it also starts on a red boot: never act on one.
      log.error({ event: 'health_unhealthy_boot', reason: facts.manual }, `this boot is unhealthy, manual intervention required (${facts.manual}); not updating until alt-updated-health.service passes`);
      return { type: 'init_failed' };
    }
    for (const f of facts.failed) {
      // Logged even when the deployment is denylisted already (the rollback deployment is): the
      // reason is the news.
      mem.denylist.add(f.payload);
      log.info({ event: 'failed_release_denylisted', payload: f.payload, version: f.release, reason: f.reason }, `release ${f.release} failed on this node (${f.reason}) and will never be staged again`);
    }
  }
  if (enabled) {
    log.info({ event: 'agent_initialized', strategy: deps.strategy.label }, `update strategy: ${deps.strategy.describe(deps.clock.nowMs())}`);
  } else {
    log.info({ event: 'updates_disabled' }, 'auto-updates logic disabled by configuration');
  }
  return { type: 'initialized' };
}

async function tickInitialized(deps: AgentDeps, mem: AgentMemory, log: Logger, signal?: AbortSignal): Promise<AgentEvent> {
  let steady: boolean;
  try {
    steady = await deps.strategy.reportSteady(signal);
  } catch (err: unknown) {
    const kind = strategyErrorKind(err);
    deps.metrics.strategyError(kind);
    log.error({ event: 'steady_report_failed', kind, err: errorChain(err).join(': ') }, 'failed to report steady state');
    return { type: 'steady_report_failed' };
  }
  if (!steady) {
    log.warn({ event: 'steady_report_failed', kind: 'denied' }, 'strategy did not accept the steady state report');
    return { type: 'steady_report_failed' };
  }
  const local = mem.booted?.image?.local === true ? mem.booted.image.reference : null;
  if (local !== null) {
    // APM's rebuild mode: no graph names this image; the slot is released above, then the agent idles.
    log.info({ event: 'steady_reported', updatesEnabled: false }, 'reached steady state; the booted image is locally built, idling');
    log.warn({ event: 'local_image_booted', image: local }, `booted from a locally built image ${local}; alt-updated leaves this host to its local tooling (APM)`);
    return { type: 'end', localImage: local };
  }
  if (!deps.settings.updates.enabled) {
    // coreos/zincati#239: even with updates disabled, the slot held from before the reboot is released.
    log.info({ event: 'steady_reported', updatesEnabled: false }, 'reached steady state; auto-updates disabled, idling');
    return { type: 'end' };
  }
  log.info({ event: 'steady_reported', updatesEnabled: true }, 'reached steady state, periodically polling for updates');
  return { type: 'steady_reported' };
}
