import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import type { WindowSettings } from '../../../src/config/types.js';
import { createStrategy, STRATEGIES } from '../../../src/strategies/registry.js';
import type { LockPort, StrategyDeps } from '../../../src/strategies/types.js';
import { release, testSettings } from '../agent/fixtures.js';
import { makeAgent } from '../agent/harness.js';

/** An in-memory FleetLock server: one semaphore, recursive per id; failures carry a kind. */
export function memoryLockForTest(slots = 1) {
  const state = { holders: new Set<string>(), calls: [] as string[], fail: null as string | null, slots };
  const fail = (): never => {
    throw Object.assign(new Error(`lock server: ${state.fail}`), { kind: state.fail });
  };
  const port: LockPort = {
    preReboot: (p) => {
      state.calls.push('pre-reboot');
      if (state.fail) return Promise.resolve().then(fail);
      if (!state.holders.has(p.id) && state.holders.size >= state.slots) {
        return Promise.reject(Object.assign(new Error('semaphore full'), { kind: 'failed_lock_semaphore_full' }));
      }
      state.holders.add(p.id);
      return Promise.resolve();
    },
    steadyState: (p) => {
      state.calls.push('steady-state');
      if (state.fail) return Promise.resolve().then(fail);
      state.holders.delete(p.id);
      return Promise.resolve();
    },
  };
  return { port, state };
}

const satWindow: WindowSettings = { days: ['Sat'], startMinutes: 60, lengthMinutes: 30 }; // Sat 01:00-01:30 UTC
const deps = (over: Partial<StrategyDeps> & { windows?: WindowSettings[]; strategy?: 'immediate' | 'periodic' | 'fleet_lock' }): StrategyDeps => ({
  settings: testSettings({ strategy: over.strategy ?? 'immediate', windows: over.windows ?? [] }),
  logger: memoryLogger(),
  lock: over.lock ?? null,
  lockParams: { id: 'node-a', group: 'default' },
});
const at = (iso: string): number => Date.parse(iso);

