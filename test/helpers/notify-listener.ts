// A stand-in for PID 1's notify socket: a python3 AF_UNIX datagram listener that records every
// sd_notify message with the sender pid (SCM_CREDENTIALS). It closes passed fds, which is what
// systemd-notify's BARRIER=1 waits for, and leaves the barrier messages out.
import { spawn, type ChildProcess } from 'node:child_process';

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

/** One received notification: its raw text (newline-separated assignments) and sender pid. */
export interface Datagram {
  readonly data: string;
  readonly pid: number | null;
}

/** A listening notify socket. */
export interface NotifyListener {
  /** The listener process (kill it when done). */
  readonly proc: ChildProcess;
  /** Every message so far, in arrival order. */
  readonly messages: Datagram[];
}

/** The assignments of one message, without systemd-notify's own `MAINPID=`. */
export function assignments(m: Datagram): string[] {
  return m.data.split('\n').filter((a) => a !== '' && !a.startsWith('MAINPID='));
}

/** Binds a datagram socket at `path` and resolves once it listens. */
export async function startNotifyListener(path: string): Promise<NotifyListener> {
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
