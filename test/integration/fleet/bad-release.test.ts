// Fleet end to end with a bad release (issue 15): five real nodes (private bus, fake-booted ostree
// sysroot, real alt-ostreed, real alt-updated-health at every boot, real alt-updated), one
// alt-fleetlockd with one slot and halt_after_failures = 1, one alt-graphd. The bad release fails a
// required health check on the node: the first node to boot it rolls back and reports it, the group
// halts, and no other node reboots into it. After a fixed release is published and an operator
// resumes the group (alt-updatectl fleetlock resume), all five arrive, one reboot at a time.
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badReleaseCheck, maxConcurrent, rebootIntervals, rolledBackNodes, type TimelineEntry } from '../../../scripts/demo-lib.js';
import { createFleetLockAdminClient, type FleetLockAdminClient } from '../../../src/fleetlock/admin-client.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { runCli, spawnServer, type Spawned } from '../fleetlock/spawn.js';

const SIS = 'altcos/x86_64/sisyphus';
const [V1, BAD, FIXED] = ['20261101.0.0', '20261115.0.0', '20261116.0.0'];

describe('fleet: five nodes, one slot, a bad release, K = 1', () => {
  const timeline: TimelineEntry[] = [];
  let dir: string;
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let lockd: Spawned;
  let admin: FleetLockAdminClient;
  const nodes: TestbedNode[] = [];
  let pump: NodeJS.Timeout;
  let pumping: Promise<unknown> | null = null;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-bad-release-'));
    repo = await createRepo();
    await repo.commit({ ref: SIS, version: V1, timestamp: '2026-11-01 00:00:00' });
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({ repoPath: repo.path });
    const config = join(dir, 'fleetlockd.toml');
    await writeFile(
      config,
      ['listen = "127.0.0.1:0"', 'admin_token = "adm"', '[store]', `state_dir = "${join(dir, 'lockd')}"`, '[groups.default]', 'slots = 1', 'halt_after_failures = 1', ''].join('\n'),
      { mode: 0o600 },
    );
    lockd = await spawnServer(['--config', config]);
    const url = lockd.url.endsWith('/') ? lockd.url : `${lockd.url}/`;
    admin = createFleetLockAdminClient({ baseUrl: url, token: 'adm' });
    const toml = [
      '[cincinnati]',
      `base_url = "${graphd.url}"`,
      '[agent.timing]',
      'steady_interval_secs = 1',
      'staged_interval_secs = 1',
      '[updates]',
      'strategy = "fleet_lock"',
      '[updates.fleet_lock]',
      `base_url = "${url}"`,
      '[health]',
      'boot_attempts = 1',
      '',
    ].join('\n');
    const onRecord = (node: string, r: { event?: string; release?: unknown }): void => {
      if (r.event) timeline.push({ t: Date.now(), node, event: r.event, release: typeof r.release === 'string' ? r.release : null });
    };
    for (let i = 1; i <= 5; i++) {
      const n = await createTestbedNode({ name: `node${i}`, repoUrl: http.url, ref: SIS, configToml: toml, onRecord, health: true });
      const checks = join(n.root, 'etc/alt-updated/health.d/required.d');
      await mkdir(checks, { recursive: true });
      await writeFile(join(checks, '50-service-works'), badReleaseCheck({ stateDir: n.sysroot.stateDir, sysrootPath: n.sysroot.path, version: BAD }));
      await chmod(join(checks, '50-service-works'), 0o755);
      nodes.push(n);
    }
    await repo.commit({ ref: SIS, version: BAD });
    await graphd.service.refresh();
    pump = setInterval(() => {
      if (pumping !== null) return;
      pumping = Promise.all(nodes.map((n) => n.powerCycleIfRebooted()))
        .catch((err: unknown) => console.error('power cycle failed', err))
        .finally(() => (pumping = null));
    }, 200);
    await Promise.all(nodes.map((n) => n.start()));
  }, 120_000);

  afterAll(async () => {
    // FLEET_DEBUG=FILE keeps every node's events and health runs, and the lock server's log, for a post-mortem.
    if (process.env['FLEET_DEBUG']) {
      await writeFile(process.env['FLEET_DEBUG'], JSON.stringify({ lockd: lockd?.output(), nodes: nodes.map((n) => ({ name: n.name, records: n.records.map((r) => ({ event: r.event, kind: (r as { kind?: unknown }).kind, msg: r.msg })), health: n.healthRuns.map((h) => ({ code: h.code, events: h.records.map((r) => `${String(r.event)}: ${String(r.msg)}`) })) })) }, null, 1));
    }
    clearInterval(pump);
    await pumping;
    await Promise.all(nodes.map((n) => n.destroy()));
    await admin?.close();
    await lockd?.stop('SIGTERM');
    await graphd?.close();
    await http?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('rolls the first node back, halts the group, and lets no other node reboot into the bad release', async () => {
    await waitFor('the group halted', async () => (await admin.group('default')).halted !== null, 120_000);
    const group = await admin.group('default');
    expect(group.failures).toHaveLength(1);
    const failed = group.failures[0]!;
    expect(failed).toMatchObject({ release: BAD, result: 'rolled_back' });
    const first = rolledBackNodes(timeline);
    expect(first).toHaveLength(1);
    const victim = nodes.find((n) => n.name === first[0])!;
    // The others keep asking for the slot and are told the group is halted, and stay on V1.
    const others = nodes.filter((n) => n !== victim);
    const refusedSince = others.map((n) => n.records.length);
    await waitFor(
      'a pre-reboot refused as group_halted on every other node',
      () => others.every((n, i) => n.records.slice(refusedSince[i]).some((r) => r.event === 'strategy_error' && (r as { kind?: unknown }).kind === 'group_halted')),
      60_000,
    );
    for (const n of others) {
      expect(await n.reboots()).toBe(0);
      expect(await n.bootedVersion()).toBe(V1);
    }
    await waitFor('the rolled-back node on its previous release', async () => (await victim.bootedVersion()) === V1, 60_000);
    // Bad boot, then the rollback boot.
    expect(await victim.reboots()).toBe(2);
    // Its slot was given back only after the verdict reached the lock server.
    const log = lockd.output();
    expect(log.indexOf('event=verdict_failed')).toBeGreaterThan(-1);
    const released = log.indexOf('event=lock_released');
    if (released >= 0) expect(log.indexOf('event=verdict_failed')).toBeLessThan(released);
  }, 240_000);

  it('after a fixed release and a resume, takes all five nodes to it one reboot at a time', async () => {
    await repo.commit({ ref: SIS, version: FIXED });
    await graphd.service.refresh();
    const resume = await runCli(['fleetlock', 'resume', 'default', '--url', lockd.url, '--token', 'adm']);
    expect(resume).toMatchObject({ code: 0, stdout: expect.stringContaining('resumed') });
    await waitFor('all five nodes on the fixed release', async () => (await Promise.all(nodes.map((n) => n.bootedVersion()))).every((v) => v === FIXED), 240_000);
    expect((await admin.group('default')).halted).toBeNull();
    expect(maxConcurrent(rebootIntervals(timeline.filter((e) => !e.node.endsWith('/health'))))).toBe(1);
    expect(rolledBackNodes(timeline)).toHaveLength(1);
    // Nobody else ever booted the bad release: one reboot each, straight to the fixed one.
    const victim = rolledBackNodes(timeline)[0];
    for (const n of nodes) expect([n.name, await n.reboots()]).toEqual([n.name, n.name === victim ? 3 : 1]);
    expect(nodes.flatMap((n) => n.healthRuns).filter((h) => h.code !== 0)).toHaveLength(1);
  }, 360_000);
});
