// The only place alt-ostreed spawns processes: every command goes through the configured prefix
// (empty on a real host, the fake-boot wrapper in tests and the demo).
import { spawn } from 'node:child_process';
import { OstreeCommandError } from './errors.js';

/** Result of a command that exited 0. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for one command. */
export interface CommandOptions {
  /** Data written to standard input. */
  readonly input?: string;
  /** Aborts the command (SIGTERM) — used by transaction `Cancel`. */
  readonly signal?: AbortSignal;
  /** Called with each output line (stdout and stderr), for progress messages. */
  readonly onLine?: (line: string) => void;
}

/** Runs argv (after the prefix); rejects with OstreeCommandError on a non-zero exit. */
export type CommandRunner = (argv: readonly string[], opts?: CommandOptions) => Promise<CommandResult>;

/** A runner that spawns `[...prefix, ...argv]` with the daemon's environment. */
export function processRunner(prefix: readonly string[], env: NodeJS.ProcessEnv = process.env): CommandRunner {
  return (argv, opts = {}) =>
    new Promise<CommandResult>((resolve, reject) => {
      const full = [...prefix, ...argv];
      // Own process group, so Cancel stops the whole pipeline (`sh -c` and the ostree it runs).
      const child = spawn(full[0]!, full.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
      const onAbort = (): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
        } catch {
          // already gone
        }
      };
      if (opts.signal?.aborted) onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      let stdout = '';
      let stderr = '';
      let partial = '';
      const lines = (chunk: string): void => {
        if (!opts.onLine) return;
        partial += chunk;
        let nl: number;
        while ((nl = partial.search(/[\n\r]/)) >= 0) {
          const line = partial.slice(0, nl).trim();
          partial = partial.slice(nl + 1);
          if (line) opts.onLine(line);
        }
      };
      child.stdout.setEncoding('utf8').on('data', (c: string) => {
        stdout += c;
        lines(c);
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
        lines(c);
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input ?? '');
      let failed: unknown = null;
      child.on('error', (err) => {
        failed = err;
      });
      child.on('close', (code) => {
        opts.signal?.removeEventListener('abort', onAbort);
        if (code === 0 && failed === null) resolve({ stdout, stderr });
        else reject(new OstreeCommandError(argv, code, failed instanceof Error ? `${stderr}\n${failed.message}` : stderr, failed ?? undefined));
      });
    });
}
