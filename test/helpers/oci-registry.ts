// Test harness: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1 with filesystem storage in
// a temporary directory, optionally behind real Bearer-token auth: a tiny token server in this process
// issues RS256 JWTs whose certificate (x5c) the registry trusts through `rootcertbundle`. Images are
// written by hand as OCI layouts (blobs + index.json) and pushed with `skopeo copy`, or pushed straight
// through the distribution API (`pushRaw`, for the benchmark's hundreds of tags).
// No vitest import: the benchmark runs this from dist/.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { freePorts } from './etcd.js';
import { trackProcess } from './scope.js';

const run = promisify(execFile);

/** The registry binary. */
export const REGISTRY_BIN = process.env['REGISTRY_BIN'] ?? '/usr/bin/docker-registry';

/** A running registry. */
export interface TestRegistry {
  /** `http://HOST:PORT` (127.0.0.1 unless started with another host). */
  readonly url: string;
  /** `HOST:PORT`, the registry part of pullspecs. */
  readonly host: string;
  /** Token requests the realm answered (0 without token auth). */
  tokenRequests(): number;
  /** Pushes a blob and a manifest through the distribution API (token fetched as needed). */
  pushRaw(repo: string, tag: string, image: BuiltImage): Promise<void>;
  /** SIGKILLs the registry (to test a registry that went away); `stop()` still cleans up. */
  kill(): Promise<void>;
  /** Stops the registry and the token server, removes the storage. */
  stop(): Promise<void>;
}

/** One image: its blobs by digest and the top manifest (an image manifest or an index). */
export interface BuiltImage {
  readonly blobs: ReadonlyMap<string, Buffer>;
  readonly manifest: Buffer;
  readonly mediaType: string;
  /** Digest of `manifest`. */
  readonly digest: string;
  /** The platform manifests of an index, by digest (pushed as manifests, not blobs). */
  readonly children: ReadonlyMap<string, Buffer>;
  /** Per-architecture image manifest digests (one entry for a single image). */
  readonly platforms: Readonly<Record<string, string>>;
}

const sha = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
// An empty tar archive (two zero blocks): a valid layer.
const LAYER = Buffer.alloc(1024);

/** Facts of one platform image. */
export interface ImageSpec {
  readonly arch: string;
  readonly created: string;
  /** Image config labels (the version label goes here). */
  readonly labels: Record<string, string>;
  /** Raw config override (malformed-config tests). */
  readonly rawConfig?: Buffer;
}

function platformImage(spec: ImageSpec, blobs: Map<string, Buffer>): { manifest: Buffer; digest: string } {
  const config =
    spec.rawConfig ??
    Buffer.from(JSON.stringify({ architecture: spec.arch, os: 'linux', created: spec.created, config: { Labels: spec.labels }, rootfs: { type: 'layers', diff_ids: [sha(LAYER)] } }));
  blobs.set(sha(config), config);
  blobs.set(sha(LAYER), LAYER);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: sha(LAYER), size: LAYER.length }],
    }),
  );
  return { manifest, digest: sha(manifest) };
}

/** Builds an image: one spec is an image manifest, several an index with a manifest per platform. */
export function buildImage(specs: readonly ImageSpec[]): BuiltImage {
  const blobs = new Map<string, Buffer>();
  const ps = specs.map((s) => ({ s, ...platformImage(s, blobs) }));
  const platforms = Object.fromEntries(ps.map((p) => [p.s.arch, p.digest]));
  if (ps.length === 1) return { blobs, children: new Map(), manifest: ps[0]!.manifest, mediaType: OCI_MANIFEST, digest: ps[0]!.digest, platforms };
  const children = new Map(ps.map((p) => [p.digest, p.manifest]));
  const index = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: ps.map((p) => ({ mediaType: OCI_MANIFEST, digest: p.digest, size: p.manifest.length, platform: { architecture: p.s.arch, os: 'linux' } })),
    }),
  );
  return { blobs, children, manifest: index, mediaType: OCI_INDEX, digest: sha(index), platforms };
}

/** Writes `image` as an OCI layout under `dir` with ref name `tag`. */
export async function writeOciLayout(dir: string, tag: string, image: BuiltImage): Promise<void> {
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  const all = new Map([...image.blobs, ...image.children]);
  all.set(image.digest, image.manifest);
  for (const [d, b] of all) await writeFile(join(dir, 'blobs', 'sha256', d.slice(7)), b);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: image.mediaType, digest: image.digest, size: image.manifest.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }),
  );
}

/** Pushes `image` as `repo:tag` with `skopeo copy --all` from an OCI layout. */
export async function skopeoPush(reg: TestRegistry, repo: string, tag: string, image: BuiltImage): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'oci-layout-'));
  try {
    await writeOciLayout(dir, tag, image);
    await run('skopeo', ['--insecure-policy', 'copy', '--all', '--preserve-digests', '--quiet', '--dest-tls-verify=false', `oci:${dir}:${tag}`, `docker://${reg.host}/${repo}:${tag}`], {
      env: { ...process.env, REGISTRY_AUTH_FILE: join(dir, 'auth.json') },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface TokenRealm {
  readonly server: Server;
  readonly url: string;
  readonly key: KeyObject;
  readonly certDer: Buffer;
  count: number;
}

const SERVICE = 'alt-test-registry';
const ISSUER = 'alt-test-token';

function jwt(realm: TokenRealm, scopes: string[]): string {
  const now = Math.floor(Date.now() / 1000);
  const access = scopes.flatMap((s) => {
    const [type, name, actions] = s.split(':');
    return type && name && actions ? [{ type, name, actions: actions.split(',') }] : [];
  });
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [realm.certDer.toString('base64')] }));
  const body = b64url(JSON.stringify({ iss: ISSUER, sub: 'test', aud: SERVICE, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access }));
  return `${head}.${body}.${b64url(sign('sha256', Buffer.from(`${head}.${body}`), realm.key))}`;
}

