// Minimal etcd v3 client over the JSON gRPC gateway that etcd 3.4 serves on its client URLs
// (`/v3/kv/range`, `/v3/kv/txn`; keys and values base64). Adapter: undici types stay here.
// Fails over across cluster members: a connection error, a timeout or a 5xx from one member moves
// the client to the next, so one member down does not stop the server.
import { Agent, request, type Dispatcher } from 'undici';
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
}

/** Compare-and-swap result: whether it applied, and the key as it now stands (null: absent). */
export interface EtcdCasResult {
  /** True when the compare held (and the put, if any, happened). */
  readonly ok: boolean;
  /** The key after the call (written value on success, conflicting value on failure). */
  readonly current: EtcdKv | null;
}

/** The handful of etcd operations the store needs. */
export interface EtcdGateway {
  /** Linearizable read of one key, or of every key under `key` with `prefix`. */
  range(key: string, opts?: { prefix?: boolean; revision?: string }): Promise<EtcdKv[]>;
  /**
   * Writes `value` (or with null only checks) if the key's mod_revision equals `expectModRevision`
   * (null: the key must be absent); on mismatch returns the current key, in one round trip.
   */
  compareAndSwap(key: string, expectModRevision: string | null, value: Buffer | null): Promise<EtcdCasResult>;
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

/** Creates a gateway client over `opts.endpoints`. */
export function createEtcdGateway(opts: EtcdGatewayOptions): EtcdGateway {
  if (opts.endpoints.length === 0) throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', 'no etcd endpoints');
  const endpoints = opts.endpoints.map((e) => e.replace(/\/+$/, ''));
  const timeoutMs = opts.timeoutMs ?? 3000;
  const own = opts.dispatcher ? null : new Agent({ keepAliveTimeout: 30_000, connections: 64 });
  const dispatcher: Dispatcher = opts.dispatcher ?? own!;
  let active = 0;

  const once = async (endpoint: string, path: string, body: unknown): Promise<Record<string, unknown>> => {
    let res: Dispatcher.ResponseData;
    try {
      res = await request(`${endpoint}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
        dispatcher,
      });
    } catch (err: unknown) {
      throw new Retryable(`${endpoint}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = await res.body.json();
    } catch (err: unknown) {
      throw new Retryable(`${endpoint}: unreadable reply (HTTP ${res.statusCode})`, { cause: err });
    }
    const obj = (parsed ?? {}) as Record<string, unknown>;
    // gRPC Unavailable (14) / DeadlineExceeded (4) / 5xx: this member cannot serve now, try another.
    if (res.statusCode >= 500 || obj['code'] === 14 || obj['code'] === 4) {
      throw new Retryable(`${endpoint}: HTTP ${res.statusCode}: ${String(obj['message'] ?? obj['error'] ?? '')}`);
    }
    if (res.statusCode !== 200) {
      throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `etcd ${endpoint}${path}: HTTP ${res.statusCode}: ${String(obj['message'] ?? '')}`);
    }
    return obj;
  };

  const call = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const errors: string[] = [];
    for (let i = 0; i < endpoints.length; i++) {
      const idx = (active + i) % endpoints.length;
      try {
        const out = await once(endpoints[idx]!, path, body);
        active = idx;
        return out;
      } catch (err: unknown) {
        if (!(err instanceof Retryable)) throw err;
        errors.push(err.message);
      }
    }
    active = (active + 1) % endpoints.length;
    throw new FleetLockStoreError('FLEETLOCKD_STORE_UNAVAILABLE', `no etcd endpoint answered: ${errors.join('; ')}`);
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
    async compareAndSwap(key, expect, value) {
      const k = b64(key);
      const compare =
        expect === null
          ? { key: k, result: 'EQUAL', target: 'CREATE', create_revision: '0' }
          : { key: k, result: 'EQUAL', target: 'MOD', mod_revision: expect };
      const out = await call('/v3/kv/txn', {
        compare: [compare],
        success: value === null ? [] : [{ request_put: { key: k, value: b64(value) } }],
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
    activeEndpoint: () => endpoints[active]!,
    async close() {
      await own?.close();
    },
  };
}
