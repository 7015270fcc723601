// FleetLock HTTP client (adapter: undici types stay in this file). Speaks the protocol exactly as
// Zincati does, plus an optional bearer token for servers that require one (alt-fleetlockd groups).
import { Agent, request, type Dispatcher } from 'undici';
import { startDeadline } from '../common/deadline.js';
import { tlsFailure } from '../tls/classify.js';
import { isClosedSocket, probeTls } from '../tls/probe.js';
import { tlsConnectOptions, type ClientTls } from '../tls/trust.js';
import { FleetLockError } from './errors.js';
import {
  API_PATHS,
  FLEETLOCK_HEADER,
  clientParamsBody,
  parseErrorBody,
  verdictBody,
  type ClientParams,
  type FleetLockApi,
  type Verdict,
} from './protocol.js';

/** Options for {@link createFleetLockClient}. */
export interface FleetLockClientOptions {
  /** Server base URL; endpoints are URL-joined onto it, so a path component needs a trailing `/`. */
  readonly baseUrl: string;
  /** undici dispatcher (tests pass a MockAgent, TLS callers an Agent with a CA); default: global. */
  readonly dispatcher?: Dispatcher;
  /** Bearer token sent as `authorization: Bearer <token>`; omitted when null or absent. */
  readonly token?: string | null;
  /** Whole-request timeout in milliseconds. @default 30000 */
  readonly timeoutMs?: number;
  /** Trusted CA certificates (PEM) for an https server, replacing Node's list; ignored with `dispatcher` or `tls`. */
  readonly ca?: string | Buffer;
  /** What to trust and present over https (host store, CA file, client certificate); ignored with `dispatcher`. */
  readonly tls?: ClientTls;
}

/** What alt-fleetlockd answered to a verdict. */
export interface VerdictReply {
  /** The node's group is halted now (this verdict may have halted it): new slots are refused until an operator resumes it. */
  readonly groupHalted: boolean;
}

/** The FleetLock operations; each resolves on 2xx and rejects with {@link FleetLockError}. */
export interface FleetLockClient {
  /** RecursiveLock: reserve (or confirm) a reboot slot for `params.id` in `params.group`. */
  preReboot(params: ClientParams, signal?: AbortSignal): Promise<void>;
  /** UnlockIfHeld: release the slot `params.id` holds, a no-op when it holds none. */
  steadyState(params: ClientParams, signal?: AbortSignal): Promise<void>;
  /**
   * Reports how this node's update went (`POST v1/verdict`, an alt-fleetlockd extension with the
   * same header, `client_params` and token as the lock calls). Call it once per outcome: `healthy`
   * after the new deployment passed its checks, `failed` when the checks failed, `rolled_back` after
   * the node went back to its previous deployment; `release` is always the version it updated *to*.
   * Repeating a verdict is harmless (the server counts each node and release once). It neither takes
   * nor releases a slot: release the slot with {@link steadyState} once the node is healthy.
   *
   * Rejects with {@link FleetLockError}: kind `not_found` or `generic_http_404` when the server is
   * not alt-fleetlockd (poseidon/fleetlock, airlock): callers should log and carry on, since a
   * server without verdicts simply keeps today's behaviour; `invalid_verdict` for a malformed verdict.
   */
  reportVerdict(params: ClientParams, verdict: Verdict, signal?: AbortSignal): Promise<VerdictReply>;
  /** Closes connections this client opened itself (only with `ca` or `tls`); the client stays usable otherwise. */
  close(): Promise<void>;
}

/** The dispatcher to use for `opts`, and whether the caller owns (must close) it. */
export function dispatcherFor(opts: { dispatcher?: Dispatcher; ca?: string | Buffer; tls?: ClientTls }): {
  dispatcher: Dispatcher | undefined;
  owned: Agent | null;
} {
  if (opts.dispatcher) return { dispatcher: opts.dispatcher, owned: null };
  if (opts.tls === undefined && opts.ca === undefined) return { dispatcher: undefined, owned: null };
  const agent = new Agent({ connect: opts.tls ? tlsConnectOptions(opts.tls) : { ca: opts.ca } });
  return { dispatcher: agent, owned: agent };
}

