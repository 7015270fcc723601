// The notifier against a real AF_UNIX datagram socket (a python3 listener standing in for PID 1's
// notify socket) and the real systemd-notify helper.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../src/common/logger.js';
import { createNotifier } from '../../../src/agent/operator/notify.js';

// Receives datagrams, closes any passed fds (systemd-notify's BARRIER=1 waits for that), prints
// one JSON line per message with the sender pid from SCM_CREDENTIALS.
const LISTENER = `
import socket, sys, os, array, struct, json
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"ready": True}), flush=True)
while True:
    data, anc, _f, _a = s.recvmsg(65536, socket.CMSG_SPACE(64) + socket.CMSG_SPACE(12))
    pid = None
    for level, typ, d in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array('i'); fds.frombytes(d[:len(d) - len(d) % fds.itemsize])
            for fd in fds: os.close(fd)
        if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
            pid = struct.unpack('iII', d[:12])[0]
    print(json.dumps({"data": data.decode(), "pid": pid}), flush=True)
`;

interface Datagram {
  data: string;
  pid: number | null;
}

async function startListener(path: string): Promise<{ proc: ChildProcess; messages: Datagram[] }> {
  const proc = spawn('/usr/bin/python3', ['-c', LISTENER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
  const messages: Datagram[] = [];
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    proc.on('error', reject);
    proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const rec = JSON.parse(buf.slice(0, nl)) as Datagram & { ready?: boolean };
        buf = buf.slice(nl + 1);
        if (rec.ready) resolve();
        else if (rec.data !== 'BARRIER=1') messages.push(rec);
      }
    });
  });
  return { proc, messages };
}

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
    const l = await startListener(path);
    listener = l.proc;
    const log = memoryLogger();
    const n = createNotifier({ env: { NOTIFY_SOCKET: path, PATH: process.env.PATH }, pid: process.pid, logger: log });
    await n.ready('initialization complete, auto-updates logic enabled');
    await n.status('update staged: 41.1\nsecond line');
    await n.watchdog();
    await n.stopping();
    const lines = l.messages.map((m) => m.data.split('\n').filter((a) => !a.startsWith('MAINPID=')));
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
