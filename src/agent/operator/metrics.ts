// The agent's metrics, Zincati's set renamed to the `alt_updated_` prefix (docs/usage/metrics.md).
// The agent calls the narrow `AgentMetrics` port; metric names, label names and the registry stay in
// this file. Differences from Zincati, forced by `promtool check metrics`: every counter ends in
// `_total`, gauges never end in `_count`, and the schedule length is in seconds.
import type { StrategyLabel } from '../../config/types.js';
import { Registry } from './prometheus.js';

/** FleetLock API endpoints, as metric label values. */
export type FleetLockApi = 'steady_state' | 'pre_reboot';

/** Why finalization was held back for a reason other than the strategy. */
export type FinalizationBlockReason = 'active_usersessions' | 'inhibitor' | 'session_check_failed' | 'backend_unavailable';

/** What the agent reports; every method is synchronous, cheap and never throws. */
export interface AgentMetrics {
  /** Booted OS identity (info gauge = 1) and the configured rollout wariness (null: unset). */
  identity(info: { osVersion: string; basearch: string; stream: string; platform: string; rolloutWariness: number | null }): void;
  /** Effective configuration knobs. `periodicScheduleLengthMinutes` is null for other strategies. */
  configured(c: { updatesEnabled: boolean; allowDowngrade: boolean; strategy: StrategyLabel; periodicScheduleLengthMinutes: number | null }): void;
  /** A tick ran at `nowMs`. */
  refreshed(nowMs: number): void;
  /** The state kind changed at `nowMs`. */
  stateChanged(nowMs: number): void;
  /** Since when (ms) the agent has held a release it has not booted yet; null once it holds none. */
  updatePending(sinceMs: number | null): void;
  /** A graph check started. */
  updateCheck(): void;
  /** A graph check failed; `kind` is the error's metric-safe kind. */
  updateCheckFailed(kind: string): void;
  /** A graph was fetched and parsed. */
  graphSeen(g: { nodes: number; edges: number }): void;
  /** Update targets dropped by the denylist / abandon list in the last check. */
  ignoredTargets(count: number): void;
  /** Whether the booted release is a dead-end. */
  bootedDeadend(isDeadend: boolean): void;
  /** One answer from the strategy to "may we finalize now?". */
  canFinalize(response: 'allow' | 'deny' | 'error'): void;
  /** A strategy failed (counted by error kind; failure means "do not reboot"). */
  strategyError(kind: string): void;
  /** A FleetLock request was sent. */
  fleetLockRequest(api: FleetLockApi): void;
  /** A FleetLock request failed with the server's `kind` (or `generic_http_<code>`). */
  fleetLockError(api: FleetLockApi, kind: string): void;
  /** A stage (deploy/rebase) call was made. */
  deployAttempt(): void;
  /** A stage call failed. */
  deployFailure(): void;
  /** Registering as the update driver failed. */
  registerDriverFailure(): void;
  /** A finalize call was made to the backend. */
  finalizeAttempt(): void;
  /** A finalize call failed. */
  finalizeFailure(): void;
  /** A status (deployments) query was made. */
  statusAttempt(): void;
  /** A status query failed. */
  statusFailure(): void;
  /** A staged tick tried to finalize (counted before the strategy check, as Zincati does). */
  finalizationAttempt(): void;
  /** Finalization succeeded. */
  finalizationSuccess(): void;
  /** Finalization was held back for a non-strategy reason. */
  finalizationBlocked(reason: FinalizationBlockReason): void;
  /** One 60 s postponement for interactive sessions. */
  postponed(): void;
  /** Interactive sessions seen at the last finalization check. */
  activeUsers(count: number): void;
  /** A release was abandoned after repeated stage failures. */
  releaseAbandoned(): void;
  /** The backend refused a release's commit for its signature or content (`reason` from src/ostree/verification.ts). */
  releaseRefused(reason: string): void;
  /** The boot health record read at start (docs/usage/health-checks.md). */
  health(h: { readonly failedReleases: number; readonly rollbacks: number; readonly manualIntervention: boolean; readonly lastVerdict: string | null }): void;
}

