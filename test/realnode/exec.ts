// Running host commands for the real-node harness: one helper, so every failure names the command
// and carries its stderr (a debootstrap or ostree error is then readable in the test output).
import { execFile } from 'node:child_process';

/** Options of {@link run}. */
export interface RunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly input?: string;
  /** Kill the command after this many milliseconds. @default no limit */
  readonly timeoutMs?: number;
}

/** Output of a finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Runs `cmd args` and resolves with its output and exit code; with `check` (the default) a non-zero
 * exit rejects with an error naming the command, its exit code and the end of its stderr.
 */
export function run(cmd: string, args: readonly string[], opts: RunOptions & { check?: boolean } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      [...args],
      { env: opts.env ?? process.env, cwd: opts.cwd, maxBuffer: 256 << 20, timeout: opts.timeoutMs ?? 0, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
        if (code !== 0 && opts.check !== false) {
          const tail = stderr.trim().split('\n').slice(-15).join('\n');
          reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}${err?.killed ? ' (killed)' : ''}\n${tail}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/**
 * The `nsenter` arguments that run `cmd` inside the container whose PID 1 has host pid `leader`: every
 * namespace entered, and `cmd` a child, in the container's PID namespace, of a shell outside it.
 *
 * Not nsenter's own fork (the default when it enters a PID namespace): its parent half waits with
 * WUNTRACED and stops itself whenever the child stops. systemd-shutdown SIGSTOPs every process before
 * it kills them, so a command still running at a node's reboot left nsenter stopped for good, the
 * command an unreaped zombie, and the container's PID 1 waiting for it in the kernel
 * (zap_pid_ns_processes): nspawn never exited and the node never rebooted (CI's kill-mid-stage hang).
 * With `-F` nsenter execs the shell, which setns left forking into the container's PID namespace;
 * a non-interactive shell reaps its child without caring about stops. `cmd` runs in a subshell, a
 * forked child: a builtin (`kill`!) run by the outer shell itself would act in the host's PID
 * namespace, and `; exit $?` keeps the outer shell from exec'ing the subshell in its own place.
 */
export function guestArgv(leader: number, cmd: readonly string[]): string[] {
  return ['-t', String(leader), '-a', '-F', '--', '/bin/sh', '-c', '("$@"); exit $?', 'sh', ...cmd];
}
