import type { Logger } from '../common/logger.js';
import type { Settings, StrategyLabel } from '../config/types.js';

export type { StrategyLabel } from '../config/types.js';

/**
 * An update strategy: decides when the agent may report steady state and when it may finalize
 * (reboot). Errors thrown from these methods mean "no" (the agent logs and counts them by `kind`).
 */
export interface StrategyPort {
  /** The configured label. */
  readonly label: StrategyLabel;
  /** One human line for logs and status, e.g. `periodic, total schedule length 120 minutes; ...`. */
  describe(nowMs: number): string;
  /** May the staged update be finalized (the host rebooted) at `nowMs`? */
  canFinalize(nowMs: number, signal?: AbortSignal): Promise<boolean>;
  /** Reports steady state (releases any reboot slot held from before the last boot). */
  reportSteady(signal?: AbortSignal): Promise<boolean>;
  /** Gives back any reboot slot this process holds (e.g. when a staged update is replaced). */
  releaseIfHeld?(signal?: AbortSignal): Promise<void>;
  /**
   * The next instant after `nowMs` at which this strategy's answer may change by itself (a window
   * opening or closing), so the agent can tick exactly then; null when it never does.
   */
  nextChangeMs?(nowMs: number): number | null;
}

/** Identity of this node towards a FleetLock server. */
export interface LockClientParams {
  /** Node id (lowercase hex). */
  readonly id: string;
  /** Reboot group. */
  readonly group: string;
}

/**
 * The FleetLock client as the strategy sees it (implemented by src/fleetlock/client.ts). Both calls
 * resolve on 2xx and throw a typed error carrying a metric-safe `kind` otherwise.
 */
export interface LockPort {
  /** `POST v1/pre-reboot`: take (or confirm) a reboot slot. */
  preReboot(params: LockClientParams, signal?: AbortSignal): Promise<void>;
  /** `POST v1/steady-state`: release any slot held by this node. */
  steadyState(params: LockClientParams, signal?: AbortSignal): Promise<void>;
}

/** What a strategy factory receives. */
export interface StrategyDeps {
  /** Validated settings. */
  readonly settings: Settings;
  /** Logger (the factory makes a child with its component name). */
  readonly logger: Logger;
  /** FleetLock client; required by `fleet_lock`, null otherwise. */
  readonly lock: LockPort | null;
  /** Node identity towards the lock server. */
  readonly lockParams: LockClientParams;
  /** Resolves `localtime` to a zone name; defaults to the process zone. */
  readonly localZone?: () => string;
  /**
   * Whether this boot is healthy enough to give the reboot slot back: true when its health verdict
   * is green or health checks are disabled, false while the verdict is pending or red (the slot
   * then stays held, so a bad update does not spread). Throwing counts as "not yet".
   * `fleet_lock` asks it before every steady-state release. @default always true (today's behaviour)
   */
  readonly healthy?: () => Promise<boolean>;
}

/** Builds a strategy; throws `StrategyConfigError` when the settings do not allow it. */
export type StrategyFactory = (deps: StrategyDeps) => StrategyPort;
