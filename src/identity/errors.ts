// Typed identity errors; codes are listed in docs/reference/errors.md (kept in sync by a test).
import { AltError } from '../common/errors.js';

/** Stable codes of identity errors. */
export type IdentityErrorCode =
  | 'IDENTITY_MACHINE_ID'
  | 'IDENTITY_OS_RELEASE'
  | 'IDENTITY_NOT_ALT'
  | 'IDENTITY_NO_STREAM'
  | 'IDENTITY_INVALID';

/** Every identity error code, for the docs sync test. */
export const IDENTITY_ERROR_CODES: readonly IdentityErrorCode[] = [
  'IDENTITY_MACHINE_ID',
  'IDENTITY_OS_RELEASE',
  'IDENTITY_NOT_ALT',
  'IDENTITY_NO_STREAM',
  'IDENTITY_INVALID',
];

/** The node identity cannot be determined; the message names the file or value at fault. */
export class IdentityError extends AltError {
  constructor(code: IdentityErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
