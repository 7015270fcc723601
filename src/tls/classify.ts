// Pure mapping from the error codes Node's TLS layer reports (OpenSSL verify results, Node's own
// ERR_TLS_* codes, and ERR_SSL_* for alerts the peer sent) to a TlsError that says which check
// failed. The clients keep their own error type and metric kind; the TlsError is the cause.
import { TlsError, type TlsErrorCode } from './errors.js';

type HandshakeCode = Exclude<TlsErrorCode, 'TLS_FILE_INVALID'>;

const UNTRUSTED = [
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_REJECTED',
  'INVALID_CA',
];
// Alerts a server sends when it does not accept the client certificate we presented.
const CLIENT_REJECTED = [
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED',
  'ERR_SSL_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED',
];

/** Where the failed connection went, and which keys an operator would change, for the message. */
export interface TlsContext {
  /** Config key of the extra CA file for this server, e.g. `cincinnati.ca_file`. */
  readonly caKey?: string;
  /** Config key of the client certificate for this server, if the client can present one. */
  readonly certKey?: string;
  /**
   * Whether a client certificate was presented. Without one, a `bad_certificate` or
   * `handshake_failure` alert means "a certificate is required" (older servers, e.g. Go's before
   * TLS 1.3's `certificate_required`, send those). @default true
   */
  readonly presentedCert?: boolean;
}

function describe(code: string, ctx: TlsContext): { code: HandshakeCode; text: string } | null {
  const trust = ctx.caKey ? ` (trusted: the host's CA store and ${ctx.caKey})` : " (trusted: the host's CA store)";
  if (UNTRUSTED.includes(code)) return { code: 'TLS_SERVER_UNTRUSTED', text: `the server's certificate is not signed by a trusted CA${trust}` };
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return { code: 'TLS_HOSTNAME_MISMATCH', text: "the server's certificate is not valid for the host name in the URL" };
  }
  if (code === 'CERT_HAS_EXPIRED') return { code: 'TLS_CERT_EXPIRED', text: "the server's certificate (or one in its chain) has expired" };
  if (code === 'CERT_NOT_YET_VALID') return { code: 'TLS_CERT_NOT_YET_VALID', text: "the server's certificate is not valid yet (check the clock)" };
  const noCert = ctx.presentedCert === false && (code === 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' || code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE');
  if (code === 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' || noCert) {
    const set = ctx.certKey ? ` (set ${ctx.certKey})` : '';
    return { code: 'TLS_CLIENT_CERT_REQUIRED', text: `the server requires a client certificate and none was sent${set}` };
  }
  if (CLIENT_REJECTED.includes(code)) return { code: 'TLS_CLIENT_CERT_REJECTED', text: 'the server rejected our client certificate' };
  if (code === 'ERR_SSL_SSLV3_ALERT_HANDSHAKE_FAILURE') {
    return { code: 'TLS_HANDSHAKE_FAILED', text: 'the server refused the handshake (a missing client certificate, or no common protocol or cipher)' };
  }
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code === 'EPROTO') return { code: 'TLS_HANDSHAKE_FAILED', text: 'the TLS handshake failed' };
  return null;
}

/**
 * The TLS failure behind `err` (searched along its `cause` chain), or null when `err` is not a TLS
 * failure (DNS, refused connection, timeout, HTTP error).
 */
export function tlsFailure(err: unknown, ctx: TlsContext = {}): TlsError | null {
  let cur: unknown = err;
  for (let depth = 0; typeof cur === 'object' && cur !== null && depth < 8; depth++) {
    if (cur instanceof TlsError) return cur;
    const code = (cur as { code?: unknown }).code;
    const hit = typeof code === 'string' ? describe(code, ctx) : null;
    if (hit) return new TlsError(hit.code, `TLS: ${hit.text} (${String(code)})`, { nodeCode: String(code), cause: cur });
    cur = (cur as { cause?: unknown }).cause;
  }
  return null;
}
