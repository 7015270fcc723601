import { describe, expect, it } from 'vitest';
import { createFleetLockMetrics } from '../../../src/fleetlock/server/metrics.js';

describe('src/fleetlock/server/metrics', () => {
  it('renders counters, per-group gauges and zero samples for configured groups', () => {
    const m = createFleetLockMetrics();
    m.request('pre-reboot');
    m.request('pre-reboot');
    m.error('pre-reboot', 'failed_lock_semaphore_full');
    m.expired('default', 2);
    m.request('verdict');
    m.verdict('default', 'rolled_back');
    m.halted('default');
    const text = m.render({ slots: new Map([['default', 2], ['db', 1]]), holders: new Map([['default', 1], ['old', 1]]), halted: new Set(['default']), oldestSinceMs: new Map([['default', 1_000], ['old', 5_500]]), nowMs: 3_601_000, engine: 'etcd' });
    const samples = text.split('\n').filter((l) => l && !l.startsWith('#'));
    expect(samples).toEqual([
      'alt_fleetlockd_requests_total{api="pre-reboot"} 2',
      'alt_fleetlockd_requests_total{api="steady-state"} 0',
      'alt_fleetlockd_requests_total{api="verdict"} 1',
      'alt_fleetlockd_errors_total{api="pre-reboot",kind="failed_lock_semaphore_full"} 1',
      'alt_fleetlockd_lock_slots{group="db"} 1',
      'alt_fleetlockd_lock_slots{group="default"} 2',
      'alt_fleetlockd_lock_holders{group="db"} 0',
      'alt_fleetlockd_lock_holders{group="default"} 1',
      'alt_fleetlockd_lock_holders{group="old"} 1',
      'alt_fleetlockd_lock_oldest_hold_seconds{group="db"} 0',
      'alt_fleetlockd_lock_oldest_hold_seconds{group="default"} 3600',
      'alt_fleetlockd_lock_oldest_hold_seconds{group="old"} 3595',
      'alt_fleetlockd_group_halted{group="db"} 0',
      'alt_fleetlockd_group_halted{group="default"} 1',
      'alt_fleetlockd_group_halted{group="old"} 0',
      'alt_fleetlockd_verdicts_total{group="default",result="rolled_back"} 1',
      'alt_fleetlockd_group_halts_total{group="db"} 0',
      'alt_fleetlockd_group_halts_total{group="default"} 1',
      'alt_fleetlockd_group_resumes_total{group="db"} 0',
      'alt_fleetlockd_group_resumes_total{group="default"} 0',
      'alt_fleetlockd_locks_expired_total{group="db"} 0',
      'alt_fleetlockd_locks_expired_total{group="default"} 2',
      'alt_fleetlockd_admin_releases_total{group="db"} 0',
      'alt_fleetlockd_admin_releases_total{group="default"} 0',
      'alt_fleetlockd_store_up{engine="etcd"} 1',
    ]);
  });

  it('reports the store down and omits holders when the store could not be read', () => {
    const text = createFleetLockMetrics().render({ slots: new Map([['default', 1]]), holders: null, halted: new Set(), oldestSinceMs: new Map(), nowMs: 0, engine: 'embedded' });
    expect(text).not.toContain('alt_fleetlockd_lock_holders{');
    expect(text).not.toContain('alt_fleetlockd_group_halted{');
    expect(text).not.toContain('alt_fleetlockd_lock_oldest_hold_seconds{');
    expect(text).toContain('alt_fleetlockd_store_up{engine="embedded"} 0');
  });
});
