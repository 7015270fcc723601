// An OCI registry as a release source: per stream, a repository and a tag pattern (or tag list);
// every matching tag's manifest digest is a release, per `basearch` for a multi-arch index. The
// version comes from an image config label, the order from the config's creation time.
//
// INVARIANTS
// - Manifests and configs are cached by digest (content-addressed, so never stale); a poll sends
//   one tags/list (none with a fixed tag list) and one bodyless HEAD per known tag, and GETs only
//   what a new or moved tag points to.
// - `tagDigests` changes only after a fully successful poll: a failing or malformed registry leaves
//   the source (and so the served graph) as it was.
import { GraphServerError } from '../errors.js';
import type { CommitInfo, RefHistory, ReleaseSource } from '../repo.js';
import { basearchOf, parseImageConfig, parseManifest, type ImageConfigFacts, type ManifestDoc } from './manifest.js';
import type { RegistryClient } from './registry.js';

/** One `oci` stream as configured (`[[streams]]` in alt-graphd.toml). */
export interface OciStreamConfig {
  /** Stream name (`updates/<stream>.json` is its policy). */
  readonly stream: string;
  /** Registry base URL, `http(s)://host[:port]`. */
  readonly registry: string;
  /** Repository name, e.g. `alt/atomic`. */
  readonly repository: string;
  /** Tags that are releases: a full-match regular expression (source text), or null with `tags`. */
  readonly tagPattern: string | null;
  /** A fixed tag list instead of a pattern (no tags/list request), or null. */
  readonly tags: readonly string[] | null;
  /** Image name in payloads, `<registry>/<repo>` as hosts pull it. @default host[:port]/repository */
  readonly image: string;
  /** Image config label holding the version. @default "org.opencontainers.image.version" */
  readonly versionLabel: string;
}

/** The OCI source plus what the benchmark and tests read. */
export interface OciReleaseSource extends ReleaseSource {
  /** Registry requests sent so far, all streams. */
  requestCount(): number;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

interface StreamState {
  readonly cfg: OciStreamConfig;
  readonly client: RegistryClient;
  readonly pattern: RegExp | null;
  tagDigests: ReadonlyMap<string, string>;
}

interface Release {
  readonly basearch: string;
  readonly payload: string;
  readonly version: string | null;
  readonly createdMs: number;
  readonly tag: string;
}

/** Creates the source; `clientFor` gives a stream's registry client (streams of one registry may share one). */
export function ociReleaseSource<S extends OciStreamConfig>(streams: readonly S[], clientFor: (stream: S) => RegistryClient, opts: { concurrency?: number } = {}): OciReleaseSource {
  const limit = opts.concurrency ?? 8;
  const manifests = new Map<string, ManifestDoc>();
  const configs = new Map<string, ImageConfigFacts>();
  const states: StreamState[] = streams.map((cfg) => ({
    cfg,
    client: clientFor(cfg),
    pattern: cfg.tagPattern === null ? null : new RegExp(`^(?:${cfg.tagPattern})$`),
    tagDigests: new Map(),
  }));
  const clients = [...new Set(states.map((s) => s.client))];

  async function manifest(s: StreamState, digest: string): Promise<ManifestDoc> {
    const hit = manifests.get(digest);
    if (hit) return hit;
    const m = await s.client.getManifest(s.cfg.repository, digest);
    const doc = parseManifest(m.bytes, m.mediaType, `${s.cfg.repository}@${digest}`);
    manifests.set(digest, doc);
    return doc;
  }

  async function config(s: StreamState, digest: string): Promise<ImageConfigFacts> {
    const key = `${s.cfg.versionLabel}\0${digest}`;
    const hit = configs.get(key);
    if (hit) return hit;
    const facts = parseImageConfig(await s.client.getBlob(s.cfg.repository, digest), s.cfg.versionLabel, `${s.cfg.repository} config ${digest}`);
    configs.set(key, facts);
    return facts;
  }

  /** Where every release tag points now: HEAD for a known tag, GET (cached by digest) for a new one. */
  async function poll(s: StreamState): Promise<Map<string, string>> {
    const all = s.cfg.tags ?? (await s.client.listTags(s.cfg.repository));
    const tags = [...new Set(all.filter((t) => s.pattern === null || s.pattern.test(t)))].sort();
    const digests = await mapLimit(tags, limit, async (tag) => {
      if (s.tagDigests.has(tag)) return s.client.headManifest(s.cfg.repository, tag);
      const m = await s.client.getManifest(s.cfg.repository, tag);
      if (!manifests.has(m.digest)) manifests.set(m.digest, parseManifest(m.bytes, m.mediaType, `${s.cfg.repository}:${tag}`));
      return m.digest;
    });
    return new Map(tags.map((t, i) => [t, digests[i]!]));
  }

  async function releases(s: StreamState, tag: string, digest: string): Promise<Release[]> {
    const doc = await manifest(s, digest);
    const one = async (d: string, arch: string | null): Promise<Release> => {
      const m = await manifest(s, d);
      if (m.kind !== 'image') throw new GraphServerError('GRAPHD_REGISTRY', `${s.cfg.repository}@${d}: an index inside an index`);
      const c = await config(s, m.configDigest);
      return { basearch: basearchOf(arch ?? c.architecture), payload: `${s.cfg.image}@${d}`, version: c.version, createdMs: c.createdMs, tag };
    };
    if (doc.kind === 'image') return [await one(digest, null)];
    return Promise.all(doc.manifests.filter((m) => m.os === 'linux').map((m) => one(m.digest, m.architecture)));
  }

  async function histories(s: StreamState): Promise<RefHistory[]> {
    const perTag = await mapLimit([...s.tagDigests], limit, ([tag, digest]) => releases(s, tag, digest));
    const byArch = new Map<string, Map<string, Release>>();
    for (const r of perTag.flat()) {
      const arch = byArch.get(r.basearch) ?? new Map<string, Release>();
      byArch.set(r.basearch, arch);
      // Two tags on one digest are one release; the first tag in name order names it.
      if (!arch.has(r.payload)) arch.set(r.payload, r);
    }
    return [...byArch].sort(([a], [b]) => (a < b ? -1 : 1)).map(([basearch, rs]) => {
      const ordered = [...rs.values()].sort((a, b) => a.createdMs - b.createdMs || (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
      const commits: CommitInfo[] = ordered.map((r) => ({ checksum: r.payload, version: r.version }));
      return { ref: `${s.cfg.image} (${basearch})`, basearch, stream: s.cfg.stream, name: null, commits, scheme: 'oci' as const };
    });
  }

  return {
    async fingerprint() {
      const next = await Promise.all(states.map(poll));
      states.forEach((s, i) => (s.tagDigests = next[i]!));
      return states.map((s) => `${s.cfg.stream}\0${[...s.tagDigests].map(([t, d]) => `${t}=${d}`).join('\n')}`).join('\n\n');
    },
    async read() {
      return (await Promise.all(states.map(histories))).flat();
    },
    requestCount: () => clients.reduce((n, c) => n + c.requestCount(), 0),
  };
}
