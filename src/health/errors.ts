// Typed errors of the health capability (docs/reference/errors.md lists every code).
import { AltError } from '../common/errors.js';

/** Every code this capability throws. */
export const HEALTH_ERROR_CODES = ['HEALTH_STATE_INVALID', 'HEALTH_STATE_IO', 'HEALTH_USAGE'] as const;

/** One of {@link HEALTH_ERROR_CODES}. */
export type HealthErrorCode = (typeof HEALTH_ERROR_CODES)[number];

/** A health failure with a stable code; the message names the file or argument. */
export class HealthError extends AltError {
  constructor(code: HealthErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
