// What a tick works with: the injected dependencies (ports) and the process-lifetime memory that is
// not part of the state machine (Zincati keeps the same in its actor: denylist, dead-end tri-state).
import { access } from 'node:fs/promises';
import type { Deployment } from '../ostree/deployment.js';
import type { Settings } from '../config/types.js';
import { AbandonList } from '../graph/abandon.js';
import type {
  Clock,
  DeadendPort,
  FailedCheckFact,
  GraphPort,
  HealthPort,
  Logger,
  Metrics,
  Notifier,
  OstreePort,
  SessionPort,
  StrategyPort,
} from './ports.js';

/** Default path of the file whose existence skips the interactive-session grace period. */
export const DEFAULT_OVERRIDE_INTERACTIVE_CHECK = '/run/alt-updated/override-interactive-check';

/** Everything the agent core needs, injected by the composition root. */
export interface AgentDeps {
  /** Validated settings. */
  readonly settings: Settings;
  /** Time source; every sleep goes through it. */
  readonly clock: Clock;
  /** Uniform random in [0, 1), for jitter. */
  readonly random: () => number;
  /** Logger; the agent makes a child `{ component: 'agent' }`. */
  readonly logger: Logger;
  /** Update graph. */
  readonly graph: GraphPort;
  /** Deployments backend. */
  readonly ostree: OstreePort;
  /** The configured strategy. */
  readonly strategy: StrategyPort;
  /** logind sessions, inhibitors and tty warnings. */
  readonly sessions: SessionPort;
  /** sd_notify. */
  readonly notifier: Notifier;
  /** Metrics sink. */
  readonly metrics: Metrics;
  /** Dead-end notice. */
  readonly deadend: DeadendPort;
  /** The boot health record (arming at finalize, failed releases); absent when `health.enabled` is false. */
  readonly health?: HealthPort;
  /** Override file that skips the session grace period. @default DEFAULT_OVERRIDE_INTERACTIVE_CHECK */
  readonly overrideInteractiveCheckPath?: string;
  /** Existence check for the override file (tests inject one). @default fs.access */
  readonly fileExists?: (path: string) => Promise<boolean>;
}

/** Process-lifetime memory of the agent (lost on restart by design: everything is recomputed). */
export class AgentMemory {
  /** Payloads never to be targets: non-staged deployments at start, wrong-stream releases. */
  readonly denylist = new Set<string>();
  /** Releases abandoned after repeated stage failures, skipped for `updates.abandonSecs`. */
  abandoned = new AbandonList(0);
  /** Last dead-end status applied through the DeadendPort; null = unknown (first check applies). */
  deadend: boolean | null = null;
  /** The booted deployment, from the start tick. */
  booted: Deployment | null = null;
  /** When the graph was last checked successfully (ms), or null. */
  lastCheckMs: number | null = null;
  /**
   * The running tick serves an operator's "update now" (bypass the strategy and the users' grace
   * period). Set by the loop for that one tick only, so a request never outlives it.
   */
  updateNowRequested = false;
  /** Why the last `update_staged` tick did not finalize (one line, for the "update now" reply); null if it did. */
  notFinalizedBecause: string | null = null;
  /** Payload of a staged release the graph withdrew whose removal is still pending; null when none. */
  withdrawn: string | null = null;
  /** This boot's health verdict and the checks that did not pass, read at start (null: health disabled or never ran). */
  health: { readonly verdict: string | null; readonly failedChecks: readonly FailedCheckFact[] } | null = null;
}

/** Default file-existence check. */
export async function fileExistsOnDisk(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
