// alt-fleetlockd's TLS material, read and checked once at start-up (src/tls): the listener's
// certificate and key, the CA its clients' certificates must chain to, and what the etcd client
// trusts, presents and logs in with. A bad file stops the start with its key and path named.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { readFile as fsReadFile } from 'node:fs/promises';
import { FleetLockConfigError } from '../errors.js';
import { loadCaFile, loadCertAndKey, loadClientTls, loadHostTrust, type ClientTls, type ReadFile } from '../../tls/trust.js';
import type { ServerConfig, StoreConfig } from './config.js';
import { sendError } from './http-util.js';

/** The listener's PEM material. */
export interface ServerTlsMaterial {
  /** Server certificate chain. */
  readonly cert: string;
  /** Server private key. */
  readonly key: string;
  /** CAs a client certificate must chain to; null = no client certificate asked for. */
  readonly clientCa: string | null;
}

/** Reads and checks `[tls]`; null for plain HTTP. Throws TlsFileError naming the key and the file. */
export async function loadServerTls(tls: ServerConfig['tls'], read: ReadFile = fsReadFile): Promise<ServerTlsMaterial | null> {
  if (tls === null) return null;
  const pair = await loadCertAndKey({ key: 'tls.cert_file', file: tls.certFile }, { key: 'tls.key_file', file: tls.keyFile }, read);
  const clientCa = tls.clientCaFile ? await loadCaFile({ key: 'tls.client_ca_file', file: tls.clientCaFile }, read) : null;
  return { ...pair, clientCa };
}

/** What the etcd client uses besides the endpoints. */
export interface EtcdClientMaterial {
  /** Trust and client certificate for https endpoints; absent when no endpoint is https. */
  readonly tls?: ClientTls;
  /** User and password for etcd authentication; absent without `username`. */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** Reads `[store.etcd]`'s TLS files and password file. Throws TlsFileError / FleetLockConfigError naming key and file. */
export async function loadEtcdClientMaterial(
  cfg: Extract<StoreConfig, { kind: 'etcd' }>,
  opts: { root?: string; readFile?: ReadFile } = {},
): Promise<EtcdClientMaterial> {
  const read = opts.readFile ?? fsReadFile;
  const t = cfg.tls ?? { caFile: null, certFile: null, keyFile: null };
  const https = cfg.endpoints.some((e) => e.startsWith('https:'));
  const tls = https || t.caFile !== null || t.certFile !== null
    ? await loadClientTls(
        await loadHostTrust({ readFile: read, ...(opts.root ? { root: opts.root } : {}) }),
        {
          ca: t.caFile === null ? null : { key: 'store.etcd.ca_file', file: t.caFile },
          cert: t.certFile === null ? null : { key: 'store.etcd.cert_file', file: t.certFile },
          key: t.keyFile === null ? null : { key: 'store.etcd.key_file', file: t.keyFile },
        },
        read,
      )
    : undefined;
  let auth: EtcdClientMaterial['auth'];
  if (cfg.auth) {
    const file = cfg.auth.passwordFile;
    let password: string;
    try {
      // One trailing newline is the file's, not the password's (echo secret > file).
      password = (await read(file)).toString('utf8').replace(/\r?\n$/, '');
    } catch (err: unknown) {
      throw new FleetLockConfigError(`store.etcd.password_file: '${file}': cannot read: ${(err as Error).message}`, { cause: err });
    }
    if (password === '') throw new FleetLockConfigError(`store.etcd.password_file: '${file}': is empty`);
    auth = { username: cfg.auth.username, password };
  }
  return { ...(tls ? { tls } : {}), ...(auth ? { auth } : {}) };
}

/**
 * Wraps a request handler so that, on a listener that asks for client certificates, a request
 * without a valid one gets a FleetLock error body saying which (no certificate, or one the client
 * CA does not vouch for) instead of a dropped connection: with TLS 1.3 a refused handshake reaches
 * the client only as "other side closed", which says nothing.
 */
export function requireClientCert(
  handle: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const socket = req.socket as TLSSocket;
    // A resumed session's `authorized` is not a verdict on this client (the listener issues no
    // tickets, so this is only a guard): fail closed.
    if (socket.isSessionReused()) {
      sendError(res, 'client_cert_rejected', 'the client certificate was not accepted: a resumed TLS session cannot prove it; reconnect');
      return;
    }
    if (socket.authorized) {
      handle(req, res);
      return;
    }
    const presented = Object.keys(socket.getPeerCertificate()).length > 0;
    if (!presented) {
      sendError(res, 'client_cert_required', 'this server requires a client certificate signed by its client CA (updates.fleet_lock.client_cert_file on the node)');
      return;
    }
    const code = String(socket.authorizationError);
    const why = code === 'CERT_HAS_EXPIRED' ? 'it has expired' : code === 'CERT_NOT_YET_VALID' ? 'it is not valid yet' : "it is not signed by this server's client CA";
    sendError(res, 'client_cert_rejected', `the client certificate was not accepted: ${why} (${code})`);
  };
}
