#!/usr/bin/env node
// FleetLock lock/unlock throughput on loopback (run `npm run build` first). Prints three JSON lines:
// - fleetlock_embedded_pairs_per_sec: alt-fleetlockd (separate process, embedded journal store, fsync
//   per batch) vs. the same HTTP client against a do-nothing HTTP server (the loopback HTTP ceiling);
// - fleetlock_etcd_pairs_per_sec: alt-fleetlockd with the etcd store vs. the raw etcd rate: the same
//   gateway client code (undici to etcd's JSON gateway) doing the same two compare-and-swap txns per
//   pair directly. Target >= 0.7x raw etcd;
// - fleetlock_etcd_one_group_pairs_per_sec: the same, all workers in one group (the fleet case).
// Each of CONCURRENCY workers uses its own group (1 slot), so the server gets no batching advantage
// over the raw loop: one txn per request either way.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent } from 'undici';
import { createFleetLockClient } from '../dist/src/fleetlock/client.js';
import { createEtcdGateway } from '../dist/src/fleetlock/server/etcd-gateway.js';
import { startEtcd } from '../dist/test/helpers/etcd.js';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const WARMUP_MS = 1000;
const MEASURE_MS = Number(process.env.BENCH_MEASURE_MS ?? 3000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs `pair(worker)` in CONCURRENCY loops; returns pairs per second over the measure window. */
async function measure(pair) {
  let counting = false;
  let count = 0;
  let stop = false;
  const loops = Array.from({ length: CONCURRENCY }, async (_, w) => {
    while (!stop) {
      await pair(w);
      if (counting) count++;
    }
  });
  await new Promise((r) => setTimeout(r, WARMUP_MS));
  counting = true;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, MEASURE_MS));
  counting = false;
  const secs = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  return count / secs;
}

function spawnServer(args) {
  const child = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), join(process.cwd(), 'dist/src/fleetlock/server/main.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let started = false;
  return new Promise((resolve, reject) => {
    const on = (d) => {
      if (started) return; // per-request info logs: drain, do not keep
      out += d;
      const m = /listening.*?url[=":]+(https?:\/\/[^\s"]+)/.exec(out);
      if (m) {
        started = true;
        resolve({ url: m[1], stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
      }
    };
    child.stdout.on('data', on);
    child.stderr.on('data', on);
    child.once('exit', (code) => started || reject(new Error(`alt-fleetlockd exited ${code}: ${out}`)));
  });
}

function spawnFloorServer() {
  // A do-nothing HTTP server in its own process, like alt-fleetlockd, answering every POST with 200.
  const src = `require('node:http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/json'});s.end('{"result":"ok"}\\n')})}).listen(0,'127.0.0.1',function(){console.log('event=listening url=http://127.0.0.1:'+this.address().port+'/')})`;
  const child = spawn(process.execPath, ['-e', src], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    child.stdout.on('data', (d) => {
      const m = /url=(\S+)/.exec(String(d));
      if (m) resolve({ url: m[1], stop: () => new Promise((r) => (child.once('exit', r), child.kill('SIGTERM'))) });
    });
  });
}

const groups = Array.from({ length: CONCURRENCY }, (_, i) => `bench-${i}`);
const groupsToml = `${groups.map((g) => `[groups.${g}]\nslots = 1\n`).join('')}[groups.fleet]\nslots = ${CONCURRENCY}\n`;

async function serverPairs(url, oneGroup = null) {
  const dispatcher = new Agent({ connections: CONCURRENCY * 2 });
  const c = createFleetLockClient({ baseUrl: url, dispatcher });
  try {
    return await measure(async (w) => {
      const p = { id: `node-${w}`, group: oneGroup ?? groups[w] };
      await c.preReboot(p);
      await c.steadyState(p);
    });
  } finally {
    await dispatcher.close();
  }
}

function line(rec) {
  process.stdout.write(`${JSON.stringify(rec)}\n`);
}

const dir = await mkdtemp(join(tmpdir(), 'bench-fleetlock-'));
let etcd;
try {
  // Embedded store vs. loopback HTTP ceiling.
  const floor = await spawnFloorServer();
  const floorRate = await serverPairs(floor.url);
  await floor.stop();
  await writeFile(join(dir, 'embedded.toml'), `listen = "127.0.0.1:0"\n[store]\nstate_dir = "${join(dir, 'state')}"\n${groupsToml}`);
  const emb = await spawnServer(['--config', join(dir, 'embedded.toml')]);
  const embRate = await serverPairs(emb.url);
  await emb.stop();
  line({ name: 'fleetlock_embedded_pairs_per_sec', value: embRate, baseline: floorRate, ratio: embRate / floorRate, target: null, unit: 'lock+unlock pairs/s (baseline: same client, no-op HTTP server)', concurrency: CONCURRENCY });

  // etcd store vs. raw etcd through the same gateway client. The machine is shared, so the two are
  // measured alternately, ROUNDS times each, and the medians compared: slow drift in background
  // load then hits both sides alike.
  etcd = await startEtcd();
  const gw = createEtcdGateway({ endpoints: etcd.endpoints });
  const revs = new Array(CONCURRENCY).fill(null);
  const value = Buffer.from(JSON.stringify({ holders: [{ id: 'x', since: 0, renewed: 0 }] }));
  const empty = Buffer.from(JSON.stringify({ holders: [] }));
  const rawPair = async (w) => {
    const key = `/bench-raw/groups/${groups[w]}`;
    for (const v of [value, empty]) {
      const r = await gw.compareAndSwap(key, revs[w], v);
      if (!r.ok) throw new Error('unexpected conflict in raw loop');
      revs[w] = r.current.modRevision;
    }
  };
  await writeFile(join(dir, 'etcd.toml'), `listen = "127.0.0.1:0"\n[store]\ntype = "etcd"\n[store.etcd]\nendpoints = ${JSON.stringify(etcd.endpoints)}\n${groupsToml}`);
  const srv = await spawnServer(['--config', join(dir, 'etcd.toml'), ...(process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean)]);
  const raws = [];
  const servers = [];
  const shared = [];
  for (let i = 0; i < ROUNDS; i++) {
    raws.push(await measure(rawPair));
    servers.push(await serverPairs(srv.url));
    shared.push(await serverPairs(srv.url, 'fleet'));
  }
  await srv.stop();
  await gw.close();
  const rawRate = median(raws);
  const etcdRate = median(servers);
  const sharedRate = median(shared);
  const unit = 'lock+unlock pairs/s (baseline: raw etcd CAS txn pairs, same gateway client, one key per worker)';
  line({ name: 'fleetlock_etcd_pairs_per_sec', value: etcdRate, baseline: rawRate, ratio: etcdRate / rawRate, target: '>=0.7', unit, concurrency: CONCURRENCY, rounds: ROUNDS });
  // The fleet case: every worker in one group with as many slots, so concurrent requests share
  // compare-and-swap batches (group commit).
  line({ name: 'fleetlock_etcd_one_group_pairs_per_sec', value: sharedRate, baseline: rawRate, ratio: sharedRate / rawRate, target: '>=0.7', unit, concurrency: CONCURRENCY, rounds: ROUNDS });
} finally {
  await etcd?.stop();
  await rm(dir, { recursive: true, force: true });
}
