import { fleetLock } from './fleet-lock.js';
import { immediate } from './immediate.js';
import { periodic } from './periodic/strategy.js';
import type { StrategyDeps, StrategyFactory, StrategyLabel, StrategyPort } from './types.js';

/** Every strategy by label; a missing or extra label fails to compile. */
export const STRATEGIES = {
  immediate,
  periodic,
  fleet_lock: fleetLock,
} as const satisfies Record<StrategyLabel, StrategyFactory>;

/** Builds the configured strategy (`settings.updates.strategy`). Throws `StrategyConfigError`. */
export function createStrategy(deps: StrategyDeps): StrategyPort {
  return STRATEGIES[deps.settings.updates.strategy](deps);
}
