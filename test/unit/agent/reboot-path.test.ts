// The agent's reboot path (issue 11, items 1-5): "update now" serves one tick only, the escapes
// work with logind broken, a blocked node does not sit on its reboot slot, a reboot that failed after
// the unlock is retried as a reboot, and a release withdrawn from the graph is not rebooted into.
import { describe, expect, it } from 'vitest';
import type { StrategyPort } from '../../../src/agent/ports.js';
import { makeAgent } from './harness.js';
import { release } from './fixtures.js';

const r1 = release(1);
const r2 = release(2);

/** A strategy that hands out a reboot slot, as fleet_lock does, and remembers whether it holds it. */
function slotStrategyForTest(onGrant: () => void = () => undefined) {
  const s = { held: false, grants: 0, releases: 0 };
  const port: StrategyPort = {
    label: 'fleet_lock',
    describe: () => 'slot',
    canFinalize: () => {
      s.held = true;
      s.grants++;
      onGrant();
      return Promise.resolve(true);
    },
    reportSteady: () => ((s.held = false), Promise.resolve(true)),
    releaseIfHeld: () => {
      if (s.held) s.releases++;
      s.held = false;
      return Promise.resolve();
    },
  };
  return { port, s };
}

/** Makes the memory backend's finalize behave like alt-ostreed's: unlock, then the reboot call. */
function backendFinalize(t: ReturnType<typeof makeAgent>) {
  const b = { rebootFails: false, calls: [] as { alreadyUnlocked: boolean }[] };
  t.ostree.port.finalize = (checksum, opts) => {
    const staged = t.ostree.state.staged;
    b.calls.push({ alreadyUnlocked: opts?.alreadyUnlocked === true });
    if (staged === null || staged.checksum !== checksum) return Promise.reject(new Error('No pending staged deployment found'));
    if (!staged.finalizationLocked && opts?.alreadyUnlocked !== true) return Promise.reject(new Error('Staged deployment already unlocked'));
    t.ostree.state.staged = { ...staged, finalizationLocked: false };
    if (b.rebootFails) return Promise.reject(new Error('Failed to initiate reboot: logind refused'));
    t.ostree.state.finalized = checksum;
    return Promise.resolve();
  };
  return b;
}

describe('"update now" serves the tick that runs for it (issue 11 item 1)', () => {
  it('drops a request its tick cannot serve, rejects it with the reason, and never finalizes later by itself', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    t.sessions.state.inhibitors = ['backup (root): nightly backup running'];
    const done = t.agent.updateNow();
    await t.agent.step();
    await expect(done).rejects.toMatchObject({ code: 'AGENT_UPDATE_NOW_FAILED', message: expect.stringContaining('nightly backup running') });
    expect(t.events()).toContain('update_now_failed');
    t.sessions.state.inhibitors = [];
    for (let i = 0; i < 5; i++) await t.agent.step();
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged', waiting: 'strategy' });
  });

  it('rejects a request whose finalize fails, and the next tick asks the strategy again', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    t.ostree.state.finalizeFails = true;
    const done = t.agent.updateNow();
    await t.agent.step();
    await expect(done).rejects.toMatchObject({ code: 'AGENT_UPDATE_NOW_FAILED', message: expect.stringContaining('finalize failed') });
    t.ostree.state.finalizeFails = false;
    const asked = t.strategy.state.finalizeQuestions;
    await t.agent.step();
    expect(t.strategy.state.finalizeQuestions).toBe(asked + 1);
    expect(t.ostree.state.finalized).toBeNull();
  });

  it('resolves a request that arrived while the finalizing tick ran', async () => {
    const t = makeAgent({ target: r2 });
    await t.stepUntil('update_staged');
    let during: Promise<void> | null = null;
    t.strategy.port.canFinalize = () => ((during = t.agent.updateNow()), Promise.resolve(true));
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
    await t.agent.step();
    await expect(during).resolves.toBeUndefined();
  });

  it('rejects a request whose tick found the staged deployment gone', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    t.ostree.state.staged = null;
    const done = t.agent.updateNow();
    await t.agent.step();
    await expect(done).rejects.toMatchObject({ code: 'AGENT_UPDATE_NOW_FAILED', message: expect.stringContaining('is gone') });
  });

  it('resolves when its tick finalized', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    await t.stepUntil('update_staged');
    const done = t.agent.updateNow();
    await t.agent.step();
    await done;
    expect(t.ostree.state.finalized).toBe(r2.payload);
  });
});

describe('the escapes with logind broken (issue 11 item 2)', () => {
  it('"update now" finalizes when logind cannot be asked at all', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    t.sessions.state.fail = true;
    await t.stepUntil('update_staged');
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged' });
    const done = t.agent.updateNow();
    await t.agent.step();
    await done;
    expect(t.ostree.state.finalized).toBe(r2.payload);
    expect(t.events()).toContain('inhibitor_check_skipped');
  });

  it('"update now" still respects a block inhibitor logind reports', async () => {
    const t = makeAgent({ target: r2 });
    t.sessions.state.inhibitors = ['backup (root): nightly backup running'];
    await t.stepUntil('update_staged');
    const done = t.agent.updateNow();
    await t.agent.step();
    await expect(done).rejects.toMatchObject({ code: 'AGENT_UPDATE_NOW_FAILED' });
    expect(t.ostree.state.finalized).toBeNull();
  });

  it('the override file skips a failing session listing, but not a failing inhibitor query (kept: see strategies.md)', async () => {
    const t = makeAgent({ target: r2, overrideFile: true });
    t.sessions.port.interactiveSessions = () => Promise.reject(new Error('logind unreachable'));
    await t.stepUntil('update_finalized');
    const u = makeAgent({ target: r2, overrideFile: true });
    u.sessions.state.fail = true;
    await u.stepUntil('update_staged');
    for (let i = 0; i < 3; i++) await u.agent.step();
    expect(u.ostree.state.finalized).toBeNull();
    expect(u.agent.state).toMatchObject({ kind: 'update_staged', waiting: 'session_check_failed' });
  });
});

