// `--halt-after N [--halt-window-secs S]`: alt-fleetlockd's halt policy for the simulated group
// (`halt_after_failures`, `halt_window_secs`), so a plan shows the group halting when too many
// updates fail, and how many nodes that leaves on the old release. Pure parts only: the TOML the
// lock server is configured with, and which nodes a halted group holds back.
import type { AgentState } from '../agent/state.js';

/** The group's halt policy. */
export interface SimHaltPolicy {
  /** Halt after this many failed or rolled-back updates within the window. */
  readonly afterFailures: number;
  /** The window failures are counted over, in seconds (alt-fleetlockd's default: one day). */
  readonly windowSecs: number;
}

/** alt-fleetlockd's default `halt_window_secs`. */
export const DEFAULT_HALT_WINDOW_SECS = 86_400;

/** The `[groups.NAME]` lines of a policy (nothing for none: the group never halts). */
export function haltToml(policy: SimHaltPolicy | null): string {
  return policy === null ? '' : `halt_after_failures = ${policy.afterFailures}\nhalt_window_secs = ${policy.windowSecs}\n`;
}

/** The halt as alt-fleetlockd's admin API reports it. */
export interface GroupHalt {
  readonly sinceMs: number;
  readonly reason: string;
}

// Where a node of a halted group waits: refused its slot (staged or staging), or steady and not yet
// offered the release. A node in any other state is still on its way (booting, finalizing).
const WAITING = new Set<AgentState['kind']>(['update_staged', 'update_available', 'no_new_update', 'reported_steady']);

/** Whether a node is held on the previous release by the halted group: up, on `previous`, its update not failed, waiting. */
export function heldByHalt(n: { readonly down: boolean; readonly state: AgentState['kind'] | null; readonly booted: string; readonly failedNewest: boolean }, previous: string): boolean {
  return !n.down && n.state !== null && WAITING.has(n.state) && n.booted === previous && !n.failedNewest;
}
