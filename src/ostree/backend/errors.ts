import { AltError } from '../../common/errors.js';

/** An `ostree` (or helper) command failed; `stderr` holds its last error line. */
export class OstreeCommandError extends AltError {
  /** Exit code, or null when the process was killed by a signal. */
  readonly exitCode: number | null;
  /** Trimmed standard error of the command. */
  readonly stderr: string;

  constructor(argv: readonly string[], exitCode: number | null, stderr: string, cause?: unknown) {
    const last = stderr.trim().split('\n').filter(Boolean).pop() ?? `exit code ${String(exitCode)}`;
    super('OSTREED_COMMAND_FAILED', `${argv.slice(0, 3).join(' ')}: ${last.replace(/^error: /, '')}`, {
      kind: 'command_failed',
      cause,
    });
    this.exitCode = exitCode;
    this.stderr = stderr.trim();
  }
}

/** Output of an `ostree` command could not be understood. */
export class OstreeParseError extends AltError {
  constructor(what: string, detail: string) {
    super('OSTREED_PARSE', `cannot parse ${what}: ${detail}`, { kind: 'parse' });
  }
}

/** The backend configuration file is invalid; the message names the file and key. */
export class BackendConfigError extends AltError {
  constructor(message: string, cause?: unknown) {
    super('OSTREED_CONFIG', message, { kind: 'config', cause });
  }
}

/**
 * A transaction's work failed with a user-facing message (reported as `Finished(false, message)`).
 * Messages copy rpm-ostree's texts where clients match on them.
 */
export class TransactionFailure extends AltError {
  constructor(message: string, cause?: unknown) {
    super('OSTREED_TRANSACTION_FAILED', message, { kind: 'transaction_failed', cause });
  }
}
