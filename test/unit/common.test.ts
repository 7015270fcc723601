import { describe, expect, it } from 'vitest';
import { AltError, errorChain } from '../../src/common/errors.js';
import { ManualClock } from '../../src/common/clock.js';
import { journalLine } from '../../src/common/logger.js';

describe('common/errors', () => {
  it('renders the cause chain outermost first', () => {
    const inner = new AltError('X_INNER', 'disk full');
    const outer = new AltError('X_OUTER', "failed to write '/tmp/a'", { cause: inner });
    expect(errorChain(outer)).toEqual(["failed to write '/tmp/a'", 'disk full']);
    expect(outer.kind).toBe('x_outer');
  });
});

describe('common/clock', () => {
  it('wakes sleepers only once time passes their deadline', async () => {
    const clock = new ManualClock(1000);
    let woke = false;
    const p = clock.sleep(500).then(() => (woke = true));
    clock.advance(499);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await p;
    expect(woke).toBe(true);
    expect(clock.nowMs()).toBe(1500);
  });
});

describe('common/logger', () => {
  it('prefixes journald priority and appends fields', () => {
    expect(journalLine({ level: 40, msg: 'lock denied', event: 'x', n: 2 })).toBe('<4>lock denied event=x n=2');
    expect(journalLine({ level: 30, msg: 'hi', s: 'a b' })).toBe('<6>hi s="a b"');
  });
});
