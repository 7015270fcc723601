import { AltError } from '../../common/errors.js';
import type { Deployment } from '../deployment.js';
import type { RefusalReason } from '../verification.js';

/** Every code the rpm-ostree client throws (for the docs/reference/errors.md sync test). */
export const OSTREE_CLIENT_CODES = [
  'OSTREE_BUSY',
  'OSTREE_BACKEND_GONE',
  'OSTREE_TIMEOUT',
  'OSTREE_TRANSACTION_FAILED',
  'OSTREE_BAD_REPLY',
  'OSTREE_STAGE_MISMATCH',
  'OSTREE_ACCESS_DENIED',
  'OSTREE_CALL_FAILED',
  'OSTREE_ABORTED',
  'OSTREE_NO_OS',
  'OSTREE_INVALID_ARGUMENT',
  'OSTREE_COMMIT_REFUSED',
] as const;

/** Stable codes of the rpm-ostree client's errors; `kind` is the lowercase code (metric label). */
export type OstreeClientCode = (typeof OSTREE_CLIENT_CODES)[number];

/** The D-Bus error a failure came from, when it came from one. */
export interface RemoteError {
  /** D-Bus error name. */
  readonly name: string;
  /** D-Bus error text. */
  readonly text: string;
}

/**
 * A failure of the rpm-ostree client. `kind` (e.g. `ostree_busy`, `ostree_backend_gone`,
 * `ostree_timeout`) is what the agent counts; `remote` keeps the D-Bus error when there was one.
 */
export class OstreeClientError extends AltError {
  /** The D-Bus error behind this one, if any. */
  readonly remote: RemoteError | null;

  constructor(code: OstreeClientCode, message: string, options: { cause?: unknown; remote?: RemoteError | null } = {}) {
    super(code, message, { kind: code.toLowerCase(), cause: options.cause });
    this.remote = options.remote ?? null;
  }
}

/** A D-Bus reply that does not have the shape rpm-ostree's API promises; `field` names the culprit. */
export class OstreeBadReplyError extends OstreeClientError {
  /** Path of the offending field, e.g. `Deployments[1].timestamp`. */
  readonly field: string;

  constructor(field: string, problem: string) {
    super('OSTREE_BAD_REPLY', `bad reply from the ostree backend: ${field}: ${problem}`);
    this.field = field;
  }
}

/** Which fact of the staged deployment did not match the requested release. */
export type StageMismatchField = 'missing' | 'checksum' | 'version' | 'stream';

/** After a successful stage transaction, the staged deployment is not the requested release. */
export class OstreeStageMismatchError extends OstreeClientError {
  /** What differed (`missing` = nothing staged at all). */
  readonly field: StageMismatchField;
  /** The expected value. */
  readonly expected: string | null;
  /** The value found. */
  readonly found: string | null;
  /** The staged deployment found, if any (the agent may clean it up). */
  readonly staged: Deployment | null;

  constructor(field: StageMismatchField, expected: string | null, found: string | null, staged: Deployment | null) {
    super(
      'OSTREE_STAGE_MISMATCH',
      field === 'missing'
        ? 'no staged deployment found after staging'
        : `staged deployment ${field} is '${found ?? '(none)'}', expected '${expected ?? '(none)'}'`,
    );
    this.field = field;
    this.expected = expected;
    this.found = found;
    this.staged = staged;
  }
}

/**
 * The backend refused the commit for its signature or content (unsigned, unknown key, bad or expired
 * signature, objects altered after signing): retrying cannot help until the release is re-published.
 */
export class OstreeCommitRefusedError extends OstreeClientError {
  /** Why, as the backend's (or ostree's) text says. */
  readonly reason: RefusalReason;

  constructor(reason: RefusalReason, message: string) {
    super('OSTREE_COMMIT_REFUSED', message);
    this.reason = reason;
  }
}
