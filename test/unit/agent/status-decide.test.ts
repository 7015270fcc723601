import { describe, expect, it } from 'vitest';
import { acceptTarget, checkStaged, confirmStaged, decideSessions, initialDenylist, postponementWarning, replacesStaged } from '../../../src/agent/decide.js';
import type { AgentState } from '../../../src/agent/state.js';
import { formatUtc, statusText } from '../../../src/agent/status.js';
import type { DeploymentSet } from '../../../src/ostree/deployment.js';
import { memoryOstreeForTest, release } from './fixtures.js';

const r = release(7);
const NOW = Date.UTC(2026, 10, 27, 9, 40, 0);

describe('src/agent/status', () => {
  it.each([
    [{ kind: 'start', initFailures: 0 }, 'initializing'],
    [{ kind: 'start', initFailures: 2 }, 'initializing (failed attempts: 2)'],
    [{ kind: 'initialized' }, 'initialization complete, auto-updates logic enabled'],
    [{ kind: 'reported_steady' }, 'periodically polling for updates'],
    [{ kind: 'no_new_update', checkedAtMs: NOW }, 'periodically polling for updates (last checked Fri 2026-11-27 09:40:00 UTC)'],
    [{ kind: 'update_available', release: r, failedAttempts: 0, stagedLosses: 0 }, `found update on remote: ${r.version}`],
    [{ kind: 'update_available', release: r, failedAttempts: 3, stagedLosses: 0 }, `trying to stage ${r.version} (failed attempts: 3)`],
    [{ kind: 'update_staged', release: r, postponementsLeft: 10, waiting: 'nothing', stagedLosses: 0 }, `update staged: ${r.version}`],
    [{ kind: 'update_staged', release: r, postponementsLeft: 10, waiting: 'strategy', stagedLosses: 0 }, `update staged: ${r.version}; reboot pending due to update strategy`],
    [{ kind: 'update_staged', release: r, postponementsLeft: 4, waiting: 'active_sessions', stagedLosses: 0 }, `update staged: ${r.version}; reboot delayed due to active user sessions`],
    [{ kind: 'update_staged', release: r, postponementsLeft: 10, waiting: 'block_inhibitor', stagedLosses: 0 }, `update staged: ${r.version}; reboot delayed by a shutdown block inhibitor`],
    [{ kind: 'update_finalized', release: r }, `update finalized: ${r.version}`],
    [{ kind: 'end', release: r }, `update applied, waiting for reboot: ${r.version}`],
    [{ kind: 'end', release: null }, 'auto-updates logic disabled by configuration'],
  ] satisfies [AgentState, string][])('%j -> %s', (state, text) => {
    expect(statusText(state, NOW)).toBe(text);
  });

  it('says when updates are disabled', () => {
    expect(statusText({ kind: 'initialized' }, NOW, { updatesEnabled: false })).toBe('initialization complete, auto-updates logic disabled by configuration');
  });

  it('formats instants like Zincati', () => {
    expect(formatUtc(Date.UTC(2026, 2, 29, 1, 2, 3))).toBe('Sun 2026-03-29 01:02:03 UTC');
  });
});

async function deployments(init: Parameters<typeof memoryOstreeForTest>[0], stageStream?: string): Promise<DeploymentSet> {
  const o = memoryOstreeForTest(init);
  if (stageStream) {
    o.state.stageStream = stageStream;
    await o.port.stage(release(9), { allowDowngrade: false });
  }
  return o.port.status();
}

describe('src/agent/decide', () => {
  it('denylists booted and rollback but not the staged deployment', async () => {
    const set = await deployments({ booted: release(2), rollback: release(1), staged: { release: release(3), locked: true } });
    expect(initialDenylist(set).sort()).toEqual([release(1).payload, release(2).payload].sort());
  });

  it('accepts only targets that are neither booted nor denylisted', async () => {
    const set = await deployments({ booted: release(2) });
    expect(acceptTarget(release(3), set.booted!, new Set())).toEqual(release(3));
    expect(acceptTarget(release(2), set.booted!, new Set())).toBeNull();
    expect(acceptTarget(release(3), set.booted!, new Set([release(3).payload]))).toBeNull();
    expect(acceptTarget(null, set.booted!, new Set())).toBeNull();
  });

  it('replaces a staged release only with a newer, different one', () => {
    expect(replacesStaged(release(8), release(7))).toBe(true);
    expect(replacesStaged(release(7), release(7))).toBe(false);
    expect(replacesStaged(release(6), release(7))).toBe(false);
    expect(replacesStaged(null, release(7))).toBe(false);
  });

  it('adopts only a locked staged deployment of the same payload', async () => {
    expect(checkStaged(await deployments({ booted: release(1), staged: { release: r, locked: true } }), r)).toBe('adoptable');
    expect(checkStaged(await deployments({ booted: release(1), staged: { release: r, locked: false } }), r)).toBe('other_staged');
    expect(checkStaged(await deployments({ booted: release(1), staged: { release: release(8), locked: true } }), r)).toBe('other_staged');
    expect(checkStaged(await deployments({ booted: release(1) }), r)).toBe('none');
  });

  it('confirms the staged deployment: payload, version and stream', async () => {
    const ok = await deployments({ booted: release(1) }, 'sisyphus');
    expect(confirmStaged(ok, release(9), ok.booted!)).toBe('ok');
    expect(confirmStaged(ok, release(8), ok.booted!)).toBe('missing');
    expect(confirmStaged(ok, { ...release(9), version: 'other' }, ok.booted!)).toBe('version_mismatch');
    const wrong = await deployments({ booted: release(1) }, 'p11');
    expect(confirmStaged(wrong, release(9), wrong.booted!)).toBe('wrong_stream');
  });

  it.each([
    [[], false, 10, 'finalize'],
    [[{ user: 'a', tty: 'pts/0' }], false, 10, 'postpone'],
    [[{ user: 'a', tty: 'pts/0' }], false, 1, 'postpone'],
    [[{ user: 'a', tty: 'pts/0' }], false, 0, 'finalize_grace_over'],
    [[{ user: 'a', tty: 'pts/0' }], true, 10, 'finalize'],
  ] as const)('sessions %j, override %s, %i left -> %s', (sessions, overrideActive, postponementsLeft, decision) => {
    expect(decideSessions({ sessions, overrideActive, postponementsLeft })).toBe(decision);
  });

  it('warns users at the first and the last postponement only', () => {
    expect(postponementWarning(r, 10, 60)).toContain('in 10 minutes');
    expect(postponementWarning(r, 1, 60)).toContain('in 1 minute,');
    for (let left = 2; left < 10; left++) expect(postponementWarning(r, left, 60)).toBeNull();
  });
});
