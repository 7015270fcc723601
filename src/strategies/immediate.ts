import type { StrategyFactory, StrategyPort } from './types.js';

/** `immediate`: report steady and finalize right away (user sessions still get their grace period). */
export const immediate: StrategyFactory = (): StrategyPort => ({
  label: 'immediate',
  describe: () => 'immediate',
  canFinalize: () => Promise.resolve(true),
  reportSteady: () => Promise.resolve(true),
});
