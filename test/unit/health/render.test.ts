import { describe, expect, it } from 'vitest';
import { EMPTY_RECORD, type HealthRecord } from '../../../src/health/record.js';
import { healthStatusJson, healthStatusText } from '../../../src/health/render.js';

const RED: HealthRecord = {
  ...EMPTY_RECORD,
  trial: { release: 'v2', expected: { payload: 'b'.repeat(64), serial: 0 }, previous: { payload: 'a'.repeat(64), serial: 0 }, armedBootId: 'b0', maxAttempts: 2, attempts: 1, lastBootId: 'b1', phase: 'armed', rollbackTo: null, rollbackBootId: null },
  last: {
    verdict: 'rebooting',
    release: 'v2',
    bootId: 'b1',
    atMs: Date.UTC(2026, 11, 1, 10, 0, 0),
    reason: '50-app failed',
    checks: [
      { name: '10-ok', kind: 'required', result: 'passed', exitCode: 0, outputTail: 'fine\n' },
      { name: '50-app', kind: 'required', result: 'failed', exitCode: 1, outputTail: 'connecting\nconnection refused\n' },
    ],
  },
  failed: [{ release: 'v0', payload: 'c'.repeat(64), reason: 'fell back', atMs: 0, rolledBack: false }],
};

describe('health/render: alt-updatectl status', () => {
  it('shows the last verdict, the trial, the failed releases and each failed check with its output tail', () => {
    expect(healthStatusText(RED)).toBe(
      [
        'Health:     rebooting (v2) at 2026-12-01 10:00:00 UTC',
        'Reason:     50-app failed',
        'On trial:   v2, boot 1 of 2 (armed)',
        'Failed:     v0: fell back',
        'Check:      50-app (required) failed exit 1',
        '              connecting',
        '              connection refused',
      ].join('\n'),
    );
  });

  it('gives the same facts as JSON', () => {
    const j = healthStatusJson(RED);
    expect(j.failed_checks).toEqual([{ name: '50-app', kind: 'required', result: 'failed', exit_code: 1, output_tail: 'connecting\nconnection refused\n' }]);
    expect(j.trial).toEqual({ release: 'v2', attempts: 1, max_attempts: 2, phase: 'armed' });
    expect(j.last_time).toBe('2026-12-01T10:00:00.000Z');
  });

  it('says "never judged" before the first run', () => {
    expect(healthStatusText(EMPTY_RECORD)).toBe('Health:     never judged');
  });
});
