// Typed TLS errors. A failed handshake becomes a `TlsError` whose code says which check failed, so
// an operator reads "the server's certificate has expired" instead of a bare OpenSSL code; bad
// trust settings (a missing CA file, a key that is not a key) become `TlsFileError`s naming the
// file and the configuration key. Codes are listed in docs/reference/errors.md.
import { AltError } from '../common/errors.js';

/** Stable codes of TLS errors. */
export const TLS_ERROR_CODES = [
  'TLS_SERVER_UNTRUSTED',
  'TLS_HOSTNAME_MISMATCH',
  'TLS_CERT_EXPIRED',
  'TLS_CERT_NOT_YET_VALID',
  'TLS_CLIENT_CERT_REQUIRED',
  'TLS_CLIENT_CERT_REJECTED',
  'TLS_HANDSHAKE_FAILED',
  'TLS_FILE_INVALID',
] as const;

/** A stable TLS error code. */
export type TlsErrorCode = (typeof TLS_ERROR_CODES)[number];

/** A failed TLS handshake; `nodeCode` keeps Node's/OpenSSL's own code (e.g. `CERT_HAS_EXPIRED`). */
export class TlsError extends AltError {
  /** The code Node reported, e.g. `UNABLE_TO_VERIFY_LEAF_SIGNATURE`. */
  readonly nodeCode: string;

  constructor(code: Exclude<TlsErrorCode, 'TLS_FILE_INVALID'>, message: string, opts: { nodeCode: string; cause?: unknown }) {
    super(code, message, opts.cause === undefined ? {} : { cause: opts.cause });
    this.nodeCode = opts.nodeCode;
  }
}

/** A CA, certificate or key file named by a configuration key cannot be used. */
export class TlsFileError extends AltError {
  /** The file. */
  readonly file: string;
  /** The configuration key that names it, e.g. `updates.fleet_lock.ca_file`. */
  readonly key: string;

  constructor(key: string, file: string, problem: string, cause?: unknown) {
    super('TLS_FILE_INVALID', `${key}: '${file}': ${problem}`, cause === undefined ? {} : { cause });
    this.file = file;
    this.key = key;
  }
}
