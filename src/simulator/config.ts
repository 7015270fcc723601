// `alt-updatectl simulate`: the operator's configuration as simulation options. The agent config
// (the drop-ins alt-updated reads, loaded by src/config) gives the strategy, the poll intervals and the periodic
// calendar; alt-fleetlockd's config (`--lock-config`, parsed by its own loader) gives the slots and
// the halt policy of the nodes' group. A flag given on the command line wins over both; every value keeps its source.
import type { LoadedSettings } from '../config/load.js';
import { FleetLockConfigError } from '../fleetlock/errors.js';
import type { ServerConfig } from '../fleetlock/server/config.js';
import type { PlanKey, SimulateArgs } from './cli.js';
import { DEFAULT_HALT_WINDOW_SECS } from './halt.js';

/** alt-fleetlockd's parsed configuration and the file it came from. */
export interface LockConfigInput {
  readonly file: string;
  readonly config: ServerConfig;
}

/** `config FILE: key[, key]` for the keys some fragment set (grouped by file), or null when none was set. */
function fromConfig(loaded: LoadedSettings, ...keys: string[]): string | null {
  const byFile = new Map<string, string[]>();
  for (const k of keys) {
    const file = loaded.origins[k];
    if (file !== undefined) byFile.set(file, [...(byFile.get(file) ?? []), k]);
  }
  return byFile.size === 0 ? null : [...byFile].map(([file, ks]) => `config ${file}: ${ks.join(', ')}`).join('; ');
}

/**
 * Fills the planning values no flag set from the configuration. Pure. Throws `FleetLockConfigError`
 * naming the file and `groups.<group>` when the lock config has no group for the nodes' `identity.group`.
 */
export function applyAgentConfig(args: SimulateArgs, loaded: LoadedSettings, lock: LockConfigInput | null): SimulateArgs {
  const { updates, identity } = loaded.settings;
  const sources: Record<PlanKey, string> = { ...args.sources };
  let options = args.options;
  if (sources.strategy === 'default') {
    options = { ...options, strategy: updates.strategy };
    sources.strategy = fromConfig(loaded, 'updates.strategy') ?? 'agent default: updates.strategy unset';
  }
  // The poll intervals: the config's, or the agent's shipped defaults (which the parser already holds).
  const timing = { ...(options.timing ?? loaded.settings.agent.timing) };
  if (sources['steady-interval-secs'] === 'default') {
    timing.steadyIntervalSecs = loaded.settings.agent.timing.steadyIntervalSecs;
    sources['steady-interval-secs'] = fromConfig(loaded, 'agent.timing.steady_interval_secs') ?? 'agent default: agent.timing.steady_interval_secs unset';
  }
  if (sources['staged-interval-secs'] === 'default') {
    timing.stagedIntervalSecs = loaded.settings.agent.timing.stagedIntervalSecs;
    sources['staged-interval-secs'] = fromConfig(loaded, 'agent.timing.staged_interval_secs') ?? 'agent default: agent.timing.staged_interval_secs unset';
  }
  options = { ...options, timing: { steadyIntervalSecs: timing.steadyIntervalSecs, stagedIntervalSecs: timing.stagedIntervalSecs } };
  // A config without windows keeps the simulator's default calendar (and says so).
  if (sources.windows === 'default' && updates.periodic.windows.length > 0) {
    options = { ...options, periodic: { timeZone: updates.periodic.timeZone, windows: updates.periodic.windows } };
    sources.windows = fromConfig(loaded, 'updates.periodic.window', 'updates.periodic.time_zone') ?? 'config';
  } else if (sources.windows === 'default') {
    sources.windows = 'default: the config has no [[updates.periodic.window]]';
  }
  if (lock !== null) {
    const group = lock.config.groups.get(identity.group);
    const named = fromConfig(loaded, 'identity.group') ?? 'the default group';
    if (group === undefined) throw new FleetLockConfigError(`${lock.file}: 'groups.${identity.group}': no such group (the nodes' identity.group, ${named})`);
    const key = (k: string): string => `lock config ${lock.file}: groups.${identity.group}.${k}`;
    if (sources.slots === 'default') {
      options = { ...options, slots: group.slots };
      sources.slots = key('slots');
    }
    // The halt policy: each of its two keys from the lock config unless its flag is given.
    const after = sources['halt-after'] === 'default' ? group.halt.afterFailures : (options.halt?.afterFailures ?? null);
    const windowSecs = sources['halt-window-secs'] === 'default' ? Math.round(group.halt.windowMs / 1000) : args.haltWindowSecs;
    if (sources['halt-after'] === 'default') sources['halt-after'] = group.halt.afterFailures === null ? `${key('halt_after_failures')} unset` : key('halt_after_failures');
    // A parsed config cannot tell an unset window from one set to the default: say both.
    if (sources['halt-window-secs'] === 'default') sources['halt-window-secs'] = `${key('halt_window_secs')}${windowSecs === DEFAULT_HALT_WINDOW_SECS ? ' (or its default)' : ''}`;
    options = { ...options, halt: after === null ? null : { afterFailures: after, windowSecs } };
    return { ...args, options, sources, haltWindowSecs: windowSecs };
  }
  return { ...args, options, sources };
}
