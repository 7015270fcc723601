// alt-graphd serving a real ostree repo, exercised by the real Cincinnati client; time is a ManualClock.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, request } from 'undici';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { createGraphClient, type GraphClient, type GraphQuery } from '../../../src/graph/client.js';
import { selectUpdate } from '../../../src/graph/select.js';
import { startGraphd, type RunningGraphd } from '../../../src/graph-server/server.js';
import type { GraphdConfig } from '../../../src/graph-server/config.js';
import { createRepo, serveDir, type FixtureCommit, type FixtureRepo } from '../../helpers/ostree-repo.js';

const run = promisify(execFile);
const REF = 'altcos/x86_64/sisyphus';
const T0 = 1_800_000_000; // unix seconds
const V = ['sisyphus.20261101.0.0', 'sisyphus.20261108.0.0', 'sisyphus.20261115.0.0', 'sisyphus.20261122.0.0'];

let base: string;
let repo: FixtureRepo;
let updates: string;
let commits: FixtureCommit[];
const clock = new ManualClock(T0 * 1000);
let graphd: RunningGraphd;
let client: GraphClient;
const dispatcher = new Agent();

async function writePolicy(releases: unknown[]): Promise<void> {
  await writeFile(join(updates, 'sisyphus.json'), JSON.stringify({ stream: 'sisyphus', metadata: { 'last-modified': '2026-11-27T00:00:00Z' }, releases }));
}
const q = (booted: FixtureCommit, rolloutWariness: number | null = null): GraphQuery => ({
  basearch: 'x86_64',
  stream: 'sisyphus',
  osVersion: booted.version,
  osChecksum: booted.checksum,
  group: 'default',
  nodeUuid: '074c268827d74fb59ed758e8940cd667',
  rolloutWariness,
});
async function next(booted: FixtureCommit, wariness: number | null = null): Promise<string | null> {
  const graph = await client.fetchGraph(q(booted, wariness));
  const d = selectUpdate(graph, { bootedPayload: booted.checksum });
  return d.target?.version ?? d.reason;
}
function config(over: Partial<GraphdConfig> = {}): GraphdConfig {
  return { repo: repo.path, updates, host: '127.0.0.1', port: 0, refPrefix: 'altcos', pollIntervalSecs: 30, cacheDir: join(base, 'cache'), implicitRollout: false, nowSecs: null, verifyKeyringDir: null, ...over };
}

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'graphd-'));
  repo = await createRepo(base);
  updates = join(base, 'updates');
  await mkdir(updates);
  commits = [];
  for (const [i, v] of V.entries()) commits.push(await repo.commit({ ref: REF, version: v, timestamp: `2026-11-0${i + 1} 00:00:00 +0000` }));
  await writePolicy([
    { version: V[1], metadata: { barrier: { reason: 'https://bugzilla.altlinux.org/100' } } },
    { version: V[2], metadata: { rollout: { start_percentage: 1.0 } } },
  ]);
  graphd = await startGraphd(config(), { clock, logger: memoryLogger(), poll: false });
  client = createGraphClient({ baseUrl: graphd.url, dispatcher });
});

afterAll(async () => {
  await graphd?.close();
  await dispatcher.destroy();
  await rm(base, { recursive: true, force: true });
});

