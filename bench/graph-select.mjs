// Benchmark: parse + validate + select on a synthetic 10,000-node / 200,000-edge graph, against a
// bare JSON.parse of the same bytes in the same run. Prints one JSON line. Run after `npm run build`.
// A second line (graph-select-agent-flags) times the same select in a child running with the
// agent's node flags (its shebang: no TurboFan), against this process's time: what those flags cost.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parseGraphText } from '../dist/src/graph/parse.js';
import { selectUpdate } from '../dist/src/graph/select.js';

const NODES = 10_000;
const EDGES = 200_000;
const RUNS = 15;

function synthetic() {
  const F = 'org.fedoraproject.coreos.';
  const nodes = [];
  for (let i = 0; i < NODES; i++) {
    const metadata = { [`${F}scheme`]: 'checksum', [`${F}releases.age_index`]: String(i) };
    if (i % 10 === 0) Object.assign(metadata, { [`${F}updates.rollout`]: 'true', [`${F}updates.start_epoch`]: '1800000000', [`${F}updates.start_value`]: '0', [`${F}updates.duration_minutes`]: '2880' });
    if (i % 1000 === 0) Object.assign(metadata, { [`${F}updates.barrier`]: 'true', [`${F}updates.barrier_reason`]: 'https://bugzilla.altlinux.org/1' });
    nodes.push({ version: `sisyphus.2026${String(i).padStart(6, '0')}.0.0`, payload: i.toString(16).padStart(64, '0'), metadata });
  }
  const edges = [];
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
  // The booted node (0) gets 200 out-edges; the rest are random forward edges.
  for (let i = 1; i <= 200; i++) edges.push([0, i * 49]);
  while (edges.length < EDGES) {
    const a = Math.floor(rnd() * (NODES - 1));
    edges.push([a, a + 1 + Math.floor(rnd() * (NODES - a - 1))]);
  }
  return JSON.stringify({ nodes, edges });
}

// Collect garbage before every timed step so one step does not pay for the previous one's garbage.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

const text = synthetic();
const booted = (0).toString(16).padStart(64, '0');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = [];
const full = [];
let sink = 0;
const timeBase = () => {
  gc();
  const t = performance.now();
  sink += JSON.parse(text).edges.length;
  return performance.now() - t;
};
const timeFull = () => {
  gc();
  const t = performance.now();
  const d = selectUpdate(parseGraphText(text), { bootedPayload: booted });
  const f = performance.now() - t;
  if (d.reason !== 'update') throw new Error(`unexpected decision ${d.reason}`);
  return f;
};
for (let r = 0; r < RUNS + 3; r++) {
  // Alternate the order so neither side always runs on a warmer heap.
  let b, f;
  if (r % 2 === 0) {
    b = timeBase();
    f = timeFull();
  } else {
    f = timeFull();
    b = timeBase();
  }
  if (r >= 3) {
    base.push(b);
    full.push(f);
  }
}
const value = median(full);
const baseline = median(base);
if (sink === 0) throw new Error('unreachable');
if (process.env.GRAPH_SELECT_CHILD) {
  console.log(JSON.stringify({ value }));
  process.exit(0);
}
console.log(JSON.stringify({
  name: 'graph-select',
  value: Number(value.toFixed(2)),
  baseline: Number(baseline.toFixed(2)),
  ratio: Number((value / baseline).toFixed(3)),
  target: '<=1.5',
  unit: 'ms',
  bytes: text.length,
  nodes: NODES,
  edges: EDGES,
}));

const { ALT_UPDATED_NODE_ARGS } = await import('../dist/test/helpers/testbed-node.js');
const child = spawnSync(process.execPath, [...ALT_UPDATED_NODE_ARGS, fileURLToPath(import.meta.url)], { env: { ...process.env, GRAPH_SELECT_CHILD: '1' }, encoding: 'utf8' });
if (child.status !== 0) throw new Error(`agent-flags child failed: ${child.stderr}`);
const agentValue = JSON.parse(child.stdout.trim().split('\n').pop()).value;
console.log(JSON.stringify({
  name: 'graph-select-agent-flags',
  value: Number(agentValue.toFixed(2)),
  baseline: Number(value.toFixed(2)),
  ratio: Number((agentValue / value).toFixed(3)),
  target: 'report',
  unit: `ms (with the agent's node flags ${ALT_UPDATED_NODE_ARGS.join(' ')}; baseline: graph-select above)`,
}));
