// The logind adapter against fakeLogindForTest on a private dbus-daemon, and tty broadcasts into a
// temp directory standing in for /dev.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { createLogindProbe, type SessionProbe } from '../../../src/agent/operator/sessions.js';
import { broadcast, interactiveCheckOverridden, rebootWarning } from '../../../src/agent/operator/broadcast.js';
import { startPrivateBus, type PrivateBus } from '../../helpers/dbus-daemon.js';
import { fakeLogindForTest, type FakeLogind, type FakeSession } from './fake-logind.js';

const base: FakeSession = { id: '1', uid: 1000, user: 'alice', tty: 'pts/0', class: 'user', type: 'tty', remote: true, state: 'active' };

describe('agent/operator/sessions with fakeLogindForTest', () => {
  let bus: PrivateBus;
  let logind: FakeLogind;
  let probe: SessionProbe;

  beforeAll(async () => {
    bus = await startPrivateBus();
    logind = await fakeLogindForTest(
      bus.address,
      [
        base,
        { ...base, id: '2', user: 'bob', tty: 'tty1', remote: false },
        { ...base, id: '3', user: 'carol', tty: '', type: 'wayland', remote: false },
        { ...base, id: '4', user: 'gdm', tty: 'tty2', class: 'greeter', type: 'x11', remote: false },
        { ...base, id: '5', user: 'cron', tty: '', class: 'background', type: 'unspecified', remote: false },
        { ...base, id: '6', user: 'dave', tty: 'pts/1', state: 'closing' },
        { ...base, id: '7', user: 'svc', tty: '', class: 'user', type: 'unspecified', remote: false },
      ],
      [
        ['shutdown:sleep', 'backup', 'nightly backup running', 'block', 0, 4242],
        ['shutdown', 'NetworkManager', 'tidy up', 'delay', 0, 77],
        ['sleep', 'desktop', 'lid', 'block', 1000, 99],
      ],
    );
    logind.vanished = ['9'];
    probe = createLogindProbe({ busAddress: bus.address });
  });
  afterAll(async () => {
    probe.close();
    logind.stop();
    await bus.stop();
  });

  it('lists only user sessions on a terminal, a display or remote, skipping closing and vanished ones', async () => {
    const got = await probe.interactiveSessions();
    expect(got.map((s) => [s.id, s.user, s.tty, s.type, s.remote])).toEqual([
      ['1', 'alice', 'pts/0', 'tty', true],
      ['2', 'bob', 'tty1', 'tty', false],
      ['3', 'carol', null, 'wayland', false],
    ]);
  });

  it('reports only block inhibitors that cover shutdown', async () => {
    expect(await probe.shutdownBlockers()).toEqual([
      { what: ['shutdown', 'sleep'], who: 'backup', why: 'nightly backup running', mode: 'block', uid: 0, pid: 4242 },
    ]);
  });

  it('fails with a typed error when logind is not on the bus', async () => {
    const empty = await startPrivateBus();
    const p = createLogindProbe({ busAddress: empty.address });
    try {
      await expect(p.interactiveSessions()).rejects.toMatchObject({ code: 'OPERATOR_SESSIONS' });
      await expect(p.shutdownBlockers()).rejects.toThrow(/failed to list inhibitors from logind/);
    } finally {
      p.close();
      await empty.stop();
    }
  });

  it('fails with a typed error when the bus itself is unreachable', async () => {
    const p = createLogindProbe({ busAddress: 'unix:path=/nonexistent/bus.sock' });
    try {
      await expect(p.interactiveSessions()).rejects.toMatchObject({ code: 'OPERATOR_SESSIONS' });
    } finally {
      p.close();
    }
  });
});

// A bus daemon on a fixed socket path, so that it can be restarted at the same address.
async function busAt(socket: string): Promise<ChildProcess> {
  const d = spawn('dbus-daemon', ['--session', `--address=unix:path=${socket}`, '--nofork', '--print-address=1'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    d.once('error', reject);
    d.stdout!.once('data', () => resolve());
  });
  return d;
}

