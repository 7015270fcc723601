// Three real nodes (systemd-nspawn, test/realnode/) with the fleet_lock strategy against the real
// alt-fleetlockd on a real etcd, one slot, all on the test bridge's host address. The nodes boot at
// once, each finds the new release, stages it and asks for the slot; the one holding it finalizes
// and reboots, the others keep asking (every staged interval) until it is back and steady.
// Witnesses of "never two rebooting at once": the agents' own events from each node's journal
// (lock taken at update_finalizing, given back at steady_reported after the reboot), which must
// contain that node's real reboot (nspawn's exit 133 and the next boot's start); and every version
// the group's etcd key ever had, none with two holders.
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxConcurrent, rebootIntervals, type TimelineEntry } from '../../scripts/demo-lib.js';
import { startTestGraphd } from '../helpers/graphd.js';
import { serveDir, type StaticServer } from '../helpers/ostree-repo.js';
import { fixtureSigningKey } from '../helpers/signing.js';
import { nspawnProbe, realNodeUnavailable } from '../realnode/available.js';
import { agentTimeline, startFleetLockWorld, type FleetLockWorld } from '../realnode/fleet.js';
import { ensureImage, type RealNodeImage } from '../realnode/image.js';
import { createNetwork, type RealNodeNetwork } from '../realnode/network.js';
import { createRealNode, type RealNode } from '../realnode/node.js';
import { createReleaseRepo } from '../realnode/releases.js';

const FIRST = '20261101.0.0';
const NEW = '20261115.0.0';
const NAMES = ['node1', 'node2', 'node3'];

const unavailable = await realNodeUnavailable();
if (unavailable !== null) console.warn(unavailable);

/** Polls `cond` every `everyMs` (each try runs commands in the nodes) until it holds or `timeoutMs` passes. */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs: number, everyMs = 1000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe.skipIf(unavailable !== null)('real nodes: three nodes, fleet_lock with one slot on alt-fleetlockd and etcd', () => {
  let image: RealNodeImage;
  let network: RealNodeNetwork | undefined;
  let http: StaticServer | undefined;
  let graphd: Awaited<ReturnType<typeof startTestGraphd>> | undefined;
  let fleet: FleetLockWorld | undefined;
  const nodes: RealNode[] = [];
  let cannotBoot: string | null = null;
  let timeline: TimelineEntry[] = [];
  const started = Date.now();

  beforeAll(async () => {
    image = await ensureImage(tmpdir());
    console.info(`real-node image: ${image.built.length > 0 ? `built ${image.built.join(' + ')}` : 'from the cache'} in ${image.buildSecs.toFixed(1)} s`);
    cannotBoot = await nspawnProbe(image);
    if (cannotBoot !== null) {
      console.warn(cannotBoot);
      return;
    }
    const key = await fixtureSigningKey();
    network = await createNetwork();
    const repo = await createReleaseRepo(image, key);
    await repo.release(NEW, '2026-11-15 00:00:00 +0000');
    http = await serveDir(repo.path, { host: network.hostAddress });
    graphd = await startTestGraphd({ repoPath: repo.path, host: network.hostAddress });
    fleet = await startFleetLockWorld({ host: network.hostAddress, slots: 1 });
    const configToml = [
      '[cincinnati]',
      `base_url = "${graphd.url}"`,
      '[agent.timing]',
      'steady_interval_secs = 2',
      // While another node holds the slot, ask again every 2 s (the default is 300 s).
      'staged_interval_secs = 2',
      '[updates]',
      'strategy = "fleet_lock"',
      '[updates.fleet_lock]',
      `base_url = "${fleet.url}"`,
      '',
    ].join('\n');
    const net = network;
    const made = await Promise.all(
      NAMES.map((name, i) => createRealNode({ image, network: net, index: i + 1, name, repoUrl: http!.url, trusted: key, configToml })),
    );
    nodes.push(...made);
    await Promise.all(nodes.map((n) => n.start()));
  }, 600_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.destroy()));
    await fleet?.close();
    await graphd?.close();
    await http?.close();
    await network?.destroy();
    const s = (ms: number | null): string => (ms === null ? '?' : `${((ms - started) / 1000).toFixed(1)}`);
    const windows = rebootIntervals(timeline).map((w) => `${w.node} ${s(w.from)}-${s(w.to)} s`);
    const boots = nodes.map((n) => `${n.name}: ${n.boots.map((b) => `boot ${b.index} ${s(b.startedAt)}-${s(b.endedAt)} s (exit ${b.exitCode ?? '-'})`).join(', ')}`);
    console.info(`real-node fleet file: ${s(Date.now())} s; slot held (lock -> steady): ${windows.join('; ') || '-'}; ${boots.join('; ')}`);
  }, 120_000);

  it('every node arrives at the new release with one reboot, and is steady again', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    await Promise.all(nodes.map((n) => n.waitBooted(1, 180_000)));
    for (const n of nodes) expect(await n.bootedVersion()).toBe(FIRST);
    // One after the other: the last node reboots only after the two others are back and steady.
    await Promise.all(nodes.map((n) => n.waitBooted(2, 480_000)));
    for (const n of nodes) expect(await n.bootedVersion()).toBe(NEW);
    await until(
      'steady_reported in the second boot of every node',
      async () => {
        const logs = await Promise.all(nodes.map((n) => n.exec(['journalctl', '--no-pager', '-b', '0', '-u', 'alt-updated', '-o', 'cat'])));
        return logs.every((l) => /\bevent=steady_reported\b/.test(l.stdout));
      },
      120_000,
    );
    for (const n of nodes) expect(n.boots.map((b) => b.exitCode)).toEqual([133, null]);
  }, 720_000);

  it('never had two nodes between taking the slot and reporting steady after the reboot', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    timeline = (await Promise.all(nodes.map(agentTimeline))).flat();
    const windows = rebootIntervals(timeline);
    expect(windows.map((w) => w.node).sort()).toEqual(NAMES);
    expect(windows.filter((w) => w.to === null)).toEqual([]);
    expect(maxConcurrent(windows)).toBe(1);
    // Each window holds that node's real reboot: the container exited 133 and booted again inside it.
    for (const n of nodes) {
      const w = windows.find((x) => x.node === n.name)!;
      const [down, up] = n.boots;
      expect(w.from).toBeLessThanOrEqual(down!.endedAt!);
      expect(w.to!).toBeGreaterThanOrEqual(up!.startedAt);
    }
    // The server's own record, write by write: at most one holder, and each node held the slot.
    const history = await fleet!.groupHistory();
    expect(history.filter((v) => v.holders.length > 1)).toEqual([]);
    expect(new Set(history.flatMap((v) => v.holders)).size).toBe(3);
  }, 120_000);

  it('holds no slot once every node is back', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    expect(await fleet!.holders()).toEqual([]);
    const history = await fleet!.groupHistory();
    expect(history.at(-1)?.holders).toEqual([]);
  }, 60_000);
});
