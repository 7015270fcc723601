// The notifier against a real AF_UNIX datagram socket (test/helpers/notify-listener.ts, standing in
// for PID 1's notify socket) and the real systemd-notify helper.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { createNotifier } from '../../../src/agent/operator/notify.js';
import { assignments, startNotifyListener } from '../../helpers/notify-listener.js';

describe('agent/operator/notify', () => {
  let dir = '';
  let listener: ChildProcess | undefined;
  afterEach(async () => {
    listener?.kill();
    listener = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('delivers READY=1, STATUS= and STOPPING=1 in call order, attributed to our pid', async () => {
    dir = await mkdtemp(join(tmpdir(), 'notify-'));
    const path = join(dir, 'notify.sock');
    const l = await startNotifyListener(path);
    listener = l.proc;
    const log = memoryLogger();
    const n = createNotifier({ env: { NOTIFY_SOCKET: path, PATH: process.env.PATH }, pid: process.pid, logger: log });
    await n.ready('initialization complete, auto-updates logic enabled');
    await n.status('update staged: 41.1\nsecond line');
    await n.watchdog();
    await n.stopping();
    const lines = l.messages.map(assignments);
    expect(lines).toEqual([
      ['READY=1', 'STATUS=initialization complete, auto-updates logic enabled'],
      ['STATUS=update staged: 41.1 second line'],
      ['WATCHDOG=1'],
      ['STOPPING=1', 'STATUS='],
    ]);
    // We run as root here, so systemd-notify can put our pid in the credentials.
    expect(l.messages.map((m) => m.pid)).toEqual([process.pid, process.pid, process.pid, process.pid]);
    expect(log.records.filter((r) => r.level === 'error')).toEqual([]);
  });

  it('does nothing without NOTIFY_SOCKET', async () => {
    const log = memoryLogger();
    const n = createNotifier({ env: { PATH: process.env.PATH }, pid: process.pid, logger: log, command: '/nonexistent' });
    await n.ready();
    await n.status('x');
    expect(log.records).toEqual([]);
  });

  it('logs, and never throws, when the helper is missing', async () => {
    const log = memoryLogger();
    const n = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent.sock' }, pid: process.pid, logger: log, command: '/nonexistent/systemd-notify' });
    await n.ready();
    await n.status('x');
    const errors = log.records.filter((r) => r.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.msg).toMatch(/^failed to notify service manager of service status change/);
  });

  it('logs a failed send when nobody listens on the socket', async () => {
    const log = memoryLogger();
    const n = createNotifier({ env: { NOTIFY_SOCKET: '/nonexistent-dir/notify.sock', PATH: process.env.PATH }, pid: process.pid, logger: log });
    await n.status('x');
    expect(log.records.filter((r) => r.level === 'error')).toHaveLength(1);
  });
});
