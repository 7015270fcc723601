#!/usr/bin/env node
// `npm run demo`: a local end-to-end update demo. By default on real nodes (scripts/demo-nspawn.ts):
// systemd-nspawn containers booting an ostree deployment of the cached real-node image
// (test/realnode/), real systemd, journald, logind and system bus in each; one alt-graphd serves a
// release repo with two new releases (the first a barrier); with --strategy fleet_lock one
// alt-fleetlockd coordinates the reboots. A machine that cannot boot them gets one line saying why.
//
// --fake-boot (implied by --bad-release, which real nodes cannot do yet): the
// earlier nodes. Every node gets a private system bus, a fake-booted real ostree sysroot, the real
// alt-ostreed and the real alt-updated; only logind is a stand-in (fakeLogindForTest). A "reboot"
// is the backend's reboot hook (finalize-staged, fresh /run, boot the new default); the demo then
// restarts that node's services, as a boot would.
//
// --bad-release (fleet_lock, 5 nodes unless --nodes): the new release fails a required health check
// on the nodes (alt-updated-health runs at every boot). The first node to boot it rolls back and
// reports it; alt-fleetlockd (halt_after_failures = 1) halts the group, so no other node reboots into
// it. The demo then publishes a fixed release and resumes the group with `alt-updatectl fleetlock
// resume`, and every node arrives at the fixed release.
//
// --payload oci (ALT Atomic): a real registry with GPG-signed OS images, alt-graphd building the
// `oci` stream from it, and nodes that are bootc hosts booted from an image (alt-ostreed's bootc
// driver over the bootc stand-in, at /usr/bin/bootc inside real nodes). Two new images, the first a
// barrier. On real nodes the images are the real-node tree (test/realnode/oci.ts). bootc 1.12 stages what the
// hosts' tag points at, so the demo publishes as a pipeline following its barrier would: the tag
// `stable` moves to the barrier image, and to the newest once every node has booted the barrier.
//
//   npm run demo -- [--nodes N] [--strategy immediate|fleet_lock|periodic] [--slots K] [--json] [--timeout SECS]
//                   [--fake-boot] [--payload ostree|oci] [--bad-release]
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const dist = new URL('../dist/', import.meta.url);
const usage = (msg) => {
  process.stderr.write(`demo: ${msg}\n`);
  process.exit(2);
};
let parsed;
try {
  parsed = parseArgs({
    options: {
      nodes: { type: 'string' },
      strategy: { type: 'string' },
      slots: { type: 'string', default: '1' },
      'bad-release': { type: 'boolean', default: false },
      'fake-boot': { type: 'boolean', default: false },
      payload: { type: 'string', default: 'ostree' },
      json: { type: 'boolean', default: false },
      timeout: { type: 'string' },
    },
  });
} catch (e) {
  usage(e.message);
}
const { values: opt } = parsed;
const bad = opt['bad-release'];
const nodesN = Number(opt.nodes ?? (bad ? '5' : '1'));
const slots = Number(opt.slots);
const strategy = opt.strategy ?? (bad ? 'fleet_lock' : 'immediate');
if (bad && strategy !== 'fleet_lock') usage('--bad-release needs --strategy fleet_lock (the lock server halts the group)');
if (!Number.isInteger(nodesN) || nodesN < 1 || nodesN > 20) usage('--nodes: expected 1..20');
if (!Number.isInteger(slots) || slots < 1) usage('--slots: expected an integer >= 1');
if (!['immediate', 'fleet_lock', 'periodic'].includes(strategy)) usage('--strategy: immediate, fleet_lock or periodic');
const oci = opt.payload === 'oci';
if (!['ostree', 'oci'].includes(opt.payload)) usage('--payload: ostree or oci');
if (oci && bad) usage('--bad-release runs with --payload ostree only');
// Real nodes do not do a bad release (a health check that fails on one release) yet.
const fakeBoot = opt['fake-boot'] || bad;

