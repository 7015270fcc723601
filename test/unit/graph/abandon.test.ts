import { describe, expect, it } from 'vitest';
import { AbandonList } from '../../../src/graph/abandon.js';

describe('graph/abandon', () => {
  const t0 = Date.UTC(2026, 10, 27, 10, 0, 0);
  it.each([
    ['just abandoned', 0, true],
    ['one second before expiry', 3599, true],
    ['at expiry', 3600, false],
    ['long after', 86_400, false],
  ])('a release abandoned for 1 h, checked %s, is skipped=%s', (_what, afterSecs, skipped) => {
    const list = AbandonList.fromSecs(3600).abandon('pa', t0);
    expect(list.isAbandoned('pa', t0 + afterSecs * 1000)).toBe(skipped);
    expect(list.active(t0 + afterSecs * 1000)).toEqual(skipped ? ['pa'] : []);
  });

  it('is immutable and prunes expired entries', () => {
    const empty = AbandonList.fromSecs(60);
    const one = empty.abandon('pa', t0);
    expect(empty.entries()).toEqual([]);
    expect(one.abandon('pb', t0 + 30_000).prune(t0 + 60_000).entries()).toEqual([['pb', t0 + 90_000]]);
  });
});
