// alt-graphd building `oci` graphs from a real registry (Debian's docker-registry, distribution 2.8)
// behind real Bearer-token auth, with images built here as OCI layouts and pushed with skopeo; the
// agent's own graph client and selection read the result.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createGraphClient, type GraphClient } from '../../../src/graph/client.js';
import { selectUpdate } from '../../../src/graph/select.js';
import type { GraphdConfig } from '../../../src/graph-server/config.js';
import { createRegistryClient } from '../../../src/graph-server/oci/registry.js';
import { ociReleaseSource, type OciStreamConfig } from '../../../src/graph-server/oci/source.js';
import { startGraphd, type RunningGraphd } from '../../../src/graph-server/server.js';
import { buildImage, skopeoPush, startRegistry, type BuiltImage, type TestRegistry } from '../../helpers/oci-registry.js';

const REPO = 'alt/atomic';
const LABEL = 'org.opencontainers.image.version';
const T0 = 1_800_000_000;
let base: string;
let updates: string;
let reg: TestRegistry;
let graphd: RunningGraphd;
let client: GraphClient;
const logger = memoryLogger();
const dispatcher = new Agent();
const img: Record<string, BuiltImage> = {};

const image = (version: string, day: number, arches: string[] = ['amd64']): BuiltImage =>
  buildImage(arches.map((arch) => ({ arch, created: `2026-11-${String(day).padStart(2, '0')}T00:00:00Z`, labels: { [LABEL]: version } })));
const stream = (): OciStreamConfig => ({ stream: 'stable', registry: reg.url, repository: REPO, tagPattern: '[0-9]+\\.[0-9]+', tags: null, image: `${reg.host}/${REPO}`, versionLabel: LABEL });
const pull = (digest: string): string => `${reg.host}/${REPO}@${digest}`;

async function graphOf(basearch: string, booted: string): Promise<{ versions: string[]; target: string | null; reason: string }> {
  const g = await client.fetchGraph({ basearch, stream: 'stable', osVersion: '', osChecksum: booted, group: 'default', nodeUuid: '0'.repeat(32), oci: true });
  const d = selectUpdate(g, { bootedPayload: booted, bootedScheme: 'oci' });
  return { versions: g.nodes.map((n) => n.version), target: d.target?.payload ?? null, reason: d.reason };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'graphd-oci-'));
  updates = join(base, 'updates');
  await mkdir(updates);
  // 1.2 is a barrier: 1.0 must go through it before 2.0 (same policy file as for ostree streams).
  await writeFile(join(updates, 'stable.json'), JSON.stringify({ stream: 'stable', metadata: {}, releases: [{ version: '1.2', metadata: { barrier: { reason: 'https://bugzilla.altlinux.org/1' } } }] }));
  reg = await startRegistry({ tokenAuth: true });
  img['1.0'] = image('1.0', 1);
  img['1.1'] = image('1.1', 2, ['amd64', 'arm64']);
  img['1.2'] = image('1.2', 3, ['amd64', 'arm64']);
  // `latest` does not match the pattern; it points at 1.1 anyway, as a moving tag would.
  for (const [tag, im] of [['1.0', img['1.0']], ['1.1', img['1.1']], ['1.2', img['1.2']], ['latest', img['1.1']]] as const) await skopeoPush(reg, REPO, tag, im);
  const config: GraphdConfig = {
    repo: null,
    updates,
    host: '127.0.0.1',
    port: 0,
    refPrefix: 'altcos',
    pollIntervalSecs: 30,
    cacheDir: join(base, 'cache'),
    implicitRollout: true,
    nowSecs: null,
    verifyKeyringDir: null,
    ociStreams: [{ ...stream(), credentials: null }],
  };
  graphd = await startGraphd(config, { clock: new ManualClock(T0 * 1000), logger, poll: false });
  client = createGraphClient({ baseUrl: graphd.url, dispatcher });
}, 60_000);

afterAll(async () => {
  await graphd?.close();
  await client?.close();
  await dispatcher.close();
  await reg?.stop();
  if (base) await rm(base, { recursive: true, force: true });
});

