import { describe, expect, it } from 'vitest';
import { bootHealthy, countAttempt, decideBoot, type BootAction, type BootFacts } from '../../../src/health/decide.js';
import type { DeploymentRef, Trial } from '../../../src/health/record.js';

const OLD: DeploymentRef = { payload: 'a'.repeat(64), serial: 0 };
const NEW: DeploymentRef = { payload: 'b'.repeat(64), serial: 0 };
const OLDER: DeploymentRef = { payload: 'c'.repeat(64), serial: 0 };
const OLD_REDEPLOYED: DeploymentRef = { payload: OLD.payload, serial: 1 };
const NEW_REDEPLOYED: DeploymentRef = { payload: NEW.payload, serial: 2 };
const NEW_REDEPLOYED_TARGET: DeploymentRef = { payload: NEW.payload, serial: 1 };

const trial = (over: Partial<Trial> = {}): Trial => ({
  release: 'v2',
  expected: NEW,
  previous: OLD,
  armedBootId: 'boot-0',
  maxAttempts: 2,
  attempts: 1,
  lastBootId: 'boot-1',
  phase: 'armed',
  rollbackTo: null,
  rollbackBootId: null,
  ...over,
});

const facts = (over: Partial<BootFacts> = {}): BootFacts => ({
  trial: trial(),
  bootId: 'boot-1',
  booted: NEW,
  defaultDeployment: NEW,
  rollbackTarget: OLD,
  healthy: true,
  failedSummary: '',
  rolledBackBefore: false,
  ...over,
});

describe('health/decide: the verdict on one boot', () => {
  const rows: [string, Partial<BootFacts>, BootAction['kind']][] = [
    ['nothing on trial, green: healthy', { trial: null }, 'healthy'],
    ['nothing on trial, red: manual intervention (no automatic action without a trial)', { trial: null, healthy: false }, 'manual_intervention'],
    ['armed in this very boot: nothing to judge yet', { bootId: 'boot-0', booted: OLD, defaultDeployment: OLD }, 'wait_reboot'],
    ['booted the expected deployment, green: disarm, healthy', {}, 'disarm_healthy'],
    ['expected deployment red with attempts left: reboot for another attempt', { healthy: false }, 'reboot_retry'],
    ['expected deployment red, budget spent: roll back', { healthy: false, trial: trial({ attempts: 2 }) }, 'rollback'],
    ['red, budget spent, already rolled back once: manual intervention', { healthy: false, trial: trial({ attempts: 2 }), rolledBackBefore: true }, 'manual_intervention'],
    ['red, budget spent, no rollback deployment: manual intervention', { healthy: false, trial: trial({ attempts: 2 }), rollbackTarget: null }, 'manual_intervention'],
    ['booted another deployment while the expected one is the default: fallback', { booted: OLD, defaultDeployment: NEW, rollbackTarget: OLDER }, 'accept_fallback'],
    ['booted the old deployment, expected never became the default: stale trial', { booted: OLD, defaultDeployment: OLD }, 'disarm_stale'],
    ['rollback requested, booted the rollback target: rolled back', { booted: OLD, defaultDeployment: OLD, trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'rolled_back'],
    ['rollback done but the reboot was lost: reboot only (no second rollback)', { defaultDeployment: OLD, trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'reboot_after_rollback'],
    ['rollback requested in an earlier boot and never done: roll back now', { trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'rollback'],
    ['rollback requested in this boot and not done yet: never a second Rollback', { trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-1' }) }, 'manual_intervention'],
    // alt-ostreed without python3-gi emulates Rollback by re-deploying the previous commit (new serial);
    // a real node booted OLD.1 after rolling back to OLD.0 and was judged a fallback (health-rollback e2e).
    ['rollback re-deployed the target under a new serial, booted it: rolled back', { booted: OLD_REDEPLOYED, defaultDeployment: OLD_REDEPLOYED, trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'rolled_back'],
    ['rollback re-deployed the target, the reboot was lost: reboot only (no second rollback)', { defaultDeployment: OLD_REDEPLOYED, trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'reboot_after_rollback'],
    ['rollback target is the trial\'s own commit: a serial apart is not rolled back', { booted: NEW_REDEPLOYED, defaultDeployment: NEW, trial: trial({ attempts: 2, phase: 'rollback_requested', rollbackTo: NEW_REDEPLOYED_TARGET, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'accept_fallback'],
    ['rollback requested, booted a third deployment: fallback', { booted: OLDER, defaultDeployment: NEW, trial: trial({ phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' }), bootId: 'boot-3' }, 'accept_fallback'],
  ];
  it.each(rows)('%s', (_name, over, kind) => {
    expect(decideBoot(facts(over)).kind).toBe(kind);
  });

  it('rolls back to the rollback target and says why', () => {
    const a = decideBoot(facts({ healthy: false, failedSummary: 'app.sh failed', trial: trial({ attempts: 2 }) }));
    expect(a).toEqual({ kind: 'rollback', to: OLD, reason: 'v2 failed its health checks on 2 boot(s): app.sh failed' });
  });

  it('a rolled-back boot carries its own health', () => {
    const t = trial({ phase: 'rollback_requested', rollbackTo: OLD, rollbackBootId: 'boot-2' });
    expect(decideBoot(facts({ trial: t, booted: OLD, defaultDeployment: OLD, bootId: 'boot-3', healthy: false }))).toEqual({ kind: 'rolled_back', healthy: false });
  });
});

describe('health/decide: countAttempt', () => {
  it('counts a new boot of the expected deployment once', () => {
    const t = trial({ attempts: 0, lastBootId: null });
    const once = countAttempt(t, 'boot-1', NEW);
    expect(once.attempts).toBe(1);
    expect(countAttempt(once, 'boot-1', NEW)).toBe(once);
    expect(countAttempt(once, 'boot-2', NEW).attempts).toBe(2);
  });

  it('does not count the arming boot or another deployment', () => {
    const t = trial({ attempts: 0, lastBootId: null });
    expect(countAttempt(t, 'boot-0', NEW)).toBe(t);
    expect(countAttempt(t, 'boot-1', OLD)).toBe(t);
  });
});

describe('health/decide: bootHealthy (the FleetLock slot goes back only on a healthy boot)', () => {
  const base = { trial: null, failed: [], last: null, manual: null, report: null };
  const last = (verdict: 'healthy' | 'rebooting' | 'manual_intervention' | 'rolled_back', bootId = 'boot-1') => ({ verdict, release: 'v2', bootId, atMs: 0, reason: null, checks: [] });
  it.each([
    ['never judged, nothing on trial', base, true],
    ['this boot green', { ...base, last: last('healthy') }, true],
    ['this boot rolled back and green', { ...base, last: last('rolled_back') }, true],
    ['this boot red', { ...base, last: last('rebooting') }, false],
    ['manual intervention', { ...base, manual: 'x', last: last('manual_intervention') }, false],
    ['a trial armed earlier, not judged yet', { ...base, trial: trial({ armedBootId: 'boot-0' }) }, false],
    ['a trial armed in this boot (the reboot is still ahead)', { ...base, trial: trial({ armedBootId: 'boot-1' }), last: last('healthy') }, true],
    ['a red verdict of an earlier boot', { ...base, last: last('rebooting', 'boot-0') }, true],
  ] as const)('%s', (_n, rec, want) => {
    expect(bootHealthy(rec as never, 'boot-1')).toBe(want);
  });
});
