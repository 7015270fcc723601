// The halt policy's pure parts (src/simulator/halt.ts): the TOML alt-fleetlockd's own parser reads
// back as the policy, and which nodes a halted group holds back.
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../../src/fleetlock/server/config.js';
import { haltToml, heldByHalt } from '../../../src/simulator/halt.js';

const group = (extra: string) => parseConfigText(`[groups.default]\nslots = 2\n${extra}`, 'sim.toml').groups.get('default')!;

describe('haltToml', () => {
  it('configures alt-fleetlockd with the policy, and with none leaves the group never halting', () => {
    expect(group(haltToml({ afterFailures: 3, windowSecs: 3600 })).halt).toEqual({ afterFailures: 3, windowMs: 3_600_000 });
    expect(group(haltToml(null)).halt.afterFailures).toBeNull();
  });
});

describe('heldByHalt', () => {
  const node = { down: false, state: 'update_staged' as const, booted: 'old', failedNewest: false };
  it('holds a node that waits on the previous release', () => {
    for (const state of ['update_staged', 'update_available', 'no_new_update', 'reported_steady'] as const) expect(heldByHalt({ ...node, state }, 'old')).toBe(true);
  });
  it('does not hold a node that is rebooting, booting, finalizing, on the newest release or rolled back', () => {
    expect(heldByHalt({ ...node, down: true }, 'old')).toBe(false);
    expect(heldByHalt({ ...node, state: null }, 'old')).toBe(false);
    expect(heldByHalt({ ...node, state: 'start' }, 'old')).toBe(false);
    expect(heldByHalt({ ...node, state: 'update_finalized' }, 'old')).toBe(false);
    expect(heldByHalt({ ...node, booted: 'new' }, 'old')).toBe(false);
    expect(heldByHalt({ ...node, failedNewest: true }, 'old')).toBe(false);
  });
});
