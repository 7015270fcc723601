#!/usr/bin/env node
// Agent footprint on real parts (one testbed node: private bus, fake-booted sysroot, alt-ostreed,
// alt-graphd), each against a baseline measured in the same run:
//   agent-idle-rss: RSS of alt-updated polling steadily vs a bare `node` process idling (target <= 1.3)
//   agent-idle-rss-semi-space-only: the same agent with only the young-generation flag (before the
//     shebang's --liftoff-only --no-opt), to show what those flags buy
//   stack-floor-*: a process that only loads one mandated library (with the agent's node flags) and
//     idles, vs the same bare node: where the floor under the agent is
//   agent-start-to-ready: spawn -> READY=1 on the notify socket vs spawn -> exit of `node -e 0`
//   agent-cpu-per-poll: CPU ms per steady-state poll cycle (reported; baseline: one bare node idle second)
import { spawn, execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const { createRepo, serveDir } = await import(new URL('test/helpers/ostree-repo.js', dist).href);
const { closeFixtureSigningKey } = await import(new URL('test/helpers/signing.js', dist).href);
const { startTestGraphd, waitFor } = await import(new URL('test/helpers/graphd.js', dist).href);
const { createTestbedNode, ALT_UPDATED_NODE_ARGS } = await import(new URL('test/helpers/testbed-node.js', dist).href);

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function rssKiB(pid) {
  const s = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? NaN);
}
async function cpuTicks(pid) {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
}
async function medianRss(pid, n = 5) {
  const xs = [];
  for (let i = 0; i < n; i++) {
    xs.push(await rssKiB(pid));
    await sleep(400);
  }
  return xs.sort((a, b) => a - b)[Math.floor(n / 2)];
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
  configToml: `[cincinnati]\nbase_url = "${graphd.url}"\n[agent.timing]\nsteady_interval_secs = 1\n[updates]\nstrategy = "immediate"\n`,
  agentEnv: { NOTIFY_SOCKET: sock },
  // Read at every agent start: the semi-space-only row swaps them in place.
  agentNodeArgs,
});
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
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  line({ name: 'agent-start-to-ready', value: med(readyMs), baseline: med(bareMs), ratio: med(readyMs) / med(bareMs), target: 'report', unit: 'ms' });

  // Idle RSS and CPU per poll, after the agent settled into steady polling.
  const pid = node.agent().pid;
  await waitFor('steady polling', () => node.records.filter((r) => r.event === 'no_update').length >= 8, 120_000);
  await sleep(3000);
  const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
  await sleep(1500);
  const agentRss = await medianRss(pid);
  const bareRss = await medianRss(bare.pid);
  line({ name: 'agent-idle-rss', value: agentRss, baseline: bareRss, ratio: agentRss / bareRss, target: '<=1.3', unit: 'KiB' });
  const polls0 = node.records.filter((r) => r.event === 'no_update').length;
  const cpu0 = await cpuTicks(pid);
  const bare0 = await cpuTicks(bare.pid);
  const t0 = Date.now();
  await waitFor('10 more polls', () => node.records.filter((r) => r.event === 'no_update').length >= polls0 + 10, 180_000);
  const polls = node.records.filter((r) => r.event === 'no_update').length - polls0;
  const cpuMs = ((await cpuTicks(pid)) - cpu0) * (1000 / CLK_TCK);
  const bareCpuMsPerSec = (((await cpuTicks(bare.pid)) - bare0) * (1000 / CLK_TCK)) / ((Date.now() - t0) / 1000);
  line({ name: 'agent-cpu-per-poll', value: cpuMs / polls, baseline: bareCpuMsPerSec, ratio: bareCpuMsPerSec > 0 ? cpuMs / polls / bareCpuMsPerSec : null, target: 'report', unit: 'ms CPU per poll (baseline: bare node ms CPU per s)' });

  // The same agent with the young-generation flag only.
  await node.stopAgent();
  agentNodeArgs.splice(0, agentNodeArgs.length, '--max-semi-space-size=1');
  const n0 = node.records.length;
  await node.startAgent();
  await waitFor('steady polling (semi-space only)', () => node.records.slice(n0).filter((r) => r.event === 'no_update').length >= 8, 120_000);
  await sleep(3000);
  const semiRss = await medianRss(node.agent().pid);
  line({ name: 'agent-idle-rss-semi-space-only', value: semiRss, baseline: bareRss, ratio: semiRss / bareRss, target: 'report', unit: 'KiB (agent with --max-semi-space-size=1 only)' });

  // The floor: one idle process per mandated library, with the agent's node flags.
  for (const [name, src, what] of FLOOR) {
    const p = spawn(process.execPath, [...ALT_UPDATED_NODE_ARGS, '--input-type=module', '-e', `${FLOOR_PRELUDE}\n${src}\nsetInterval(() => {}, 1000);`], { cwd: new URL('..', import.meta.url).pathname, stdio: ['ignore', 'inherit', 'inherit'] });
    await sleep(2500);
    const rss = await medianRss(p.pid);
    p.kill();
    line({ name: `stack-floor-${name}`, value: rss, baseline: bareRss, ratio: rss / bareRss, target: 'report', unit: `KiB (${what})` });
  }
  bare.kill();
} finally {
  await node.destroy();
  await graphd.close();
  await http.close();
  await closeFixtureSigningKey();
  listener.kill();
}
process.exit(0);
