// Finds out why a TLS server closed a connection. With TLS 1.3 the client's side of the handshake
// is done before the server has checked the client certificate, so a refusal (the server's alert)
// arrives after the HTTP client has written its request, and undici reports only "other side
// closed". One bare handshake to the same address, reading until the server speaks or closes,
// recovers the alert; it runs only on that failure path.
import { isIP } from 'node:net';
import { connect } from 'node:tls';
import { tlsFailure, type TlsContext } from './classify.js';
import type { TlsError } from './errors.js';
import { tlsConnectOptions, type ClientTls } from './trust.js';

/** True for undici's "other side closed" / "closed" socket error, the case worth a probe. */
export function isClosedSocket(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'UND_ERR_SOCKET';
}

/**
 * Handshakes with `url`'s host as `tls` would and returns the TLS failure the server reports, or
 * null when it reports none within `timeoutMs` (or `url` is not https).
 */
export function probeTls(url: URL, tls: ClientTls | undefined, ctx: TlsContext, timeoutMs = 2000): Promise<TlsError | null> {
  if (url.protocol !== 'https:') return Promise.resolve(null);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(url.port || 443),
      ...(isIP(host) === 0 ? { servername: host } : {}),
      ...tlsConnectOptions(tls),
    });
    const done = (result: TlsError | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(null), timeoutMs);
    socket.on('error', (err) => done(tlsFailure(err, ctx)));
    socket.on('close', () => done(null));
    // Read, so that an alert sent after the handshake is seen.
    socket.on('data', () => undefined);
  });
}
