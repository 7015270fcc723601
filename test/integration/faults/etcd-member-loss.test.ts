// Fleet level: three nodes with fleet_lock (slots=1) on alt-fleetlockd backed by a real 3-member etcd
// cluster. The etcd leader is SIGKILLed while the first node holds the slot. Every node must still
// arrive at the new release, each with one reboot, and at no instant may two nodes be between taking
// the lock and reporting steady again (demo-lib's rebootIntervals/maxConcurrent on the agents' events,
// and the server's holders polled through its admin API).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maxConcurrent, rebootIntervals, type TimelineEntry } from '../../../scripts/demo-lib.js';
import { freePorts, startEtcd, type EtcdCluster } from '../../helpers/etcd.js';
import { waitFor } from '../../helpers/graphd.js';
import type { AgentRecord, TestbedNode } from '../../helpers/testbed-node.js';
import { agentToml, createNode, createWorld, eventNames, lockServer, stagedVersion, type LockServer, type World } from './harness.js';

const NEW = '20261115.0.0';

async function leaderIndex(etcd: EtcdCluster): Promise<number> {
  const status = await Promise.all(
    etcd.endpoints.map(async (url) => {
      const res = await fetch(`${url}/v3/maintenance/status`, { method: 'POST', body: '{}' });
      return (await res.json()) as { leader?: string; header?: { member_id?: string } };
    }),
  );
  const leader = status[0]?.leader;
  const i = status.findIndex((s) => s.header?.member_id === leader);
  if (i < 0) throw new Error(`no etcd leader among ${JSON.stringify(status)}`);
  return i;
}

describe('fleet with fleet_lock on etcd while an etcd member is lost', () => {
  let world: World;
  let etcd: EtcdCluster;
  let lock: LockServer;
  let dir: string;
  const nodes: TestbedNode[] = [];
  const timeline: TimelineEntry[] = [];
  const t0 = Date.now();
  let firstFinalizing: (() => void) | null = null;
  const finalizing = new Promise<void>((resolve) => (firstFinalizing = resolve));

  const onRecord = (name: string, rec: AgentRecord): void => {
    if (!rec.event) return;
    timeline.push({ t: Date.now() - t0, node: name, event: rec.event, release: typeof rec['release'] === 'string' ? rec['release'] : null });
    if (rec.event === 'update_finalizing') firstFinalizing?.();
  };

  beforeAll(async () => {
    world = await createWorld('20261101.0.0');
    etcd = await startEtcd({ members: 3 });
    dir = await mkdtemp(join(tmpdir(), 'alt-faults-etcd-'));
    const [port] = await freePorts(1);
    const endpoints = etcd.endpoints.map((e) => JSON.stringify(e)).join(', ');
    lock = await lockServer({
      dir,
      port: port!,
      config: `[store]\ntype = "etcd"\n[store.etcd]\nendpoints = [${endpoints}]\nprefix = "/faults"\ntimeout_ms = 1000\n[groups.default]\nslots = 1\n`,
    });
    await lock.start();
    for (const name of ['n1', 'n2', 'n3']) {
      nodes.push(await createNode(world, name, agentToml({ graphUrl: world.graphd.url, strategy: 'fleet_lock', lockUrl: lock.url }), onRecord));
    }
  });
  afterAll(async () => {
    for (const n of nodes) await n.destroy();
    await lock?.stop();
    await etcd?.stop();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('all nodes arrive at the new release, one reboot each, never two reboots at once', async () => {
    await world.release(NEW);
    await Promise.all(nodes.map((n) => n.start()));
    let maxHolders = 0;
    let polling = true;
    // Second, independent witness: the server's own view of the group, sampled throughout.
    const poller = (async () => {
      while (polling) {
        const held = await lock.holders().catch(() => [] as string[]);
        maxHolders = Math.max(maxHolders, held.length);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await finalizing;
    const victim = await leaderIndex(etcd);
    await etcd.members[victim]!.kill();
    timeline.push({ t: Date.now() - t0, node: 'etcd', event: `member_${victim}_killed`, release: null });

    const lastBoot = new Map<TestbedNode, number>();
    await waitFor(
      'every node on the new release and steady',
      async () => {
        for (const n of nodes) {
          const from = n.records.length;
          if (await n.powerCycleIfRebooted()) lastBoot.set(n, from);
        }
        const done = await Promise.all(
          nodes.map(async (n) => lastBoot.has(n) && (await n.bootedVersion()) === NEW && eventNames(n, lastBoot.get(n)).includes('no_update')),
        );
        return done.every(Boolean);
      },
      240_000,
    );
    polling = false;
    await poller;

    const intervals = rebootIntervals(timeline);
    if (process.env['DBG']) console.log(JSON.stringify(intervals));
    expect(intervals.filter((i) => i.to === null)).toEqual([]);
    expect(intervals).toHaveLength(3);
    expect(maxConcurrent(intervals)).toBe(1);
    expect(maxHolders).toBe(1);
    for (const n of nodes) {
      expect(await n.reboots()).toBe(1);
      expect(await stagedVersion(n)).toBeNull();
    }
    expect(await lock.holders()).toEqual([]);
  });
});
