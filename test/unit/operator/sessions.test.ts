import { describe, expect, it } from 'vitest';
import { blocksShutdown, isInteractive, normaliseTty, type UserSession } from '../../../src/agent/operator/sessions.js';
import { broadcastTimestamp, humanDuration, isSafeTtyName, rebootWarning } from '../../../src/agent/operator/broadcast.js';

const s = (o: Partial<UserSession>): UserSession => ({ id: '1', user: 'u', uid: 1000, tty: null, class: 'user', type: 'tty', remote: false, state: 'active', ...o });

describe('agent/operator/sessions', () => {
  it.each([
    [{}, true],
    [{ type: 'x11' }, true],
    [{ type: 'wayland' }, true],
    [{ type: 'unspecified' }, false],
    [{ type: 'unspecified', remote: true }, true],
    [{ class: 'greeter', type: 'x11' }, false],
    [{ class: 'background', remote: true }, false],
    [{ class: 'manager' }, false],
    [{ state: 'closing', remote: true }, false],
    [{ state: 'online' }, true],
  ])('session %j interactive: %s', (o, want) => {
    expect(isInteractive(s(o))).toBe(want);
  });

  it.each([['', null], ['n/a', null], ['pts/3', 'pts/3']])('tty %j -> %j', (t, want) => {
    expect(normaliseTty(t)).toBe(want);
  });

  it('counts only block inhibitors on shutdown', () => {
    const i = { who: 'x', why: 'y', uid: 0, pid: 1 };
    expect(blocksShutdown({ ...i, what: ['shutdown'], mode: 'block' })).toBe(true);
    expect(blocksShutdown({ ...i, what: ['shutdown'], mode: 'delay' })).toBe(false);
    expect(blocksShutdown({ ...i, what: ['sleep', 'idle'], mode: 'block' })).toBe(false);
  });
});

describe('agent/operator/broadcast', () => {
  it.each([
    [0, '0 seconds'],
    [1, '1 second'],
    [60, '1 minute'],
    [90, '1 minute and 30 seconds'],
    [600, '10 minutes'],
    [3661, '1 hour, 1 minute and 1 second'],
    [-5, '0 seconds'],
  ])('%d s reads "%s"', (secs, want) => {
    expect(humanDuration(secs)).toBe(want);
  });

  it.each([
    ['pts/0', true],
    ['tty1', true],
    ['ttyS0', true],
    ['/etc/passwd', false],
    ['../etc/passwd', false],
    ['pts/../../etc', false],
    ['', false],
  ])('tty name %j safe: %s', (t, want) => {
    expect(isSafeTtyName(t)).toBe(want);
  });

  it('stamps the warning with the weekday and UTC time', () => {
    expect(broadcastTimestamp(Date.UTC(2026, 2, 29, 1, 2, 3))).toBe('Sun 2026-03-29 01:02:03 UTC');
    const w = rebootWarning({ version: '41.2', remainingSecs: 60, nowMs: Date.UTC(2026, 2, 29, 1, 2, 3) });
    expect(w.split('\n')[0]).toBe('');
    expect(w).toContain('New update 41.2 is available and has been deployed.');
    expect(w).toContain('or in 1 minute, whichever comes earlier');
  });
});
