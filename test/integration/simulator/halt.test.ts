// The halt policy in a simulation (`--halt-after`): alt-fleetlockd, configured with
// halt_after_failures for the simulated group, halts it once that many updates have rolled back;
// the run ends with the waiting nodes held on the previous release, says when the group halted,
// and the invariant accepts "held by a halted group" as an end state, and nothing else.
import { describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { simulate, type SimulationOptions } from '../../../src/simulator/simulate.js';
import { DEFAULT_CALENDAR } from '../../../src/simulator/windows.js';

const base: Omit<SimulationOptions, 'logger'> = {
  nodes: 40,
  slots: 2,
  strategy: 'fleet_lock',
  rolloutMinutes: null,
  rebootSecs: 60,
  stageSecs: 0,
  failRate: 0.3,
  stepSecs: 60,
  maxVirtualSecs: 7 * 86400,
  seed: 1,
  periodic: DEFAULT_CALENDAR,
};

describe('simulate with a halt policy', () => {
  it('halts the group after 3 rollbacks and holds every waiting node on the previous release', async () => {
    const r = await simulate({ ...base, halt: { afterFailures: 3, windowSecs: 3600 }, logger: memoryLogger() });
    const s = r.summary;
    expect(s.violations).toEqual([]);
    expect(s).toMatchObject({ finished: true, invariants_ok: true, halt_after: 3, halted: true });
    expect(s.halt_reason).toMatch(/^3 failed or rolled-back update\(s\) within 3600 s \(limit 3\)/);
    expect(s.halted_at_s).toBeGreaterThan(0);
    expect(s.halted_at_s!).toBeLessThanOrEqual(s.duration_virtual_s);
    // Three rollbacks halt it; a node already holding a slot then may still fail, so at least three.
    expect(s.rolled_back).toBeGreaterThanOrEqual(3);
    expect(s.held).toBeGreaterThan(0);
    expect(s.arrived + s.rolled_back + s.held).toBe(40);
    const last = r.timeline.at(-1)!;
    expect(last.releases).toEqual({ [r.newest]: s.arrived, [r.previous]: s.rolled_back + s.held });
    expect(last.lockHolders).toBe(0);
  });

  it('without the policy the same fleet never halts: every node arrives or rolls back', async () => {
    const s = (await simulate({ ...base, logger: memoryLogger() })).summary;
    expect(s).toMatchObject({ finished: true, invariants_ok: true, halt_after: null, halted: false, halted_at_s: null, held: 0 });
    expect(s.arrived + s.rolled_back).toBe(40);
    expect(s.rolled_back).toBeGreaterThan(3);
  });

  it('a policy the failures do not reach leaves the group running', async () => {
    const s = (await simulate({ ...base, halt: { afterFailures: 40, windowSecs: 86400 }, logger: memoryLogger() })).summary;
    expect(s).toMatchObject({ finished: true, invariants_ok: true, halt_after: 40, halted: false, held: 0 });
    expect(s.arrived + s.rolled_back).toBe(40);
  });
});
