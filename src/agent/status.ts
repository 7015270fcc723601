// systemd STATUS= texts per state, in Zincati's words (rpm-ostree shows them as "DriverState").
import { assertNever } from '../common/errors.js';
import type { AgentState } from './state.js';

/** Formats an instant as Zincati does: `Fri 2026-11-27 09:40:00 UTC`. */
export function formatUtc(ms: number): string {
  const d = new Date(ms);
  const day = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'][d.getUTCDay()] ?? '';
  return `${day} ${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 19)} UTC`;
}

/**
 * The STATUS text while the process waits for the backend's first answer, before the state machine
 * runs (READY=1 is already sent then, so a slow backend never fails the unit's start).
 */
export function backendWaitText(failedAttempts: number): string {
  const base = 'waiting for the ostree backend (org.projectatomic.rpmostree1, alt-ostreed) to answer';
  return failedAttempts === 0 ? base : `${base} (failed attempts: ${failedAttempts})`;
}

/**
 * The STATUS text for `state`. `nowMs` is when the text is produced; it only matters for states
 * that describe a past instant, which never lies in the future of `nowMs`.
 */
export function statusText(state: AgentState, nowMs: number, opts: { updatesEnabled?: boolean } = {}): string {
  switch (state.kind) {
    case 'start':
      return state.initFailures > 0 ? `initializing (failed attempts: ${state.initFailures})` : 'initializing';
    case 'initialized':
      return opts.updatesEnabled === false
        ? 'initialization complete, auto-updates logic disabled by configuration'
        : 'initialization complete, auto-updates logic enabled';
    case 'reported_steady':
      return 'periodically polling for updates';
    case 'no_new_update':
      return `periodically polling for updates (last checked ${formatUtc(Math.min(state.checkedAtMs, nowMs))})`;
    case 'update_available':
      return state.failedAttempts === 0
        ? `found update on remote: ${state.release.version}`
        : `trying to stage ${state.release.version} (failed attempts: ${state.failedAttempts})`;
    case 'update_staged': {
      const v = state.release.version;
      switch (state.waiting) {
        case 'nothing':
          return `update staged: ${v}`;
        case 'strategy':
          return `update staged: ${v}; reboot pending due to update strategy`;
        case 'active_sessions':
          return `update staged: ${v}; reboot delayed due to active user sessions`;
        case 'block_inhibitor':
          return `update staged: ${v}; reboot delayed by a shutdown block inhibitor`;
        case 'session_check_failed':
          return `update staged: ${v}; reboot delayed, user sessions could not be checked`;
        case 'finalize_failed':
          return `update staged: ${v}; finalization failed, retrying`;
        case 'backend_unavailable':
          return `update staged: ${v}; reboot delayed, deployments could not be queried`;
        default:
          return assertNever('staged wait', state.waiting);
      }
    }
    case 'update_finalized':
      return `update finalized: ${state.release.version}`;
    case 'end':
      if (state.localImage !== undefined) return `booted from a locally built image ${state.localImage}; updates are left to its local tooling (APM)`;
      return state.release === null
        ? 'auto-updates logic disabled by configuration'
        : `update applied, waiting for reboot: ${state.release.version}`;
    default:
      return assertNever('agent state', state);
  }
}
