import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { memoryLogger } from '../../../src/common/logger.js';
import { OstreeClientError } from '../../../src/ostree/client/errors.js';
import { busyDelayMs, classifyCallError, isBusy, withBusyRetry } from '../../../src/ostree/client/remote-errors.js';
import { confirmStaged } from '../../../src/ostree/client/client.js';
import type { Deployment, DeploymentSet } from '../../../src/ostree/deployment.js';

/** The shape of a rejected dbus-next call (DBusError: name 'DBusError', type = D-Bus error name). */
const dbusError = (type: string, text: string): Error => Object.assign(new Error(text), { name: 'DBusError', type, text });
const BUSY_NAME = 'org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code26';

describe('src/ostree/client/remote-errors', () => {
  it.each([
    [BUSY_NAME, 'whatever', true],
    ['org.projectatomic.rpmostreed.Error.UpdateInProgress', 'x', true],
    ['org.gtk.GDBus.UnmappedGError.Quark._g_2dio_2derror_2dquark.Code0', 'Transaction in progress: deploy', true],
    ['org.freedesktop.DBus.Error.Failed', 'System transaction in progress', true],
    ['org.freedesktop.DBus.Error.Failed', 'Reboot initiated, cannot start new transaction', false],
  ])('isBusy(%s, %s) = %s', (name, text, busy) => {
    expect(isBusy({ name, text })).toBe(busy);
  });

  it.each([
    ['org.freedesktop.DBus.Error.ServiceUnknown', 'OSTREE_BACKEND_GONE'],
    ['org.freedesktop.DBus.Error.Disconnected', 'OSTREE_BACKEND_GONE'],
    ['org.freedesktop.DBus.Error.NoReply', 'OSTREE_BACKEND_GONE'],
    ['org.freedesktop.DBus.Error.AccessDenied', 'OSTREE_ACCESS_DENIED'],
    [BUSY_NAME, 'OSTREE_BUSY'],
    ['org.freedesktop.DBus.Error.NotSupported', 'OSTREE_CALL_FAILED'],
  ])('classifies %s as %s, keeping the remote error', (name, code) => {
    const e = classifyCallError(dbusError(name, 'text'), 'Deploy');
    expect(e.code).toBe(code);
    expect(e.kind).toBe(code.toLowerCase());
    expect(e.remote).toEqual({ name, text: 'text' });
  });

  it('classifies a non-D-Bus failure as ostree_call_failed', () => {
    expect(classifyCallError(new TypeError('boom'), 'x')).toMatchObject({ code: 'OSTREE_CALL_FAILED', remote: null });
  });

  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [5, 16000],
    [6, 30000],
    [20, 30000],
  ])('backs off %i attempts -> %i ms', (n, ms) => {
    expect(busyDelayMs(n, { attempts: 10, initialDelayMs: 1000, maxDelayMs: 30_000 })).toBe(ms);
  });

  it('retries only busy errors, sleeping on the injected clock', async () => {
    const clock = new ManualClock(0);
    const answers = [dbusError(BUSY_NAME, 'Transaction in progress: a'), dbusError(BUSY_NAME, 'Transaction in progress: a')];
    let calls = 0;
    const p = withBusyRetry(
      'Deploy',
      () => {
        calls++;
        const next = answers.shift();
        return next ? Promise.reject(next) : Promise.resolve('addr');
      },
      { clock, logger: memoryLogger(), policy: { attempts: 5, initialDelayMs: 100, maxDelayMs: 1000 } },
    );
    await Promise.resolve();
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    clock.advance(100);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(2);
    clock.advance(200);
    expect(await p).toBe('addr');
    expect(calls).toBe(3);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    const err = await withBusyRetry(
      'Deploy',
      () => {
        calls++;
        return Promise.reject(dbusError('org.freedesktop.DBus.Error.AccessDenied', 'no'));
      },
      { clock: new ManualClock(0), logger: memoryLogger(), policy: { attempts: 5, initialDelayMs: 100, maxDelayMs: 1000 } },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OstreeClientError);
    expect(calls).toBe(1);
  });
});

describe('src/ostree/client confirmStaged', () => {
  const dep = (over: Partial<Deployment>): Deployment => ({
    id: 'x', osname: 'altcos', checksum: 'a'.repeat(64), version: '1', origin: null, stream: 'sisyphus', timestampMs: 0,
    serial: 0, booted: false, staged: false, finalizationLocked: false, pinned: false, ...over,
  });
  const set = (staged: Deployment | null): DeploymentSet => {
    const booted = dep({ booted: true, checksum: 'c'.repeat(64) });
    return { deployments: staged ? [staged, booted] : [booted], booted, staged, rollback: null };
  };
  const rel = { payload: 'b'.repeat(64), version: '2' };

  it.each([
    ['missing', set(null)],
    ['checksum', set(dep({ staged: true, checksum: 'd'.repeat(64), version: '2' }))],
    ['version', set(dep({ staged: true, checksum: 'b'.repeat(64), version: '3' }))],
    ['stream', set(dep({ staged: true, checksum: 'b'.repeat(64), version: '2', stream: 'p11' }))],
  ])('fails with field %s', (field, s) => {
    expect(() => confirmStaged(s, rel, true)).toThrow(expect.objectContaining({ code: 'OSTREE_STAGE_MISMATCH', field }) as Error);
  });

  it('accepts the exact release, and another stream when not asked to check it', () => {
    const st = dep({ staged: true, checksum: 'b'.repeat(64), version: '2', stream: 'p11' });
    expect(confirmStaged(set(st), rel, false)).toBe(st);
    const same = dep({ staged: true, checksum: 'b'.repeat(64), version: '2' });
    expect(confirmStaged(set(same), rel, true)).toBe(same);
  });
});
