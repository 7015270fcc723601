// The graph server's state: the last good set of graphs, rebuilt when the repo or a policy file
// changes, and per-request throttled bodies cached by the set of hidden rollouts.
//
// INVARIANTS
// - `current` only ever holds a fully built snapshot; a failed rebuild leaves it untouched.
// - A cached body depends only on (snapshot, graph, hidden rollout set), so it is safe to reuse for
//   every client whose wariness hides the same rollouts.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import { errorChain } from '../common/errors.js';
import { buildGraphs, graphKey, type BuildOptions, type BuiltGraph } from './build.js';
import { parseStreamPolicy, type StreamPolicy } from './policy.js';
import type { ReleaseSource } from './repo.js';
import { GraphServerError } from './errors.js';
import { hiddenRollouts } from './throttle.js';

/** A serialized graph body and its strong ETag. */
export interface GraphBody {
  /** JSON bytes. */
  readonly body: Buffer;
  /** Quoted strong ETag. */
  readonly etag: string;
}

/** Counters and timestamps for /metrics and /healthz. */
export interface ServiceStats {
  /** Rebuild attempts that found a change. */
  rebuilds: number;
  /** Failed refreshes (repo, policy or build). */
  refreshFailures: number;
  /** ms of the last successful build, or null. */
  lastSuccessMs: number | null;
  /** ms of the last refresh that succeeded, rebuilding or finding nothing changed; null before one. */
  lastRefreshOkMs: number | null;
  /** The last refresh error, or null after a success. */
  lastError: string | null;
  /** Commits left out of the graphs because their signatures do not verify. */
  unverifiedCommits: number;
}

/** The graph service used by the HTTP layer and the poll loop. */
export interface GraphService {
  /** Rebuilds when the fingerprint changed; never throws; resolves true when a new snapshot is live. */
  refresh(): Promise<boolean>;
  /**
   * The built graph for `(basearch, stream)` (the image graph with `oci`), or null; `ready` is false
   * before the first build.
   */
  lookup(basearch: string, stream: string, oci?: boolean): { ready: boolean; graph: BuiltGraph | null };
  /** The body for a client of wariness `w` at the service clock's now. */
  body(graph: BuiltGraph, wariness: number): GraphBody;
  /** All graphs of the live snapshot. */
  graphs(): readonly BuiltGraph[];
  /** Live counters. */
  readonly stats: ServiceStats;
}

/** Dependencies of `createGraphService`. */
export interface GraphServiceDeps {
  /** Where releases come from. */
  readonly source: ReleaseSource;
  /** Directory of `<stream>.json` policy files. */
  readonly updatesDir: string;
  /** Time source (throttling uses it). */
  readonly clock: Clock;
  /** Logger. */
  readonly logger: Logger;
  /** Builder options. */
  readonly build?: BuildOptions;
  /** Max cached bodies per snapshot. @default 256 */
  readonly cacheEntries?: number;
}

interface Snapshot {
  readonly fingerprint: string;
  readonly graphs: ReadonlyMap<string, BuiltGraph>;
  readonly nodesJson: WeakMap<BuiltGraph, string>;
  readonly cache: Map<string, GraphBody>;
}

async function readPolicies(dir: string): Promise<{ policies: Map<string, StreamPolicy>; digest: string }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort();
  } catch (err: unknown) {
    throw new GraphServerError('GRAPHD_POLICY', `cannot read updates directory '${dir}'`, err);
  }
  const hash = createHash('sha256');
  const policies = new Map<string, StreamPolicy>();
  for (const name of names) {
    const file = join(dir, name);
    const text = await readFile(file, 'utf8').catch((err: unknown) => {
      throw new GraphServerError('GRAPHD_POLICY', `cannot read '${file}'`, err);
    });
    hash.update(`${name}\0${text}\0`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err: unknown) {
      throw new GraphServerError('GRAPHD_POLICY', `${file}: invalid JSON: ${err instanceof Error ? err.message : String(err)}`, err);
    }
    const stream = name.slice(0, -'.json'.length);
    policies.set(stream, parseStreamPolicy(json, file, stream));
  }
  return { policies, digest: hash.digest('hex') };
}