describe('alt-graphd + graph client', () => {
  it('builds nodes from every commit on the ref with versions, payloads and age_index in commit order', async () => {
    const g = await client.fetchGraph(q(commits[0]!));
    expect(g.nodes.map((n) => [n.version, n.payload, n.metadata['org.fedoraproject.coreos.releases.age_index']])).toEqual(
      commits.map((c, i) => [c.version, c.checksum, String(i)]),
    );
  });

  it('routes older nodes through the barrier before the newer rollout', async () => {
    expect(await next(commits[0]!)).toBe(V[1]);
    expect(await next(commits[1]!)).toBe(V[2]);
    expect(await next(commits[2]!)).toBe('no_update');
  });

  it('rebuilds when the policy changes: a dead-end loses its edges and reports its reason', async () => {
    await writePolicy([
      { version: V[1], metadata: { barrier: { reason: 'https://bugzilla.altlinux.org/100' }, deadend: { reason: 'https://bugzilla.altlinux.org/101' } } },
      { version: V[2], metadata: { rollout: { start_percentage: 1.0 } } },
    ]);
    expect(await graphd.service.refresh()).toBe(true);
    const g = await client.fetchGraph(q(commits[1]!));
    const d = selectUpdate(g, { bootedPayload: commits[1]!.checksum });
    expect(d).toMatchObject({ reason: 'no_update', deadend: { isDeadend: true, reason: 'https://bugzilla.altlinux.org/101' } });
  });

  it('throttles a rollout by client wariness as time passes', async () => {
    await writePolicy([{ version: V[3], metadata: { rollout: { start_epoch: T0 + 3600, start_percentage: 0.0, duration_minutes: 60 } } }]);
    await graphd.service.refresh();
    const at = async (secs: number, w: number): Promise<string | null> => {
      clock.set((T0 + secs) * 1000);
      return next(commits[0]!, w);
    };
    expect(await at(0, 0.5)).toBe('no_update'); // before start_epoch
    expect(await at(0, 0)).toBe(V[3]); // wariness 0 sees rollouts before they start (Fedora quirk)
    expect(await at(3600 + 600, 0.5)).toBe('no_update'); // 1/6 rolled out
    expect(await at(3600 + 1800, 0.5)).toBe(V[3]); // half rolled out
    expect(await at(3600 + 1800, 0.9)).toBe('no_update');
    expect(await at(7300, 1)).toBe(V[3]); // finished
  });

  it('keeps serving the last good graph when a rebuild fails, and says so on /healthz and /metrics', async () => {
    const before = await client.fetchGraph(q(commits[0]!));
    const gauge = async (name: string): Promise<number> => {
      const text = await (await request(new URL('metrics', graphd.url), { dispatcher })).body.text();
      return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
    };
    // A refresh that finds nothing changed succeeds without a build: only the refresh time moves.
    clock.set(clock.nowMs() + 60_000);
    expect(await graphd.service.refresh()).toBe(false);
    const okAt = clock.nowMs() / 1000;
    expect(await gauge('altgraphd_graph_last_refresh_success_timestamp_seconds')).toBe(okAt);
    expect(await gauge('altgraphd_graph_last_success_timestamp_seconds')).toBeLessThan(okAt);
    clock.set(clock.nowMs() + 60_000);
    await writeFile(join(updates, 'sisyphus.json'), '{"releases": [{"version": 7}]}');
    expect(await graphd.service.refresh()).toBe(false);
    expect(await gauge('altgraphd_graph_last_refresh_success_timestamp_seconds')).toBe(okAt);
    expect(await client.fetchGraph(q(commits[0]!))).toEqual(before);
    const health = await request(new URL('healthz', graphd.url), { dispatcher });
    const body = (await health.body.json()) as { status: string; last_error: string };
    expect(health.statusCode).toBe(200);
    expect(body.last_error).toContain('releases[0].version');
    const metrics = await (await request(new URL('metrics', graphd.url), { dispatcher })).body.text();
    expect(metrics).toMatch(/^altgraphd_graph_refresh_failures_total [1-9]/m);
    await writePolicy([]);
    expect(await graphd.service.refresh()).toBe(true);
  });

  it('answers bad parameters with 400 string kinds and unknown streams with 404', async () => {
    const get = async (path: string): Promise<[number, unknown]> => {
      const r = await request(new URL(path, graphd.url), { dispatcher });
      return [r.statusCode, await r.body.json()];
    };
    expect(await get('v1/graph?stream=sisyphus')).toEqual([400, { kind: 'missing_basearch', value: expect.any(String) as string }]);
    expect(await get('v1/graph?basearch=x86_64')).toEqual([400, { kind: 'missing_stream', value: expect.any(String) as string }]);
    expect((await get('v1/graph?basearch=x86_64&stream=sisyphus&rollout_wariness=high'))[0]).toBe(400);
    expect((await get('v1/graph?basearch=x86_64&stream=sisyphus&oci=true'))[1]).toMatchObject({ kind: 'unsupported_oci' });
    expect(await get('v1/graph?basearch=x86_64&stream=p10')).toEqual([404, { kind: 'unknown_stream', value: expect.any(String) as string }]);
  });

  it('supports ETag / If-None-Match', async () => {
    const url = new URL('v1/graph?basearch=x86_64&stream=sisyphus&rollout_wariness=0.5', graphd.url);
    const first = await request(url, { dispatcher });
    await first.body.dump();
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await request(url, { dispatcher, headers: { 'if-none-match': etag } });
    await again.body.dump();
    expect(again.statusCode).toBe(304);
  });

  it('exposes metrics that pass promtool check metrics', async () => {
    const text = await (await request(new URL('metrics', graphd.url), { dispatcher })).body.text();
    const child = execFile('promtool', ['check', 'metrics']);
    const done = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdin?.end(text);
    expect([await done, out]).toEqual([0, '']);
    expect(text).toContain('altgraphd_v1_graph_requests_total{code="200"}');
  });

  it('notices a new commit on the next refresh', async () => {
    await writePolicy([]);
    await graphd.service.refresh();
    const c = await repo.commit({ ref: REF, version: 'sisyphus.20261129.0.0' });
    expect(await graphd.service.refresh()).toBe(true);
    expect((await client.fetchGraph(q(commits[0]!))).nodes.at(-1)?.payload).toBe(c.checksum);
    commits.push(c);
  });
});

