// What the operator surface (D-Bus properties, `alt-updatectl status`) shows, and what it may ask.
// The agent core implements `OperatorPort`; transports only read snapshots and forward requests.
import type { StrategyLabel } from '../../config/types.js';

/** A point-in-time view of the agent, in domain terms (no D-Bus encoding). */
export interface AgentSnapshot {
  /** Agent state kind, e.g. `update_staged` (the state machine's kind names). */
  readonly state: string;
  /** Booted deployment version, null when unknown. */
  readonly bootedVersion: string | null;
  /** Booted deployment ostree checksum, null when unknown. */
  readonly bootedChecksum: string | null;
  /** Release being worked towards (found, staging or staged), null when none. */
  readonly targetVersion: string | null;
  /** Version of the staged deployment, null when none. */
  readonly stagedVersion: string | null;
  /** Time of the last successful update check, in ms since the epoch; null before the first. */
  readonly lastCheckTimeMs: number | null;
  /** Configured strategy. */
  readonly strategy: StrategyLabel;
  /** The human status line also sent as STATUS=. */
  readonly statusText: string;
  /** This boot's health verdict (`healthy`, `rolled_back`, ...); null when health checks are off or never ran. */
  readonly healthVerdict: string | null;
  /** Checks of that verdict's run that did not pass, with their output tails. */
  readonly healthFailedChecks: readonly { readonly name: string; readonly outputTail: string }[];
}

/** The agent as seen by its operators; implemented by the agent core. */
export interface OperatorPort {
  /** Current state; cheap and synchronous (read on every property access). */
  snapshot(): AgentSnapshot;
  /** Runs an update check now; resolves when that tick is done. */
  checkNow(): Promise<void>;
  /** Allows the pending reboot now (skips strategy and session wait once); rejects when nothing is staged. */
  updateNow(): Promise<void>;
}
