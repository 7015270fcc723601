// Cincinnati HTTP client (zincati-behaviour.md §3.1-3.3). The only file that touches undici: its
// types never leave it. Every failure becomes a GraphError whose `kind` is Zincati's metric label.
import { EnvHttpProxyAgent, interceptors, request, type Dispatcher } from 'undici';
import { startDeadline } from '../common/deadline.js';
import { tlsFailure } from '../tls/classify.js';
import { tlsConnectOptions, type ClientTls } from '../tls/trust.js';
import { GraphError } from './errors.js';
import { parseGraphText, type Graph } from './parse.js';

/** Identity and booted-OS facts sent as query parameters. */
export interface GraphQuery {
  /** GNU architecture name, e.g. `x86_64`. */
  readonly basearch: string;
  /** Booted stream, e.g. `sisyphus`. */
  readonly stream: string;
  /** Booted version. */
  readonly osVersion: string;
  /** Booted ostree commit checksum, or for an image-booted host the image `<name>@sha256:<digest>` (Zincati). */
  readonly osChecksum: string;
  /** True when booted from a container image: sends `oci=true`, so the server answers with `oci` nodes. */
  readonly oci?: boolean;
  /** Reboot group. */
  readonly group: string;
  /** 32 lowercase hex node id. */
  readonly nodeUuid: string;
  /** Platform id, sent only when known. */
  readonly platform?: string | null;
  /** Configured wariness 0..1, sent with 6 decimals only when set. */
  readonly rolloutWariness?: number | null;
}

/** Options of `createGraphClient`. */
export interface GraphClientOptions {
  /** Server base URL; `v1/graph` is resolved against it like Zincati (a path without `/` loses its last segment). */
  readonly baseUrl: string;
  /**
   * An undici `Dispatcher` (tests pass a MockAgent or an Agent). Typed `unknown` so undici types stay
   * in this file. When absent the client builds an `EnvHttpProxyAgent` honouring HTTP(S)_PROXY/NO_PROXY.
   */
  readonly dispatcher?: unknown;
  /** Environment read for proxies when no dispatcher is given. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** TCP/TLS connect timeout, in ms (own dispatcher only). @default 30000 */
  readonly connectTimeoutMs?: number;
  /** Whole request timeout, headers and body, in ms. @default 300000 */
  readonly totalTimeoutMs?: number;
  /** Response body cap in bytes, enforced while streaming. @default 16 MiB */
  readonly maxBytes?: number;
  /**
   * What the own dispatcher trusts and presents over https (also towards a target reached through a
   * proxy). Absent: Node's bundled CA list. Ignored when `dispatcher` is given.
   */
  readonly tls?: ClientTls;
}

/** The graph port the agent uses. */
export interface GraphClient {
  /** Fetches and decodes the graph for this node; rejects only with `GraphError`. */
  fetchGraph(q: GraphQuery, signal?: AbortSignal): Promise<Graph>;
  /** Fetches and decodes a graph from an exact URL (no query added), e.g. for `graph next --graph URL`. */
  fetchGraphUrl(url: string, signal?: AbortSignal): Promise<Graph>;
  /** Closes the client's own dispatcher (a passed-in dispatcher is left to its owner). */
  close(): Promise<void>;
}

/** Default response size cap: 16 MiB. */
export const DEFAULT_MAX_GRAPH_BYTES = 16 * 1024 * 1024;
const ERROR_BODY_BYTES = 64 * 1024;
const SAFE_KIND = /^[a-z0-9_]{1,64}$/;

/** Builds the `/v1/graph` URL with Zincati's query parameters. */
export function graphUrl(baseUrl: string, q: GraphQuery): URL {
  let url: URL;
  try {
    url = new URL('v1/graph', baseUrl);
  } catch (err: unknown) {
    throw new GraphError('GRAPH_CLIENT_BUILD', `invalid graph base URL '${baseUrl}'`, { cause: err });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new GraphError('GRAPH_CLIENT_BUILD', `graph base URL '${baseUrl}' is not http(s)`);
  }
  const p = url.searchParams;
  p.set('basearch', q.basearch);
  p.set('stream', q.stream);
  p.set('os_version', q.osVersion);
  p.set('os_checksum', q.osChecksum);
  p.set('group', q.group);
  p.set('node_uuid', q.nodeUuid);
  if (q.platform) p.set('platform', q.platform);
  if (q.rolloutWariness !== undefined && q.rolloutWariness !== null) p.set('rollout_wariness', q.rolloutWariness.toFixed(6));
  if (q.oci === true) p.set('oci', 'true');
  return url;
}

interface DestroyableBody {
  destroy(err?: Error): unknown;
  on(event: 'error', fn: () => void): unknown;
}

