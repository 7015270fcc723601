import { AltError } from '../common/errors.js';

/**
 * A strategy could not be built from the settings (missing lock client, empty calendar, bad zone).
 * Raised at start-up, before the agent runs.
 */
export class StrategyConfigError extends AltError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('STRATEGY_CONFIG', message, { kind: 'config', ...options });
  }
}

/** A strategy failed to answer a question; the agent treats it as "do not reboot". */
export class StrategyError extends AltError {
  constructor(message: string, options: { kind?: string; cause?: unknown } = {}) {
    super('STRATEGY_FAILED', message, options);
  }
}

/** Metric-safe kind of any error thrown by a strategy or its lock client. */
export function strategyErrorKind(err: unknown): string {
  if (err instanceof AltError) return err.kind;
  if (typeof err === 'object' && err !== null && typeof (err as { kind?: unknown }).kind === 'string') {
    return (err as { kind: string }).kind;
  }
  return 'unknown';
}
