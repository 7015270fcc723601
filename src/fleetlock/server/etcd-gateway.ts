// Minimal etcd v3 client over the JSON gRPC gateway that etcd 3.4 serves on its client URLs
// (`/v3/kv/range`, `/v3/kv/txn`, `/v3/lease/grant`, `/v3/lease/revoke`; keys and values base64).
// Adapter: undici types stay here.
// Fails over across cluster members: a connection error, a timeout or a 5xx from one member moves
// the client to the next, so one member down does not stop the server. TLS (CA, client certificate)
// goes in the dispatcher; etcd user auth is the gateway's: `/v3/auth/authenticate` returns a token
// sent as the `Authorization` header, fetched again once when etcd calls it invalid (expired).
import { Agent, request, type Dispatcher } from 'undici';
import { tlsFailure } from '../../tls/classify.js';
import { isClosedSocket, probeTls } from '../../tls/probe.js';
import { tlsConnectOptions, type ClientTls } from '../../tls/trust.js';
import { FleetLockStoreError } from '../errors.js';

/** One key-value pair as etcd returns it. */
export interface EtcdKv {
  /** The key, decoded. */
  readonly key: string;
  /** The raw value bytes. */
  readonly value: Buffer;
  /** Revision of the last write to this key (decimal string: int64). */
  readonly modRevision: string;
}

/** Options for {@link createEtcdGateway}. */
export interface EtcdGatewayOptions {
  /** Client URLs of the cluster members, tried in order, e.g. `http://127.0.0.1:2379`. */
  readonly endpoints: readonly string[];
  /** Per-request timeout in milliseconds. @default 3000 */
  readonly timeoutMs?: number;
  /** undici dispatcher; default: a private keep-alive Agent closed by `close()`. */
  readonly dispatcher?: Dispatcher;
  /** What the private Agent trusts and presents over https; ignored with `dispatcher`. */
  readonly tls?: ClientTls;
  /** etcd user and password; absent when etcd auth is off. */
  readonly auth?: { readonly username: string; readonly password: string };
}

/** Compare-and-swap result: whether it applied, and the key as it now stands (null: absent). */
export interface EtcdCasResult {
  /** True when the compare held (and the put, if any, happened). */
  readonly ok: boolean;
  /** The key after the call (written value on success, conflicting value on failure). */
  readonly current: EtcdKv | null;
}

/** Extra operations of a compare-and-swap transaction, applied only when the compare holds. */
export interface EtcdTxnOps {
  /** Keys to put; with `lease`, etcd deletes the key when that lease expires. */
  readonly puts?: readonly { readonly key: string; readonly value: Buffer; readonly lease?: string }[];
  /** Keys to delete (absent keys are fine). */
  readonly deletes?: readonly string[];
}

/** The handful of etcd operations the store needs. */
export interface EtcdGateway {
  /** Linearizable read of one key, or of every key under `key` with `prefix`. */
  range(key: string, opts?: { prefix?: boolean; revision?: string }): Promise<EtcdKv[]>;
  /**
   * Writes `value` (or with null only checks) if the key's mod_revision equals `expectModRevision`
   * (null: the key must be absent); on mismatch returns the current key, in one round trip. `also`
   * adds puts (optionally attached to a lease) and deletes of other keys to the same transaction.
   */
  compareAndSwap(key: string, expectModRevision: string | null, value: Buffer | null, also?: EtcdTxnOps): Promise<EtcdCasResult>;
  /** Grants a lease of `ttlSecs` seconds; resolves to its id (decimal string: int64). */
  leaseGrant(ttlSecs: number): Promise<string>;
  /** Revokes a lease (and deletes its keys); a lease that is already gone is not an error. */
  leaseRevoke(id: string): Promise<void>;
  /** The endpoint currently preferred. */
  activeEndpoint(): string;
  /** Closes the private dispatcher. */
  close(): Promise<void>;
}

const b64 = (s: string | Buffer): string => Buffer.from(s).toString('base64');

/** The smallest key greater than every key starting with `prefix` (etcd's `range_end`). */
export function prefixEnd(prefix: string): Buffer {
  const buf = Buffer.from(prefix);
  for (let i = buf.length - 1; i >= 0; i--) {
    if (buf[i]! < 0xff) {
      const out = Buffer.from(buf.subarray(0, i + 1));
      out[i] = buf[i]! + 1;
      return out;
    }
  }
  return Buffer.from([0]);
}