/** A metrics port that records nothing. */
export function noopMetrics(): AgentMetrics {
  const nop = (): void => undefined;
  return {
    identity: nop, configured: nop, refreshed: nop, stateChanged: nop, updatePending: nop, updateCheck: nop, updateCheckFailed: nop,
    graphSeen: nop, ignoredTargets: nop, bootedDeadend: nop, canFinalize: nop, strategyError: nop,
    fleetLockRequest: nop, fleetLockError: nop, deployAttempt: nop, deployFailure: nop, registerDriverFailure: nop,
    finalizeAttempt: nop, finalizeFailure: nop, statusAttempt: nop, statusFailure: nop, finalizationAttempt: nop,
    finalizationSuccess: nop, finalizationBlocked: nop, postponed: nop, activeUsers: nop, releaseAbandoned: nop,
    releaseRefused: nop, health: nop,
  };
}

const P = 'alt_updated_';
const secs = (ms: number): number => Math.floor(ms / 1000);

/** Builds the agent metrics on a fresh registry; `render()` gives the exposition text. */
export function createAgentMetrics(opts: { processStartMs: number }): AgentMetrics & { render(): string } {
  const r = new Registry();
  r.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.', [], secs(opts.processStartMs));
  const osInfo = r.gauge(`${P}identity_os_info`, 'Information about the booted OS (always 1).', ['os_version', 'basearch', 'stream', 'platform'], null);
  const wariness = r.gauge(`${P}identity_rollout_wariness`, 'Configured client rollout wariness (only when set).', [], null);
  const lastRefresh = r.gauge(`${P}update_agent_last_refresh_timestamp`, 'Unix time of the last agent tick, in seconds.');
  const lastChange = r.gauge(`${P}update_agent_latest_state_change_timestamp`, 'Unix time of the last agent state change, in seconds.');
  const pendingSince = r.gauge(`${P}update_agent_pending_update_since_timestamp`, 'Unix time since which an update has been offered but not booted, in seconds (0: none).');
  const enabled = r.gauge(`${P}update_agent_updates_enabled`, 'Whether auto-updates logic is enabled (updates.enabled).');
  const downgrade = r.gauge(`${P}update_agent_updates_allow_downgrade`, 'Whether downgrades are allowed (updates.allow_downgrade).');
  const activeUsers = r.gauge(`${P}update_agent_finalization_detected_active_users`, 'Interactive user sessions seen at the last finalization check.');
  const finAttempts = r.counter(`${P}update_agent_finalization_attempts_total`, 'Ticks that tried to finalize a staged update.');
  const finSuccesses = r.counter(`${P}update_agent_finalization_successes_total`, 'Successful finalizations of a staged update.');
  const finBlocked = r.counter(`${P}update_agent_finalization_blocked_total`, 'Finalizations held back for reasons other than the strategy.', ['reason']);
  const postponed = r.counter(`${P}update_agent_postponed_finalizations_total`, 'Finalizations postponed because of interactive user sessions.');
  const abandoned = r.counter(`${P}update_agent_abandoned_releases_total`, 'Releases abandoned after repeated stage failures.');
  const refused = r.counter(`${P}update_agent_refused_releases_total`, 'Releases the backend refused for their signature or content, by reason.', ['reason']);
  const nodes = r.gauge(`${P}cincinnati_graph_nodes`, 'Nodes in the last update graph.');
  const edges = r.gauge(`${P}cincinnati_graph_edges`, 'Edges in the last update graph.');
  const deadend = r.gauge(`${P}cincinnati_booted_release_is_deadend`, 'Whether the booted release is a dead-end.');
  const ignored = r.gauge(`${P}cincinnati_ignored_update_targets`, 'Update targets ignored in the last check (denylisted or abandoned).');
  const checks = r.counter(`${P}cincinnati_update_checks_total`, 'Update graph checks.');
  const checkErrors = r.counter(`${P}cincinnati_update_checks_errors_total`, 'Failed update graph checks, by error kind.', ['kind']);
  const mode = r.gauge(`${P}updates_strategy_mode`, 'Active update strategy (always 1).', ['strategy'], null);
  const schedule = r.gauge(`${P}updates_strategy_periodic_schedule_length_seconds`, 'Coalesced length of the weekly maintenance windows, in seconds.', [], null);
  const canFinalize = r.counter(`${P}updates_strategy_can_finalize_responses_total`, 'Strategy answers to "may we finalize now?".', ['response']);
  const strategyErrors = r.counter(`${P}updates_strategy_errors_total`, 'Strategy failures (each means: do not reboot), by error kind.', ['kind']);
  const flRequests = r.counter(`${P}strategy_fleet_lock_requests_total`, 'FleetLock requests, by API.', ['api']);
  const flErrors = r.counter(`${P}strategy_fleet_lock_errors_total`, 'Failed FleetLock requests, by API and error kind.', ['api', 'kind']);
  const deployAttempts = r.counter(`${P}rpm_ostree_deploy_attempts_total`, 'Stage (deploy/rebase) calls to the rpm-ostree API.');
  const deployFailures = r.counter(`${P}rpm_ostree_deploy_failures_total`, 'Failed stage calls.');
  const driverFailures = r.counter(`${P}rpm_ostree_register_driver_failures_total`, 'Failed registrations as the update driver.');
  const finalizeAttempts = r.counter(`${P}rpm_ostree_finalize_attempts_total`, 'Finalize calls to the rpm-ostree API.');
  const finalizeFailures = r.counter(`${P}rpm_ostree_finalize_failures_total`, 'Failed finalize calls.');
  const statusAttempts = r.counter(`${P}rpm_ostree_status_attempts_total`, 'Deployment status queries.');
  const statusFailures = r.counter(`${P}rpm_ostree_status_failures_total`, 'Failed deployment status queries.');
  const hFailed = r.gauge(`${P}health_failed_releases`, 'Releases recorded as failed by the boot health verdict (never staged again).');
  const hRollbacks = r.gauge(`${P}health_rollbacks`, 'Automatic rollbacks the boot health verdict requested.');
  const hManual = r.gauge(`${P}health_manual_intervention`, 'Whether the boot health verdict requires manual intervention.');
  const hLast = r.gauge(`${P}health_last_verdict`, 'The last boot health verdict (always 1).', ['verdict'], null);

  return {
    render: () => r.render(),
    identity: (i) => {
      osInfo.reset();
      osInfo.set(1, { os_version: i.osVersion, basearch: i.basearch, stream: i.stream, platform: i.platform });
      wariness.reset();
      if (i.rolloutWariness !== null) wariness.set(i.rolloutWariness);
    },
    configured: (c) => {
      enabled.set(c.updatesEnabled ? 1 : 0);
      downgrade.set(c.allowDowngrade ? 1 : 0);
      mode.reset();
      mode.set(1, { strategy: c.strategy });
      schedule.reset();
      if (c.periodicScheduleLengthMinutes !== null) schedule.set(c.periodicScheduleLengthMinutes * 60);
    },
    refreshed: (ms) => lastRefresh.set(secs(ms)),
    stateChanged: (ms) => lastChange.set(secs(ms)),
    updatePending: (ms) => pendingSince.set(ms === null ? 0 : secs(ms)),
    updateCheck: () => checks.inc(),
    updateCheckFailed: (kind) => checkErrors.inc({ kind }),
    graphSeen: (g) => {
      nodes.set(g.nodes);
      edges.set(g.edges);
    },
    ignoredTargets: (n) => ignored.set(n),
    bootedDeadend: (d) => deadend.set(d ? 1 : 0),
    canFinalize: (response) => canFinalize.inc({ response }),
    strategyError: (kind) => strategyErrors.inc({ kind }),
    fleetLockRequest: (api) => flRequests.inc({ api }),
    fleetLockError: (api, kind) => flErrors.inc({ api, kind }),
    deployAttempt: () => deployAttempts.inc(),
    deployFailure: () => deployFailures.inc(),
    registerDriverFailure: () => driverFailures.inc(),
    finalizeAttempt: () => finalizeAttempts.inc(),
    finalizeFailure: () => finalizeFailures.inc(),
    statusAttempt: () => statusAttempts.inc(),
    statusFailure: () => statusFailures.inc(),
    finalizationAttempt: () => finAttempts.inc(),
    finalizationSuccess: () => finSuccesses.inc(),
    finalizationBlocked: (reason) => finBlocked.inc({ reason }),
    postponed: () => postponed.inc(),
    activeUsers: (n) => activeUsers.set(n),
    releaseAbandoned: () => abandoned.inc(),
    releaseRefused: (reason) => refused.inc({ reason }),
    health: (h) => {
      hFailed.set(h.failedReleases);
      hRollbacks.set(h.rollbacks);
      hManual.set(h.manualIntervention ? 1 : 0);
      if (h.lastVerdict !== null) hLast.set(1, { verdict: h.lastVerdict });
    },
  };
}
