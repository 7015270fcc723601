// `alt-updatectl simulate`: the operator's configuration as simulation options. The agent config
// (the drop-ins alt-updated reads, loaded by src/config) gives the strategy and the periodic
// calendar; alt-fleetlockd's config (`--lock-config`, parsed by its own loader) gives the slots of
// the nodes' group. A flag given on the command line wins over both; every value keeps its source.
import type { LoadedSettings } from '../config/load.js';
import { FleetLockConfigError } from '../fleetlock/errors.js';
import type { ServerConfig } from '../fleetlock/server/config.js';
import type { PlanKey, SimulateArgs } from './cli.js';

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
  // A config without windows keeps the simulator's default calendar (and says so).
  if (sources.windows === 'default' && updates.periodic.windows.length > 0) {
    options = { ...options, periodic: { timeZone: updates.periodic.timeZone, windows: updates.periodic.windows } };
    sources.windows = fromConfig(loaded, 'updates.periodic.window', 'updates.periodic.time_zone') ?? 'config';
  } else if (sources.windows === 'default') {
    sources.windows = 'default: the config has no [[updates.periodic.window]]';
  }
  if (lock !== null && sources.slots === 'default') {
    const group = lock.config.groups.get(identity.group);
    const named = fromConfig(loaded, 'identity.group') ?? 'the default group';
    if (group === undefined) throw new FleetLockConfigError(`${lock.file}: 'groups.${identity.group}': no such group (the nodes' identity.group, ${named})`);
    options = { ...options, slots: group.slots };
    sources.slots = `lock config ${lock.file}: groups.${identity.group}.slots`;
  }
  return { ...args, options, sources };
}
