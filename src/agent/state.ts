// Agent state: a discriminated union, each state's data inside its variant (Zincati's FSM plus the
// fields our fixes need: init retry counter, last check time, why a staged update waits, how often
// the staged deployment was lost).
import type { Release } from '../graph/release.js';

/** Finalization attempts are postponed at most this many times for logged-in users (Zincati: 10). */
export const MAX_POSTPONEMENTS = 10;

/** Why a staged update is not finalized yet (drives the status text). */
export type StagedWait =
  | 'nothing'
  | 'strategy'
  | 'active_sessions'
  | 'block_inhibitor'
  | 'session_check_failed'
  | 'finalize_failed'
  | 'backend_unavailable';

/** The agent state machine's states. */
export type AgentState =
  | { readonly kind: 'start'; readonly initFailures: number }
  | { readonly kind: 'initialized' }
  | { readonly kind: 'reported_steady' }
  | { readonly kind: 'no_new_update'; readonly checkedAtMs: number }
  | {
      readonly kind: 'update_available';
      readonly release: Release;
      readonly failedAttempts: number;
      /** Consecutive times the staged deployment of `release` vanished (drives the re-stage backoff). */
      readonly stagedLosses: number;
    }
  | {
      readonly kind: 'update_staged';
      readonly release: Release;
      readonly postponementsLeft: number;
      readonly waiting: StagedWait;
      /** Carried from `update_available`; reset once a staged tick saw the deployment still there. */
      readonly stagedLosses: number;
    }
  | { readonly kind: 'update_finalized'; readonly release: Release }
  /**
   * Terminal; `release` is the update waiting for the reboot, null when updates are disabled or the
   * host boots a locally built image (`localImage`, its reference: the host is left to APM).
   */
  | { readonly kind: 'end'; readonly release: Release | null; readonly localImage?: string };

/** State kind labels. */
export type StateKind = AgentState['kind'];

/** Every state kind, in lifecycle order. */
export const STATE_KINDS: readonly StateKind[] = [
  'start',
  'initialized',
  'reported_steady',
  'no_new_update',
  'update_available',
  'update_staged',
  'update_finalized',
  'end',
];

/** The initial state of every process (no state survives a restart). */
export const INITIAL_STATE: AgentState = { kind: 'start', initFailures: 0 };
