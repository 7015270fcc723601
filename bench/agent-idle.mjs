#!/usr/bin/env node
// Agent footprint on real parts (one testbed node: private bus, fake-booted sysroot, alt-ostreed,
// alt-graphd), each against a baseline measured in the same run:
//   agent-start-to-ready: spawn -> READY=1 on the notify socket vs spawn -> exit of `node -e 0`
//   agent-rss-*: a soak of ALT_BENCH_POLLS (default 10,000, at least 1,000) graph checks driven
//     back to back through the agent's CheckNow D-Bus method. RSS is read with the agent idle
//     between polls (2 s after poll 8, 1,000 and the last; median of 5 reads), as it spends a real
//     steady interval, against stack-floor-all-four: a process that loads only the four mandated
//     libraries (with the agent's node flags) and idles. Also the highest RSS read during the
//     back-to-back polls, RssAnon, and the same soak under the previous node flags.
//   agent-cpu-per-poll: CPU ms per poll over the soak (reported; baseline: one bare node idle second)
//   stack-floor-*: processes that load node:http and one mandated library each, then all four
// ALT_BENCH_HEAP_SNAPSHOTS=DIR also writes agent heap snapshots at polls 100 and 1,000 to DIR.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const { createRepo, serveDir } = await import(new URL('test/helpers/ostree-repo.js', dist).href);
const { closeFixtureSigningKey } = await import(new URL('test/helpers/signing.js', dist).href);
const { startTestGraphd, waitFor } = await import(new URL('test/helpers/graphd.js', dist).href);
const { createTestbedNode, ALT_UPDATED_NODE_ARGS } = await import(new URL('test/helpers/testbed-node.js', dist).href);
const { connectUpdated1 } = await import(new URL('src/agent/operator/dbus-client.js', dist).href);