if (!fakeBoot) {
  const { runNspawnDemo } = await import(new URL('scripts/demo-nspawn.js', dist).href);
  const io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };
  const options = { nodes: nodesN, strategy, slots, json: opt.json, timeoutSecs: Number(opt.timeout ?? '600'), payload: oci ? 'oci' : 'ostree' };
  const code = await runNspawnDemo(options, io).catch((e) => {
    // A failed command (ostree, ip, nspawn) names itself and its stderr: that, not a stack trace.
    process.stderr.write(`demo: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  });
  process.exit(code);
}

const { createRepo, serveDir } = await import(new URL('test/helpers/ostree-repo.js', dist).href);
const { closeFixtureSigningKey } = await import(new URL('test/helpers/signing.js', dist).href);
const { startTestGraphd } = await import(new URL('test/helpers/graphd.js', dist).href);
const { createTestbedNode } = await import(new URL('test/helpers/testbed-node.js', dist).href);
const { FLEET_DEMO_REF, badReleaseCheck, summarise, releasePolicy } = await import(new URL('scripts/demo-lib.js', dist).href);
const { runCli, spawnServer } = await import(new URL('test/integration/fleetlock/spawn.js', dist).href);
const { createFleetLockAdminClient } = await import(new URL('src/fleetlock/admin-client.js', dist).href);
const { createOciWorld, tagFollowsBarrier, OCI_STREAM, OCI_TAG } = await import(new URL('test/helpers/oci-world.js', dist).href);
if (process.getuid?.() !== 0) {
  process.stderr.write('demo: needs root (unshare/chroot for the fake-booted sysroots)\n');
  process.exit(1);
}
const why = opt['fake-boot'] ? '--fake-boot' : 'real nodes cannot do --bad-release yet';
process.stderr.write(`demo: fake-booted nodes (${why}): a private bus and daemons per node, no systemd\n`);

const t0 = Date.now();
const say = (line) => {
  if (!opt.json) process.stdout.write(`${line}\n`);
};
const stamp = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s`;
const timeline = [];

// Releases: booted 1.0 (old), then a barrier and the newest; with --bad-release a bad one, and
// later a fixed one (rolled out at once: releases without a policy entry are).
// --payload oci: the same story with images (v1 booted, v2 the barrier, v3 the newest).
const versions = oci ? ['20261101.0', '20261115.0', '20261122.0'] : bad ? ['20261101.0.0', '20261115.0.0'] : ['20261101.0.0', '20261115.0.0', '20261122.0.0'];
const fixed = '20261116.0.0';
const world = oci ? await createOciWorld({ versions, barriers: [versions[1]] }) : null;
const repo = oci ? null : await createRepo();
let http = null;
let graphd;
if (world !== null) {
  graphd = world.graphd;
  say(`${stamp()} registry at ${world.registry.url} (images GPG-signed; the hosts' policy.json requires it); alt-graphd serving its oci stream at ${graphd.url}`);
} else {
  await repo.commit({ ref: FLEET_DEMO_REF, version: versions[0], timestamp: '2026-11-01 00:00:00' });
  http = await serveDir(repo.path);
  graphd = await startTestGraphd({ repoPath: repo.path, policies: { sisyphus: releasePolicy(versions) } });
  say(`${stamp()} alt-graphd serving ${repo.path} at ${graphd.url} (every release signed with a test key; the nodes verify it)`);
}

let fleetlockd = null;
let fleetUrl = null;
let fleetDir = null;
const adminToken = randomBytes(16).toString('hex');
if (strategy === 'fleet_lock') {
  const stateDir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-'));
  fleetDir = stateDir;
  if (bad) {
    const config = join(stateDir, 'config.toml');
    const lines = ['listen = "127.0.0.1:0"', `admin_token = "${adminToken}"`, '[store]', `state_dir = "${join(stateDir, 'state')}"`];
    await writeFile(config, [...lines, '[groups.default]', `slots = ${slots}`, 'halt_after_failures = 1', ''].join('\n'), { mode: 0o600 });
    fleetlockd = await spawnServer(['--config', config]);
  } else {
    fleetlockd = await spawnServer(['--listen', '127.0.0.1:0', '--group', `default=${slots}`, '--state-dir', stateDir]);
  }
  fleetUrl = fleetlockd.url.endsWith('/') ? fleetlockd.url : `${fleetlockd.url}/`;
  say(`${stamp()} alt-fleetlockd at ${fleetUrl} (group default, ${slots} slot(s)${bad ? ', halts after 1 failed update' : ''})`);
}

const toml = [
  '[cincinnati]',
  `base_url = "${graphd.url}"`,
  '[agent.timing]',
  'steady_interval_secs = 2',
  'staged_interval_secs = 2',
  '[updates]',
  `strategy = "${strategy}"`,
  ...(fleetUrl ? ['[updates.fleet_lock]', `base_url = "${fleetUrl}"`] : []),
  ...(bad ? ['[health]', 'boot_attempts = 1'] : []),
  // An image host has no ref to derive its stream from.
  ...(oci ? ['[identity]', `stream = "${OCI_STREAM}"`] : []),
  ...(strategy === 'periodic'
    ? ['[[updates.periodic.window]]', 'days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]', 'start_time = "00:00"', 'length_minutes = 1440']
    : []),
  '',
].join('\n');

const onRecord = (name, rec) => {
  if (rec.event) timeline.push({ t: Date.now() - t0, node: name, event: rec.event, release: rec.release ?? null });
  if ((rec.level ?? 30) >= 30 && rec.component !== 'ostree.client') say(`${stamp()} [${name}] ${rec.msg}`);
};
const nodes = [];
for (let i = 1; i <= nodesN; i++) {
  const boot = world !== null ? { bootcHost: await world.host() } : { repoUrl: http.url, ref: FLEET_DEMO_REF };
  const n = await createTestbedNode({ name: `node${i}`, ...boot, configToml: toml, onRecord, health: bad });
  if (bad) {
    const checks = join(n.root, 'etc/alt-updated/health.d/required.d');
    await mkdir(checks, { recursive: true });
    await writeFile(join(checks, '50-service-works'), badReleaseCheck({ stateDir: n.sysroot.stateDir, sysrootPath: n.sysroot.path, version: versions[1] }));
    await chmod(join(checks, '50-service-works'), 0o755);
  }
  nodes.push(n);
}
if (bad) {
  say(`${stamp()} ${nodesN} node(s) booted ${versions[0]}; committing ${versions[1]}, which fails the nodes' health check`);
} else if (oci) {
  say(`${stamp()} ${nodesN} node(s) booted image ${versions[0]}; pushing ${versions[1]} (barrier) and ${versions[2]}, signed; tag ${OCI_TAG} -> ${versions[1]}`);
} else {
  say(`${stamp()} ${nodesN} node(s) booted ${versions[0]}; committing ${versions[1]} (barrier) and ${versions[2]}`);
}
if (world !== null) {
  for (const v of versions.slice(1)) await world.push(v);
  await world.push(versions[1], OCI_TAG);
} else {
  for (const v of versions.slice(1)) await repo.commit({ ref: FLEET_DEMO_REF, version: v });
}
await graphd.service.refresh();
await Promise.all(nodes.map((n) => n.start()));

const newest = bad ? fixed : versions[versions.length - 1];
const admin = bad ? createFleetLockAdminClient({ baseUrl: fleetUrl, token: adminToken }) : null;
const haltedGroups = [];
let resumed = false;
// --bad-release: once the group halts, show it for a few seconds (nobody else reboots), then publish
// the fixed release and resume the group as an operator would.
let haltedAt = null;
const operator = async () => {
  if (admin === null || resumed) return;
  if (haltedAt === null) {
    const g = await admin.group('default');
    if (g.halted === null) return;
    haltedAt = Date.now();
    haltedGroups.push(g.name);
    say(`${stamp()} === group ${g.name} HALTED: ${g.halted.reason} ===`);
    return;
  }
  if (Date.now() - haltedAt < 8000) return;
  say(`${stamp()} publishing the fixed release ${fixed}; alt-updatectl fleetlock resume default`);
  await repo.commit({ ref: FLEET_DEMO_REF, version: fixed });
  await graphd.service.refresh();
  const r = await runCli(['fleetlock', 'resume', 'default', '--url', fleetUrl, '--token', adminToken]);
  say(`${stamp()} alt-updatectl: ${r.stdout.trim() || r.stderr.trim()}`);
  resumed = true;
};
// --payload oci: the tag moves on to the newest once every node has the barrier staged or booted.
const followBarrier = world !== null ? tagFollowsBarrier(world, nodes, { first: versions[0], barrier: versions[1], newest: versions[2] }) : null;
const moveTag = async () => {
  if (followBarrier !== null && (await followBarrier())) say(`${stamp()} every node has the barrier ${versions[1]} staged or booted; tag ${OCI_TAG} -> ${versions[2]}`);
};
const deadline = Date.now() + Number(opt.timeout ?? '240') * 1000;
const done = async (n) => (await n.bootedVersion()) === newest && n.records.slice(n.lastBoot ?? 0).some((r) => r.event === 'no_update');
let ok = false;
while (Date.now() < deadline) {
  for (const n of nodes) {
    if (await n.powerCycleIfRebooted()) {
      n.lastBoot = n.records.length;
      timeline.push({ t: Date.now() - t0, node: n.name, event: 'rebooted', release: await n.bootedVersion() });
      say(`${stamp()} [${n.name}] --- rebooted into ${await n.bootedVersion()} ---`);
    }
  }
  await operator();
  await moveTag();
  if ((await Promise.all(nodes.map(done))).every(Boolean)) {
    ok = true;
    break;
  }
  await new Promise((r) => setTimeout(r, 250));
}

const finals = await Promise.all(nodes.map((n) => n.bootedVersion()));
const reboots = await Promise.all(nodes.map((n) => n.reboots()));
const summary = summarise({ nodes: nodes.map((n) => n.name), timeline, newest, finals, reboots, durationMs: Date.now() - t0, haltedGroups, payload: oci ? 'oci' : 'ostree', nodeKind: 'fakeboot' });
for (const n of nodes) await n.destroy();
await admin?.close();
await fleetlockd?.stop('SIGTERM');
if (fleetDir !== null) await rm(fleetDir, { recursive: true, force: true });
if (world !== null) await world.close();
else await graphd.close();
await http?.close();
// The releases were signed and every node's remote verified them; stop the key's gpg-agent.
await closeFixtureSigningKey();

if (opt.json) {
  process.stdout.write(`${JSON.stringify(summary.json)}\n`);
} else {
  say('');
  for (const line of summary.lines) say(line);
}
const badShown = !bad || (summary.json.rolled_back >= 1 && summary.json.halted_groups.length > 0);
const failed = !ok || !badShown || summary.json.arrived !== nodesN || (strategy === 'fleet_lock' && summary.json.max_concurrent_reboots > slots);
process.exit(failed ? 1 : 0);