describe('alt-graphd from a repository URL and the CLI binaries', () => {
  it('mirrors commit metadata from an HTTP repo and serves the same graph', async () => {
    const web = await serveDir(repo.path);
    const remote = await startGraphd(config({ repo: web.url, cacheDir: join(base, 'cache-url'), implicitRollout: true }), { clock, logger: memoryLogger(), poll: false });
    try {
      const g = await createGraphClient({ baseUrl: remote.url, dispatcher }).fetchGraph(q(commits[0]!));
      expect(g.nodes.map((n) => n.payload)).toEqual(commits.map((c) => c.checksum));
      expect(selectUpdate(g, { bootedPayload: commits[0]!.checksum }).target?.payload).toBe(commits.at(-1)!.checksum);
    } finally {
      await remote.close();
      await web.close();
    }
  });

  it('alt-graphd binary serves what alt-updatectl graph next decides on', async () => {
    const toml = join(base, 'graphd.toml');
    await writeFile(toml, `repo = "${repo.path}"\nupdates = "${updates}"\nlisten = "127.0.0.1:0"\nimplicit_rollout = true\n`);
    const { spawn } = await import('node:child_process');
    const proc = spawn(process.execPath, ['dist/src/graph-server/main.js', '--config', toml, '--now', String(T0)], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      const url = `http://${address}/v1/graph?basearch=x86_64&stream=sisyphus`;
      const { stdout } = await run(process.execPath, ['dist/src/cli/main.js', 'graph', 'next', '--graph', url, '--booted', commits[0]!.checksum, '--json']);
      expect(JSON.parse(stdout)).toEqual({
        booted: { version: commits[0]!.version, payload: commits[0]!.checksum, age_index: 0 },
        target: { version: commits.at(-1)!.version, payload: commits.at(-1)!.checksum, age_index: commits.length - 1 },
        reason: 'update',
        deadend: { is_deadend: false, reason: null },
      });
      const denied = await run(process.execPath, ['dist/src/cli/main.js', 'graph', 'next', '--graph', url, '--booted', commits[0]!.checksum, '--deny', commits.at(-1)!.checksum, '--json']);
      expect((JSON.parse(denied.stdout) as { target: { payload: string } }).target.payload).toBe(commits.at(-2)!.checksum);
      const bad = await run(process.execPath, ['dist/src/cli/main.js', 'graph', 'next', '--graph', `http://${address}/v1/graph?basearch=x86_64&stream=nope`, '--booted', 'x', '--json']).catch((e: unknown) => e as { code: number; stdout: string });
      expect(bad).toMatchObject({ code: 1 });
      expect(JSON.parse((bad as { stdout: string }).stdout)).toEqual({ error: { kind: 'unknown_stream', message: expect.stringContaining('404') as string } });
    } finally {
      proc.kill('SIGTERM');
      await new Promise((r) => proc.once('exit', r));
    }
  });
});
