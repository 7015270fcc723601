import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Registry, escapeLabelValue, formatValue } from '../../../src/agent/operator/prometheus.js';
import { createAgentMetrics } from '../../../src/agent/operator/metrics.js';
import { parseListenAddress } from '../../../src/agent/operator/metrics-server.js';

// Reverses the exposition-format escaping, the way a Prometheus parser reads a label value.
function unescapeLabelValue(s: string): string {
  return s.replace(/\\(["\\n])/g, (_m, c: string) => (c === 'n' ? '\n' : c));
}

describe('agent/operator/prometheus', () => {
  it('renders HELP, TYPE and samples in registration order', () => {
    const r = new Registry();
    const c = r.counter('x_checks_total', 'Checks.');
    const g = r.gauge('x_errors', 'Errors by kind.', ['kind']);
    c.inc();
    c.inc({}, 2);
    g.set(1.5, { kind: 'a"b' });
    expect(r.render()).toBe(
      [
        '# HELP x_checks_total Checks.',
        '# TYPE x_checks_total counter',
        'x_checks_total 3',
        '# HELP x_errors Errors by kind.',
        '# TYPE x_errors gauge',
        'x_errors{kind="a\\"b"} 1.5',
        '',
      ].join('\n'),
    );
  });

  it('refuses a decreasing counter, wrong labels and duplicate names', () => {
    const r = new Registry();
    const c = r.counter('a_total', 'A.', ['kind']);
    expect(() => c.inc({ kind: 'x' }, -1)).toThrow(/cannot decrease/);
    expect(() => c.inc({})).toThrow(/takes labels \[kind\]/);
    expect(() => c.inc({ kind: 'x', other: 'y' })).toThrow(/takes labels/);
    expect(() => r.counter('a_total', 'again')).toThrow(/registered twice/);
    expect(() => r.gauge('bad-name', 'B.')).toThrow(/invalid metric name/);
  });

  it.each([
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [0.25, '0.25'],
    [1700000000, '1700000000'],
  ])('formats %s as %s', (v, want) => {
    expect(formatValue(v)).toBe(want);
  });

  it('escapes any label value so that a parser reads back the original', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (v) => {
        const esc = escapeLabelValue(v);
        expect(esc).not.toMatch(/\n/);
        expect(esc).not.toMatch(/(^|[^\\])(\\\\)*"/);
        expect(unescapeLabelValue(esc)).toBe(v);
      }),
    );
  });
});

describe('agent/operator/metrics', () => {
  it('exposes every unlabelled counter at 0 from the start, and the process start time', () => {
    const m = createAgentMetrics({ processStartMs: 1_700_000_000_999 });
    const text = m.render();
    expect(text).toContain('\nprocess_start_time_seconds 1700000000\n');
    expect(text).toContain('\nalt_updated_cincinnati_update_checks_total 0\n');
    expect(text).not.toMatch(/^alt_updated_identity_os_info/m);
  });

  it('replaces the info gauges when identity or strategy change', () => {
    const m = createAgentMetrics({ processStartMs: 0 });
    m.identity({ osVersion: '1', basearch: 'x86_64', stream: 'altcos/x86_64/sisyphus', platform: 'metal', rolloutWariness: null });
    m.identity({ osVersion: '2', basearch: 'x86_64', stream: 'altcos/x86_64/sisyphus', platform: 'metal', rolloutWariness: 0.5 });
    m.configured({ updatesEnabled: true, allowDowngrade: false, strategy: 'immediate', periodicScheduleLengthMinutes: null });
    m.configured({ updatesEnabled: false, allowDowngrade: true, strategy: 'periodic', periodicScheduleLengthMinutes: 90 });
    const text = m.render();
    expect(text.match(/^alt_updated_identity_os_info\{.*$/gm)).toEqual([
      'alt_updated_identity_os_info{os_version="2",basearch="x86_64",stream="altcos/x86_64/sisyphus",platform="metal"} 1',
    ]);
    expect(text).toContain('\nalt_updated_identity_rollout_wariness 0.5\n');
    expect(text.match(/^alt_updated_updates_strategy_mode\{.*$/gm)).toEqual(['alt_updated_updates_strategy_mode{strategy="periodic"} 1']);
    expect(text).toContain('\nalt_updated_updates_strategy_periodic_schedule_length_seconds 5400\n');
    expect(text).toContain('\nalt_updated_update_agent_updates_enabled 0\n');
    expect(text).toContain('\nalt_updated_update_agent_updates_allow_downgrade 1\n');
  });

  it('counts errors by kind and fleet-lock calls by api', () => {
    const m = createAgentMetrics({ processStartMs: 0 });
    m.updateCheckFailed('generic_http_503');
    m.updateCheckFailed('generic_http_503');
    m.fleetLockRequest('pre_reboot');
    m.fleetLockError('pre_reboot', 'failed_lock');
    m.refreshed(1_700_000_123_456);
    const text = m.render();
    expect(text).toContain('\nalt_updated_cincinnati_update_checks_errors_total{kind="generic_http_503"} 2\n');
    expect(text).toContain('\nalt_updated_strategy_fleet_lock_requests_total{api="pre_reboot"} 1\n');
    expect(text).toContain('\nalt_updated_strategy_fleet_lock_errors_total{api="pre_reboot",kind="failed_lock"} 1\n');
    expect(text).toContain('\nalt_updated_update_agent_last_refresh_timestamp 1700000123\n');
  });
});

describe('agent/operator/metrics-server parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9100', { host: '127.0.0.1', port: 9100 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:9100', { host: '::1', port: 9100 }],
  ])('accepts %s', (s, want) => {
    expect(parseListenAddress(s)).toEqual(want);
  });
  it.each(['0.0.0.0:9100', '192.168.1.1:80', '[::]:1', 'localhost', '127.0.0.1:70000', ':9100'])('rejects %s', (s) => {
    expect(() => parseListenAddress(s)).toThrow(/agent\.metrics\.listen/);
  });
});
