import type { Release } from '../graph/release.js';
import type { StagedWait } from './state.js';

/** What one tick observed; the transition function turns (state, event) into the next state. */
export type AgentEvent =
  | { readonly type: 'init_failed' }
  | { readonly type: 'initialized' }
  | { readonly type: 'steady_report_failed' }
  | { readonly type: 'steady_reported' }
  | { readonly type: 'update_check_failed' }
  | { readonly type: 'no_update'; readonly checkedAtMs: number }
  | { readonly type: 'update_found'; readonly release: Release }
  | { readonly type: 'stage_failed' }
  | { readonly type: 'update_abandoned'; readonly checkedAtMs: number }
  | { readonly type: 'update_staged' }
  | { readonly type: 'newer_update_found'; readonly release: Release }
  | { readonly type: 'staged_deployment_lost' }
  /** The graph no longer offers the staged release; its deployment was removed. */
  | { readonly type: 'staged_withdrawn'; readonly checkedAtMs: number }
  | { readonly type: 'finalization_denied' }
  | { readonly type: 'finalization_blocked'; readonly reason: Exclude<StagedWait, 'nothing' | 'strategy' | 'active_sessions'> }
  | { readonly type: 'reboot_postponed' }
  | { readonly type: 'update_finalized' }
  /** Nothing more to do; `localImage`: the booted image was built on the host (its reference). */
  | { readonly type: 'end'; readonly localImage?: string }
  | { readonly type: 'idle' };

/** Event type labels. */
export type EventType = AgentEvent['type'];
