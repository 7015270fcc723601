// Three real nodes (systemd-nspawn, test/realnode/) with the fleet_lock strategy against the real
// alt-fleetlockd on a real etcd, one slot, all on the test bridge's host address. The nodes boot at
// once, each finds the new release, stages it and asks for the slot; the one holding it finalizes
// and reboots, the others keep asking (every staged interval) until it is back and steady.
// Witnesses of "never two rebooting at once": alt-fleetlockd's lock_acquired/lock_released lines,
// stamped as they arrive, give each node's time with the slot; those never overlap, and each holds
// that node's real reboot (nspawn's exit 133 and the next boot's start). And every version the
// group's etcd key ever had: none with two holders. The agents' own view (update_finalizing to
// steady_reported, from each node's journal) is printed beside them.
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { maxConcurrent, rebootIntervals, type TimelineEntry } from '../../scripts/demo-lib.js';
import { startTestGraphd } from '../helpers/graphd.js';
import { serveDir, type StaticServer } from '../helpers/ostree-repo.js';
import { fixtureSigningKey } from '../helpers/signing.js';
import { realNodeUnavailable } from '../realnode/available.js';
import { agentTimeline, fleetLockId, startFleetLockWorld, type FleetLockWorld } from '../realnode/fleet.js';
import { type RealNodeImage } from '../realnode/image.js';
import { createNetwork, type RealNodeNetwork } from '../realnode/network.js';
import { createRealNode, type RealNode } from '../realnode/node.js';
import { createReleaseRepo } from '../realnode/releases.js';
import { agentConfig, diagnoseOnFailure, loadImage, probeBoot } from '../realnode/scenario.js';

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
  /** Set when a test failed, or a node's journal lacks its reboot window: keep the journals then. */
  let keepJournals = false;
  const started = Date.now();
  /** Set-up phases and when they ended (s since the file started), for the closing summary. */
  const phases: string[] = [];
  const phase = (what: string): number => phases.push(`${what} ${((Date.now() - started) / 1000).toFixed(1)}`);

  beforeAll(async () => {
    image = await loadImage();
    phase('image');
    cannotBoot = await probeBoot(image);
    phase('probe');
    if (cannotBoot !== null) return;
    const key = await fixtureSigningKey();
    network = await createNetwork();
    const repo = await createReleaseRepo(image, key);
    await repo.release(NEW, '2026-11-15 00:00:00 +0000');
    http = await serveDir(repo.path, { host: network.hostAddress });
    graphd = await startTestGraphd({ repoPath: repo.path, host: network.hostAddress });
    phase('release repo and graph');
    fleet = await startFleetLockWorld({ host: network.hostAddress, slots: 1 });
    phase('etcd and alt-fleetlockd');
    // staged_interval_secs = 2: while another node holds the slot, ask again every 2 s (the default is 300 s).
    const configToml = agentConfig(graphd.url, 'fleet_lock', { rest: ['[updates.fleet_lock]', `base_url = "${fleet.url}"`] });
    const net = network;
    const made = await Promise.all(
      NAMES.map((name, i) => createRealNode({ image, network: net, index: i + 1, name, repoUrl: http!.url, trusted: key, configToml })),
    );
    nodes.push(...made);
    phase('nodes copied');
    await Promise.all(nodes.map((n) => n.start()));
  }, 600_000);

  diagnoseOnFailure(() => nodes);

  afterAll(async () => {
    const ids = new Map(await Promise.all(nodes.map(async (n) => [await fleetLockId(n).catch(() => '?'), n.name] as const)));
    if (keepJournals && nodes.length > 0) {
      // Keep what each node's journal says (all boots) and the server's log: the nodes are removed next.
      const dir = join(tmpdir(), `altrn-fleet-failure-${process.pid}-${Date.now()}`);
      await mkdir(dir, { recursive: true });
      for (const n of nodes) {
        const j = await n.exec(['journalctl', '--no-pager', '-o', 'short-precise'], { check: false, timeoutMs: 30_000 }).catch((e: unknown) => ({ stdout: String(e) }));
        await writeFile(join(dir, `${n.name}.journal`), `${j.stdout}\n-- console --\n${n.consoleTail(400)}\n`);
      }
      await writeFile(join(dir, 'alt-fleetlockd.log'), fleet?.serverLog() ?? '');
      console.warn(`real-node fleet: the nodes' journals are in ${dir}`);
    }
    await Promise.all(nodes.map((n) => n.destroy()));
    await fleet?.close();
    await graphd?.close();
    await http?.close();
    await network?.destroy();
    const s = (ms: number | null): string => (ms === null ? '?' : `${((ms - started) / 1000).toFixed(1)}`);
    const slots = fleet?.lockIntervals().map((w) => `${ids.get(w.id) ?? w.id} ${s(w.from)}-${s(w.to)} s`) ?? [];
    const windows = rebootIntervals(timeline).map((w) => `${w.node} ${s(w.from)}-${s(w.to)} s`);
    const boots = nodes.map((n) => `${n.name}: ${n.boots.map((b) => `boot ${b.index} ${s(b.startedAt)}-${s(b.endedAt)} s (exit ${b.exitCode ?? '-'})`).join(', ')}`);
    console.info(`real-node fleet file: ${s(Date.now())} s; set-up done (s): ${phases.join(', ')}; slot held (server): ${slots.join('; ') || '-'}; agents (finalizing -> steady): ${windows.join('; ') || '-'}; ${boots.join('; ')}`);
  }, 120_000);

  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') keepJournals = true;
  });

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

  it('never had two nodes holding the slot, and each node rebooted while it held it', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    // Read while the nodes still run (afterAll's summary needs it too).
    timeline = (await Promise.all(nodes.map(agentTimeline))).flat();
    const ids = await Promise.all(nodes.map(fleetLockId));
    const slots = fleet!.lockIntervals();
    expect(slots.map((w) => w.id).sort()).toEqual([...ids].sort());
    expect(slots.filter((w) => w.to === null)).toEqual([]);
    expect(maxConcurrent(slots)).toBe(1);
    // Each node's reboot (the container exited 133, then booted again) happened while it held the slot.
    nodes.forEach((n, i) => {
      const w = slots.find((x) => x.id === ids[i])!;
      const [down, up] = n.boots;
      expect(w.from).toBeLessThan(down!.endedAt!);
      expect(w.to!).toBeGreaterThan(up!.startedAt);
    });
    // The store's own record, write by write: never two holders, and each node held the slot.
    const history = await fleet!.groupHistory();
    expect(history.filter((v) => v.holders.length > 1)).toEqual([]);
    expect(new Set(history.flatMap((v) => v.holders))).toEqual(new Set(ids));
    const seen = new Set(rebootIntervals(timeline).filter((w) => w.to !== null).map((w) => w.node));
    if (seen.size < nodes.length) {
      keepJournals = true;
      console.warn(`real-node fleet: no update_finalizing -> steady_reported window in the journal of ${NAMES.filter((x) => !seen.has(x)).join(', ')}`);
    }
  }, 120_000);

  it('holds no slot once every node is back', async (ctx) => {
    if (cannotBoot !== null) ctx.skip();
    expect(await fleet!.holders()).toEqual([]);
    const history = await fleet!.groupHistory();
    expect(history.at(-1)?.holders).toEqual([]);
  }, 60_000);
});
