// The agent's ports: narrow, domain-typed interfaces. Adapters (graph client, rpm-ostree D-Bus
// client, logind, sd_notify, Prometheus) implement them in the composition root (src/agent/main.ts).
import type { Release } from '../graph/release.js';
import type { Deployment, DeploymentSet } from '../ostree/deployment.js';

export type { Clock } from '../common/clock.js';
export type { Logger } from '../common/logger.js';
export type { StrategyPort } from '../strategies/types.js';

/** Facts the graph check needs from the agent. */
export interface GraphFacts {
  /** The booted deployment (its checksum, or image pullspec with digest, locates the node in the graph). */
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
  /**
   * Dead-end status of the booted release; null when the booted release is not in the graph, where
   * (as in Zincati) nothing is known and the notice is left as it is.
   */
  readonly deadend: DeadendStatus | null;
  /**
   * Payloads of every allowed target from the booted release (its out-edges minus the denylist),
   * so a staged release the graph no longer offers can be removed. Null (or absent) when the booted
   * release is not in the graph: nothing is known then, and nothing is removed.
   */
  readonly offered?: ReadonlySet<string> | null;
  /**
   * False when the graph has no node for the booted payload (e.g. a fresh install from an image the
   * graph does not list): no update, and the log says why. Absent means unknown (treated as found).
   */
  readonly bootedInGraph?: boolean;
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
  /**
   * Unlocks and finalizes the staged deployment `checksum`; the backend then reboots the host.
   * `alreadyUnlocked`: the deployment was unlocked by an earlier finalize whose reboot failed, so only
   * the reboot is retried (rpm-ostree's `allow-unlocked`).
   */
  finalize(checksum: string, opts?: { readonly alreadyUnlocked?: boolean }): Promise<void>;
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

/**
 * systemd notifications (sd_notify). Failures are logged by the agent, never fatal. No `READY=1`:
 * main.ts sends it before the backend first answers, long before the agent core runs.
 */
export interface Notifier {
  /** `STATUS=<text>`. */
  status(text: string): Promise<void>;
  /** `STOPPING=1`. */
  stopping(): Promise<void>;
  /** `WATCHDOG=1`, when the unit enables a watchdog. */
  watchdog?(): Promise<void>;
}

/**
 * Metrics the agent records (Zincati's set, prefix `alt_updated_`), implemented by
 * src/agent/operator/metrics.ts; the core only sees this interface.
 */
export type { AgentMetrics as Metrics, FinalizationBlockReason } from './operator/metrics.js';

/** A release that failed its boot health verdict on this node (src/health). */
export interface FailedReleaseFact {
  /** Release version. */
  readonly release: string;
  /** Its commit checksum, denylisted. */
  readonly payload: string;
  /** Why it failed. */
  readonly reason: string;
  /** True when it was rolled back automatically. */
  readonly rolledBack: boolean;
}

/** A health check that did not pass in the last verdict's run, for the operator surface. */
export interface FailedCheckFact {
  /** Check name (file name, or `unit:NAME`). */
  readonly name: string;
  /** The last lines of its output. */
  readonly outputTail: string;
}

/** What the agent reads from the health record at start. */
export interface HealthFacts {
  /** Releases that failed on this node. */
  readonly failed: readonly FailedReleaseFact[];
  /** Reason of the terminal "manual intervention required" state, or null. */
  readonly manual: string | null;
  /** The last verdict (`healthy`, `rolled_back`, ...), or null before the first health run. */
  readonly lastVerdict: string | null;
  /** Required or wanted checks of that run that did not pass (failed, timed out). */
  readonly failedChecks: readonly FailedCheckFact[];
}

/** The boot health record (src/health, docs/usage/health-checks.md) as the agent needs it. */
export interface HealthPort {
  /**
   * Releases that failed on this node (never staged again), and the reason of the terminal "manual
   * intervention required" state when this boot is unhealthy (null otherwise). Throws when the
   * record cannot be read.
   */
  facts(): Promise<HealthFacts>;
  /**
   * Arms the health trial of `staged` (booted now: `booted`) before it is finalized, so the next
   * boots judge it. Throws when the record cannot be written: then the agent does not reboot.
   */
  arm(release: string, staged: Deployment, booted: Deployment): Promise<void>;
}

/** Shows or removes the dead-end notice (MOTD) through a privileged helper. */
export interface DeadendPort {
  /** Marks the booted release as a dead-end with `reason`. */
  set(reason: string): Promise<void>;
  /** Removes the dead-end notice. */
  clear(): Promise<void>;
}

export { noopMetrics } from './operator/metrics.js';
