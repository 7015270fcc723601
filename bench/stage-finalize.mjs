// Benchmark: stage + finalize through D-Bus -> alt-ostreed -> ostree, versus the same ostree
// commands run directly, on the same repo (127.0.0.1 HTTP) and the same fake-booted sysroot, in one
// run. Each cycle stages a new commit locked, finalizes it and "reboots" into it (simulated reboot:
// finalize-staged + boot the new default, the same script for both paths).
// Prints one JSON line; ratio = median(D-Bus cycle) / median(direct cycle), target <= 1.3.
// Needs root (fake-boot namespaces) and `npm run build`. BENCH_ITERATIONS (default 6) per path.
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import dbus from 'dbus-next';
import { connectBus } from '../dist/src/dbus/bus.js';
import { connectPeer } from '../dist/src/dbus/peer.js';
import { startBackend } from '../dist/test/helpers/alt-ostreed.js';
import { startPrivateBus } from '../dist/test/helpers/dbus-daemon.js';
import { createRepo, serveDir } from '../dist/test/helpers/ostree-repo.js';
import { closeFixtureSigningKey } from '../dist/test/helpers/signing.js';
import { createSysroot } from '../dist/test/helpers/sysroot.js';

const run = promisify(execFile);
const REF = 'altcos/x86_64/sisyphus';
const NAME = 'org.projectatomic.rpmostree1';
const PER_PATH = Number(process.env.BENCH_ITERATIONS ?? 6);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function transaction(address) {
  const peer = await connectPeer(address);
  try {
    const tx = (await peer.getProxyObject(NAME, '/')).getInterface(`${NAME}.Transaction`);
    const finished = new Promise((resolve) => tx.on('Finished', (success, error) => resolve({ success, error })));
    await tx.Start();
    const r = await finished;
    if (!r.success) throw new Error(`transaction failed: ${r.error}`);
  } finally {
    peer.disconnect();
  }
}

// Warm both paths up first (direct, then D-Bus so the daemon's snapshot is current), then measure
// each path as a block: interleaving would make every D-Bus cycle start by detecting the direct
// cycle's changes behind the daemon's back (correct, but not what a host with one update driver does).
const plan = ['direct', 'dbus', ...Array(PER_PATH).fill('dbus'), ...Array(PER_PATH).fill('direct')];

const repo = await createRepo();
const commits = [await repo.commit({ ref: REF, version: '0', timestamp: '2024-01-01 00:00:00' })];
for (let i = 1; i <= plan.length; i++) {
  commits.push(await repo.commit({ ref: REF, version: String(i), timestamp: `2024-02-01 00:${String(i).padStart(2, '0')}:00` }));
}
const server = await serveDir(repo.path);
const sysroot = await createSysroot({ repoUrl: server.url, ref: REF, commit: commits[0].checksum });
const bus = await startPrivateBus();
const daemon = await startBackend({ busAddress: bus.address, sysroot });
const client = await connectBus({ address: bus.address });
const os = (await client.getProxyObject(NAME, '/org/projectatomic/rpmostree1/altcos')).getInterface(`${NAME}.OS`);
const b = (v) => new dbus.Variant('b', v);

const viaDbus = async (checksum) => {
  await transaction(
    await os.Deploy(`revision=${checksum}`, { 'lock-finalization': b(true), 'skip-branch-check': b(true), 'allow-downgrade': b(false) }),
  );
  await transaction(await os.FinalizeDeployment({ checksum: new dbus.Variant('s', checksum) }));
};

// What an operator would type for the same effect, through the same fake boot.
const fb = (...cmd) => run(sysroot.commandPrefix[0], [...sysroot.commandPrefix.slice(1), ...cmd]);
const direct = async (checksum) => {
  await fb('ostree', 'pull', 'altcos', `${REF}@${checksum}`);
  await fb('sh', '-c', 'mkdir -p /run/ostree && : > /run/ostree/staged-deployment-locked');
  await fb(
    'sh',
    '-c',
    'f=$(mktemp) && printf "[origin]\\nrefspec=altcos:%s\\noverride-commit=%s\\n" "$1" "$2" > "$f" && ostree admin deploy --os=altcos --stage --origin-file="$f" "$2"',
    'sh',
    REF,
    checksum,
  );
  await fb('rm', '-f', '/run/ostree/staged-deployment-locked');
  await run(sysroot.rebootCommand[0], sysroot.rebootCommand.slice(1));
};

const times = { dbus: [], direct: [] };
try {
  for (const [i, path] of plan.entries()) {
    const { checksum } = commits[i + 1];
    const t0 = performance.now();
    await (path === 'dbus' ? viaDbus(checksum) : direct(checksum));
    const ms = performance.now() - t0;
    if (i >= 2) times[path].push(ms);
    if (process.env.BENCH_VERBOSE) process.stderr.write(`${path} ${Math.round(ms)}\n`);
    if ((await sysroot.bootedChecksum()) !== checksum) throw new Error(`${path}: ${checksum} did not boot`);
  }
} finally {
  client.disconnect();
  await daemon.stop();
  await bus.stop();
  await server.close();
  await sysroot.destroy();
  await closeFixtureSigningKey();
}
const value = median(times.dbus);
const baseline = median(times.direct);
process.stdout.write(
  `${JSON.stringify({
    name: 'stage-finalize',
    value: Math.round(value),
    baseline: Math.round(baseline),
    ratio: Number((value / baseline).toFixed(3)),
    target: '<=1.3',
    unit: 'ms',
  })}\n`,
);