describe('alt-graphd over an OCI registry with token auth', () => {
  it('serves one oci node per release tag and basearch, ordered by creation, with policy barriers', async () => {
    const x86 = await graphOf('x86_64', pull(img['1.0']!.digest));
    expect(x86.versions).toEqual(['1.0', '1.1', '1.2']);
    // The barrier at 1.2 is the only target from 1.0 (implicit rollouts, Fedora's edge rules).
    expect(x86).toMatchObject({ reason: 'update', target: pull(img['1.2']!.platforms['amd64']!) });
    const arm = await graphOf('aarch64', pull(img['1.1']!.platforms['arm64']!));
    expect(arm.versions).toEqual(['1.1', '1.2']);
    expect(arm.target).toBe(pull(img['1.2']!.platforms['arm64']!));
    expect(reg.tokenRequests()).toBeGreaterThan(0);
    const res = await request(`${graphd.url}v1/graph?basearch=x86_64&stream=stable&oci=true`, { dispatcher });
    const body = (await res.body.json()) as { nodes: { metadata: Record<string, string> }[] };
    expect(body.nodes.every((n) => n.metadata['org.fedoraproject.coreos.scheme'] === 'oci')).toBe(true);
  });

  it('gives a fresh install whose digest is not in the graph no update', async () => {
    const fresh = image('0.9', 1);
    expect((await graphOf('x86_64', pull(fresh.digest))).reason).toBe('booted_not_in_graph');
  });

  it('rebuilds after a push with a few requests beyond the poll, and a moved tag moves its release', async () => {
    const regClient = createRegistryClient({ baseUrl: reg.url });
    const src = ociReleaseSource([stream()], () => regClient);
    await src.fingerprint();
    await src.read();
    const cold = src.requestCount();
    // Re-push 1.0 with new content: the tag moves to another digest.
    const moved = image('1.0', 1, ['amd64']);
    const movedAgain = buildImage([{ arch: 'amd64', created: '2026-11-01T12:00:00Z', labels: { [LABEL]: '1.0' } }]);
    expect(moved.digest).toBe(img['1.0']!.digest); // same content is the same digest
    await skopeoPush(reg, REPO, '1.0', movedAgain);
    const before = src.requestCount();
    await src.fingerprint();
    const polled = src.requestCount() - before;
    const h = await src.read();
    const rebuild = src.requestCount() - before - polled;
    // Poll: tags/list + one HEAD per release tag (3), each after a token round trip at most once.
    expect(polled).toBeLessThanOrEqual(1 + 3 + 2);
    // Rebuild: the moved tag's manifest and config, nothing else.
    expect(rebuild).toBe(2);
    expect(cold).toBeGreaterThan(rebuild + polled);
    expect(h.find((x) => x.basearch === 'x86_64')!.commits.map((c) => c.checksum)).toContain(pull(movedAgain.digest));
    await regClient.close();
    expect(await graphd.service.refresh()).toBe(true);
    expect((await graphOf('x86_64', pull(movedAgain.digest))).target).toBe(pull(img['1.2']!.platforms['amd64']!));
  });

  it('alt-graphd started with the --registry flags serves the oci graph that alt-updatectl graph next reads', async () => {
    const { spawn, execFile } = await import('node:child_process');
    const args = ['--updates', updates, '--listen', '127.0.0.1:0', '--implicit-rollout', '--registry', reg.url, '--repository', REPO, '--tag-pattern', '[0-9]+\\.[0-9]+', '--stream', 'stable'];
    const proc = spawn(process.execPath, ['dist/src/graph-server/main.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const address = await new Promise<string>((resolve, reject) => {
        let out = '';
        proc.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /address=(127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        proc.on('exit', (code) => reject(new Error(`alt-graphd exited ${String(code)}: ${out}`)));
      });
      const booted = pull(img['1.1']!.platforms['arm64']!);
      const stdout = await new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['dist/src/cli/main.js', 'graph', 'next', '--graph', `http://${address}/v1/graph?basearch=aarch64&stream=stable&oci=true`, '--booted', booted, '--json'], (err, out) =>
          err ? reject(err) : resolve(out),
        ),
      );
      expect(JSON.parse(stdout)).toMatchObject({ reason: 'update', booted: { version: '1.1', payload: booted }, target: { version: '1.2', payload: pull(img['1.2']!.platforms['arm64']!) } });
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });

  it('keeps the last good graph on a malformed config or a dead registry, and reports it', async () => {
    const bad = buildImage([{ arch: 'amd64', created: 'x', labels: {}, rawConfig: Buffer.from('{"architecture":"amd64","created":"yesterday"}') }]);
    await reg.pushRaw(REPO, '9.9', bad);
    expect(await graphd.service.refresh()).toBe(false);
    expect(graphd.service.stats.lastError).toMatch(/GRAPHD_REGISTRY|created/);
    expect(graphd.service.stats.lastError).toContain('.created');
    const health = await request(`${graphd.url}healthz`, { dispatcher });
    expect(((await health.body.json()) as { last_error: string }).last_error).toContain('expected an RFC 3339 time');
    expect((await graphOf('x86_64', pull(img['1.1']!.platforms['amd64']!))).versions).toEqual(['1.0', '1.1', '1.2']);
    const metrics = await (await request(`${graphd.url}metrics`, { dispatcher })).body.text();
    expect(metrics).toMatch(/altgraphd_graph_refresh_failures_total [1-9]/);
    expect(metrics).toContain('altgraphd_graph_nodes{basearch="aarch64",stream="stable",scheme="oci"} 2');
    expect(logger.records.some((r) => r.fields['event'] === 'graph_rebuild_failed')).toBe(true);

    await reg.kill();
    expect(await graphd.service.refresh()).toBe(false);
    expect(graphd.service.stats.lastError).toMatch(/failed/);
    expect((await graphOf('x86_64', pull(img['1.2']!.platforms['amd64']!))).versions).toEqual(['1.0', '1.1', '1.2']);
  });
});