const POLLS = Math.max(1000, Number(process.env.ALT_BENCH_POLLS ?? 10_000) || 10_000);
const SNAP_DIR = process.env.ALT_BENCH_HEAP_SNAPSHOTS ?? '';
/** The shebang flags before the idle collection (src/agent/idle-gc.ts): the comparison soak. */
const PREVIOUS_FLAGS = ['--max-semi-space-size=1', '--liftoff-only', '--no-opt'];
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** VmRSS and RssAnon of a process, in KiB. */
async function memKiB(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN);
  return { rss: kib('VmRSS'), anon: kib('RssAnon') };
}
async function cpuTicks(pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** Median RSS and RssAnon over 5 reads 400 ms apart. */
async function settledMem(pid) {
  const xs = [];
  for (let i = 0; i < 5; i++) {
    xs.push(await memKiB(pid));
    await sleep(400);
  }
  return { rss: median(xs.map((x) => x.rss)), anon: median(xs.map((x) => x.anon)) };
}
// Floor probes: an ES module entry (as the agent is) that loads node:http, then one library each.
const FLOOR_PRELUDE = `const http = await import('node:http');
const serveOnce = (fn) => new Promise((done) => { const s = http.createServer((q, r) => r.end('{}')).listen(0, '127.0.0.1', async () => { await fn('http://127.0.0.1:' + s.address().port + '/'); s.close(); done(); }); });`;
const FLOOR_LIBS = {
  undici: { src: `const u = await import('undici'); await serveOnce(async (url) => { const r = await u.request(url); await r.body.text(); });`, what: 'undici after one request' },
  'dbus-next': { src: `await import('dbus-next');`, what: 'dbus-next' },
  pino: { src: `await import('pino');`, what: 'pino' },
  'smol-toml': { src: `await import('smol-toml');`, what: 'smol-toml' },
};
const libs = Object.values(FLOOR_LIBS);
/** [row name, code after the prelude, what the process holds]. */
const FLOOR = [
  ['esm-node-http', '', 'node, an ES module entry and node:http, idle'],
  ...Object.entries(FLOOR_LIBS).map(([name, l]) => [name, l.src, `the same + ${l.what}`]),
  ['all-four', libs.map((l) => l.src).join('\n'), `the same + ${libs.map((l) => l.what).join(', ')}`],
];
const line = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

// Notify socket listener (PID 1 stand-in): prints one line per datagram with a monotonic timestamp.
const dir = await mkdtemp(join(tmpdir(), 'alt-bench-'));
const sock = join(dir, 'notify.sock');
const listener = spawn('/usr/bin/python3', ['-c', `
import socket, sys, time, os, array
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1])
print("up", flush=True)
while True:
    data, anc, _f, _a = s.recvmsg(65536, socket.CMSG_SPACE(64))
    for level, typ, d in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array('i'); fds.frombytes(d[:len(d) - len(d) % fds.itemsize])
            for fd in fds: os.close(fd)
    print("%d %s" % (time.clock_gettime_ns(time.CLOCK_MONOTONIC), data.decode().replace("\\n", "|")), flush=True)
`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
const notes = [];
await new Promise((resolve) => {
  let buf = '';
  listener.stdout.setEncoding('utf8').on('data', (c) => {
    buf += c;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (l === 'up') resolve();
      else notes.push({ ns: BigInt(l.split(' ')[0]), data: l.slice(l.indexOf(' ') + 1) });
    }
  });
});
const monoNs = () => process.hrtime.bigint(); // CLOCK_MONOTONIC, same clock as the listener

const agentNodeArgs = [...ALT_UPDATED_NODE_ARGS]; // as installed: the shebang of src/agent/main.ts
const repo = await createRepo();
await repo.commit({ ref: 'altcos/x86_64/sisyphus', version: '20261101.0.0' });
const http = await serveDir(repo.path);
const graphd = await startTestGraphd({ repoPath: repo.path });
const node = await createTestbedNode({
  name: 'bench',
  repoUrl: http.url,
  ref: 'altcos/x86_64/sisyphus',
  // A day between polls: every poll after the first is a CheckNow, and each sleep is a real idle.
  configToml: `[cincinnati]\nbase_url = "${graphd.url}"\n[agent.timing]\nsteady_interval_secs = 86400\n[updates]\nstrategy = "immediate"\n`,
  agentEnv: { NOTIFY_SOCKET: sock },
  // Read at every agent start: the comparison soak swaps them in place.
  agentNodeArgs,
});

/**
 * Starts the agent with `flags`, runs `polls` CheckNow calls back to back and reads its memory:
 * settled (idle) after polls 8, 1,000 and the last; the highest read (every 100 polls) from 1,000 on.
 */
async function soak(flags, polls, snapshotDir = '', barePid = 0) {
  await node.stopAgent();
  agentNodeArgs.splice(0, agentNodeArgs.length, ...flags, ...(snapshotDir ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []));
  const n0 = node.records.length;
  await node.startAgent();
  await waitFor('first steady poll', () => node.records.slice(n0).some((r) => r.event === 'no_update'), 120_000);
  const pid = node.agent().pid;
  const client = connectUpdated1({ busAddress: node.bus.address });
  const at = {};
  let burstMax = 0;
  let cpu0 = 0;
  let bare0 = 0;
  let t0 = 0;
  try {
    for (let i = 1; i <= polls; i++) {
      await client.checkNow();
      if (i === 100) [cpu0, bare0, t0] = [await cpuTicks(pid), barePid ? await cpuTicks(barePid) : 0, Date.now()];
      if (i >= 1000 && i % 100 === 0) burstMax = Math.max(burstMax, (await memKiB(pid)).rss);
      if (snapshotDir && (i === 100 || i === 1000)) {
        process.kill(pid, 'SIGUSR2');
        // The snapshot is written on the main thread: the next call is answered after it (one more poll).
        await client.checkNow();
      }
      if (i === 8 || i === 1000 || i === polls) {
        await sleep(2000);
        at[i] = await settledMem(pid);
      }
    }
  } finally {
    client.close();
  }
  // From poll 100 to the end, idle reads included; the bare node's CPU per second over the same time.
  const cpuMsPerPoll = ((await cpuTicks(pid)) - cpu0) * (1000 / CLK_TCK) / (polls - 100);
  const bareCpuMsPerSec = barePid ? ((await cpuTicks(barePid)) - bare0) * (1000 / CLK_TCK) / ((Date.now() - t0) / 1000) : 0;
  const failed = node.records.slice(n0).filter((r) => r.event === 'tick_failed').length;
  if (failed > 0) throw new Error(`${failed} polls failed during the soak`);
  return { at, burstMax, cpuMsPerPoll, bareCpuMsPerSec };
}

try {
  // Start-to-READY, 5 runs (backend already up), median.
  await node.start();
  await waitFor('first steady poll', () => node.records.some((r) => r.event === 'no_update'), 60_000);
  const readyMs = [];
  for (let i = 0; i < 5; i++) {
    await node.stopAgent();
    const before = notes.length;
    const t = monoNs();
    await node.startAgent();
    await waitFor('READY=1', () => notes.slice(before).some((n) => n.data.includes('READY=1')), 60_000);
    const n = notes.slice(before).find((x) => x.data.includes('READY=1'));
    readyMs.push(Number(n.ns - t) / 1e6);
  }
  const bareMs = [];
  for (let i = 0; i < 5; i++) {
    const t = monoNs();
    await new Promise((r) => spawn(process.execPath, ['-e', '0']).once('exit', r));
    bareMs.push(Number(monoNs() - t) / 1e6);
  }
  line({ name: 'agent-start-to-ready', value: median(readyMs), baseline: median(bareMs), ratio: median(readyMs) / median(bareMs), target: 'report', unit: 'ms' });

  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  const cur = await soak(ALT_UPDATED_NODE_ARGS, POLLS, SNAP_DIR, bare.pid);
  const prev = await soak(PREVIOUS_FLAGS, Math.min(POLLS, 2000));
  await node.stopAgent();

  // The floor: one idle process per mandated library, with the agent's node flags.
  const floor = {};
  for (const [name, src] of FLOOR) {
    const p = spawn(process.execPath, [...ALT_UPDATED_NODE_ARGS, '--input-type=module', '-e', `${FLOOR_PRELUDE}\n${src}\nsetInterval(() => {}, 1000);`], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'inherit', 'inherit'] });
    await sleep(2500);
    floor[name] = await settledMem(p.pid);
    p.kill();
  }
  const bareRss = (await settledMem(bare.pid)).rss;
  bare.kill();

  const f = floor['all-four'];
  const kib = 'KiB';
  line({ name: 'agent-rss-plateau', value: cur.at[POLLS].rss, baseline: f.rss, ratio: cur.at[POLLS].rss / f.rss, target: '<=1.05', unit: `${kib} (idle after poll ${POLLS}; baseline: stack-floor-all-four)` });
  line({ name: 'agent-rss-poll-1000', value: cur.at[1000].rss, baseline: f.rss, ratio: cur.at[1000].rss / f.rss, target: '<=1.05', unit: `${kib} (idle after poll 1000; baseline: stack-floor-all-four)` });
  line({ name: 'agent-rss-drift', value: cur.at[POLLS].rss, baseline: cur.at[1000].rss, ratio: cur.at[POLLS].rss / cur.at[1000].rss, target: '<=1.02', unit: `${kib} (poll ${POLLS}; baseline: poll 1000)` });
  line({ name: 'agent-rss-poll-8', value: cur.at[8].rss, baseline: f.rss, ratio: cur.at[8].rss / f.rss, target: 'report', unit: `${kib} (idle after poll 8, where the earlier benchmark read it)` });
  line({ name: 'agent-anon-plateau', value: cur.at[POLLS].anon, baseline: f.anon, ratio: cur.at[POLLS].anon / f.anon, target: 'report', unit: `${kib} RssAnon (baseline: stack-floor-all-four's)` });
  line({ name: 'agent-rss-burst-max', value: cur.burstMax, baseline: f.rss, ratio: cur.burstMax / f.rss, target: 'report', unit: `${kib} (highest read during back-to-back polls 1000-${POLLS})` });
  line({ name: 'agent-idle-rss', value: cur.at[POLLS].rss, baseline: bareRss, ratio: cur.at[POLLS].rss / bareRss, target: '<=1.3', unit: `${kib} (plateau; baseline: a bare node idling)` });
  const pn = Math.min(POLLS, 2000);
  line({ name: 'agent-rss-plateau-previous-flags', value: prev.at[pn].rss, baseline: f.rss, ratio: prev.at[pn].rss / f.rss, target: 'report', unit: `${kib} (idle after poll ${pn} under ${PREVIOUS_FLAGS.join(' ')}, no --expose-gc)` });
  const { bareCpuMsPerSec } = cur;
  line({ name: 'agent-cpu-per-poll', value: cur.cpuMsPerPoll, baseline: bareCpuMsPerSec, ratio: bareCpuMsPerSec > 0 ? cur.cpuMsPerPoll / bareCpuMsPerSec : null, target: 'report', unit: 'ms CPU per poll, polls 100-end (baseline: bare node ms CPU per s)' });
  for (const [name, , what] of FLOOR) {
    line({ name: `stack-floor-${name}`, value: floor[name].rss, baseline: bareRss, ratio: floor[name].rss / bareRss, target: 'report', unit: `${kib} (${what})` });
  }
} finally {
  await node.destroy();
  await graphd.close();
  await http.close();
  await closeFixtureSigningKey();
  listener.kill();
}
process.exit(0);