describe('src/strategies', () => {
  it('registers exactly the three labels', () => {
    expect(Object.keys(STRATEGIES).sort()).toEqual(['fleet_lock', 'immediate', 'periodic']);
  });

  it('immediate always allows', async () => {
    const s = createStrategy(deps({}));
    expect(s.label).toBe('immediate');
    expect(await s.reportSteady()).toBe(true);
    expect(await s.canFinalize(0)).toBe(true);
  });

  it('periodic refuses an empty calendar at start-up', () => {
    expect(() => createStrategy(deps({ strategy: 'periodic' }))).toThrow(/weekly calendar length is zero/);
  });

  it('periodic allows only inside a window and reports when the next window opens', async () => {
    const s = createStrategy(deps({ strategy: 'periodic', windows: [satWindow] }));
    expect(await s.canFinalize(at('2026-11-28T00:59:00Z'))).toBe(false);
    expect(await s.canFinalize(at('2026-11-28T01:10:00Z'))).toBe(true);
    expect(s.nextChangeMs?.(at('2026-11-28T00:59:00Z'))).toBe(at('2026-11-28T01:00:00Z'));
    expect(s.describe(at('2026-11-28T00:00:00Z'))).toBe(
      'periodic, total schedule length 30 minutes; next window at 1:00 on Sat (UTC), subject to time zone caveats',
    );
  });

  it('fleet_lock needs a lock client', () => {
    expect(() => createStrategy(deps({ strategy: 'fleet_lock' }))).toThrow(/fleet_lock\.base_url/);
  });

  it('fleet_lock releases on steady state and takes the slot before reboot', async () => {
    const lock = memoryLockForTest();
    const s = createStrategy(deps({ strategy: 'fleet_lock', lock: lock.port }));
    expect(await s.reportSteady()).toBe(true);
    expect(await s.canFinalize(0)).toBe(true);
    expect(lock.state.holders.has('node-a')).toBe(true);
    expect(lock.state.calls).toEqual(['steady-state', 'pre-reboot']);
  });

  it('fleet_lock keeps the slot at steady state while the boot is not healthy, and releases it once it is', async () => {
    const lock = memoryLockForTest();
    lock.state.holders.add('node-a'); // taken before the reboot
    let green = false;
    const logger = memoryLogger();
    const s = createStrategy({ ...deps({ strategy: 'fleet_lock', lock: lock.port }), logger, healthy: () => Promise.resolve(green) });
    expect(await s.reportSteady()).toBe(false);
    expect(await s.reportSteady()).toBe(false);
    expect(lock.state.calls).toEqual([]);
    expect(lock.state.holders.has('node-a')).toBe(true);
    expect(logger.records.filter((r) => r.fields['event'] === 'lock_kept')).toHaveLength(1);
    green = true;
    expect(await s.reportSteady()).toBe(true);
    expect(lock.state.calls).toEqual(['steady-state']);
    expect(lock.state.holders.size).toBe(0);
  });

  it('fleet_lock keeps the slot when the health verdict cannot be read (the agent treats it as "no")', async () => {
    const lock = memoryLockForTest();
    const s = createStrategy({ ...deps({ strategy: 'fleet_lock', lock: lock.port }), healthy: () => Promise.reject(new Error('record unreadable')) });
    await expect(s.reportSteady()).rejects.toThrow('record unreadable');
    expect(lock.state.calls).toEqual([]);
  });

  it('fleet_lock surfaces server errors with their kind (the agent treats them as "no")', async () => {
    const lock = memoryLockForTest(0);
    const s = createStrategy(deps({ strategy: 'fleet_lock', lock: lock.port }));
    await expect(s.canFinalize(0)).rejects.toMatchObject({ kind: 'failed_lock_semaphore_full' });
  });

  it('fleet_lock with windows asks for the slot only inside a window (issue-1014)', async () => {
    const lock = memoryLockForTest();
    const s = createStrategy(deps({ strategy: 'fleet_lock', lock: lock.port, windows: [satWindow] }));
    expect(await s.canFinalize(at('2026-11-28T00:30:00Z'))).toBe(false);
    expect(lock.state.calls).toEqual([]);
    expect(await s.canFinalize(at('2026-11-28T01:05:00Z'))).toBe(true);
    expect(lock.state.calls).toEqual(['pre-reboot']);
  });

  it('fleet_lock with windows releases the slot when the window closes before the reboot', async () => {
    const lock = memoryLockForTest();
    const s = createStrategy(deps({ strategy: 'fleet_lock', lock: lock.port, windows: [satWindow] }));
    await s.canFinalize(at('2026-11-28T01:05:00Z'));
    // While the slot is held the strategy wants a tick at the window's end.
    expect(s.nextChangeMs?.(at('2026-11-28T01:05:00Z'))).toBe(at('2026-11-28T01:31:00Z'));
    expect(await s.canFinalize(at('2026-11-28T01:31:00Z'))).toBe(false);
    expect(lock.state.holders.size).toBe(0);
    expect(lock.state.calls).toEqual(['pre-reboot', 'steady-state']);
    expect(s.nextChangeMs?.(at('2026-11-28T01:31:00Z'))).toBe(at('2026-12-05T01:00:00Z'));
  });

  it('fleet_lock with windows keeps retrying the release when the server fails at window close', async () => {
    const lock = memoryLockForTest();
    const s = createStrategy(deps({ strategy: 'fleet_lock', lock: lock.port, windows: [satWindow] }));
    await s.canFinalize(at('2026-11-28T01:05:00Z'));
    lock.state.fail = 'generic_http_503';
    expect(await s.canFinalize(at('2026-11-28T01:40:00Z'))).toBe(false);
    lock.state.fail = null;
    expect(await s.canFinalize(at('2026-11-28T01:45:00Z'))).toBe(false);
    expect(lock.state.holders.size).toBe(0);
  });
});

describe('agent with fleet_lock inside periodic windows', () => {
  it('takes the slot inside the window, and gives it back when the window closes while users keep it staged', async () => {
    const lock = memoryLockForTest();
    const settings = testSettings({ strategy: 'fleet_lock', windows: [satWindow] });
    const strategy = createStrategy({ settings, logger: memoryLogger(), lock: lock.port, lockParams: { id: 'node-a', group: 'default' } });
    const t = makeAgent({ target: release(2), settings, strategy });
    t.clock.set(at('2026-11-28T00:00:00Z'));
    await t.stepUntil('update_staged');
    t.clock.set(at('2026-11-28T00:58:00Z'));
    const first = await t.agent.step(); // outside the window: no lock request, tick at window start
    expect(first.event?.type).toBe('finalization_denied');
    expect(first.delayMs).toBe(2 * 60_000);
    expect(lock.state.calls).toEqual(['steady-state']);

    t.clock.set(at('2026-11-28T01:00:00Z'));
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/1' }];
    for (let i = 0; i < 10 && t.clock.nowMs() < at('2026-11-28T01:31:00Z'); i++) {
      const s = await t.agent.step();
      expect(s.event?.type).toBe('reboot_postponed');
      t.clock.advance(s.delayMs);
    }
    expect(lock.state.holders.has('node-a')).toBe(true);
    // Users stay logged in; the grace period runs past the window's end at 01:31.
    t.clock.set(at('2026-11-28T01:31:00Z'));
    const closed = await t.agent.step();
    expect(closed.event?.type).toBe('finalization_denied');
    expect(lock.state.holders.size).toBe(0);
    expect(t.ostree.state.finalized).toBeNull();
  });
});
