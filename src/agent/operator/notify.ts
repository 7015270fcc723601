// sd_notify(3) for the agent. Node core has no AF_UNIX datagram sockets and we take no native addon,
// so each notification is handed to `systemd-notify --pid=<our pid>` (style guide rule 20).
//  - As root the helper sends our pid as the sender credential; as the unprivileged service user the
//    kernel refuses that and the helper's own pid is used, so the unit needs `NotifyAccess=all`.
//  - systemd-notify (v246+) waits on a BARRIER=1 round trip before exiting, so the manager has read
//    the message while the helper still exists (the classic "sender already gone" race is closed).
//  - Calls are queued: READY=1 always reaches the manager before a later STATUS=, in call order.
//  - With NOTIFY_SOCKET unset (not under systemd, tests) every call is a no-op.
import { spawn } from 'node:child_process';
import type { Logger } from '../../common/logger.js';

/** The agent's view of the service manager: start-up done, human status, shutdown, liveness. */
export interface Notifier {
  /** Sends READY=1 (plus STATUS= when given): configuration is valid and the agent runs. */
  ready(status?: string): Promise<void>;
  /** Sends STATUS=<text>, the one-line state shown by `systemctl status` and rpm-ostree. */
  status(text: string): Promise<void>;
  /** Sends STOPPING=1 with an empty STATUS=, as Zincati does on SIGTERM. */
  stopping(): Promise<void>;
  /** Sends WATCHDOG=1; call every `watchdogIntervalMs()` when the unit sets `WatchdogSec=`. */
  watchdog(): Promise<void>;
}

/** Options for {@link createNotifier}. */
export interface NotifierOptions {
  /** Environment holding NOTIFY_SOCKET (normally `process.env`). */
  readonly env: NodeJS.ProcessEnv;
  /** Our pid, sent as `--pid=` so the manager attributes the message to the main process. */
  readonly pid: number;
  /** Where send failures are reported; they never propagate. */
  readonly logger: Logger;
  /** Helper binary. @default "systemd-notify" */
  readonly command?: string;
  /** Kill a helper that has not finished after this long, in milliseconds. @default 10000 */
  readonly timeoutMs?: number;
}

/** A notifier that does nothing, for runs outside systemd. */
export function noopNotifier(): Notifier {
  const done = (): Promise<void> => Promise.resolve();
  return { ready: done, status: done, stopping: done, watchdog: done };
}

/** STATUS= is one line of the datagram: newlines would start a new assignment, so fold them. */
export function statusAssignment(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ')}`;
}

/**
 * The watchdog ping interval in milliseconds (half of WATCHDOG_USEC), or null when the manager did
 * not ask for pings or asked another process (WATCHDOG_PID differs from `pid`).
 */
export function watchdogIntervalMs(env: NodeJS.ProcessEnv, pid: number): number | null {
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isSafeInteger(usec) || usec <= 0) return null;
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) return null;
  return Math.max(1, Math.floor(usec / 2000));
}

/** Builds the systemd-notify backed notifier, or a no-op one when NOTIFY_SOCKET is unset. */
export function createNotifier(opts: NotifierOptions): Notifier {
  const socket = opts.env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return noopNotifier();
  const command = opts.command ?? 'systemd-notify';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const log = opts.logger.child({ component: 'operator.notify' });
  let queue: Promise<void> = Promise.resolve();
  let disabled = false;

  const run = (assignments: string[]): Promise<void> =>
    new Promise<void>((resolve) => {
      const child = spawn(command, [`--pid=${opts.pid}`, ...assignments], {
        env: { PATH: opts.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.on('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A missing helper will not appear later: say it once, then stop trying.
        if (err.code === 'ENOENT') disabled = true;
        log.error({ err: err.message }, `failed to notify service manager of service status change: ${err.message}`);
        resolve();
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) {
          const why = signal ?? `exit code ${String(code)}`;
          log.error({ stderr: stderr.trim() }, `failed to notify service manager of service status change: ${command} ${why}`);
        }
        resolve();
      });
    });

  const send = (assignments: string[]): Promise<void> => {
    queue = queue.then(() => (disabled ? undefined : run(assignments)));
    return queue;
  };

  return {
    ready: (status) => send(status === undefined ? ['READY=1'] : ['READY=1', statusAssignment(status)]),
    status: (text) => send([statusAssignment(text)]),
    stopping: () => send(['STOPPING=1', 'STATUS=']),
    watchdog: () => send(['WATCHDOG=1']),
  };
}