const MAX_ERROR_BODY = 64 * 1024;
const SAFE_KIND = /^[a-z0-9_]{1,64}$/;

/** Creates a FleetLock client for one server. */
export function createFleetLockClient(opts: FleetLockClientOptions): FleetLockClient {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const { dispatcher, owned } = dispatcherFor(opts);
  const call = async (api: FleetLockApi, body: string, signal?: AbortSignal): Promise<unknown> => {
    const url = new URL(API_PATHS[api], opts.baseUrl);
    const headers: Record<string, string> = {
      [FLEETLOCK_HEADER]: 'true',
      'content-type': 'application/json',
    };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    return jsonRequest({
      api,
      url,
      method: 'POST',
      headers,
      body,
      timeoutMs,
      ...(signal ? { signal } : {}),
      ...(dispatcher ? { dispatcher } : {}),
      ...(opts.tls && !opts.dispatcher ? { tls: opts.tls } : {}),
    });
  };
  return {
    preReboot: async (params, signal) => {
      await call('pre-reboot', clientParamsBody(params), signal);
    },
    steadyState: async (params, signal) => {
      await call('steady-state', clientParamsBody(params), signal);
    },
    reportVerdict: async (params, verdict, signal) => {
      const reply = await call('verdict', verdictBody(params, verdict), signal);
      const halted = (reply as { group_halted?: unknown } | null)?.group_halted;
      return { groupHalted: halted === true };
    },
    close: async () => {
      await owned?.close();
    },
  };
}

/** One request; resolves to the decoded JSON body (or null) on 2xx, rejects with FleetLockError. */
export async function jsonRequest(req: {
  api: FleetLockApi | 'admin';
  url: URL;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
  dispatcher?: Dispatcher;
  /** The TLS settings of `dispatcher`, to find out why a server closed the connection. */
  tls?: ClientTls;
}): Promise<unknown> {
  let res: Dispatcher.ResponseData;
  const deadline = startDeadline(req.timeoutMs, req.signal);
  try {
    res = await request(req.url, {
      method: req.method,
      headers: req.headers,
      ...(req.body === undefined ? {} : { body: req.body }),
      signal: deadline.signal,
      ...(req.dispatcher ? { dispatcher: req.dispatcher } : {}),
    });
  } catch (err: unknown) {
    deadline.done();
    // A TLS failure says which check failed; the kind stays Zincati's client_failed_request.
    const ctx = { caKey: 'updates.fleet_lock.ca_file', certKey: 'updates.fleet_lock.client_cert_file', presentedCert: (req.tls?.cert ?? null) !== null };
    // A refused client certificate shows only as a closed socket: ask the server once why.
    const tlsErr = tlsFailure(err, ctx) ?? (isClosedSocket(err) && req.tls ? await probeTls(req.url, req.tls, ctx) : null);
    throw new FleetLockError({
      api: req.api,
      kind: 'client_failed_request',
      status: null,
      message: `${req.api} request to ${req.url.origin} failed: ${tlsErr ? tlsErr.message : err instanceof Error ? err.message : String(err)}`,
      cause: tlsErr ?? err,
    });
  }
  const text = await readCapped(res.body, MAX_ERROR_BODY)
    .catch(() => '')
    .finally(() => deadline.done());
  const decoded = decodeJson(text);
  if (res.statusCode >= 200 && res.statusCode < 300) return decoded;
  const err = parseErrorBody(decoded);
  // `kind` becomes a metric label: a server kind that is not metric-safe falls back to the generic one.
  const kind = err !== null && SAFE_KIND.test(err.kind) ? err.kind : `generic_http_${res.statusCode}`;
  const detail = err?.value || text.slice(0, 200) || 'no details';
  throw new FleetLockError({
    api: req.api,
    kind,
    status: res.statusCode,
    message: `${req.api} failure: server-side error, code ${res.statusCode}: ${detail}`,
  });
}

function decodeJson(text: string): unknown {
  if (text.length === 0) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function readCapped(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (size + buf.length > max) {
      chunks.push(buf.subarray(0, max - size));
      body.destroy();
      break;
    }
    chunks.push(buf);
    size += buf.length;
  }
  return Buffer.concat(chunks).toString('utf8');
}
