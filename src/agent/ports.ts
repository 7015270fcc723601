// The agent's ports: narrow, domain-typed interfaces. Adapters (graph client, rpm-ostree D-Bus
// client, logind, sd_notify, Prometheus) implement them in the composition root (src/agent/main.ts).
import type { Release } from '../graph/release.js';
import type { Deployment, DeploymentSet } from '../ostree/deployment.js';

export type { Clock } from '../common/clock.js';
export type { Logger } from '../common/logger.js';
export type { StrategyPort } from '../strategies/types.js';

/** Facts the graph check needs from the agent. */
export interface GraphFacts {
  /** The booted deployment (its checksum locates the node in the graph). */
  readonly booted: Deployment;
  /** Payloads (checksums) never to be chosen as a target: rollback protection + abandoned releases. */
  readonly denylist: ReadonlySet<string>;
  /** Whether a target older than the booted release may be chosen. */
  readonly allowDowngrade: boolean;
}

/** Dead-end status of the booted release, as the graph reports it. */
export interface DeadendStatus {
  /** True when the booted release is marked as a dead-end. */
  readonly isDeadend: boolean;
  /** The server's reason, when it gives one. */
  readonly reason: string | null;
}

/** Answer of one graph check. */
export interface GraphCheck {
  /** The best allowed target, or null when there is nothing to update to. */
  readonly target: Release | null;
  /** Dead-end status of the booted release. */
  readonly deadend: DeadendStatus;
}

/** The update graph (Cincinnati) client as the agent needs it. Throws a typed error with `kind`. */
export interface GraphPort {
  /** Fetches the graph and selects the update target for `facts`. */
  check(facts: GraphFacts, signal?: AbortSignal): Promise<GraphCheck>;
}

/** The ostree/rpm-ostree backend. Every method throws a typed error on failure. */
export interface OstreePort {
  /** Current deployments. */
  status(): Promise<DeploymentSet>;
  /** Registers this agent as the update driver. */
  registerDriver(): Promise<void>;
  /** Stages `release` with finalization locked; resolves to the staged deployment. */
  stage(release: Release, opts: { allowDowngrade: boolean }, signal?: AbortSignal): Promise<Deployment>;
  /** Unlocks and finalizes the staged deployment `checksum`; the backend then reboots the host. */
  finalize(checksum: string): Promise<void>;
  /** Removes the pending (staged) deployment. */
  cleanupPending(): Promise<void>;
}

/** One logged-in interactive session (a session with a tty). */
export interface InteractiveSession {
  /** User name. */
  readonly user: string;
  /** tty name (e.g. `pts/0`) or null. */
  readonly tty: string | null;
}

/** logind facts and tty warnings (implemented over D-Bus by src/agent/operator). */
export interface SessionPort {
  /** Interactive sessions (those with a tty). */
  interactiveSessions(): Promise<InteractiveSession[]>;
  /** Descriptions of active `block` inhibitors on `shutdown`; non-empty means "do not reboot now". */
  blockInhibitors(): Promise<string[]>;
  /** Writes a warning to every interactive session's tty. */
  warn(message: string): Promise<void>;
}

/** systemd notifications (sd_notify). Failures are logged by the agent, never fatal. */
export interface Notifier {
  /** `READY=1`. */
  ready(): Promise<void>;
  /** `STATUS=<text>`. */
  status(text: string): Promise<void>;
  /** `STOPPING=1`. */
  stopping(): Promise<void>;
  /** `WATCHDOG=1`, when the unit enables a watchdog. */
  watchdog?(): Promise<void>;
}

/** Why a finalization was held back by something other than the strategy. */
export type FinalizationBlockReason = 'active_usersessions' | 'block_inhibitor' | 'session_check_failed';

/**
 * Metrics the agent records (Zincati's set, prefix `alt_updated_`; implemented in src/agent/operator).
 * Each method names the series it feeds.
 */
export interface Metrics {
  /** `alt_updated_update_agent_last_refresh_timestamp` (seconds) at the start of every tick. */
  refreshed(nowMs: number): void;
  /** `alt_updated_update_agent_latest_state_change_timestamp` and the `..._state{state}` gauge. */
  stateChanged(state: string, nowMs: number): void;
  /** `alt_updated_update_agent_updates_enabled`, `..._updates_allow_downgrade` and `alt_updated_updates_strategy_mode{strategy}`. */
  settings(info: { updatesEnabled: boolean; allowDowngrade: boolean; strategy: string }): void;
  /** `alt_updated_cincinnati_update_checks_total`. */
  updateCheck(): void;
  /** `alt_updated_cincinnati_update_checks_errors_total{kind}`. */
  updateCheckError(kind: string): void;
  /** `alt_updated_cincinnati_booted_release_is_deadend`. */
  deadend(isDeadend: boolean): void;
  /** `alt_updated_rpm_ostree_register_driver_failures_total`. */
  registerDriverFailure(): void;
  /** `alt_updated_rpm_ostree_deploy_attempts_total`. */
  stageAttempt(): void;
  /** `alt_updated_rpm_ostree_deploy_failures_total`. */
  stageFailure(): void;
  /** `alt_updated_update_agent_abandoned_updates_total` (ours). */
  updateAbandoned(): void;
  /** `alt_updated_update_agent_finalization_attempts`. */
  finalizeAttempt(): void;
  /** `alt_updated_rpm_ostree_finalize_failures_total`. */
  finalizeFailure(): void;
  /** `alt_updated_update_agent_finalization_successes`. */
  finalizeSuccess(): void;
  /** `alt_updated_update_agent_finalization_blocked_count{reason}`. */
  finalizationBlocked(reason: FinalizationBlockReason): void;
  /** `alt_updated_update_agent_postponed_finalizations_total`. */
  rebootPostponed(): void;
  /** `alt_updated_update_agent_finalization_detected_active_users`. */
  activeUsers(count: number): void;
  /** `alt_updated_updates_strategy_can_finalize_responses{response}`. */
  strategyResponse(response: 'allow' | 'deny' | 'error'): void;
  /** `alt_updated_updates_strategy_errors_total{op,kind}` (ours: `op` = `can_finalize` | `report_steady`). */
  strategyError(op: 'can_finalize' | 'report_steady', kind: string): void;
}

/** Shows or removes the dead-end notice (MOTD) through a privileged helper. */
export interface DeadendPort {
  /** Marks the booted release as a dead-end with `reason`. */
  set(reason: string): Promise<void>;
  /** Removes the dead-end notice. */
  clear(): Promise<void>;
}

/** Metrics that record nothing, for callers that do not export metrics. */
export function noMetrics(): Metrics {
  const nop = (): void => undefined;
  return {
    refreshed: nop,
    stateChanged: nop,
    settings: nop,
    updateCheck: nop,
    updateCheckError: nop,
    deadend: nop,
    registerDriverFailure: nop,
    stageAttempt: nop,
    stageFailure: nop,
    updateAbandoned: nop,
    finalizeAttempt: nop,
    finalizeFailure: nop,
    finalizeSuccess: nop,
    finalizationBlocked: nop,
    rebootPostponed: nop,
    activeUsers: nop,
    strategyResponse: nop,
    strategyError: nop,
  };
}
