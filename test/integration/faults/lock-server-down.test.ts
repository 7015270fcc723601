// The real alt-fleetlockd (embedded store) down while the agent needs it: during steady-state (the
// agent must stay `initialized`, retry the report, and not check for updates) and during pre-reboot
// (staged, no reboot, the lock retried at the staged interval). When the server comes back on the same
// port and state directory the agent proceeds, reboots once and gives its slot back.
// The automatic retry of a failed steady-state report is Zincati's 300 s: the test triggers the
// retries with D-Bus CheckNow instead of waiting; the pre-reboot retries run on their own timer.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../helpers/etcd.js';
import { waitFor } from '../../helpers/graphd.js';
import type { TestbedNode } from '../../helpers/testbed-node.js';
import { agentAlive, agentState, agentToml, checkNow, createNode, createWorld, eventNames, eventsSince, lockServer, stagedVersion, type LockServer, type World } from './harness.js';

describe('agent with the FleetLock server down', () => {
  let world: World;
  let lock: LockServer;
  let dir: string;
  let node: TestbedNode;

  beforeAll(async () => {
    world = await createWorld('20261101.0.0');
    dir = await mkdtemp(join(tmpdir(), 'alt-faults-lock-'));
    const [port] = await freePorts(1);
    lock = await lockServer({ dir, port: port!, config: `[store]\ntype = "embedded"\nstate_dir = "${dir}/state"\n[groups.default]\nslots = 1\n` });
    node = await createNode(world, 'lock-down', agentToml({ graphUrl: world.graphd.url, strategy: 'fleet_lock', lockUrl: lock.url }));
  });
  afterAll(async () => {
    await node?.destroy();
    await lock?.stop();
    await world?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('steady-state: stays initialized, retries the report, never checks for updates while the server is down', async () => {
    await world.release('20261115.0.0');
    await node.start();
    await waitFor('the failed steady-state report', () => eventNames(node).includes('steady_report_failed'));
    await checkNow(node);
    await checkNow(node);
    // The D-Bus reply can overtake the agent's log lines on its stdout pipe: wait for the records.
    await waitFor('three failed reports', () => eventNames(node).filter((e) => e === 'steady_report_failed').length >= 3);
    const events = eventsSince(node);
    const failed = events.filter((e) => e.event === 'steady_report_failed');
    expect(failed.length).toBeGreaterThanOrEqual(3);
    expect(new Set(failed.map((e) => e['kind']))).toEqual(new Set(['client_failed_request']));
    for (const e of ['steady_reported', 'no_update', 'update_found', 'update_check_failed', 'stage_started']) expect(events.map((r) => r.event)).not.toContain(e);
    expect(await agentState(node)).toBe('initialized');
    expect(agentAlive(node)).toBe(true);
  });

  it('steady-state: once the server is back the report succeeds and update checks start', async () => {
    await lock.start();
    const from = node.records.length;
    await checkNow(node);
    await waitFor('the update to be staged', () => eventNames(node, from).includes('update_staged'));
    expect(eventNames(node, from)).toEqual(expect.arrayContaining(['steady_reported', 'update_found']));
    // Let it reboot into this release so the next case starts from a clean steady state.
    await waitFor('the reboot', async () => (await node.reboots()) === 1);
    const boot = node.records.length;
    await node.powerCycleIfRebooted();
    await waitFor('steady polling', () => eventNames(node, boot).includes('no_update'));
    expect(await lock.holders()).toEqual([]);
  });

  it('pre-reboot: stays staged and does not reboot while the server is down, retrying the lock', async () => {
    await lock.stop();
    const from = node.records.length;
    await world.release('20261122.0.0');
    await checkNow(node);
    await waitFor('the update to be staged', () => eventNames(node, from).includes('update_staged'));
    await waitFor('three failed lock attempts', () => eventsSince(node, from).filter((e) => e.event === 'strategy_error').length >= 3, 90_000);
    const errors = eventsSince(node, from).filter((e) => e.event === 'strategy_error');
    expect(new Set(errors.map((e) => e['kind']))).toEqual(new Set(['client_failed_request']));
    expect(eventNames(node, from)).not.toContain('update_finalizing');
    expect(await node.reboots()).toBe(1);
    expect(await stagedVersion(node)).toBe('20261122.0.0');
    expect(await agentState(node)).toBe('update_staged');
    expect(agentAlive(node)).toBe(true);
  });

  it('pre-reboot: once the server is back the node takes the slot, reboots once, and releases the slot', async () => {
    await lock.start();
    await waitFor('the reboot', async () => (await node.reboots()) === 2, 90_000);
    const boot = node.records.length;
    await node.powerCycleIfRebooted();
    expect(await node.bootedVersion()).toBe('20261122.0.0');
    await waitFor('the slot release after boot', () => eventNames(node, boot).includes('steady_reported'));
    expect(await lock.holders()).toEqual([]);
    await waitFor('steady polling', () => eventNames(node, boot).includes('no_update'));
    expect(await node.reboots()).toBe(2);
  });
});
