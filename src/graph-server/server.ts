// Wires the graph service, the poll loop and the HTTP server; used by main.ts and in-process tests.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../common/clock.js';
import type { Logger } from '../common/logger.js';
import type { GraphdConfig } from './config.js';
import { createGraphHandler } from './http.js';
import { createRegistryClient, type RegistryClient } from './oci/registry.js';
import { ociReleaseSource } from './oci/source.js';
import { localRepoSource, remoteRepoSource, type ReleaseSource } from './repo.js';
import { createGraphService, type GraphService } from './service.js';
import { verifiedSource } from './signatures.js';

/** A running alt-graphd. */
export interface RunningGraphd {
  /** Base URL, e.g. `http://127.0.0.1:34567/`. */
  readonly url: string;
  /** The service (tests call `refresh()` directly instead of waiting for a poll). */
  readonly service: GraphService;
  /** Stops polling, closes connections and the listener. */
  close(): Promise<void>;
}

/** Starts the server: first build, HTTP listener, then the change-poll loop (unless `poll` is false). */
export async function startGraphd(
  config: GraphdConfig,
  deps: { clock: Clock; logger: Logger; poll?: boolean },
): Promise<RunningGraphd> {
  const sources: ReleaseSource[] = [];
  if (config.repo !== null) {
    const repo = config.repo;
    const remote = /^https?:\/\//.test(repo);
    const plain = remote ? remoteRepoSource(repo, config.cacheDir, config.refPrefix) : localRepoSource(repo, config.refPrefix);
    sources.push(
      config.verifyKeyringDir === null
        ? plain
        : verifiedSource(plain, { repoPath: remote ? config.cacheDir : repo, keyringDir: config.verifyKeyringDir, logger: deps.logger }),
    );
  }
  // One keep-alive client per registry (and credentials), shared by its streams.
  const registries = new Map<string, RegistryClient>();
  const oci = config.ociStreams ?? [];
  if (oci.length > 0) {
    const clientFor = (s: (typeof oci)[number]): RegistryClient => {
      const key = `${s.registry}\0${s.credentials?.username ?? ''}`;
      let c = registries.get(key);
      if (c === undefined) registries.set(key, (c = createRegistryClient({ baseUrl: s.registry, credentials: s.credentials, nowMs: () => deps.clock.nowMs() })));
      return c;
    };
    sources.push(ociReleaseSource(oci, clientFor));
  }
  const source = combinedSource(sources);
  const service = createGraphService({
    source,
    updatesDir: config.updates,
    clock: deps.clock,
    logger: deps.logger,
    build: { implicitRollout: config.implicitRollout },
  });
  await service.refresh();
  const { handle } = createGraphHandler(service);
  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}/`;
  deps.logger.info({ event: 'listening', address: `${host}:${addr.port}` }, `alt-graphd listening on ${url}`);

  const stop = new AbortController();
  const loop =
    deps.poll === false
      ? Promise.resolve()
      : (async () => {
          while (!stop.signal.aborted) {
            try {
              await deps.clock.sleep(config.pollIntervalSecs * 1000, stop.signal);
            } catch {
              return;
            }
            await service.refresh();
          }
        })();

  return {
    url,
    service,
    async close() {
      stop.abort();
      await loop;
      await Promise.all([...registries.values()].map((c) => c.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Several sources as one: fingerprints joined, histories concatenated. */
function combinedSource(sources: readonly ReleaseSource[]): ReleaseSource {
  if (sources.length === 1) return sources[0]!;
  return {
    fingerprint: async () => (await Promise.all(sources.map((s) => s.fingerprint()))).join('\n\n'),
    read: async () => (await Promise.all(sources.map((s) => s.read()))).flat(),
    refusedCommits: () => sources.reduce((n, s) => n + (s.refusedCommits?.() ?? 0), 0),
  };
}