async function startRealm(dir: string): Promise<{ realm: TokenRealm; certFile: string }> {
  const keyFile = join(dir, 'token.key');
  const certFile = join(dir, 'token.crt');
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=alt-test-token', '-days', '2']);
  const pem = await readFile(certFile, 'utf8');
  const certDer = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const realm: TokenRealm = { server: createServer(), url: '', key: createPrivateKey(await readFile(keyFile)), certDer, count: 0 };
  realm.server.on('request', (req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    realm.count++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ token: jwt(realm, u.searchParams.getAll('scope')), expires_in: 300 }));
  });
  await new Promise<void>((resolve) => realm.server.listen(0, '127.0.0.1', () => resolve()));
  (realm as { url: string }).url = `http://127.0.0.1:${(realm.server.address() as AddressInfo).port}/token`;
  return { realm, certFile };
}

async function waitUp(url: string, child: ChildProcess, log: () => Promise<string>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${await log()}`);
    try {
      const r = await request(`${url}/v2/`, { signal: AbortSignal.timeout(1000) });
      await r.body.dump();
      if (r.statusCode === 200 || r.statusCode === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry at ${url} did not answer /v2/: ${await log()}`);
}

/**
 * Starts a registry (token auth with `tokenAuth`) on `host` (default 127.0.0.1; the real-node tests
 * listen on their bridge's address); retries on a port taken between pick and bind.
 */
export async function startRegistry(opts: { tokenAuth?: boolean; host?: string } = {}): Promise<TestRegistry> {
  const bind = opts.host ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'oci-registry-'));
  const realm = opts.tokenAuth ? await startRealm(dir) : null;
  for (let attempt = 0; ; attempt++) {
    const [port] = await freePorts(1);
    const auth = realm ? `auth:\n  token:\n    realm: ${realm.realm.url}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n    rootcertbundle: ${realm.certFile}\n` : '';
    const cfg = join(dir, 'config.yml');
    await writeFile(
      cfg,
      `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${join(dir, 'storage')}\n  delete:\n    enabled: true\nhttp:\n  addr: ${bind}:${port}\n  secret: alt-test\n${auth}`,
    );
    const logFile = join(dir, 'registry.log');
    const out = await import('node:fs').then((fs) => fs.openSync(logFile, 'w'));
    const child = spawn(REGISTRY_BIN, ['serve', cfg], { stdio: ['ignore', out, out] });
    trackProcess(child);
    const url = `http://${bind}:${port}`;
    try {
      await waitUp(url, child, () => readFile(logFile, 'utf8').catch(() => ''));
    } catch (err: unknown) {
      child.kill('SIGKILL');
      if (attempt < 3) continue;
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    const exited = (): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', () => r())));
    let bearer: string | null = null;
    let pushing = '';
    const authed = async (method: 'POST' | 'PUT', path: string, body: Buffer | null, headers: Record<string, string> = {}): Promise<{ status: number; location: string | null }> => {
      const target = path.startsWith('http') ? path : `${url}${path}`;
      for (let i = 0; i < 2; i++) {
        const r = await request(target, { method, body, headers: { ...headers, ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) } });
        await r.body.dump();
        if (r.statusCode === 401 && realm && i === 0) {
          bearer = jwt(realm.realm, [`repository:${pushing}:pull,push`]);
          continue;
        }
        return { status: r.statusCode, location: (r.headers.location as string | undefined) ?? null };
      }
      return { status: 401, location: null };
    };
    return {
      url,
      host: `${bind}:${port}`,
      tokenRequests: () => realm?.realm.count ?? 0,
      async pushRaw(repo, tag, image) {
        // Token scope per repository: re-mint per call so several repositories work.
        pushing = repo;
        bearer = realm ? jwt(realm.realm, [`repository:${repo}:pull,push`]) : null;
        for (const [digest, blob] of image.blobs) {
          const start = await authed('POST', `/v2/${repo}/blobs/uploads/`, null);
          if (start.status !== 202 || !start.location) throw new Error(`blob upload start: ${start.status}`);
          const loc = new URL(start.location, url);
          loc.searchParams.set('digest', digest);
          const put = await authed('PUT', loc.toString(), blob, { 'content-type': 'application/octet-stream' });
          if (put.status !== 201) throw new Error(`blob upload: ${put.status}`);
        }
        for (const [digest, child] of image.children) {
          const c = await authed('PUT', `/v2/${repo}/manifests/${digest}`, child, { 'content-type': OCI_MANIFEST });
          if (c.status !== 201) throw new Error(`platform manifest put: ${c.status}`);
        }
        const m = await authed('PUT', `/v2/${repo}/manifests/${tag}`, image.manifest, { 'content-type': image.mediaType });
        if (m.status !== 201) throw new Error(`manifest put: ${m.status}`);
      },
      async kill() {
        child.kill('SIGKILL');
        await exited();
      },
      async stop() {
        child.kill('SIGTERM');
        await exited();
        if (realm) await new Promise<void>((r) => realm.realm.server.close(() => r()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  }
}
