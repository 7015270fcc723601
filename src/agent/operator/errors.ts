import { AltError } from '../../common/errors.js';

/** Failure of an operator-surface adapter (notify, metrics, sessions, D-Bus service). */
export class OperatorError extends AltError {}

/** The metrics socket or TCP listener could not be set up. Code `OPERATOR_METRICS_LISTEN`. */
export class MetricsListenError extends OperatorError {
  constructor(message: string, cause?: unknown) {
    super('OPERATOR_METRICS_LISTEN', message, { kind: 'metrics_listen', cause });
  }
}

/** logind could not be asked, or answered something malformed. Code `OPERATOR_SESSIONS`. */
export class SessionProbeError extends OperatorError {
  constructor(message: string, cause?: unknown) {
    super('OPERATOR_SESSIONS', message, { kind: 'sessions', cause });
  }
}

/** The agent's D-Bus service could not be exported or the name not owned. Code `OPERATOR_DBUS`. */
export class DbusServiceError extends OperatorError {
  constructor(message: string, cause?: unknown) {
    super('OPERATOR_DBUS', message, { kind: 'dbus', cause });
  }
}

/** A client call to `org.altlinux.Updated1` failed. Code `OPERATOR_DBUS_CLIENT`; `kind` says why. */
export class DbusClientError extends OperatorError {
  constructor(kind: 'no_bus' | 'not_running' | 'access_denied' | 'failed' | 'bad_reply', message: string, cause?: unknown) {
    super('OPERATOR_DBUS_CLIENT', message, { kind, cause });
  }
}

/** Every code this capability throws (for the docs/reference/errors.md sync test). */
export const OPERATOR_ERROR_CODES = ['OPERATOR_METRICS_LISTEN', 'OPERATOR_SESSIONS', 'OPERATOR_DBUS', 'OPERATOR_DBUS_CLIENT'] as const;
