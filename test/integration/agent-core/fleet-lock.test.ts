// The agent core with the fleet_lock strategy speaking real HTTP to a real alt-fleetlockd service
// (in-process, 127.0.0.1:0, embedded store). Deployments, graph and logind are in-memory fixtures;
// the agent's time is a ManualClock so windows can be crossed without waiting.
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { createFleetLockClient, type FleetLockClient } from '../../../src/fleetlock/client.js';
import { createStrategy } from '../../../src/strategies/registry.js';
import type { Settings } from '../../../src/config/types.js';
import { group, startInProcess, type InProcess } from '../fleetlock/harness.js';
import { release, testSettings } from '../../unit/agent/fixtures.js';
import { makeAgent } from '../../unit/agent/harness.js';

const NODE = { id: 'node-a', group: 'default' };
const OTHER = { id: 'node-b', group: 'default' };
let server: InProcess | null = null;

afterEach(async () => {
  await server?.close();
  server = null;
});

async function setup(settings: Settings) {
  server = await startInProcess({ store: { engine: 'embedded' }, groups: [group('default', 1)] });
  const client: FleetLockClient = createFleetLockClient({ baseUrl: server.url });
  const strategy = createStrategy({ settings, logger: memoryLogger(), lock: client, lockParams: NODE });
  const t = makeAgent({ target: release(2), settings, strategy });
  const holders = async (): Promise<string[]> => (await server!.history('default')).at(-1) ?? [];
  return { t, client, holders };
}

describe('agent + fleet_lock against alt-fleetlockd', () => {
  it('does not reboot while the slot is taken, and reboots once it is granted', async () => {
    const { t, client, holders } = await setup(testSettings({ strategy: 'fleet_lock' }));
    await client.preReboot(OTHER);
    await t.stepUntil('update_staged');
    for (let i = 0; i < 3; i++) {
      const s = await t.agent.step();
      expect(s.event?.type).toBe('finalization_denied');
    }
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.metrics.calls.get('strategyError')?.[0]?.[0]).toMatch(/semaphore|full/);
    await client.steadyState(OTHER);
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
    expect(await holders()).toEqual(['node-a']);
  });

  it('a node blocked by an inhibitor or a failing logind does not sit on the slot; another node can reboot meanwhile (issue 11)', async () => {
    const { t, client, holders } = await setup(testSettings({ strategy: 'fleet_lock' }));
    t.sessions.state.inhibitors = ['backup (root): nightly backup running'];
    await t.stepUntil('update_staged');
    for (let i = 0; i < 3; i++) expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'block_inhibitor' });
    expect(await holders()).toEqual([]);
    await client.preReboot(OTHER);
    await client.steadyState(OTHER);

    // Blocked after the slot was granted (logind fails on the session query): given back at once.
    t.sessions.state.inhibitors = [];
    t.sessions.port.interactiveSessions = () => Promise.reject(new Error('logind unreachable'));
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'session_check_failed' });
    expect(await holders()).toEqual([]);
    expect(t.ostree.state.finalized).toBeNull();
  });

  it('releases a slot held from before the reboot at start, even with updates disabled (issue-239)', async () => {
    const { t, client, holders } = await setup(testSettings({ strategy: 'fleet_lock', enabled: false }));
    await client.preReboot(NODE);
    expect(await holders()).toEqual(['node-a']);
    await t.stepUntil('end');
    expect(await holders()).toEqual([]);
  });

  it('gives the slot back when the maintenance window closes while the update is still staged (issue-1014)', async () => {
    const settings = testSettings({ strategy: 'fleet_lock', windows: [{ days: ['Sat'], startMinutes: 60, lengthMinutes: 30 }] });
    const { t, holders } = await setup(settings);
    t.clock.set(Date.UTC(2026, 10, 28, 0, 58));
    await t.stepUntil('update_staged');
    const outside = await t.agent.step();
    expect(outside.event?.type).toBe('finalization_denied');
    expect(outside.delayMs).toBe(2 * 60_000); // ticks exactly at the window start
    expect(await holders()).toEqual([]);

    t.clock.advance(outside.delayMs);
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    const postponed = await t.agent.step();
    expect(postponed.event?.type).toBe('reboot_postponed');
    expect(await holders()).toEqual(['node-a']);

    t.clock.set(Date.UTC(2026, 10, 28, 1, 31));
    const closed = await t.agent.step();
    expect(closed.event?.type).toBe('finalization_denied');
    expect(await holders()).toEqual([]);
    expect(t.ostree.state.finalized).toBeNull();
  });
});
