// Benchmark: alt-graphd /v1/graph requests per second on a 500-node graph with rollout throttling
// (every request carries a different node_uuid, so wariness is derived per request), measured with
// `wrk` on loopback (fallback: an undici loop), beside the cost of serialising the graph once.
// Prints one JSON line: value = requests/s, baseline = full serialisations/s, ratio = value/baseline.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Agent, request } from 'undici';
import { ManualClock } from '../dist/src/common/clock.js';
import { memoryLogger } from '../dist/src/common/logger.js';
import { startGraphd } from '../dist/src/graph-server/server.js';
import { serializeGraph } from '../dist/src/graph-server/service.js';

const run = promisify(execFile);
const NODES = 500;
const SECONDS = 5;
const NOW = 1_800_000_000;

// 500 real commits through libostree's GObject API in one process (500 `ostree commit` runs take
// over a minute); /usr/bin/python3 is the interpreter with the OSTree introspection data.
const MAKE_COMMITS = `
import sys, gi
gi.require_version('OSTree', '1.0')
from gi.repository import OSTree, Gio, GLib
path, tree, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
repo = OSTree.Repo.new(Gio.File.new_for_path(path))
repo.open(None)
repo.prepare_transaction(None)
mtree = OSTree.MutableTree.new()
repo.write_directory_to_mtree(Gio.File.new_for_path(tree), mtree, None, None)
_, root = repo.write_mtree(mtree, None)
parent = None
for i in range(n):
    meta = GLib.Variant('a{sv}', {'version': GLib.Variant('s', 'sisyphus.%d.0.0' % (20260000 + i))})
    _, parent = repo.write_commit(parent, 'bench', None, meta, root, None)
repo.transaction_set_ref(None, 'altcos/x86_64/sisyphus', parent)
repo.commit_transaction(None)
`;

async function buildRepo(dir) {
  const repo = join(dir, 'repo');
  await run('ostree', [`--repo=${repo}`, 'init', '--mode=archive']);
  const tree = join(dir, 'tree');
  await mkdir(tree);
  await writeFile(join(tree, 'release'), 'bench\n');
  await run('/usr/bin/python3', ['-c', MAKE_COMMITS, repo, tree, String(NODES)]);
  return repo;
}

async function main() {
  const dir = await mkdtemp(join(tmpdir(), 'graphd-bench-'));
  const updates = join(dir, 'updates');
  await mkdir(updates);
  const releases = [];
  for (let i = 0; i < NODES; i++) {
    const metadata = {};
    if (i % 50 === 49) metadata.barrier = { reason: 'https://bugzilla.altlinux.org/1' };
    // The last three releases are mid-rollout, so clients see different graphs by wariness.
    if (i >= NODES - 3) metadata.rollout = { start_epoch: NOW - 3600 * (NODES - i), start_percentage: 0, duration_minutes: 2880 };
    if (Object.keys(metadata).length) releases.push({ version: `sisyphus.${20260000 + i}.0.0`, metadata });
  }
  await writeFile(join(updates, 'sisyphus.json'), JSON.stringify({ stream: 'sisyphus', releases }));
  const repo = await buildRepo(dir);
  const graphd = await startGraphd(
    { repo, updates, host: '127.0.0.1', port: 0, refPrefix: 'altcos', pollIntervalSecs: 3600, cacheDir: join(dir, 'cache'), implicitRollout: true, nowSecs: null, verifyKeyringDir: null },
    { clock: new ManualClock(NOW * 1000), logger: memoryLogger(), poll: false },
  );
  try {
    const g = graphd.service.graphs()[0];
    // Baseline: what a server without the per-hidden-set cache would pay on every request.
    const t0 = performance.now();
    let reps = 0;
    while (performance.now() - t0 < 1000) {
      serializeGraph(JSON.stringify(g.nodes), g, new Set([g.nodes.length - 1]));
      reps++;
    }
    const serialisePerSec = reps / ((performance.now() - t0) / 1000);

    const url = `${graphd.url}v1/graph?basearch=x86_64&stream=sisyphus`;
    let rps;
    let tool;
    if (spawnSync('wrk', ['--version']).error === undefined) {
      tool = 'wrk';
      const script = join(dir, 'uuid.lua');
      await writeFile(script, [
        'math.randomseed(42)',
        'request = function()',
        '  local u = string.format("%08x%08x%08x%08x", math.random(0, 2147483647), math.random(0, 2147483647), math.random(0, 2147483647), math.random(0, 2147483647))',
        '  return wrk.format("GET", "/v1/graph?basearch=x86_64&stream=sisyphus&os_checksum=x&node_uuid=" .. u)',
        'end',
      ].join('\n'));
      const { stdout } = await run('wrk', ['-t1', '-c16', `-d${SECONDS}s`, '-s', script, url], { maxBuffer: 1 << 20 });
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      if (!m) throw new Error(`cannot read wrk output:\n${stdout}`);
      rps = Number(m[1]);
    } else {
      tool = 'undici';
      const agent = new Agent({ connections: 16 });
      let done = 0;
      const end = performance.now() + SECONDS * 1000;
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (performance.now() < end) {
          const r = await request(`${url}&node_uuid=${Math.random().toString(16).slice(2)}`, { dispatcher: agent });
          await r.body.dump();
          done++;
        }
      }));
      rps = done / SECONDS;
      await agent.close();
    }
    console.log(JSON.stringify({
      name: 'graphd-rps',
      value: Math.round(rps),
      baseline: Math.round(serialisePerSec),
      ratio: Number((rps / serialisePerSec).toFixed(2)),
      target: 'report',
      unit: 'req/s',
      tool,
      nodes: g.nodes.length,
      edges: g.edges.length,
      body_bytes: graphd.service.body(g, 1).body.length,
    }));
  } finally {
    await graphd.close();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
