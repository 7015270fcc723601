import { describe, expect, it } from 'vitest';
import { failuresInWindow, MAX_FAILURES, recordVerdict, resumeGroup, shouldHalt, type HaltPolicy } from '../../../src/fleetlock/server/halt.js';
import {
  EMPTY_GROUP,
  NOT_IDLE,
  parseGroupState,
  recursiveLock,
  serializeGroupState,
  unlockIfHeld,
  type Failure,
  type GroupState,
} from '../../../src/fleetlock/server/semaphore.js';

const HOUR = 3_600_000;
const NOW = 100 * HOUR;
const policy = (k: number | null, windowHours = 24): HaltPolicy => ({ afterFailures: k, windowMs: windowHours * HOUR });
const failure = (id: string, ageHours: number, release = 'R2'): Failure => ({ id, release, result: 'failed', reason: null, atMs: NOW - ageHours * HOUR });
const bad = (result: 'failed' | 'rolled_back', release = 'R2', reason: string | null = 'sshd check failed') => ({ result, release, reason });
const lockPolicy = { slots: 1, staleAfterMs: null };

describe('src/fleetlock/server/halt shouldHalt (decision table over facts)', () => {
  it.each([
    { name: 'no policy never halts', k: null, failures: [failure('a', 1), failure('b', 1), failure('c', 1)], halt: false },
    { name: 'K = 1 halts on the first failure', k: 1, failures: [failure('a', 0)], halt: true },
    { name: 'K = 2 does not halt on one failure', k: 2, failures: [failure('a', 1)], halt: false },
    { name: 'K = 2 halts on two failures within the window', k: 2, failures: [failure('a', 23), failure('b', 1)], halt: true },
    { name: 'failures outside the window do not count', k: 2, failures: [failure('a', 25), failure('b', 1)], halt: false },
    { name: 'a failure exactly at the window edge counts', k: 2, failures: [failure('a', 24), failure('b', 0)], halt: true },
    { name: 'a failure stamped in the future (skewed clock) counts', k: 1, failures: [failure('a', -1)], halt: true },
    { name: 'no failures, no halt', k: 1, failures: [], halt: false },
  ])('$name', ({ k, failures, halt }) => {
    expect(shouldHalt(failures, policy(k), NOW)).toBe(halt);
  });

  it('counts only the failures within the window', () => {
    expect(failuresInWindow([failure('a', 30), failure('b', 2)], 24 * HOUR, NOW).map((f) => f.id)).toEqual(['b']);
  });
});