async function stopBus(d: ChildProcess): Promise<void> {
  const gone = new Promise<void>((resolve) => d.once('exit', () => resolve()));
  d.kill('SIGTERM');
  await gone;
}

describe('agent/operator/sessions across a bus restart', () => {
  it('fails while the bus is gone, then reconnects on the next call', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'logind-bus-'));
    const socket = join(dir, 'bus.sock');
    let daemon = await busAt(socket);
    let logind = await fakeLogindForTest(`unix:path=${socket}`, [base]);
    const probe = createLogindProbe({ busAddress: `unix:path=${socket}` });
    try {
      expect((await probe.interactiveSessions()).map((s) => s.user)).toEqual(['alice']);
      logind.stop();
      await stopBus(daemon);
      await expect(probe.interactiveSessions()).rejects.toMatchObject({ code: 'OPERATOR_SESSIONS' });
      daemon = await busAt(socket);
      logind = await fakeLogindForTest(`unix:path=${socket}`, [{ ...base, user: 'bob' }]);
      expect((await probe.interactiveSessions()).map((s) => s.user)).toEqual(['bob']);
    } finally {
      probe.close();
      logind.stop();
      await stopBus(daemon);
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('agent/operator/broadcast to tty devices', () => {
  let dev = '';
  beforeAll(async () => {
    dev = await mkdtemp(join(tmpdir(), 'dev-'));
    await mkdir(join(dev, 'pts'));
    await writeFile(join(dev, 'pts', '0'), '');
    await writeFile(join(dev, 'tty1'), '');
  });
  afterAll(async () => rm(dev, { recursive: true, force: true }));

  it('writes the warning once per tty with CRLF line ends, and reports ttys it could not write', async () => {
    const log = memoryLogger();
    const msg = rebootWarning({ version: '20261127.0', remainingSecs: 600, nowMs: Date.UTC(2026, 10, 27, 10, 0, 0) });
    const sessions = [
      { id: '1', user: 'alice', uid: 1000, tty: 'pts/0', class: 'user', type: 'tty', remote: true, state: 'active' },
      { id: '8', user: 'alice', uid: 1000, tty: 'pts/0', class: 'user', type: 'tty', remote: true, state: 'active' },
      { id: '2', user: 'bob', uid: 1001, tty: 'tty1', class: 'user', type: 'tty', remote: false, state: 'active' },
      { id: '3', user: 'carol', uid: 1002, tty: null, class: 'user', type: 'wayland', remote: false, state: 'active' },
      { id: '4', user: 'eve', uid: 1003, tty: 'pts/7', class: 'user', type: 'tty', remote: true, state: 'active' },
      { id: '5', user: 'mallory', uid: 1004, tty: '../etc/passwd', class: 'user', type: 'tty', remote: true, state: 'active' },
    ];
    const r = await broadcast(sessions, msg, { logger: log, devRoot: dev });
    expect(r.sent).toEqual(['pts/0', 'tty1']);
    expect(r.failed.map((f) => f.tty)).toEqual(['pts/7', '../etc/passwd']);
    const written = await readFile(join(dev, 'pts', '0'), 'utf8');
    expect(written).toBe(msg.replace(/\n/g, '\r\n'));
    expect(written).toContain('Broadcast message from alt-updated at Fri 2026-11-27 10:00:00 UTC:');
    expect(written).toContain('or in 10 minutes, whichever comes earlier');
    expect(log.records.at(-1)?.msg).toBe('6 interactive sessions found, but only broadcasted to 2');
  });

  it('sees the override file only when it exists', async () => {
    const f = join(dev, 'override-interactive-check');
    expect(await interactiveCheckOverridden(f)).toBe(false);
    await writeFile(f, '');
    expect(await interactiveCheckOverridden(f)).toBe(true);
  });
});
