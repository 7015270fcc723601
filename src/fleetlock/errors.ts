import { AltError } from '../common/errors.js';
import type { FleetLockApi } from './protocol.js';

/**
 * A FleetLock operation that did not succeed. `kind` is the server's error kind when it sent a metric-safe
 * `{kind, value}` body, else `generic_http_<status>` or `client_failed_request` (no response), the
 * same labels Zincati uses.
 */
export class FleetLockError extends AltError {
  /** Which operation failed. */
  readonly api: FleetLockApi | 'admin';
  /** HTTP status, or null when no response arrived. */
  readonly status: number | null;

  constructor(opts: { api: FleetLockApi | 'admin'; kind: string; status: number | null; message: string; cause?: unknown }) {
    super('FLEETLOCK_REQUEST_FAILED', opts.message, { kind: opts.kind, cause: opts.cause });
    this.api = opts.api;
    this.status = opts.status;
  }
}

/** The server configuration (file or flags) is invalid; the message names the file and key. */
export class FleetLockConfigError extends AltError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('FLEETLOCKD_CONFIG_INVALID', message, { kind: 'config_invalid', ...options });
  }
}

/**
 * The lock store failed. `FLEETLOCKD_STORE_UNAVAILABLE`: I/O or etcd unreachable (retry later);
 * `FLEETLOCKD_STORE_CORRUPT`: on-disk state cannot be trusted (refuse to serve rather than guess);
 * `FLEETLOCKD_STORE_CONFLICT`: too many concurrent compare-and-swap losses;
 * `FLEETLOCKD_STORE_AUTH`: etcd refused our user, password, token or permissions (fix the config).
 */
export class FleetLockStoreError extends AltError {
  constructor(
    code: 'FLEETLOCKD_STORE_UNAVAILABLE' | 'FLEETLOCKD_STORE_CORRUPT' | 'FLEETLOCKD_STORE_CONFLICT' | 'FLEETLOCKD_STORE_AUTH',
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(code, message, { kind: 'store_unavailable', ...options });
  }
}

/** Every error code of the FleetLock capability (docs/reference/errors.md has one row per code). */
export const FLEETLOCK_ERROR_CODES = [
  'FLEETLOCK_REQUEST_FAILED',
  'FLEETLOCKD_CONFIG_INVALID',
  'FLEETLOCKD_STORE_AUTH',
  'FLEETLOCKD_STORE_CONFLICT',
  'FLEETLOCKD_STORE_CORRUPT',
  'FLEETLOCKD_STORE_UNAVAILABLE',
] as const;
