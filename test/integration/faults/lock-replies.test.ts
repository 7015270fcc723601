// Corpus FleetLock replies (non-2xx, odd bodies and kinds) served to the real agent at pre-reboot by a
// misbehaving lock server: every refusal is a `strategy_error` with a metric-safe kind, the node stays
// staged and never reboots; a 200 afterwards lets it reboot exactly once. Staged ticks are driven by
// D-Bus CheckNow (the staged timer is set to an hour, so no tick races the mode switch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultServer, type FaultServer } from '../../helpers/faults.js';
import { waitFor } from '../../helpers/graphd.js';
import type { TestbedNode } from '../../helpers/testbed-node.js';
import { generateFleetLockReplies } from '../../unit/corpus/gen-replies.js';
import { agentAlive, agentState, agentToml, checkNow, createNode, createWorld, eventNames, eventsSince, stagedVersion, type World } from './harness.js';

const SEED = 5150;
const OK = { status: 200, body: '{"result":"released"}' };

describe('agent at pre-reboot against corpus FleetLock replies', () => {
  let world: World;
  let lock: FaultServer;
  let node: TestbedNode;

  beforeAll(async () => {
    world = await createWorld('20261101.0.0');
    lock = await startFaultServer({ kind: 'replies', next: () => OK });
    node = await createNode(world, 'lock-replies', agentToml({ graphUrl: world.graphd.url, strategy: 'fleet_lock', lockUrl: lock.url, stagedSecs: 3600 }));
    await node.start();
    await waitFor('steady polling', () => eventNames(node).includes('no_update'));
  });
  afterAll(async () => {
    await node?.destroy();
    await lock?.close();
    await world?.close();
  });

  it('refusals of every shape: strategy_error with a metric-safe kind, staged, no reboot', async () => {
    const replies = generateFleetLockReplies(SEED, 200).filter((r) => r.status >= 300).slice(0, 40);
    expect(replies).toHaveLength(40);
    // Steady-state reports still succeed; every pre-reboot gets the next corpus refusal.
    let served = 0;
    lock.setMode({ kind: 'replies', next: (_n, path) => (path.endsWith('/v1/pre-reboot') ? replies[served++ % replies.length]! : OK) });
    const from = node.records.length;
    await world.release('20261115.0.0');
    await checkNow(node);
    await waitFor('the update staged and its first refusal', () => eventNames(node, from).includes('strategy_error'));
    while (served < replies.length) await checkNow(node);
    await waitFor('one strategy_error per refusal', () => eventNames(node, from).filter((e) => e === 'strategy_error').length >= replies.length);
    const errors = eventsSince(node, from).filter((e) => e.event === 'strategy_error');
    expect(errors).toHaveLength(replies.length);
    expect(errors.map((e) => String(e['kind'])).filter((k) => !/^[a-z0-9_]{1,64}$/.test(k))).toEqual([]);
    expect(eventNames(node, from)).not.toContain('update_finalizing');
    expect(await node.reboots()).toBe(0);
    expect(await stagedVersion(node)).toBe('20261115.0.0');
    expect(await agentState(node)).toBe('update_staged');
    expect(agentAlive(node)).toBe(true);
  });

  it('a 200 afterwards: the node reboots into the release exactly once', async () => {
    lock.setMode({ kind: 'replies', next: () => OK });
    await checkNow(node);
    await waitFor('the reboot', async () => (await node.reboots()) === 1);
    const boot = node.records.length;
    await node.powerCycleIfRebooted();
    expect(await node.bootedVersion()).toBe('20261115.0.0');
    await waitFor('steady polling after the reboot', () => eventNames(node, boot).includes('no_update'));
    expect(await node.reboots()).toBe(1);
  });
});
