// Fleet end to end on real parts: several nodes (each: private bus, fake-booted ostree sysroot, real
// alt-ostreed, real alt-updated), one in-process alt-graphd whose clock the test moves (a rollout over
// time), one alt-fleetlockd with a single slot, and a dead-end release on a second stream.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { maxConcurrent, rebootIntervals, type TimelineEntry } from '../../../scripts/demo-lib.js';
import { startTestGraphd, waitFor } from '../../helpers/graphd.js';
import { createRepo, serveDir, type FixtureRepo, type StaticServer } from '../../helpers/ostree-repo.js';
import { createTestbedNode, type TestbedNode } from '../../helpers/testbed-node.js';
import { createOciWorld, OCI_STREAM, tagFollowsBarrier, type OciWorld } from '../../helpers/oci-world.js';
import { spawnServer, type Spawned } from '../fleetlock/spawn.js';

const SIS = 'altcos/x86_64/sisyphus';
const P11 = 'altcos/x86_64/p11';
const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
const [V1, V2, V3] = ['20261101.0.0', '20261115.0.0', '20261122.0.0'];

describe('fleet: rollout over time, one reboot slot, a dead-end stream', () => {
  const clock = new ManualClock(T0);
  const timeline: TimelineEntry[] = [];
  let repo: FixtureRepo;
  let http: StaticServer;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>>;
  let lockd: Spawned;
  let bold: TestbedNode;
  let wary: TestbedNode;
  let legacy: TestbedNode;
  let pump: NodeJS.Timeout;
  // The in-flight power cycle, awaited before teardown so no service starts on a stopped bus.
  let pumping: Promise<unknown> | null = null;

  const config = (wariness: number, url: string): string =>
    [
      '[cincinnati]',
      `base_url = "${graphd.url}"`,
      '[identity]',
      `rollout_wariness = ${wariness}`,
      '[agent.timing]',
      'steady_interval_secs = 1',
      'staged_interval_secs = 1',
      '[updates]',
      'strategy = "fleet_lock"',
      '[updates.fleet_lock]',
      `base_url = "${url}"`,
      '',
    ].join('\n');
  const checksSince = (n: TestbedNode, from: number): number => n.records.slice(from).filter((r) => r.event === 'no_update').length;

  beforeAll(async () => {
    repo = await createRepo();
    await repo.commit({ ref: SIS, version: V1, timestamp: '2026-11-01 00:00:00' });
    await repo.commit({ ref: P11, version: 'p11.20261001.0.0', timestamp: '2026-10-01 00:00:00' });
    http = await serveDir(repo.path);
    graphd = await startTestGraphd({
      repoPath: repo.path,
      clock,
      policies: {
        sisyphus: {
          stream: 'sisyphus',
          releases: [
            { version: V2, metadata: { barrier: { reason: 'every host passes 20261115' } } },
            { version: V3, metadata: { rollout: { start_epoch: T0 / 1000, start_percentage: 0.0, duration_minutes: 60 } } },
          ],
        },
        p11: { stream: 'p11', releases: [{ version: 'p11.20261001.0.0', metadata: { deadend: { reason: 'p11 is end of life: rebase to sisyphus' } } }] },
      },
    });
    const stateDir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-'));
    lockd = await spawnServer(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', stateDir]);
    const url = lockd.url.endsWith('/') ? lockd.url : `${lockd.url}/`;
    const onRecord = (node: string, r: { event?: string; release?: unknown }): void => {
      if (r.event) timeline.push({ t: Date.now(), node, event: r.event, release: typeof r.release === 'string' ? r.release : null });
    };
    bold = await createTestbedNode({ name: 'bold', repoUrl: http.url, ref: SIS, configToml: config(0.25, url), onRecord });
    wary = await createTestbedNode({ name: 'wary', repoUrl: http.url, ref: SIS, configToml: config(0.75, url), onRecord });
    legacy = await createTestbedNode({ name: 'legacy', repoUrl: http.url, ref: P11, configToml: config(0.5, url), onRecord });
    await repo.commit({ ref: SIS, version: V2 });
    await repo.commit({ ref: SIS, version: V3 });
    await graphd.service.refresh();
    pump = setInterval(() => {
      if (pumping !== null) return;
      pumping = Promise.all([bold, wary, legacy].map((n) => n.powerCycleIfRebooted()))
        .catch((err: unknown) => console.error('power cycle failed', err))
        .finally(() => (pumping = null));
    }, 200);
    await Promise.all([bold, wary, legacy].map((n) => n.start()));
  });

  afterAll(async () => {
    clearInterval(pump);
    await pumping;
    await Promise.all([bold, wary, legacy].map((n) => n?.destroy()));
    await lockd?.stop('SIGTERM');
    await graphd?.close();
    await http?.close();
  });

  it('takes every node through the barrier, one reboot at a time, and holds the rollout back', async () => {
    await waitFor('both sisyphus nodes on the barrier release', async () => (await bold.bootedVersion()) === V2 && (await wary.bootedVersion()) === V2, 120_000);
    const from = [bold.records.length, wary.records.length];
    await waitFor('three checks each after the barrier', () => checksSince(bold, from[0]!) >= 3 && checksSince(wary, from[1]!) >= 3, 90_000);
    expect(await bold.bootedVersion()).toBe(V2);
    expect(await wary.bootedVersion()).toBe(V2);
    expect(await bold.reboots()).toBe(1);
    expect(await wary.reboots()).toBe(1);
  });

  it('gives the new release first to the bold node, then to the wary one as the rollout advances', async () => {
    clock.set(T0 + 30 * 60_000); // rollout at 50 %: wariness 0.25 sees it, 0.75 does not
    await waitFor('the bold node on the rollout release', async () => (await bold.bootedVersion()) === V3, 120_000);
    const from = wary.records.length;
    await waitFor('three more checks of the wary node', () => checksSince(wary, from) >= 3, 90_000);
    expect(await wary.bootedVersion()).toBe(V2);
    clock.set(T0 + 61 * 60_000); // rollout complete
    await waitFor('the wary node on the rollout release', async () => (await wary.bootedVersion()) === V3, 120_000);
    expect(await bold.reboots()).toBe(2);
    expect(await wary.reboots()).toBe(2);
  });

  it('never had more nodes between pre-reboot and steady-state than the single slot', () => {
    const intervals = rebootIntervals(timeline);
    expect(intervals.filter((i) => i.node !== 'legacy')).toHaveLength(4);
    expect(maxConcurrent(intervals)).toBe(1);
  });

  it('leaves the dead-end node where it is and tells its users why', async () => {
    const motd = await readFile(join(legacy.root, 'run/motd.d/85-alt-updated-deadend.motd'), 'utf8');
    expect(motd).toContain('This release is a dead-end and will not further auto-update: p11 is end of life: rebase to sisyphus');
    expect(legacy.records.some((r) => r.event === 'update_found')).toBe(false);
    expect(await legacy.reboots()).toBe(0);
  });
});

// The same fleet on ALT Atomic hosts: bootc hosts booted from a signed image (alt-ostreed's bootc
// driver), alt-graphd's oci stream built from a real registry, one FleetLock slot, two new images the
// first a barrier; the hosts' tag follows the barrier as bootc 1.12 needs (tagFollowsBarrier).
describe('fleet of image hosts (oci payloads): a barrier image, one reboot slot', () => {
  const [I1, I2, I3] = ['20261101.0', '20261115.0', '20261122.0'];
  const timeline: TimelineEntry[] = [];
  let world: OciWorld;
  let lockd: Spawned;
  let nodes: TestbedNode[] = [];
  let pump: NodeJS.Timeout;
  let pumping: Promise<unknown> | null = null;

  beforeAll(async () => {
    world = await createOciWorld({ versions: [I1, I2, I3], barriers: [I2] });
    const stateDir = await mkdtemp(join(tmpdir(), 'alt-fleetlockd-'));
    lockd = await spawnServer(['--listen', '127.0.0.1:0', '--group', 'default=1', '--state-dir', stateDir]);
    const url = lockd.url.endsWith('/') ? lockd.url : `${lockd.url}/`;
    const toml = ['[cincinnati]', `base_url = "${world.graphd.url}"`, '[identity]', `stream = "${OCI_STREAM}"`, '[agent.timing]', 'steady_interval_secs = 1', 'staged_interval_secs = 1', '[updates]', 'strategy = "fleet_lock"', '[updates.fleet_lock]', `base_url = "${url}"`, ''].join('\n');
    const onRecord = (node: string, r: { event?: string; release?: unknown }): void => {
      if (r.event) timeline.push({ t: Date.now(), node, event: r.event, release: typeof r.release === 'string' ? r.release : null });
    };
    for (const name of ['atomic1', 'atomic2']) nodes.push(await createTestbedNode({ name, bootcHost: await world.host(), configToml: toml, onRecord }));
    await world.push(I2);
    await world.push(I3);
    await world.push(I2, 'stable');
    await world.graphd.service.refresh();
    const follow = tagFollowsBarrier(world, nodes, { first: I1, barrier: I2, newest: I3 });
    pump = setInterval(() => {
      if (pumping !== null) return;
      pumping = Promise.all(nodes.map((n) => n.powerCycleIfRebooted()))
        .then(follow)
        .catch((err: unknown) => console.error('power cycle failed', err))
        .finally(() => (pumping = null));
    }, 200);
    await Promise.all(nodes.map((n) => n.start()));
  }, 60_000);

  afterAll(async () => {
    clearInterval(pump);
    await pumping;
    await Promise.all(nodes.map((n) => n.destroy()));
    nodes = [];
    await lockd?.stop('SIGTERM');
    await world?.close();
  });

  it('takes every host through the barrier image to the newest, one reboot slot at a time', async () => {
    const arrived = async (n: TestbedNode): Promise<boolean> => (await n.bootedVersion()) === I3 && n.records.some((r) => r.event === 'steady_reported' && r.updatesEnabled === true);
    await waitFor('every host on the newest image, steady', async () => (await Promise.all(nodes.map(arrived))).every(Boolean), 120_000);
    for (const n of nodes) {
      expect(await n.reboots()).toBe(2);
      expect(n.records.filter((r) => r.event === 'update_staged').map((r) => r.release)).toEqual([I2, I3]);
    }
    const intervals = rebootIntervals(timeline);
    await waitFor('every reboot window closed', () => rebootIntervals(timeline).every((i) => i.to !== null), 30_000);
    expect(intervals.length).toBeGreaterThanOrEqual(4);
    expect(maxConcurrent(rebootIntervals(timeline))).toBe(1);
  }, 150_000);
});
