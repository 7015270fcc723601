#!/usr/bin/env node
// Fleet scale (issue 16): the simulator (`node scripts/simulate.mjs`, run `npm run build` first) with
// fleet_lock, 5 slots and alt-fleetlockd on a 3-member etcd cluster, at 100, 1,000 and 5,000 nodes
// (ALT_BENCH_FLEET_SIZES=100,1000 to change). Each size runs in its own simulator process; its peak
// RSS (VmHWM) is read from /proc while it runs. Prints, per size: wall time, lock requests per wall
// second, p99 lock latency, the simulator's and the servers' peak RSS (the servers' as the summary
// reports it), and memory per simulated node (peak RSS growth per node added from the size before). The baseline of every row is the smallest size's value scaled linearly to this size (for
// memory per node and p99: the smallest size's value itself), so `ratio` near 1 means linear growth
// and a ratio well above 1 is where the cost grows faster than the node count. With a fixed 5 slots
// the rollout's virtual length grows with the node count, and every node polls through all of it, so
// the requests (and the wall time) grow about as nodes squared; `fleet-N-wall-per-request` divides
// that out: the cost of one request at that fleet size. The summaries go to .tmp/fleet-scale.json.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SIZES = (process.env.ALT_BENCH_FLEET_SIZES ?? '100,1000,5000').split(',').map(Number);
const SLOTS = 5;

/** VmHWM/VmRSS of `pid` in KiB, or null once it is gone. */
function memKiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const f = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN);
    return { hwm: f('VmHWM'), rss: f('VmRSS') };
  } catch {
    return null;
  }
}

/** Runs one simulation; resolves to its JSON summary plus the simulator's peak RSS. */
function simulate(nodes) {
  const args = [join(process.cwd(), 'scripts/simulate.mjs'), '--nodes', String(nodes), '--slots', String(SLOTS), '--store', 'etcd', '--json', '--max-hours', '200'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let hwm = 0;
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const poll = setInterval(() => {
    const m = memKiB(child.pid);
    if (m !== null && Number.isFinite(m.hwm)) hwm = Math.max(hwm, m.hwm);
  }, 250);
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => {
      clearInterval(poll);
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || line === undefined) return reject(new Error(`simulate --nodes ${nodes} exited ${code}: ${err}`));
      resolve({ ...JSON.parse(line), simulator_hwm_kib: hwm });
    });
  });
}

const runs = [];
for (const n of SIZES) {
  const r = await simulate(n);
  if (!r.finished || !r.invariants_ok || r.arrived + r.rolled_back !== n) throw new Error(`--nodes ${n}: not a clean run: ${JSON.stringify(r)}`);
  runs.push(r);
  process.stderr.write(`fleet-scale: ${n} nodes: wall ${r.duration_wall_s} s, virtual ${r.duration_virtual_s} s, ${r.lock_requests} lock requests, p99 ${r.lock_latency_ms_p99} ms, simulator peak ${(r.simulator_hwm_kib / 1024).toFixed(0)} MiB\n`);
}

mkdirSync(join(process.cwd(), '.tmp'), { recursive: true });
writeFileSync(join(process.cwd(), '.tmp/fleet-scale.json'), `${JSON.stringify(runs, null, 2)}\n`);
const base = runs[0];
const perRequest = (r) => (r.duration_wall_s * 1000) / (r.lock_requests + r.graph_requests);
const scale = (r) => r.nodes / base.nodes;
const rps = (r) => r.lock_requests / r.duration_wall_s;
// Memory per node: the growth of the simulator's peak RSS from the previous size, per added node
// (the process's fixed cost, the release repo and the scheduler, cancels out).
const marginal = (i) => (runs[i].simulator_hwm_kib - runs[i - 1].simulator_hwm_kib) / (runs[i].nodes - runs[i - 1].nodes);
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
for (const [i, r] of runs.entries()) {
  const n = r.nodes;
  const linear = `(baseline: the ${base.nodes}-node run's, scaled to ${n} nodes)`;
  emit({ name: `fleet-${n}-wall`, value: r.duration_wall_s, baseline: base.duration_wall_s * scale(r), ratio: r.duration_wall_s / (base.duration_wall_s * scale(r)), target: 'report', unit: `s wall for ${r.duration_virtual_s} s virtual, ${SLOTS} slots, 3-member etcd ${linear}` });
  emit({ name: `fleet-${n}-wall-per-request`, value: perRequest(r), baseline: perRequest(base), ratio: perRequest(r) / perRequest(base), target: 'report', unit: `ms wall per request (${r.graph_requests} graph + ${r.lock_requests} lock; baseline: the ${base.nodes}-node run's)` });
  emit({ name: `fleet-${n}-lock-rps`, value: rps(r), baseline: rps(base), ratio: rps(r) / rps(base), target: 'report', unit: `lock requests per wall second (${r.lock_requests} requests; baseline: the ${base.nodes}-node run's rate)` });
  emit({ name: `fleet-${n}-lock-p99`, value: r.lock_latency_ms_p99, baseline: base.lock_latency_ms_p99, ratio: r.lock_latency_ms_p99 / base.lock_latency_ms_p99, target: 'report', unit: `ms p99 lock latency (p50 ${r.lock_latency_ms_p50}; baseline: the ${base.nodes}-node run's)` });
  emit({ name: `fleet-${n}-simulator-rss`, value: r.simulator_hwm_kib / 1024, baseline: base.simulator_hwm_kib / 1024, ratio: r.simulator_hwm_kib / base.simulator_hwm_kib, target: 'report', unit: `MiB simulator peak RSS, ${n} nodes (baseline: the ${base.nodes}-node run's)` });
  if (i > 0) {
    const prev = runs[i - 1].nodes;
    const first = marginal(1);
    emit({ name: `fleet-${n}-memory-per-node`, value: marginal(i), baseline: first, ratio: marginal(i) / first, target: 'report', unit: `KiB simulator peak RSS per node added from ${prev} to ${n} nodes (baseline: per node added from ${base.nodes} to ${runs[1].nodes})` });
  }
  for (const [key, label] of [['graph_server_rss_mib', 'graph'], ['lock_server_rss_mib', 'lock'], ['etcd_member_rss_mib', 'etcd']]) {
    if (typeof r[key] === 'number' && typeof base[key] === 'number') {
      emit({ name: `fleet-${n}-${label}-server-rss`, value: r[key], baseline: base[key], ratio: r[key] / base[key], target: 'report', unit: `MiB ${{ graph: 'alt-graphd', lock: 'alt-fleetlockd', etcd: 'the largest etcd member'}[label]} peak RSS (baseline: the ${base.nodes}-node run's)` });
    }
  }
}
