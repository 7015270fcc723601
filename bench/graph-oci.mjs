// Benchmark: alt-graphd's cold build of an `oci` stream from a real registry (Debian's
// docker-registry on loopback, 200 release tags, single-arch images pushed through the distribution
// API) against the floor: the same manifests and configs fetched by one keep-alive undici client at
// the same concurrency, doing nothing else. Then one tag moves and the requests of the next rebuild
// are counted. Prints JSON lines. Run after `npm run build` (the helpers run from dist/).
import { Agent, request } from 'undici';
import { buildGraphs } from '../dist/src/graph-server/build.js';
import { createRegistryClient } from '../dist/src/graph-server/oci/registry.js';
import { ociReleaseSource } from '../dist/src/graph-server/oci/source.js';
import { buildImage, startRegistry } from '../dist/test/helpers/oci-registry.js';

const TAGS = 200;
const RUNS = 7;
const CONCURRENCY = 8;
const REPO = 'alt/atomic';
const LABEL = 'org.opencontainers.image.version';
const ACCEPT = 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json';

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const image = (i, hour = 0) =>
  buildImage([{ arch: 'amd64', created: new Date(Date.UTC(2026, 0, 1 + i, hour)).toISOString(), labels: { [LABEL]: `1.${i}` } }]);

async function pool(items, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** The floor: tags/list, then per tag GET manifest + GET config, on one keep-alive Agent. */
async function floor(url) {
  const agent = new Agent({ connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const t0 = performance.now();
  const tags = (await (await request(`${url}/v2/${REPO}/tags/list?n=1000`, { dispatcher: agent })).body.json()).tags;
  await pool(tags, async (tag) => {
    const m = await (await request(`${url}/v2/${REPO}/manifests/${tag}`, { headers: { accept: ACCEPT }, dispatcher: agent })).body.json();
    await (await request(`${url}/v2/${REPO}/blobs/${m.config.digest}`, { dispatcher: agent })).body.arrayBuffer();
  });
  const ms = performance.now() - t0;
  await agent.close();
  return ms;
}

const stream = (reg) => ({ stream: 'stable', registry: reg.url, repository: REPO, tagPattern: '[0-9]+', tags: null, image: `${reg.host}/${REPO}`, versionLabel: LABEL });

/** alt-graphd's cold build: a fresh client and source (empty caches), fingerprint + read + build. */
async function cold(reg) {
  const client = createRegistryClient({ baseUrl: reg.url, connections: CONCURRENCY });
  const src = ociReleaseSource([stream(reg)], () => client, { concurrency: CONCURRENCY });
  const t0 = performance.now();
  await src.fingerprint();
  const { graphs } = buildGraphs(await src.read(), new Map(), { implicitRollout: true });
  const ms = performance.now() - t0;
  if (graphs.get('oci:x86_64/stable')?.nodes.length !== TAGS) throw new Error('incomplete graph');
  return { ms, client, src };
}

const reg = await startRegistry();
try {
  for (let i = 0; i < TAGS; i++) await reg.pushRaw(REPO, String(i).padStart(4, '0'), image(i));
  // Warm-up of both paths (registry caches, JIT), then interleaved runs.
  await floor(reg.url);
  await (await cold(reg)).client.close();
  const floors = [];
  const builds = [];
  for (let r = 0; r < RUNS; r++) {
    floors.push(await floor(reg.url));
    const c = await cold(reg);
    builds.push(c.ms);
    await c.client.close();
  }
  const value = median(builds);
  const baseline = median(floors);
  console.log(JSON.stringify({ name: 'graph-oci-cold-build', value, baseline, ratio: value / baseline, target: '<=1.3', unit: `ms (${TAGS} tags; baseline: the same manifests and configs on one keep-alive client)` }));

  // One tag moves: count what the next poll and rebuild send.
  const { client, src } = await cold(reg);
  const cold1 = client.requestCount();
  await reg.pushRaw(REPO, '0100', image(100, 12));
  const before = client.requestCount();
  await src.fingerprint();
  const polled = client.requestCount() - before;
  await src.read();
  const rebuilt = client.requestCount() - before - polled;
  await client.close();
  console.log(JSON.stringify({ name: 'graph-oci-rebuild-requests', value: rebuilt, baseline: cold1, ratio: rebuilt / cold1, target: 'report', unit: `GETs after one tag moved (baseline: requests of the cold build; the poll that found the move sent ${polled}: tags/list + one bodyless HEAD per tag)` }));
} finally {
  await reg.stop();
}
