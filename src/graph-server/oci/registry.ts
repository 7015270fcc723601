// Distribution API v2 client (the OCI registry behind an `oci` stream). The only file of the OCI
// source that touches undici: its types never leave it. Speaks anonymous, Basic and Bearer-token auth
// (the `WWW-Authenticate: Bearer realm=…,service=…,scope=…` challenge), verifies every digest it is
// handed, and counts requests so a rebuild's cost can be checked.
import { createHash } from 'node:crypto';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import { GraphServerError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from './manifest.js';

/** A fetched manifest: its verified digest, media type and bytes. */
export interface FetchedManifest {
  readonly digest: string;
  readonly mediaType: string | null;
  readonly bytes: Uint8Array;
}

/** The registry operations the OCI source uses. Every method rejects only with `GRAPHD_REGISTRY`. */
export interface RegistryClient {
  /** Every tag of `repo` (follows `Link` pagination). */
  listTags(repo: string): Promise<string[]>;
  /** The digest `ref` (a tag) points to now, by a bodyless HEAD. */
  headManifest(repo: string, ref: string): Promise<string>;
  /** The manifest `ref` (tag or digest) names; a digest ref is verified against the body. */
  getManifest(repo: string, ref: string): Promise<FetchedManifest>;
  /** A blob by digest, verified. */
  getBlob(repo: string, digest: string): Promise<Uint8Array>;
  /** Requests sent so far (token requests included). */
  requestCount(): number;
  /** Closes the own connection pool. */
  close(): Promise<void>;
}

/** Options of `createRegistryClient`. */
export interface RegistryClientOptions {
  /** `http(s)://host[:port]` of the registry. */
  readonly baseUrl: string;
  /** Credentials for Basic auth or the token realm; null for anonymous. */
  readonly credentials?: { readonly username: string; readonly password: string } | null;
  /** Concurrent connections to the registry (keep-alive). @default 8 */
  readonly connections?: number;
  /** Per-request timeout, ms. @default 30000 */
  readonly timeoutMs?: number;
  /** Body cap per document, bytes. @default 4 MiB */
  readonly maxBytes?: number;
  /** An undici Dispatcher for tests; typed unknown so undici stays in this file. */
  readonly dispatcher?: unknown;
  /** Time source for token lifetimes (the server's clock). @default Date.now */
  readonly nowMs?: () => number;
}

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

function header(h: Reply['headers'], name: string): string | null {
  const v = h[name];
  return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
}

/** Parses `Bearer realm="…",service="…",scope="…"` (quoted values may contain commas). */
export function parseBearerChallenge(value: string): Record<string, string> | null {
  const m = /^\s*Bearer\s+(.*)$/i.exec(value);
  if (!m) return null;
  const out: Record<string, string> = {};
  for (const p of m[1]!.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[p[1]!.toLowerCase()] = p[2]!;
  return out.realm ? out : null;
}

const sha256 = (b: Uint8Array): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Creates the client. */
export function createRegistryClient(opts: RegistryClientOptions): RegistryClient {
  const base = new URL(opts.baseUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new GraphServerError('GRAPHD_CONFIG', `registry URL '${opts.baseUrl}' is not http(s)`);
  const own = opts.dispatcher === undefined ? new Agent({ connections: opts.connections ?? 8, keepAliveTimeout: 30_000 }) : null;
  const dispatcher = ((own ?? opts.dispatcher) as Dispatcher).compose(interceptors.redirect({ maxRedirections: 5 }));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const maxBytes = opts.maxBytes ?? 4 << 20;
  const creds = opts.credentials ?? null;
  const now = opts.nowMs ?? Date.now;
  const basic = creds ? `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}` : null;
  // Tokens by scope, with their expiry; a refused token is dropped and fetched again once.
  const tokens = new Map<string, { value: string; untilMs: number }>();
  let count = 0;

  async function send(url: URL, method: 'GET' | 'HEAD', headers: Record<string, string>): Promise<Reply> {
    count++;
    let res;
    try {
      res = await request(url, { method, headers, dispatcher, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err: unknown) {
      throw new GraphServerError('GRAPHD_REGISTRY', `${method} ${url.origin}${url.pathname} failed: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of res.body as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > maxBytes) {
        res.body.destroy();
        throw new GraphServerError('GRAPHD_REGISTRY', `${method} ${url.pathname}: response exceeds ${maxBytes} bytes`);
      }
      chunks.push(c);
    }
    return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, size) };
  }

  async function token(challenge: Record<string, string>, scope: string): Promise<string> {
    const url = new URL(challenge.realm!);
    if (challenge.service) url.searchParams.set('service', challenge.service);
    url.searchParams.set('scope', challenge.scope ?? scope);
    const r = await send(url, 'GET', basic ? { authorization: basic } : {});
    if (r.status !== 200) throw new GraphServerError('GRAPHD_REGISTRY', `token realm ${url.origin}${url.pathname} answered ${r.status}`);
    let doc: unknown;
    try {
      doc = JSON.parse(r.body.toString('utf8'));
    } catch {
      doc = null;
    }
    const t = typeof doc === 'object' && doc !== null ? ((doc as { token?: unknown }).token ?? (doc as { access_token?: unknown }).access_token) : undefined;
    if (typeof t !== 'string' || t === '') throw new GraphServerError('GRAPHD_REGISTRY', `token realm ${url.origin}${url.pathname} sent no token`);
    const expires = (doc as { expires_in?: unknown }).expires_in;
    // Distribution's default token lifetime is 60 s when the realm does not say (renew 10 s early).
    const life = typeof expires === 'number' && expires > 10 ? expires : 60;
    tokens.set(scope, { value: t, untilMs: now() + (life - 10) * 1000 });
    return t;
  }

  /** One authorized request: answers a 401 challenge once (token or Basic), then retries. */
  async function call(repo: string, path: string, method: 'GET' | 'HEAD', accept?: string): Promise<Reply> {
    const url = new URL(`/v2/${repo}/${path}`, base);
    const scope = `repository:${repo}:pull`;
    const headers: Record<string, string> = accept ? { accept } : {};
    const cached = tokens.get(scope);
    if (cached && cached.untilMs > now()) headers.authorization = `Bearer ${cached.value}`;
    let r = await send(url, method, headers);
    if (r.status === 401) {
      tokens.delete(scope);
      const challenge = header(r.headers, 'www-authenticate') ?? '';
      const bearer = parseBearerChallenge(challenge);
      if (bearer) headers.authorization = `Bearer ${await token(bearer, scope)}`;
      else if (basic && /^\s*Basic/i.test(challenge)) headers.authorization = basic;
      else throw new GraphServerError('GRAPHD_REGISTRY', `${method} ${url.pathname}: 401 with no usable challenge ('${challenge}')`);
      r = await send(url, method, headers);
    }
    if (r.status < 200 || r.status >= 300) {
      throw new GraphServerError('GRAPHD_REGISTRY', `${method} ${url.origin}${url.pathname} answered ${r.status}${r.body.length ? `: ${r.body.toString('utf8').slice(0, 200)}` : ''}`);
    }
    return r;
  }

  const accept = MANIFEST_MEDIA_TYPES.join(', ');
  return {
    async listTags(repo) {
      const out: string[] = [];
      let path: string | null = 'tags/list?n=1000';
      for (let page = 0; path !== null && page < 1000; page++) {
        const r = await call(repo, path, 'GET');
        let doc: unknown;
        try {
          doc = JSON.parse(r.body.toString('utf8'));
        } catch {
          throw new GraphServerError('GRAPHD_REGISTRY', `${repo} tags/list: not JSON`);
        }
        const tags = typeof doc === 'object' && doc !== null ? (doc as { tags?: unknown }).tags : undefined;
        if (tags !== null && tags !== undefined && (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string'))) {
          throw new GraphServerError('GRAPHD_REGISTRY', `${repo} tags/list: expected "tags" to be an array of strings`);
        }
        out.push(...((tags as string[] | null | undefined) ?? []));
        // RFC 5988 `Link: </v2/<repo>/tags/list?n=…&last=…>; rel="next"`.
        const link = /<[^>]*\/tags\/list(\?[^>]*)>\s*;\s*rel="?next"?/.exec(header(r.headers, 'link') ?? '');
        path = link ? `tags/list${link[1]}` : null;
      }
      return out;
    },
    async headManifest(repo, ref) {
      const r = await call(repo, `manifests/${encodeURIComponent(ref)}`, 'HEAD', accept);
      const d = header(r.headers, 'docker-content-digest');
      if (d !== null && /^sha256:[0-9a-f]{64}$/.test(d)) return d;
      return (await this.getManifest(repo, ref)).digest;
    },
    async getManifest(repo, ref) {
      const r = await call(repo, `manifests/${encodeURIComponent(ref)}`, 'GET', accept);
      const digest = sha256(r.body);
      if (ref.startsWith('sha256:') && ref !== digest) throw new GraphServerError('GRAPHD_REGISTRY', `${repo}@${ref}: body has digest ${digest}`);
      return { digest, mediaType: header(r.headers, 'content-type'), bytes: r.body };
    },
    async getBlob(repo, digest) {
      const r = await call(repo, `blobs/${digest}`, 'GET');
      const got = sha256(r.body);
      if (got !== digest) throw new GraphServerError('GRAPHD_REGISTRY', `${repo} blob ${digest}: body has digest ${got}`);
      return r.body;
    },
    requestCount: () => count,
    close: async () => {
      await own?.close();
    },
  };
}
