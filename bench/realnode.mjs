// Benchmark on a real node (systemd-nspawn, real systemd as PID 1; test/realnode/, built into dist/):
//  1. `systemctl start alt-updated` to READY (ExecMainStartTimestampMonotonic -> ActiveEnterTimestamp-
//     Monotonic, and the wall time until `systemctl start` returns), against a floor unit: a copy of
//     alt-updated.service (same User=, sandbox, NotifyAccess=all) whose ExecStart is a bare node with
//     the agent's flags that sends READY=1 through `systemd-notify --ready`, as the agent does.
//  2. Boot to steady state: nspawn started -> the boot's first `no_update` of the agent (and startup
//     finished), against the same node's boot to startup finished with alt-updated masked.
//  3. The full update cycle: a release appears, `alt-updatectl check`; pull, stage, reboot through
//     logind, finalize at shutdown, boot, agent steady. Against the same steps typed by hand in the
//     node with the agent masked: `ostree pull`, `ostree admin deploy --stage`, `systemctl reboot`,
//     boot to startup finished.
// Timestamps: the container shares the host's CLOCK_MONOTONIC (nspawn makes no time namespace), so
// systemd's and journald's monotonic stamps compare with the host's process.hrtime().
// Needs root, systemd-container and debootstrap (as `npm run test:realnode`), and `npm run build`.
// The first run may build the real-node image (minutes). BENCH_ITERATIONS (default 4) per path.
import { tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { startTestGraphd } from '../dist/test/helpers/graphd.js';
import { serveDir } from '../dist/test/helpers/ostree-repo.js';
import { closeFixtureSigningKey, fixtureSigningKey } from '../dist/test/helpers/signing.js';
import { nspawnProbe, realNodeUnavailable } from '../dist/test/realnode/available.js';
import { ensureImage, REALNODE_OSNAME, REALNODE_REF } from '../dist/test/realnode/image.js';
import { createNetwork } from '../dist/test/realnode/network.js';
import { createRealNode } from '../dist/test/realnode/node.js';
import { REALNODE_STREAM } from '../dist/test/realnode/product.js';
import { createReleaseRepo } from '../dist/test/realnode/releases.js';

const N = Number(process.env.BENCH_ITERATIONS ?? 4);
const START_RUNS = 5;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const nowMonoUs = () => Number(process.hrtime.bigint() / 1000n);
const log = (msg) => process.env.BENCH_VERBOSE && process.stderr.write(`realnode: ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const record = (r) => process.stdout.write(`${JSON.stringify(r)}\n`);

const skip = await realNodeUnavailable();
if (skip !== null) {
  record({ name: 'realnode', value: 'skipped', unit: skip });
  process.exit(0);
}

const image = await ensureImage(tmpdir());
log(`image ${image.built.length ? `built ${image.built.join('+')}` : 'cached'} in ${image.buildSecs.toFixed(1)} s`);
const cannot = await nspawnProbe(image);
if (cannot !== null) {
  record({ name: 'realnode', value: 'skipped', unit: cannot });
  process.exit(0);
}

const key = await fixtureSigningKey();
const network = await createNetwork();
const repo = await createReleaseRepo(image, key);
const http = await serveDir(repo.path, { host: network.hostAddress });
const graphd = await startTestGraphd({ repoPath: repo.path, host: network.hostAddress });
const node = await createRealNode({
  image,
  network,
  index: 1,
  name: 'rnbench1',
  repoUrl: http.url,
  trusted: key,
  // A long steady interval: the agent checks at start and on CheckNow only, so no poll of its own
  // lands inside another path's measurement.
  configToml: `[cincinnati]\nbase_url = "${graphd.url}"\n[agent.timing]\nsteady_interval_secs = 3600\n[updates]\nstrategy = "immediate"\n`,
  // no_update is a debug record: the first one marks the agent's steady state in each boot.
  unitDropIns: { 'alt-updated.service': '[Service]\nEnvironment=ALT_UPDATED_LOG_LEVEL=debug\n' },
});

const showMono = async (unit, props) => {
  const { stdout } = await node.exec(['systemctl', 'show', ...(unit ? [unit] : []), ...props.flatMap((p) => ['-p', p])]);
  return Object.fromEntries(stdout.trim().split('\n').map((l) => l.split('=')).map(([k, v]) => [k, Number(v)]));
};
/** When boot `n` began (nspawn spawned), in host monotonic µs (the harness records wall time). */
const bootStartUs = (n) => {
  const b = node.boots[n - 1];
  return nowMonoUs() - (Date.now() - b.startedAt) * 1000;
};
/** Monotonic µs when this boot's startup finished (is-system-running left `starting`). */
const startupFinishedUs = async () => (await showMono(null, ['FinishTimestampMonotonic'])).FinishTimestampMonotonic;
/** Monotonic µs of the agent's first `no_update` in this boot (waits for it). */
const firstNoUpdateUs = async (deadlineMs = 120_000) => {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const { stdout } = await node.exec(['journalctl', '-b', '0', '-u', 'alt-updated', '-o', 'json', '--no-pager', '--output-fields=MESSAGE,__MONOTONIC_TIMESTAMP'], { timeoutMs: 30_000 });
    const hit = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((r) => /\bevent=no_update\b/.test(r.MESSAGE));
    if (hit) return Number(hit.__MONOTONIC_TIMESTAMP);
    if (Date.now() > until) throw new Error(`no no_update in boot ${node.boots.length}\n${await node.diagnose()}`);
    await sleep(200);
  }
};
/** Waits until the graph served to the nodes lists `version` (alt-graphd rereads the repo every second). */
const waitGraphHas = async (version) => {
  const url = new URL(`v1/graph?basearch=x86_64&stream=${REALNODE_STREAM}`, graphd.url);
  let body = '';
  for (let i = 0; i < 300; i++) {
    body = await fetch(url, { headers: { accept: 'application/json' } }).then((r) => r.text(), (e) => String(e));
    if (body.includes(`"${version}"`)) return;
    await sleep(100);
  }
  throw new Error(`graph never listed ${version}: ${url} said ${body.slice(0, 300)}`);
};

let release = 0;
/** Commits the next release (20261201.0.0, 20261202.0.0, ...) to the nodes' ref. */
const nextRelease = () => {
  const day = String(++release).padStart(2, '0');
  return repo.release(`202612${day}.0.0`, `2026-12-${day} 00:00:00 +0000`);
};

/** One agent update cycle from boot `n`: resolves with {cycleMs, bootMs} of the boot it ends in. */
const agentCycle = async () => {
  const n = node.boots.length;
  const r = await nextRelease();
  await waitGraphHas(r.version);
  const t0 = nowMonoUs();
  await node.exec(['alt-updatectl', 'check'], { check: false, timeoutMs: 120_000 });
  await node.waitBooted(n + 1, 180_000);
  const finished = await startupFinishedUs();
  const end = Math.max(await firstNoUpdateUs(), finished);
  if ((await node.bootedVersion()) !== r.version) throw new Error(`agent cycle: booted ${await node.bootedVersion()}, not ${r.version}`);
  const start = bootStartUs(n + 1);
  return { cycleMs: (end - t0) / 1000, bootMs: (end - start) / 1000, startupMs: (finished - start) / 1000 };
};

/** The same update typed by hand (agent masked): pull, stage, reboot; ends at startup finished. */
const handCycle = async () => {
  const n = node.boots.length;
  const r = await nextRelease();
  const t0 = nowMonoUs();
  await node.exec(['ostree', 'pull', REALNODE_OSNAME, REALNODE_REF], { timeoutMs: 120_000 });
  await node.exec(['ostree', 'admin', 'deploy', '--stage', `--os=${REALNODE_OSNAME}`, `${REALNODE_OSNAME}:${REALNODE_REF}`], { timeoutMs: 120_000 });
  await node.exec(['systemctl', 'reboot'], { check: false, timeoutMs: 60_000 });
  await node.waitBooted(n + 1, 180_000);
  const end = await startupFinishedUs();
  if ((await node.bootedVersion()) !== r.version) throw new Error(`hand cycle: booted ${await node.bootedVersion()}, not ${r.version}`);
  return { cycleMs: (end - t0) / 1000, bootMs: (end - bootStartUs(n + 1)) / 1000 };
};

/** `systemctl start unit` -> READY: {mono: ExecMainStart -> ActiveEnter, wall: until start returned} in ms. */
const startToReady = async (unit) => {
  await node.exec(['systemctl', 'stop', unit], { timeoutMs: 60_000 });
  const t0 = performance.now();
  await node.exec(['systemctl', 'start', unit], { timeoutMs: 60_000 });
  const wall = performance.now() - t0;
  const p = await showMono(unit, ['ExecMainStartTimestampMonotonic', 'ActiveEnterTimestampMonotonic']);
  return { mono: (p.ActiveEnterTimestampMonotonic - p.ExecMainStartTimestampMonotonic) / 1000, wall };
};

const out = { agentStart: [], floorStart: [], agentWall: [], floorWall: [], agentCycle: [], handCycle: [], agentBoot: [], agentStartup: [], plainBoot: [] };
try {
  await node.start();
  await node.waitBooted(1, 180_000);
  await firstNoUpdateUs(); // boot 1 (first boot of a fresh /etc, sysusers, journal) is not counted

  // 1. Start to READY, warm (alt-ostreed already activated, page cache warm), alternating.
  const launcher = (await node.exec(['cat', '/usr/bin/alt-updated'])).stdout;
  const flags = /exec \S+ ((?:--\S+ )*)/.exec(launcher)?.[1]?.trim() ?? '';
  const unitFile = (await node.exec(['systemctl', 'show', 'alt-updated', '-p', 'FragmentPath', '--value'])).stdout.trim();
  const script = "require('node:child_process').spawnSync('systemd-notify',['--ready']);setInterval(()=>{},1e9)";
  const unit = (await node.exec(['cat', unitFile])).stdout
    .replace(/^ExecStart=.*$/m, `ExecStart=/usr/bin/node ${flags} -e "${script}"`)
    .replace(/^Restart.*$/gm, '');
  await node.exec(['sh', '-c', 'cat > /run/systemd/system/rnbench-floor.service && systemctl daemon-reload'], { input: unit });
  for (let i = 0; i <= START_RUNS; i++) {
    const a = await startToReady('alt-updated');
    const f = await startToReady('rnbench-floor');
    if (i === 0) continue; // warm-up
    out.agentStart.push(a.mono);
    out.agentWall.push(a.wall);
    out.floorStart.push(f.mono);
    out.floorWall.push(f.wall);
  }
  await node.exec(['systemctl', 'stop', 'rnbench-floor']);
  await firstNoUpdateUs();

  // 3 (and 2). Agent cycles: one warm-up, then N.
  for (let i = 0; i <= N; i++) {
    const c = await agentCycle();
    log(`agent cycle ${i}: ${c.cycleMs.toFixed(0)} ms, boot to steady ${c.bootMs.toFixed(0)} ms`);
    if (i === 0) continue;
    out.agentCycle.push(c.cycleMs);
    out.agentBoot.push(c.bootMs);
    out.agentStartup.push(c.startupMs);
  }
  // The hand-typed path on a host without the agent: masked in /etc, which the merge carries on.
  await node.exec(['systemctl', 'mask', '--now', 'alt-updated']);
  for (let i = 0; i <= N; i++) {
    const c = await handCycle();
    log(`hand cycle ${i}: ${c.cycleMs.toFixed(0)} ms, boot to startup finished ${c.bootMs.toFixed(0)} ms`);
    if (i === 0) continue;
    out.handCycle.push(c.cycleMs);
    out.plainBoot.push(c.bootMs);
  }
} catch (e) {
  process.stderr.write(`${e?.stack ?? e}\n${node.consoleTail(30)}\n`);
  process.exitCode = 1;
} finally {
  await node.destroy();
  await graphd.close();
  await http.close();
  await network.destroy();
  await closeFixtureSigningKey();
}
if (process.exitCode === 1) process.exit(1);

const row = (name, values, baselines, unit) => {
  const value = median(values);
  const baseline = median(baselines);
  record({ name, value: Math.round(value), baseline: Math.round(baseline), ratio: Number((value / baseline).toFixed(3)), target: 'report', unit });
};
row('realnode-start-to-ready', out.agentStart, out.floorStart, 'ms ExecMainStart->ActiveEnter (baseline: the same unit running bare node + systemd-notify --ready)');
row('realnode-start-to-ready-wall', out.agentWall, out.floorWall, 'ms until `systemctl start` returned, through nsenter (same baseline)');
row('realnode-boot-to-steady', out.agentBoot, out.plainBoot, 'ms nspawn start -> first no_update (baseline: boot to startup finished, agent masked)');
row('realnode-boot-to-startup-finished', out.agentStartup, out.plainBoot, 'ms nspawn start -> startup finished, agent enabled (its READY is part of it; baseline: agent masked)');
row('realnode-update-cycle', out.agentCycle, out.handCycle, 'ms CheckNow -> new boot steady (baseline: ostree pull + admin deploy --stage + systemctl reboot by hand, to startup finished)');