/** Drops a body we will not read; the abort error it emits is expected, so it is swallowed. */
function discard(body: DestroyableBody): void {
  body.on('error', () => undefined);
  body.destroy();
}

async function readCapped(body: AsyncIterable<Buffer> & DestroyableBody, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > max) {
      discard(body);
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

/** Decodes a non-2xx body as `{kind, value}`; a numeric kind (ALT's 2021 server) keeps the generic kind. */
function httpError(status: number, body: Buffer | null): GraphError {
  let parsed: unknown = null;
  try {
    parsed = body === null ? null : JSON.parse(body.toString('utf8'));
  } catch {
    parsed = null;
  }
  if (typeof parsed === 'object' && parsed !== null && 'kind' in parsed) {
    const { kind, value } = parsed as { kind: unknown; value: unknown };
    const text = typeof value === 'string' ? value : JSON.stringify(value ?? null);
    if (typeof kind === 'string' && SAFE_KIND.test(kind)) {
      return new GraphError('GRAPH_SERVER', `server-side error, code ${status}: ${text}`, { status, kind });
    }
    if (typeof kind === 'string' || typeof kind === 'number') {
      return new GraphError('GRAPH_SERVER', `server-side error, code ${status} (kind ${JSON.stringify(kind)}): ${text}`, { status });
    }
  }
  return new GraphError('GRAPH_HTTP', `server-side error, code ${status}`, { status });
}

/** Creates the Cincinnati client. Throws `GRAPH_CLIENT_BUILD` for a base URL that cannot be used. */
export function createGraphClient(opts: GraphClientOptions): GraphClient {
  graphUrl(opts.baseUrl, { basearch: '', stream: '', osVersion: '', osChecksum: '', group: '', nodeUuid: '' });
  const env = opts.env ?? process.env;
  const tls = tlsConnectOptions(opts.tls);
  const own =
    opts.dispatcher === undefined
      ? new EnvHttpProxyAgent({
          httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? '',
          httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? '',
          noProxy: env.no_proxy ?? env.NO_PROXY ?? '',
          connect: { timeout: opts.connectTimeoutMs ?? 30_000, ...tls },
          requestTls: tls,
          proxyTls: tls,
        })
      : null;
  // Zincati's HTTP client (reqwest) follows up to 10 redirects; do the same.
  const dispatcher = ((own ?? opts.dispatcher) as Dispatcher).compose(interceptors.redirect({ maxRedirections: 10 }));
  const totalMs = opts.totalTimeoutMs ?? 300_000;
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_GRAPH_BYTES;

  async function get(url: URL, signal?: AbortSignal): Promise<Graph> {
    const deadline = startDeadline(totalMs, signal);
    let status: number;
    let buf: Buffer | null;
    try {
      const res = await request(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        dispatcher,
        signal: deadline.signal,
        headersTimeout: totalMs,
        bodyTimeout: totalMs,
      });
      status = res.statusCode;
      const ok = status >= 200 && status < 300;
      const declared = Number(res.headers['content-length']);
      if (ok && Number.isFinite(declared) && declared > maxBytes) {
        discard(res.body);
        throw new GraphError('GRAPH_TOO_LARGE', `graph response of ${declared} bytes exceeds the ${maxBytes}-byte cap`);
      }
      buf = await readCapped(res.body, ok ? maxBytes : ERROR_BODY_BYTES);
      if (ok && buf === null) throw new GraphError('GRAPH_TOO_LARGE', `graph response exceeds the ${maxBytes}-byte cap`);
    } catch (err: unknown) {
      if (err instanceof GraphError) throw err;
      // A TLS failure says which check failed; it stays a GRAPH_REQUEST (retried next tick, Zincati's kind).
      const tlsErr = deadline.timedOut ? null : tlsFailure(err, { caKey: 'cincinnati.ca_file' });
      const why = deadline.timedOut ? `timed out after ${totalMs} ms` : tlsErr ? tlsErr.message : err instanceof Error ? err.message : String(err);
      throw new GraphError('GRAPH_REQUEST', `client-side error: GET ${url.origin}${url.pathname} failed: ${why}`, { cause: tlsErr ?? err });
    } finally {
      deadline.done();
    }
    if (status < 200 || status >= 300) throw httpError(status, buf);
    return parseGraphText(buf!);
  }

  return {
    fetchGraph: (q, signal) => get(graphUrl(opts.baseUrl, q), signal),
    fetchGraphUrl: (raw, signal) => {
      let url: URL;
      try {
        url = new URL(raw);
      } catch (err: unknown) {
        return Promise.reject(new GraphError('GRAPH_CLIENT_BUILD', `invalid graph URL '${raw}'`, { cause: err }));
      }
      return get(url, signal);
    },
    close: async () => {
      await own?.close();
    },
  };
}