describe('a node that cannot reboot gives its slot back (issue 11 item 3)', () => {
  it('does not take the slot while a block inhibitor is held', async () => {
    const lock = slotStrategyForTest();
    const t = makeAgent({ target: r2, strategy: lock.port });
    t.sessions.state.inhibitors = ['backup (root): nightly backup running'];
    await t.stepUntil('update_staged');
    for (let i = 0; i < 5; i++) await t.agent.step();
    expect(lock.s.held).toBe(false);
    expect(lock.s.grants).toBe(0);
    t.sessions.state.inhibitors = [];
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
  });

  it('gives the slot back at once when an inhibitor appears while the slot is taken', async () => {
    const t0 = { t: null as ReturnType<typeof makeAgent> | null };
    const lock = slotStrategyForTest(() => {
      t0.t!.sessions.state.inhibitors = ['backup (root): started meanwhile'];
    });
    const t = (t0.t = makeAgent({ target: r2, strategy: lock.port }));
    await t.stepUntil('update_staged');
    const s = await t.agent.step();
    expect(s.event).toMatchObject({ type: 'finalization_blocked', reason: 'block_inhibitor' });
    expect(lock.s).toMatchObject({ held: false, grants: 1, releases: 1 });
  });

  it('gives the slot back when logind cannot be asked or the finalize fails', async () => {
    const lock = slotStrategyForTest();
    const t = makeAgent({ target: r2, strategy: lock.port });
    t.ostree.state.finalizeFails = true;
    await t.stepUntil('update_staged');
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'finalize_failed' });
    expect(lock.s.held).toBe(false);
    t.sessions.port.interactiveSessions = () => Promise.reject(new Error('logind unreachable'));
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'session_check_failed' });
    expect(lock.s).toMatchObject({ held: false, grants: 2, releases: 2 });
  });

  it('keeps the slot through the users\' grace period (bounded by 10 postponements)', async () => {
    const lock = slotStrategyForTest();
    const t = makeAgent({ target: r2, strategy: lock.port });
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    await t.stepUntil('update_staged');
    for (let i = 0; i < 10; i++) {
      expect((await t.agent.step()).event?.type).toBe('reboot_postponed');
      expect(lock.s.held).toBe(true);
    }
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
    expect(lock.s.releases).toBe(0);
  });
});

describe('a reboot that failed after the unlock (issue 11 item 4)', () => {
  it('retries only the reboot of its own unlocked staged deployment', async () => {
    const t = makeAgent({ target: r2 });
    const b = backendFinalize(t);
    b.rebootFails = true;
    await t.stepUntil('update_staged');
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'finalize_failed' });
    expect(t.ostree.state.staged?.finalizationLocked).toBe(false);
    b.rebootFails = false;
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
    expect(b.calls).toEqual([{ alreadyUnlocked: false }, { alreadyUnlocked: true }]);
    expect(t.events()).toContain('reboot_retry');
  });
});

describe('a staged release the graph withdrew (issue 11 item 5)', () => {
  const staged = async (offered: ReadonlySet<string> | null) => {
    const t = makeAgent({ booted: r1, target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    await t.agent.step();
    t.graph.state.target = null;
    const check = t.graph.port.check.bind(t.graph.port);
    t.graph.port.check = async (facts, signal) => ({ ...(await check(facts, signal)), offered });
    t.strategy.state.canFinalize = true;
    t.clock.advance(300_000);
    return t;
  };

  it('removes the staged deployment when the graph no longer offers it from the booted release', async () => {
    const t = await staged(new Set());
    const s = await t.agent.step();
    expect(s.event?.type).toBe('staged_withdrawn');
    expect(s.state.kind).toBe('no_new_update');
    expect(t.ostree.state.calls).toContain('cleanupPending');
    expect(t.ostree.state.staged).toBeNull();
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.events()).toContain('staged_release_withdrawn');
  });

  it('keeps the staged deployment while the booted release is not in the graph (nothing known)', async () => {
    const t = await staged(null);
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
  });

  it('does not reboot into a withdrawn release whose removal failed, and retries the removal', async () => {
    const t = await staged(new Set());
    const cleanup = t.ostree.port.cleanupPending.bind(t.ostree.port);
    t.ostree.port.cleanupPending = () => Promise.reject(new Error('backend busy'));
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'backend_unavailable' });
    expect((await t.agent.step()).event).toMatchObject({ type: 'finalization_blocked', reason: 'backend_unavailable' });
    expect(t.ostree.state.finalized).toBeNull();
    t.ostree.port.cleanupPending = cleanup;
    expect((await t.agent.step()).event?.type).toBe('staged_withdrawn');
  });
});
