// The ONE transition function of the agent. Pure: (state, event) -> state. Every allowed edge is
// listed in ALLOWED_EDGES (kept in sync with docs/development/agent-states.dot by a unit test).
import { AltError, assertNever } from '../common/errors.js';
import type { AgentEvent, EventType } from './events.js';
import { MAX_POSTPONEMENTS, type AgentState, type StateKind } from './state.js';

/** An event that the current state does not accept: a bug in the tick code, never user input. */
export class IllegalTransitionError extends AltError {
  /** The state kind the event arrived in. */
  readonly from: StateKind;
  /** The rejected event type. */
  readonly event: EventType;

  constructor(from: StateKind, event: EventType) {
    super('AGENT_ILLEGAL_TRANSITION', `illegal agent transition: event '${event}' in state '${from}'`, {
      kind: 'illegal_transition',
    });
    this.from = from;
    this.event = event;
  }
}

/** One allowed edge of the state machine. */
export interface Edge {
  /** Source state kind. */
  readonly from: StateKind;
  /** Event type. */
  readonly event: EventType;
  /** Target state kind. */
  readonly to: StateKind;
}

/** Every allowed (from, event, to) edge. */
export const ALLOWED_EDGES: readonly Edge[] = [
  { from: 'start', event: 'init_failed', to: 'start' },
  { from: 'start', event: 'initialized', to: 'initialized' },
  { from: 'initialized', event: 'steady_report_failed', to: 'initialized' },
  { from: 'initialized', event: 'steady_reported', to: 'reported_steady' },
  // coreos/zincati#239: with updates disabled, steady is still reported (slot released), then end;
  // likewise on a host booted from a locally built image (left to APM).
  { from: 'initialized', event: 'end', to: 'end' },
  { from: 'reported_steady', event: 'update_check_failed', to: 'reported_steady' },
  { from: 'reported_steady', event: 'no_update', to: 'no_new_update' },
  { from: 'reported_steady', event: 'update_found', to: 'update_available' },
  { from: 'no_new_update', event: 'update_check_failed', to: 'no_new_update' },
  { from: 'no_new_update', event: 'no_update', to: 'no_new_update' },
  { from: 'no_new_update', event: 'update_found', to: 'update_available' },
  { from: 'update_available', event: 'stage_failed', to: 'update_available' },
  { from: 'update_available', event: 'update_abandoned', to: 'no_new_update' },
  { from: 'update_available', event: 'update_staged', to: 'update_staged' },
  { from: 'update_staged', event: 'finalization_denied', to: 'update_staged' },
  { from: 'update_staged', event: 'finalization_blocked', to: 'update_staged' },
  { from: 'update_staged', event: 'reboot_postponed', to: 'update_staged' },
  // coreos/zincati#928: a newer release replaces the staged one.
  { from: 'update_staged', event: 'newer_update_found', to: 'update_available' },
  // The staged deployment vanished (cleaned up behind our back, backend restarted): stage again,
  // at once the first time, with a backoff while it keeps vanishing (timing.ts restageBackoffSecs).
  { from: 'update_staged', event: 'staged_deployment_lost', to: 'update_available' },
  // The graph withdrew the staged release: its deployment was removed; look for updates again.
  { from: 'update_staged', event: 'staged_withdrawn', to: 'no_new_update' },
  { from: 'update_staged', event: 'update_finalized', to: 'update_finalized' },
  { from: 'update_finalized', event: 'end', to: 'end' },
  { from: 'end', event: 'idle', to: 'end' },
];

function illegal(state: AgentState, event: AgentEvent): never {
  throw new IllegalTransitionError(state.kind, event.type);
}

/** Computes the next state; throws `IllegalTransitionError` for an edge not in `ALLOWED_EDGES`. */
export function transition(state: AgentState, event: AgentEvent): AgentState {
  switch (state.kind) {
    case 'start':
      if (event.type === 'init_failed') return { kind: 'start', initFailures: state.initFailures + 1 };
      if (event.type === 'initialized') return { kind: 'initialized' };
      return illegal(state, event);
    case 'initialized':
      if (event.type === 'steady_report_failed') return state;
      if (event.type === 'steady_reported') return { kind: 'reported_steady' };
      if (event.type === 'end') return { kind: 'end', release: null, ...(event.localImage !== undefined ? { localImage: event.localImage } : {}) };
      return illegal(state, event);
    case 'reported_steady':
    case 'no_new_update':
      if (event.type === 'update_check_failed') return state;
      if (event.type === 'no_update') return { kind: 'no_new_update', checkedAtMs: event.checkedAtMs };
      if (event.type === 'update_found') return { kind: 'update_available', release: event.release, failedAttempts: 0, stagedLosses: 0 };
      return illegal(state, event);
    case 'update_available':
      if (event.type === 'stage_failed') return { ...state, failedAttempts: state.failedAttempts + 1 };
      if (event.type === 'update_abandoned') return { kind: 'no_new_update', checkedAtMs: event.checkedAtMs };
      if (event.type === 'update_staged') {
        return {
          kind: 'update_staged',
          release: state.release,
          postponementsLeft: MAX_POSTPONEMENTS,
          waiting: 'nothing',
          stagedLosses: state.stagedLosses,
        };
      }
      return illegal(state, event);
    case 'update_staged': {
      // Every staged tick that got past the deployments query saw the deployment still there (it
      // returns staged_deployment_lost otherwise): the re-stage backoff starts over.
      const seen = { ...state, stagedLosses: 0 };
      switch (event.type) {
        case 'finalization_denied':
          return { ...seen, postponementsLeft: MAX_POSTPONEMENTS, waiting: 'strategy' };
        case 'finalization_blocked':
          return { ...(event.reason === 'backend_unavailable' ? state : seen), waiting: event.reason };
        case 'reboot_postponed':
          return { ...seen, postponementsLeft: Math.max(0, state.postponementsLeft - 1), waiting: 'active_sessions' };
        case 'newer_update_found':
          return { kind: 'update_available', release: event.release, failedAttempts: 0, stagedLosses: 0 };
        case 'staged_deployment_lost':
          return { kind: 'update_available', release: state.release, failedAttempts: 0, stagedLosses: state.stagedLosses + 1 };
        case 'staged_withdrawn':
          return { kind: 'no_new_update', checkedAtMs: event.checkedAtMs };
        case 'update_finalized':
          return { kind: 'update_finalized', release: state.release };
        default:
          return illegal(state, event);
      }
    }
    case 'update_finalized':
      if (event.type === 'end') return { kind: 'end', release: state.release };
      return illegal(state, event);
    case 'end':
      if (event.type === 'idle') return state;
      return illegal(state, event);
    default:
      return assertNever('agent state', state);
  }
}
