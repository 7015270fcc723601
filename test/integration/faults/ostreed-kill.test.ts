// alt-ostreed SIGKILLed in the middle of the agent's transactions (the real backend, restarted at once
// by node.restartBackend() as systemd's Restart= would): while pulling/staging, twice in a row, and
// while finalizing. The agent must retry, end staged or updated on the right release, and never
// reboot twice for one update. After a failed stage the agent waits Zincati's 300 s before the next
// attempt; the test shortens that wait with D-Bus CheckNow (an operator's `alt-updatectl check`).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/graphd.js';
import type { AgentRecord, TestbedNode } from '../../helpers/testbed-node.js';
import { agentAlive, agentToml, checkNow, createNode, createWorld, eventNames, eventsSince, stagedVersion, type World } from './harness.js';

describe('agent while alt-ostreed is killed mid-transaction', () => {
  let world: World;
  let node: TestbedNode;
  // Armed kill: on the `nth` record with `event`, SIGKILL the backend (and start it again).
  let armed: { event: string; left: number; done: Promise<void> | null } | null = null;

  const onRecord = (_n: string, rec: AgentRecord): void => {
    if (armed === null || rec.event !== armed.event || armed.done !== null) return;
    armed.left -= 1;
    if (armed.left === 0) armed.done = node.restartBackend();
  };

  beforeAll(async () => {
    world = await createWorld('20261101.0.0');
    node = await createNode(world, 'backend-kill', agentToml({ graphUrl: world.graphd.url }), onRecord);
    await node.start();
    await waitFor('steady polling', () => eventNames(node).includes('no_update'));
  });
  afterAll(async () => {
    await node?.destroy();
    await world?.close();
  });

  /** Kicks checks until the node rebooted `reboots` times or a kick budget runs out. */
  async function driveUntilRebooted(reboots: number): Promise<void> {
    await waitFor(
      `reboot #${reboots}`,
      async () => {
        if ((await node.reboots()) >= reboots) return true;
        // Only nudge a live agent that is not mid-tick: CheckNow resolves when its tick is done.
        if (agentAlive(node) && armed?.done) await checkNow(node).catch(() => undefined);
        return (await node.reboots()) >= reboots;
      },
      90_000,
    );
    const boot = node.records.length;
    expect(await node.powerCycleIfRebooted()).toBe(true);
    await waitFor('steady polling after the reboot', () => eventNames(node, boot).includes('no_update'));
  }

  async function killedOnce(event: string, nth: number, version: string, reboots: number): Promise<AgentRecord[]> {
    armed = { event, left: nth, done: null };
    const from = node.records.length;
    await world.release(version);
    await checkNow(node);
    await waitFor(`the backend kill on ${event} #${nth}`, () => armed?.done !== null);
    await armed.done;
    await driveUntilRebooted(reboots);
    expect(await node.bootedVersion()).toBe(version);
    expect(await node.reboots()).toBe(reboots);
    expect(await stagedVersion(node)).toBeNull();
    return eventsSince(node, from);
  }

  it('killed while staging: the stage fails typed, is retried, and the node reboots into the release once', async () => {
    const events = await killedOnce('stage_started', 1, '20261115.0.0', 1);
    const names = events.map((e) => e.event);
    expect(names).toContain('stage_failed');
    expect(names.filter((e) => e === 'stage_started').length).toBeGreaterThanOrEqual(2);
    expect(names.filter((e) => e === 'update_finalizing')).toHaveLength(1);
  });

  it('killed on two stage attempts in a row: still one reboot into the release', async () => {
    armed = null;
    const from = node.records.length;
    // First kill on attempt 1, then re-arm for attempt 2.
    armed = { event: 'stage_started', left: 1, done: null };
    await world.release('20261122.0.0');
    await checkNow(node);
    await waitFor('the first kill', () => armed?.done !== null);
    await armed.done;
    armed = { event: 'stage_started', left: 1, done: null };
    await waitFor('the second kill', async () => {
      if (armed?.done) return true;
      await checkNow(node).catch(() => undefined);
      return armed?.done !== null;
    });
    await armed.done;
    await driveUntilRebooted(2);
    expect(await node.bootedVersion()).toBe('20261122.0.0');
    expect(await node.reboots()).toBe(2);
    expect(await stagedVersion(node)).toBeNull();
    const names = eventNames(node, from);
    expect(names.filter((e) => e === 'stage_failed').length).toBeGreaterThanOrEqual(2);
    expect(names.filter((e) => e === 'update_finalizing')).toHaveLength(1);
  });

  it('killed while finalizing: the node ends in the release with exactly one more reboot', async () => {
    const events = await killedOnce('update_finalizing', 1, '20261201.0.0', 3);
    // Either the reboot hook already ran, or finalization failed and was retried: never both reboots.
    const names = events.map((e) => e.event);
    expect(names).toContain('update_finalizing');
    expect(names.filter((e) => e === 'update_finalized')).toHaveLength(1);
  });
});