function parseKvs(raw: unknown): EtcdKv[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw new Error('kvs is not an array');
  return raw.map((kv: unknown) => {
    const { key, value, mod_revision: mod } = (kv ?? {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof mod !== 'string') throw new Error('kv without key or mod_revision');
    return {
      key: Buffer.from(key, 'base64').toString('utf8'),
      value: Buffer.from(typeof value === 'string' ? value : '', 'base64'),
      modRevision: mod,
    };
  });
}

class Retryable extends Error {}

const AUTH_HINT = 'store.etcd.username and store.etcd.password_file';

/** The FLEETLOCKD_STORE_AUTH error for an etcd reply that refuses who we are, or null. */
function authRefusal(status: number, obj: Record<string, unknown>, text: string, auth: EtcdGatewayOptions['auth']): FleetLockStoreError | null {
  const msg = String(obj['message'] ?? '');
  const who = auth ? `etcd user '${auth.username}'` : 'etcd';
  // etcd 3.4's gateway cannot pass a certificate's CN on as the user, so with auth on it refuses one.
  if (status === 400 && text.includes('CommonName of client')) {
    return new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', 'etcd refuses a client certificate with a CommonName while auth is enabled (its JSON gateway cannot use it): issue store.etcd.cert_file without a CN');
  }
  if (!auth && (msg.includes('user name is empty') || obj['code'] === 7 || obj['code'] === 16)) {
    return new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', `etcd refused the request (${msg}): if etcd has authentication enabled, set ${AUTH_HINT}`);
  }
  if (msg.includes('authentication failed')) return new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', `${who} was refused (${AUTH_HINT}): ${msg}`);
  if (obj['code'] === 7) return new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', `${who} lacks read-write permission on the store's prefix: ${msg}`);
  if (obj['code'] === 16) return new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', `${who}: ${msg}`);
  return null;
}

/** Creates a gateway client over `opts.endpoints`. */
export function createEtcdGateway(opts: EtcdGatewayOptions): EtcdGateway {
  if (opts.endpoints.length === 0) throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', 'no etcd endpoints');
  const endpoints = opts.endpoints.map((e) => e.replace(/\/+$/, ''));
  const timeoutMs = opts.timeoutMs ?? 3000;
  const own = opts.dispatcher ? null : new Agent({ keepAliveTimeout: 30_000, connections: 64, connect: tlsConnectOptions(opts.tls) });
  const dispatcher: Dispatcher = opts.dispatcher ?? own!;
  let active = 0;
  // One authentication at a time; every request waits for its token.
  let token: Promise<string> | null = null;

  const post = async (endpoint: string, path: string, body: unknown, auth: string | null): Promise<{ status: number; obj: Record<string, unknown> }> => {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${endpoint}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(auth === null ? {} : { authorization: auth }) },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher,
      });
    } catch (err: unknown) {
      const ctx = { caKey: 'store.etcd.ca_file', certKey: 'store.etcd.cert_file', presentedCert: (opts.tls?.cert ?? null) !== null };
      // A refused client certificate shows only as a closed socket: ask the server once why.
      const tlsErr = tlsFailure(err, ctx) ?? (isClosedSocket(err) && !opts.dispatcher ? await probeTls(new URL(endpoint), opts.tls, ctx) : null);
      throw new Retryable(`${endpoint}: ${tlsErr ? tlsErr.message : err instanceof Error ? err.message : String(err)}`, { cause: tlsErr ?? err });
    }
    let text = '';
    let parsed: unknown;
    try {
      text = await res.body.text();
      parsed = JSON.parse(text);
    } catch (err: unknown) {
      parsed = null;
      if (res.statusCode === 200 || res.statusCode >= 500) throw new Retryable(`${endpoint}: unreadable reply (HTTP ${res.statusCode})`, { cause: err });
    }
    const obj = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    // gRPC Unavailable (14) / DeadlineExceeded (4) / 5xx: this member cannot serve now, try another.
    if (res.statusCode >= 500 || obj['code'] === 14 || obj['code'] === 4) {
      throw new Retryable(`${endpoint}: HTTP ${res.statusCode}: ${String(obj['message'] ?? obj['error'] ?? '')}`);
    }
    // An expired token is fetched again by the caller; every other refusal is final.
    if (!(auth !== null && obj['code'] === 16)) {
      const refusal = authRefusal(res.statusCode, obj, text, opts.auth);
      if (refusal) throw refusal;
    }
    return { status: res.statusCode, obj };
  };

  const authenticate = async (endpoint: string): Promise<string> => {
    const { username, password } = opts.auth!;
    const { status, obj } = await post(endpoint, '/v3/auth/authenticate', { name: username, password }, null);
    if (status !== 200 || typeof obj['token'] !== 'string') {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_AUTH', `etcd ${endpoint}: authenticate: HTTP ${status}: ${String(obj['message'] ?? 'no token')}`);
    }
    return obj['token'];
  };

  const tokenFor = (endpoint: string, renew: boolean): Promise<string> => {
    if (token === null || renew) {
      const p = authenticate(endpoint);
      token = p;
      // A failed authentication is not cached: the next request tries again.
      p.catch(() => {
        if (token === p) token = null;
      });
    }
    return token;
  };

  const once = async (endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    let reply = await post(endpoint, path, body, opts.auth ? await tokenFor(endpoint, false) : null);
    if (opts.auth && reply.obj['code'] === 16) {
      reply = await post(endpoint, path, body, await tokenFor(endpoint, true));
      if (reply.obj['code'] === 16) throw authRefusal(reply.status, reply.obj, '', opts.auth)!;
    }
    const { status, obj } = reply;
    if (status !== 200) {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `etcd ${endpoint}${path}: HTTP ${status}: ${String(obj['message'] ?? '')}`);
    }
    return obj;
  };

  const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const errors: string[] = [];
    let lastCause: unknown;
    for (let i = 0; i < endpoints.length; i++) {
      const idx = (active + i) % endpoints.length;
      try {
        const out = await once(endpoints[idx]!, path, body);
        active = idx;
        return out;
      } catch (err: unknown) {
        if (!(err instanceof Retryable)) throw err;
        errors.push(err.message);
        lastCause = err.cause;
      }
    }
    active = (active + 1) % endpoints.length;
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `no etcd endpoint answered: ${errors.join('; ')}`, lastCause === undefined ? {} : { cause: lastCause });
  };

  const wrapParse = <T>(what: string, f: () => T): T => {
    try {
      return f();
    } catch (err: unknown) {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `unexpected etcd ${what} reply`, { cause: err });
    }
  };

  return {
    async range(key, ropts = {}) {
      const body: Record<string, string> = { key: b64(key) };
      if (ropts.prefix) body['range_end'] = b64(prefixEnd(key));
      if (ropts.revision !== undefined) body['revision'] = ropts.revision;
      const out = await call('/v3/kv/range', body);
      return wrapParse('range', () => parseKvs(out['kvs']));
    },
    async compareAndSwap(key, expect, value, also = {}) {
      const k = b64(key);
      const compare =
        expect === null
          ? { key: k, result: 'EQUAL', target: 'CREATE', create_revision: '0' }
          : { key: k, result: 'EQUAL', target: 'MOD', mod_revision: expect };
      const extra = [
        ...(also.puts ?? []).map((p) => ({ request_put: { key: b64(p.key), value: b64(p.value), ...(p.lease === undefined ? {} : { lease: p.lease }) } })),
        ...(also.deletes ?? []).map((d) => ({ request_delete_range: { key: b64(d) } })),
      ];
      const out = await call('/v3/kv/txn', {
        compare: [compare],
        success: [...(value === null ? [] : [{ request_put: { key: k, value: b64(value) } }]), ...extra],
        failure: [{ request_range: { key: k } }],
      });
      return wrapParse('txn', () => {
        if (out['succeeded'] === true) {
          if (value === null) {
            return { ok: true, current: expect === null ? null : { key, value: Buffer.alloc(0), modRevision: expect } };
          }
          const rev = ((out['header'] ?? {}) as Record<string, unknown>)['revision'];
          if (typeof rev !== 'string') throw new Error('txn header without revision');
          return { ok: true, current: { key, value, modRevision: rev } };
        }
        const responses = out['responses'];
        const first = Array.isArray(responses) ? (responses[0] as Record<string, unknown> | undefined) : undefined;
        const rr = (first?.['response_range'] ?? {}) as Record<string, unknown>;
        return { ok: false, current: parseKvs(rr['kvs'])[0] ?? null };
      });
    },
    async leaseGrant(ttlSecs) {
      const out = await call('/v3/lease/grant', { TTL: String(ttlSecs) });
      return wrapParse('lease grant', () => {
        if (typeof out['ID'] !== 'string') throw new Error('lease grant reply without ID');
        return out['ID'];
      });
    },
    async leaseRevoke(id) {
      try {
        await call('/v3/lease/revoke', { ID: id });
      } catch (err: unknown) {
        // gRPC NotFound: the lease expired already, which is what revoking wanted.
        if (!(err instanceof FleetLockStoreError && /HTTP 404/.test(err.message))) throw err;
      }
    },
    activeEndpoint: () => endpoints[active]!,
    async close() {
      await own?.close();
    },
  };
}