/** Serializes a graph with the edges into `hidden` nodes removed. */
export function serializeGraph(nodesJson: string, g: BuiltGraph, hidden: ReadonlySet<number>): string {
  const parts: string[] = [];
  for (const [a, b] of g.edges) if (!hidden.has(b)) parts.push(`[${a},${b}]`);
  return `{"nodes":${nodesJson},"edges":[${parts.join(',')}]}`;
}

/** Creates the service; call `refresh()` once before serving. */
export function createGraphService(deps: GraphServiceDeps): GraphService {
  const log = deps.logger.child({ component: 'graphd.service' });
  const maxCache = deps.cacheEntries ?? 256;
  const stats: ServiceStats = { rebuilds: 0, refreshFailures: 0, lastSuccessMs: null, lastRefreshOkMs: null, lastError: null, unverifiedCommits: 0 };
  let current: Snapshot | null = null;

  async function refresh(): Promise<boolean> {
    try {
      const [repoFp, pol] = await Promise.all([deps.source.fingerprint(), readPolicies(deps.updatesDir)]);
      const fingerprint = `${repoFp}\n${pol.digest}`;
      if (current?.fingerprint === fingerprint) {
        stats.lastError = null;
        stats.lastRefreshOkMs = deps.clock.nowMs();
        return false;
      }
      stats.rebuilds++;
      const histories = await deps.source.read();
      stats.unverifiedCommits = deps.source.refusedCommits?.() ?? 0;
      const { graphs, warnings } = buildGraphs(histories, pol.policies, deps.build ?? {});
      for (const w of warnings) log.warn({ event: 'graph_build_warning' }, w);
      current = { fingerprint, graphs, nodesJson: new WeakMap(), cache: new Map() };
      stats.lastSuccessMs = deps.clock.nowMs();
      stats.lastRefreshOkMs = stats.lastSuccessMs;
      stats.lastError = null;
      log.info({ event: 'graph_rebuilt', graphs: [...graphs.keys()].join(',') }, 'update graphs rebuilt');
      return true;
    } catch (err: unknown) {
      stats.refreshFailures++;
      stats.lastError = errorChain(err).join(': ');
      log.error({ event: 'graph_rebuild_failed', error: stats.lastError }, 'graph rebuild failed, serving the last good graph');
      return false;
    }
  }

  function body(g: BuiltGraph, wariness: number): GraphBody {
    const snap = current!;
    const hidden = hiddenRollouts(g.rollouts, wariness, Math.floor(deps.clock.nowMs() / 1000));
    const key = `${graphKey(g.basearch, g.stream, g.scheme === 'oci')}|${hidden.join(',')}`;
    const hit = snap.cache.get(key);
    if (hit) return hit;
    let nodesJson = snap.nodesJson.get(g);
    if (nodesJson === undefined) {
      nodesJson = JSON.stringify(g.nodes);
      snap.nodesJson.set(g, nodesJson);
    }
    const buf = Buffer.from(serializeGraph(nodesJson, g, new Set(hidden)));
    const made = { body: buf, etag: `"${createHash('sha256').update(buf).digest('base64url').slice(0, 32)}"` };
    if (snap.cache.size >= maxCache) snap.cache.delete(snap.cache.keys().next().value!);
    snap.cache.set(key, made);
    return made;
  }

  return {
    refresh,
    lookup: (basearch, stream, oci = false) => ({ ready: current !== null, graph: current?.graphs.get(graphKey(basearch, stream, oci)) ?? null }),
    body,
    graphs: () => [...(current?.graphs.values() ?? [])],
    stats,
  };
}