describe('src/fleetlock/server/halt recordVerdict', () => {
  it('halts the group at the K-th failure and says so once', () => {
    const first = recordVerdict(EMPTY_GROUP, 'a', bad('failed'), policy(2), NOW);
    expect(first.result).toEqual({ halted: false, haltedNow: false, failures: 1 });
    const second = recordVerdict(first.next!, 'b', bad('rolled_back'), policy(2), NOW + 1);
    expect(second.result).toEqual({ halted: true, haltedNow: true, failures: 2 });
    expect(second.next!.halt).toEqual({ sinceMs: NOW + 1, reason: expect.stringMatching(/2 failed or rolled-back update\(s\) within 86400 s \(limit 2\); last: 'b' rolled back on R2: sshd check failed/) });
    const third = recordVerdict(second.next!, 'c', bad('failed'), policy(2), NOW + 2);
    expect(third.result).toEqual({ halted: true, haltedNow: false, failures: 3 });
    expect(third.next!.halt).toEqual(second.next!.halt);
  });

  it('counts a node and release once, whether it reports failed, then rolled_back, or repeats', () => {
    let s: GroupState = EMPTY_GROUP;
    for (const v of [bad('failed'), bad('failed'), bad('rolled_back', 'R2', 'rolled back')]) s = recordVerdict(s, 'a', v, policy(2), NOW).next!;
    expect(s.failures).toEqual([{ id: 'a', release: 'R2', result: 'rolled_back', reason: 'rolled back', atMs: NOW }]);
    expect(s.halt).toBeUndefined();
    // The same node failing another release is another failed update.
    expect(recordVerdict(s, 'a', bad('failed', 'R3'), policy(2), NOW).result).toMatchObject({ haltedNow: true, failures: 2 });
  });

  it('keeps the first report time of a repeated failure, so repeats do not stretch the window', () => {
    const s = recordVerdict(EMPTY_GROUP, 'a', bad('failed'), policy(2, 1), NOW).next!;
    const later = recordVerdict(s, 'a', bad('rolled_back'), policy(2, 1), NOW + HOUR / 2).next!;
    expect(later.failures![0]!.atMs).toBe(NOW);
    // An hour and a half later the first failure has left the window: b's failure alone does not halt.
    expect(recordVerdict(later, 'b', bad('failed'), policy(2, 1), NOW + 1.5 * HOUR).result).toEqual({ halted: false, haltedNow: false, failures: 1 });
  });

  it('records failures without a policy (shown to the admin) but never halts', () => {
    const r = recordVerdict(EMPTY_GROUP, 'a', bad('rolled_back'), policy(null), NOW);
    expect(r.result).toEqual({ halted: false, haltedNow: false, failures: 1 });
    expect(r.next!.halt).toBeUndefined();
  });

  it('withdraws a node failure on its healthy verdict for that release, writing nothing otherwise', () => {
    const s = recordVerdict(EMPTY_GROUP, 'a', bad('failed'), policy(2), NOW).next!;
    expect(recordVerdict(s, 'a', { result: 'healthy', release: 'R2', reason: null }, policy(2), NOW).next!.failures).toEqual([]);
    expect(recordVerdict(s, 'a', { result: 'healthy', release: 'R3', reason: null }, policy(2), NOW).next).toBeNull();
    expect(recordVerdict(EMPTY_GROUP, 'a', { result: 'healthy', release: 'R2', reason: null }, policy(1), NOW)).toEqual({
      next: null,
      result: { halted: false, haltedNow: false, failures: 0 },
    });
  });

  it('never lifts a halt on a healthy verdict', () => {
    const halted = recordVerdict(EMPTY_GROUP, 'a', bad('failed'), policy(1), NOW).next!;
    const r = recordVerdict(halted, 'a', { result: 'healthy', release: 'R2', reason: null }, policy(1), NOW);
    expect(r.result.halted).toBe(true);
    expect(r.next!.halt).toEqual(halted.halt);
  });

  it('keeps holders and at most MAX_FAILURES failures, the newest', () => {
    let s: GroupState = { holders: [{ id: 'h', sinceMs: 1, renewedMs: 1 }] };
    for (let i = 0; i <= MAX_FAILURES; i++) s = recordVerdict(s, `n${i}`, bad('failed'), policy(null), NOW + i).next!;
    expect(s.failures).toHaveLength(MAX_FAILURES);
    expect(s.failures![0]!.id).toBe('n1');
    expect(s.holders.map((h) => h.id)).toEqual(['h']);
  });
});

describe('src/fleetlock/server/halt resumeGroup and the semaphore while halted', () => {
  const halted = (): GroupState => {
    const held: GroupState = { holders: [{ id: 'a', sinceMs: 1, renewedMs: 1 }] };
    return recordVerdict(held, 'a', bad('rolled_back'), policy(1), NOW).next!;
  };

  it('refuses pre-reboot to newcomers and holders alike, writing nothing', () => {
    for (const id of ['a', 'b']) {
      const m = recursiveLock(halted(), id, lockPolicy, NOW, NOT_IDLE);
      expect(m.result).toMatchObject({ outcome: 'halted', halt: { sinceMs: NOW } });
      expect(m.next).toBeNull();
      expect(m.touch).toBeUndefined();
    }
  });

  it('still releases a slot on steady-state, keeping the halt and failures', () => {
    const m = unlockIfHeld(halted(), 'a', lockPolicy, NOT_IDLE);
    expect(m.result.outcome).toBe('released');
    expect(m.next).toMatchObject({ holders: [], halt: { sinceMs: NOW }, failures: [{ id: 'a' }] });
  });

  it('lifts the halt and forgets the failures on resume, keeping holders; a second resume is a no-op', () => {
    const r = resumeGroup(halted());
    expect(r).toEqual({ next: { holders: [{ id: 'a', sinceMs: 1, renewedMs: 1 }] }, result: { resumed: true } });
    expect(resumeGroup(r.next!)).toEqual({ next: null, result: { resumed: false } });
    expect(recursiveLock(r.next!, 'a', lockPolicy, NOW, NOT_IDLE).result.outcome).toBe('renewed');
  });

  it('stores halt and failures and reads them back; records without them stay as before', () => {
    const s = halted();
    const stored = JSON.parse(JSON.stringify(serializeGroupState(s))) as unknown;
    expect(stored).toMatchObject({ halt: { since: NOW }, failures: [{ id: 'a', release: 'R2', result: 'rolled_back', at: NOW }] });
    expect(parseGroupState(stored)).toEqual(s);
    expect(serializeGroupState({ holders: [] })).toEqual({ holders: [] });
    expect(parseGroupState({ holders: [] })).toEqual({ holders: [] });
    expect(parseGroupState({ holders: [], halt: { since: 'x' } })).toBeNull();
    expect(parseGroupState({ holders: [], failures: [{ id: 'a', release: 'R', result: 'exploded', reason: null, at: 1 }] })).toBeNull();
  });
});
