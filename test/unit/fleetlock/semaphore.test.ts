import { describe, expect, it } from 'vitest';
import { EMPTY_GROUP, expireStale, NOT_IDLE, parseGroupState, recursiveLock, serializeGroupState, unlockIfHeld, type GroupState } from '../../../src/fleetlock/server/semaphore.js';

const st = (...holders: [string, number, number?][]): GroupState => ({ holders: holders.map(([id, since, renewed]) => ({ id, sinceMs: since, renewedMs: renewed ?? since })) });
const ids = (s: GroupState | null): string[] | null => (s === null ? null : s.holders.map((h) => h.id));
const two = { slots: 2, staleAfterMs: null };

describe('src/fleetlock/server/semaphore recursiveLock', () => {
  it.each([
    { name: 'takes a free slot', state: EMPTY_GROUP, id: 'a', outcome: 'acquired', next: ['a'] },
    { name: 'takes the second slot', state: st(['a', 1]), id: 'b', outcome: 'acquired', next: ['a', 'b'] },
    { name: 'is recursive for a holder', state: st(['a', 1], ['b', 2]), id: 'a', outcome: 'renewed', next: ['a', 'b'] },
    { name: 'refuses a newcomer when full, writing nothing', state: st(['a', 1], ['b', 2]), id: 'c', outcome: 'full', next: null },
    { name: 'is case-sensitive on ids', state: st(['a', 1], ['b', 2]), id: 'A', outcome: 'full', next: null },
  ])('$name', ({ state, id, outcome, next }) => {
    const m = recursiveLock(state, id, two, 100, NOT_IDLE);
    expect(m.result.outcome).toBe(outcome);
    expect(ids(m.next)).toEqual(next);
  });

  it('keeps existing holders but grants nothing when slots were lowered below the holder count', () => {
    const m = recursiveLock(st(['a', 1], ['b', 2], ['c', 3]), 'd', { slots: 1, staleAfterMs: null }, 100, NOT_IDLE);
    expect(m.result).toMatchObject({ outcome: 'full', holders: 3, slots: 1 });
    expect(m.next).toBeNull();
    expect(recursiveLock(st(['a', 1], ['b', 2]), 'b', { slots: 1, staleAfterMs: null }, 100, NOT_IDLE).result.outcome).toBe('renewed');
  });

  it('renews the holder time but keeps the original lock time', () => {
    const m = recursiveLock(st(['a', 10]), 'a', two, 500, NOT_IDLE);
    expect(m.next!.holders[0]).toEqual({ id: 'a', sinceMs: 10, renewedMs: 500 });
  });

  it.each([
    { idle: 600_000, expired: [] as string[], outcome: 'full' },
    { idle: 600_001, expired: ['a'], outcome: 'acquired' },
  ])('drops holders idle longer than the expiry before deciding (idle=$idle)', ({ idle, expired, outcome }) => {
    const m = recursiveLock(st(['a', 0, 1000]), 'b', { slots: 1, staleAfterMs: 600_000 }, 1000, new Map([['a', idle]]));
    expect(m.result.expired.map((h) => h.id)).toEqual(expired);
    expect(m.result.outcome).toBe(outcome);
  });

  it('judges expiry by the idle facts only, never by the wall-clock stamps', () => {
    // Renewed at wall time 1000, "now" a year later: without idle time nothing is stale.
    const m = recursiveLock(st(['a', 0, 1000]), 'b', { slots: 1, staleAfterMs: 600_000 }, 1000 + 365 * 86_400_000, NOT_IDLE);
    expect(m.result).toMatchObject({ outcome: 'full', expired: [] });
  });

  it('restarts the stale timer of the id it grants or renews, and of nobody it refuses', () => {
    const policy = { slots: 1, staleAfterMs: 5000 };
    expect(recursiveLock(EMPTY_GROUP, 'a', policy, 1, NOT_IDLE).touch).toEqual({ id: 'a', staleAfterMs: 5000 });
    expect(recursiveLock(st(['a', 1]), 'a', policy, 2, NOT_IDLE).touch).toEqual({ id: 'a', staleAfterMs: 5000 });
    expect(recursiveLock(st(['a', 1]), 'b', policy, 2, NOT_IDLE).touch).toBeUndefined();
  });
});

describe('src/fleetlock/server/semaphore unlockIfHeld and expireStale', () => {
  it('releases a holder and is a no-op (no write) for a non-holder', () => {
    expect(unlockIfHeld(st(['a', 1], ['b', 2]), 'a', two, NOT_IDLE)).toMatchObject({ next: { holders: [{ id: 'b' }] }, result: { outcome: 'released' } });
    expect(unlockIfHeld(st(['a', 1]), 'z', two, NOT_IDLE)).toEqual({ next: null, result: { outcome: 'not_held', expired: [] } });
    expect(unlockIfHeld(EMPTY_GROUP, 'z', two, NOT_IDLE).next).toBeNull();
  });

  it('writes only when something expired', () => {
    const policy = { slots: 2, staleAfterMs: 100 };
    expect(expireStale(st(['a', 0, 50]), policy, new Map([['a', 100]])).next).toBeNull();
    expect(ids(expireStale(st(['a', 0, 50], ['b', 0, 120]), policy, new Map([['a', 101], ['b', 31]])).next)).toEqual(['b']);
  });
});

describe('src/fleetlock/server/semaphore stored form', () => {
  it('round-trips and sorts holders by lock time', () => {
    const s = st(['b', 2, 3], ['a', 1, 9]);
    expect(parseGroupState(serializeGroupState(s))).toEqual(st(['a', 1, 9], ['b', 2, 3]));
  });

  it.each([null, {}, { holders: {} }, { holders: [{ id: 'a' }] }, { holders: [{ id: '', since: 1 }] }, { holders: [{ id: 'a', since: 1 }, { id: 'a', since: 2 }] }])(
    'rejects %j',
    (raw) => {
      expect(parseGroupState(raw)).toBeNull();
    },
  );
});
