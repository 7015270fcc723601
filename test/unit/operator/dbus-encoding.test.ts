import { describe, expect, it } from 'vitest';
import dbus from 'dbus-next';
import { changedProperties, toProperties } from '../../../src/agent/operator/dbus-service.js';
import { decodeProperties } from '../../../src/agent/operator/dbus-client.js';
import { busAddressFrom, describeFailure } from '../../../src/agent/operator/cli-support.js';
import { DbusClientError } from '../../../src/agent/operator/errors.js';
import { statusText } from '../../../src/agent/operator/status-format.js';
import type { AgentSnapshot } from '../../../src/agent/operator/snapshot.js';

const fresh: AgentSnapshot = {
  state: 'initialized',
  bootedVersion: null,
  bootedChecksum: null,
  targetVersion: null,
  stagedVersion: null,
  lastCheckTimeMs: null,
  strategy: 'immediate',
  statusText: '',
  healthVerdict: null,
  healthFailedChecks: [],
};

function wire(s: AgentSnapshot): Record<string, InstanceType<typeof dbus.Variant>> {
  const p = toProperties(s);
  return Object.fromEntries(
    Object.entries(p).map(([k, v]) => [k, new dbus.Variant(k === 'LastCheckTime' ? 't' : k === 'HealthFailedChecks' ? 'a(ss)' : 's', k === 'LastCheckTime' ? BigInt(v as number) : v)]),
  );
}

describe('agent/operator D-Bus encoding', () => {
  it('encodes "none" as empty string and never-checked as 0, and decodes back', () => {
    expect(toProperties(fresh)).toMatchObject({ BootedVersion: '', LastCheckTime: 0, StatusText: '' });
    expect(decodeProperties(wire(fresh))).toEqual(fresh);
    const staged = { ...fresh, state: 'staged', stagedVersion: '2', lastCheckTimeMs: 1_700_000_000_000 };
    expect(decodeProperties(wire(staged))).toEqual(staged);
  });

  it('carries the health verdict and the failed checks with their output tails', () => {
    const red = { ...fresh, healthVerdict: 'rolled_back', healthFailedChecks: [{ name: 'unit:web.service', outputTail: 'line 1\nconnection refused\n' }] };
    expect(toProperties(red)).toMatchObject({ HealthVerdict: 'rolled_back', HealthFailedChecks: [['unit:web.service', 'line 1\nconnection refused\n']] });
    expect(decodeProperties(wire(red))).toEqual(red);
    expect(statusText(red)).toMatch(/^Health: +rolled_back\n {2}failed: +unit:web\.service: connection refused$/m);
    expect(changedProperties(toProperties(red), toProperties(red))).toEqual({});
    expect(changedProperties(toProperties(fresh), toProperties(red))).toEqual({ HealthVerdict: 'rolled_back', HealthFailedChecks: [['unit:web.service', 'line 1\nconnection refused\n']] });
  });

  it('reads a reply of an older agent without the health properties as "no verdict"', () => {
    const { HealthVerdict: _v, HealthFailedChecks: _c, ...older } = wire(fresh);
    expect(decodeProperties(older)).toEqual(fresh);
  });

  it('truncates the check time to whole seconds', () => {
    expect(toProperties({ ...fresh, lastCheckTimeMs: 1_700_000_000_999 }).LastCheckTime).toBe(1_700_000_000);
  });

  it('reports only changed properties', () => {
    const a = toProperties(fresh);
    expect(changedProperties(a, a)).toEqual({});
    expect(changedProperties(a, toProperties({ ...fresh, state: 'end', strategy: 'fleet_lock' }))).toEqual({ State: 'end', Strategy: 'fleet_lock' });
  });

  it.each([
    ['not a dict', null, /not a dictionary/],
    ['wrong type', { ...wire(fresh), State: new dbus.Variant('u', 3) }, /property State: expected a string/],
    ['missing property', (({ StatusText: _s, ...rest }) => rest)(wire(fresh)), /property StatusText/],
    ['bad time', { ...wire(fresh), LastCheckTime: new dbus.Variant('s', 'x') }, /LastCheckTime: expected uint64/],
    ['unknown strategy', { ...wire(fresh), Strategy: new dbus.Variant('s', 'yolo') }, /unknown strategy 'yolo'/],
    ['health checks not pairs', { ...wire(fresh), HealthFailedChecks: new dbus.Variant('as', ['x']) }, /HealthFailedChecks: expected an array/],
  ])('rejects a malformed reply (%s) with a typed error', (_name, raw, msg) => {
    expect(() => decodeProperties(raw)).toThrow(msg);
    expect(() => decodeProperties(raw)).toThrow(DbusClientError);
  });
});

describe('agent/operator CLI support', () => {
  it.each([
    [undefined, {}, null],
    [undefined, { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' }, 'unix:path=/x'],
    ['unix:path=/flag', { DBUS_SYSTEM_BUS_ADDRESS: 'unix:path=/x' }, 'unix:path=/flag'],
    ['', { DBUS_SYSTEM_BUS_ADDRESS: '' }, null],
  ])('bus address from flag %s and env %j is %s', (flag, env, want) => {
    expect(busAddressFrom(flag, env)).toBe(want);
  });

  it.each([
    ['no_bus', 'x'],
    ['not_running', 'x'],
    ['access_denied', 'x (run as root)'],
    ['failed', 'x'],
    ['bad_reply', 'x'],
  ] as const)('maps client failure %s to exit code 1 and message %j', (kind, message) => {
    expect(describeFailure(new DbusClientError(kind, 'x'))).toEqual({ code: 1, message });
  });

  it('shows never-checked and empty values readably', () => {
    expect(statusText(fresh)).toBe(
      ['State:      initialized', 'Status:     -', 'Strategy:   immediate', 'Booted:     -', 'Checksum:   -', 'Target:     -', 'Staged:     -', 'Last check: never', 'Health:     -'].join('\n'),
    );
  });
});
