import { describe, expect, it } from 'vitest';
import { statusAssignment, watchdogIntervalMs } from '../../../src/agent/operator/notify.js';

describe('agent/operator/notify', () => {
  it.each([
    [{}, 100, null],
    [{ WATCHDOG_USEC: '60000000' }, 100, 30_000],
    [{ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '100' }, 100, 30_000],
    [{ WATCHDOG_USEC: '60000000', WATCHDOG_PID: '7' }, 100, null],
    [{ WATCHDOG_USEC: 'abc' }, 100, null],
    [{ WATCHDOG_USEC: '0' }, 100, null],
    [{ WATCHDOG_USEC: '1000' }, 100, 1],
  ])('watchdog interval for %j (pid %d) is %s ms', (env, pid, want) => {
    expect(watchdogIntervalMs(env, pid)).toBe(want);
  });

  it('folds newlines so STATUS= stays one assignment', () => {
    expect(statusAssignment('a\r\nb\nc')).toBe('STATUS=a b c');
  });
});
