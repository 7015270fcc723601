import { AltError } from '../../../src/common/errors.js';
import { describe, expect, it } from 'vitest';
import { makeAgent } from './harness.js';
import { release, testSettings } from './fixtures.js';

const r1 = release(1);
const r2 = release(2);
const r3 = release(3);

describe('src/agent tick behaviour', () => {
  it('takes a node from start to a finalized update with the immediate strategy', async () => {
    const t = makeAgent({ booted: r1, target: r2 });
    await t.stepUntil('end');
    expect(t.ostree.state.calls).toEqual(['registerDriver', 'status', 'status', 'stage:20260002.0', 'status', 'status', 'finalize:2222']);
    expect(t.ostree.state.finalized).toBe(r2.payload);
    expect(t.events()).toEqual(
      expect.arrayContaining(['deployment_denylisted', 'steady_reported', 'update_found', 'update_staged', 'update_finalizing', 'update_finalized']),
    );
    expect(t.notifier.sent).toEqual(
      expect.arrayContaining([
        'STATUS=initialization complete, auto-updates logic enabled',
        'STATUS=periodically polling for updates',
        `STATUS=found update on remote: ${r2.version}`,
        `STATUS=update staged: ${r2.version}`,
        `STATUS=update finalized: ${r2.version}`,
      ]),
    );
  });

  it('denylists every non-staged deployment at start (rollback protection)', async () => {
    const t = makeAgent({ booted: r2, rollback: r3, target: r3 });
    await t.stepUntil('no_new_update');
    expect([...t.graph.state.facts[0]!.denylist].sort()).toEqual([r2.payload, r3.payload].sort());
    expect(t.ostree.state.calls.some((c) => c.startsWith('stage'))).toBe(false);
  });

  it('never stages the rollback deployment even when the graph adapter ignores the denylist', async () => {
    const t = makeAgent({ booted: r2, rollback: r3 });
    t.graph.port.check = () => Promise.resolve({ target: r3, deadend: { isDeadend: false, reason: null } });
    await t.stepUntil('no_new_update');
    expect(t.events()).toContain('update_target_ignored');
  });

  it('reports steady even when updates are disabled, then ends without checking (issue-239)', async () => {
    const t = makeAgent({ settings: testSettings({ enabled: false }), target: r2 });
    await t.stepUntil('end');
    expect(t.strategy.state.steadyReports).toBe(1);
    expect(t.ostree.state.calls).not.toContain('registerDriver');
    expect(t.graph.state.facts).toHaveLength(0);
    expect(t.notifier.sent).toContain('STATUS=initialization complete, auto-updates logic disabled by configuration');
  });

  it('stays initialized and does not check for updates while steady state cannot be reported', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.reportSteady = Object.assign(new Error('lock server down'), { kind: 'generic_http_503' });
    await t.agent.step();
    for (let i = 0; i < 3; i++) await t.agent.step();
    expect(t.agent.state.kind).toBe('initialized');
    expect(t.graph.state.facts).toHaveLength(0);
    expect(t.metrics.calls.get('strategyError')).toEqual([['generic_http_503'], ['generic_http_503'], ['generic_http_503']]);
  });

  it('retries start-up with backoff while the backend is unreachable', async () => {
    const t = makeAgent();
    t.ostree.state.registerFails = 3;
    const delays = [];
    for (let i = 0; i < 3; i++) delays.push((await t.agent.step()).delayMs);
    expect(delays).toEqual([1000, 2000, 4000]);
    expect((await t.agent.step()).state.kind).toBe('initialized');
    expect(t.notifier.sent[0]).toBe('STATUS=initializing (failed attempts: 1)');
    expect(t.notifier.sent[1]).toBe('STATUS=initializing (failed attempts: 2)');
  });

  it('stays in the polling state and retries at the steady interval when the graph fails', async () => {
    const t = makeAgent({ target: r2 });
    t.graph.state.fail = Object.assign(new Error('connection refused'), { kind: 'client_failed_request' });
    await t.stepUntil('reported_steady');
    const step = await t.agent.step();
    expect(step.state.kind).toBe('reported_steady');
    expect(step.delayMs).toBeGreaterThanOrEqual(300_000);
    expect(step.delayMs).toBeLessThanOrEqual(330_000);
    expect(t.metrics.calls.get('updateCheckFailed')).toEqual([['client_failed_request']]);
  });

  it('logs a failed stage with the backend error code and kind', async () => {
    const t = makeAgent({ target: r2 });
    t.ostree.state.stageFailures = 1;
    t.ostree.state.stageError = new AltError('OSTREE_BACKEND_GONE', 'the ostree backend went away', { kind: 'ostree_backend_gone' });
    await t.stepUntil('update_available');
    await t.agent.step();
    const rec = t.logger.records.find((r) => r.fields.event === 'stage_failed');
    expect(rec?.fields).toMatchObject({ code: 'OSTREE_BACKEND_GONE', kind: 'ostree_backend_gone', attempts: 1 });
  });

  it('abandons a release after maxStageAttempts failures and skips it for abandonSecs', async () => {
    const t = makeAgent({ target: r2, settings: testSettings({ maxStageAttempts: 3, abandonSecs: 3600 }) });
    t.ostree.state.stageFailures = 1000;
    await t.stepUntil('update_available');
    const kinds = [];
    for (let i = 0; i < 3; i++) kinds.push((await t.agent.step()).state);
    expect(kinds.map((s) => s.kind)).toEqual(['update_available', 'update_available', 'no_new_update']);
    expect(t.events()).toContain('update_abandoned');
    await t.agent.step(); // immediate re-check: the abandoned release is skipped
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.graph.state.facts.at(-1)!.denylist.has(r2.payload)).toBe(true);
    t.clock.advance(3600_000);
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_available', release: r2, failedAttempts: 0 });
  });

  it('blocks a release whose staged deployment lands on another stream', async () => {
    const t = makeAgent({ target: r2 });
    t.ostree.state.stageStream = 'p11';
    await t.stepUntil('update_available');
    await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
    expect(t.ostree.state.calls.at(-1)).toBe('cleanupPending');
    expect(t.events()).toContain('update_blocked');
    await t.agent.step();
    expect(t.agent.state.kind).toBe('no_new_update');
  });

  it('replaces a staged release when a newer one appears (issue-928)', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged', waiting: 'strategy' });
    t.graph.state.target = r3;
    const checks = t.graph.state.facts.length;
    await t.agent.step(); // the last check is recent: no new graph request yet
    expect(t.graph.state.facts.length).toBe(checks);
    expect(t.agent.state.kind).toBe('update_staged');
    t.clock.advance(300_000);
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_available', release: r3 });
    expect(t.strategy.state.releases).toBe(1);
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged', release: r3 });
    expect(t.ostree.state.calls.slice(-4)).toEqual(['status', 'cleanupPending', 'stage:20260003.0', 'status']);
    expect(t.events()).toContain('update_replaced');
  });

  it('adopts a locked staged deployment of the graph target after a restart, without staging again', async () => {
    const t = makeAgent({ booted: r1, staged: { release: r2, locked: true }, target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    expect(t.ostree.state.calls.some((c) => c.startsWith('stage:'))).toBe(false);
    expect(t.logger.records.find((r) => r.fields.event === 'update_staged')?.fields.adopted).toBe(true);
  });

  it('replaces a staged deployment after a restart when the graph has something newer', async () => {
    const t = makeAgent({ booted: r1, staged: { release: r2, locked: true }, target: r3 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    expect(t.agent.state).toMatchObject({ release: r3 });
    expect(t.ostree.state.calls).toContain('cleanupPending');
    expect(t.ostree.state.calls).toContain('stage:20260003.0');
  });

  it('stages again when the staged deployment disappeared', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    t.ostree.state.staged = null;
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_available', release: r2 });
    await t.agent.step();
    expect(t.agent.state.kind).toBe('update_staged');
  });

  it('does not finalize when the strategy fails, and counts the error by kind', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = Object.assign(new Error('semaphore full'), { kind: 'failed_lock_semaphore_full' });
    await t.stepUntil('update_staged');
    for (let i = 0; i < 5; i++) await t.agent.step();
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.agent.state.kind).toBe('update_staged');
    expect(t.metrics.calls.get('canFinalize')).toHaveLength(5);
    expect(t.metrics.calls.get('strategyError')?.[0]).toEqual(['failed_lock_semaphore_full']);
    expect(t.events()).toContain('strategy_error');
  });

  it('postpones 10 times 60 s for a logged-in user with two warnings, then finalizes', async () => {
    const t = makeAgent({ target: r2 });
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    await t.stepUntil('update_staged');
    const delays = [];
    for (let i = 0; i < 10; i++) {
      const s = await t.agent.step();
      expect(s.event?.type).toBe('reboot_postponed');
      delays.push(s.delayMs);
    }
    expect(delays).toEqual(Array(10).fill(60_000));
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.sessions.state.warnings).toHaveLength(2);
    expect(t.sessions.state.warnings[0]).toContain('in 10 minutes');
    expect(t.sessions.state.warnings[1]).toContain('in 1 minute,');
    expect(t.notifier.sent).toContain(`STATUS=update staged: ${r2.version}; reboot delayed due to active user sessions`);
    const last = await t.agent.step();
    expect(last.event?.type).toBe('update_finalized');
    expect(t.events()).toContain('grace_period_over');
  });

  it('finalizes at once when users are gone during the grace period', async () => {
    const t = makeAgent({ target: r2 });
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    await t.stepUntil('update_staged');
    await t.agent.step();
    await t.agent.step();
    t.sessions.state.sessions = [];
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
  });

  it('skips the grace period when the override file exists', async () => {
    const t = makeAgent({ target: r2, overrideFile: true });
    t.sessions.state.sessions = [{ user: 'alice', tty: 'pts/0' }];
    await t.stepUntil('update_finalized');
    expect(t.files.asked).toContain('/run/test/override-interactive-check');
    expect(t.sessions.state.warnings).toHaveLength(0);
  });

  it('never finalizes while a block inhibitor on shutdown exists', async () => {
    const t = makeAgent({ target: r2, overrideFile: true });
    t.sessions.state.inhibitors = ['backup (root): nightly backup running'];
    await t.stepUntil('update_staged');
    for (let i = 0; i < 15; i++) {
      const s = await t.agent.step();
      expect(s.delayMs).toBe(60_000);
    }
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.metrics.calls.get('finalizationBlocked')?.[0]).toEqual(['inhibitor']);
    t.sessions.state.inhibitors = [];
    expect((await t.agent.step()).event?.type).toBe('update_finalized');
  });

  it('does not finalize when sessions cannot be checked (never reboot on doubt)', async () => {
    const t = makeAgent({ target: r2 });
    t.sessions.state.fail = true;
    await t.stepUntil('update_staged');
    for (let i = 0; i < 12; i++) await t.agent.step();
    expect(t.ostree.state.finalized).toBeNull();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged', waiting: 'session_check_failed' });
    expect(t.events()).toContain('session_check_failed');
    expect(t.metrics.calls.get('finalizationBlocked')?.at(-1)).toEqual(['session_check_failed']);
  });

  it('stays staged and retries when finalization fails', async () => {
    const t = makeAgent({ target: r2 });
    t.ostree.state.finalizeFails = true;
    await t.stepUntil('update_staged');
    await t.agent.step();
    expect(t.agent.state).toMatchObject({ kind: 'update_staged', waiting: 'finalize_failed' });
    t.ostree.state.finalizeFails = false;
    await t.agent.step();
    expect(t.agent.state.kind).toBe('update_finalized');
  });

  it('sets and clears the dead-end notice only on changes', async () => {
    const t = makeAgent();
    t.graph.state.deadend = { isDeadend: true, reason: 'move to p11' };
    await t.stepUntil('no_new_update');
    await t.agent.step();
    await t.agent.step();
    expect(t.deadend.log).toEqual(['set:move to p11']);
    t.graph.state.deadend = { isDeadend: false, reason: null };
    await t.agent.step();
    await t.agent.step();
    expect(t.deadend.log).toEqual(['set:move to p11', 'clear']);
    expect(t.events()).toEqual(expect.arrayContaining(['deadend_set', 'deadend_cleared']));
  });

  it('leaves the dead-end notice alone while the booted release is not in the graph', async () => {
    const t = makeAgent();
    t.graph.state.deadend = { isDeadend: true, reason: 'move to p11' };
    await t.stepUntil('no_new_update');
    await t.agent.step();
    t.graph.state.deadend = null;
    await t.agent.step();
    await t.agent.step();
    expect(t.deadend.log).toEqual(['set:move to p11']);
  });

  it('finalizes on "update now" even when the strategy denies', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    await t.agent.step();
    expect(t.ostree.state.finalized).toBeNull();
    const done = t.agent.updateNow();
    await t.agent.step();
    await done;
    expect(t.ostree.state.finalized).toBe(r2.payload);
  });

  it('rejects "update now" when nothing is staged', async () => {
    const t = makeAgent();
    await expect(t.agent.updateNow()).rejects.toMatchObject({ code: 'AGENT_NOTHING_STAGED' });
  });

  it('exposes an operator snapshot', async () => {
    const t = makeAgent({ target: r2 });
    t.strategy.state.canFinalize = false;
    await t.stepUntil('update_staged');
    await t.agent.step();
    expect(t.agent.snapshot()).toMatchObject({
      state: 'update_staged',
      bootedVersion: r1.version,
      targetVersion: r2.version,
      stagedVersion: r2.version,
      strategy: 'immediate',
      statusText: `update staged: ${r2.version}; reboot pending due to update strategy`,
    });
  });
});
