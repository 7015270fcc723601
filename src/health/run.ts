// Runs one check or hook: its own process group, a deadline on the injected clock (the whole group is
// killed with SIGKILL when it passes), stdin closed, output kept as a bounded tail.
import { spawn } from 'node:child_process';
import type { Clock } from '../common/clock.js';
import { OUTPUT_TAIL_CHARS } from './record.js';

/** The outcome of one command. */
export interface RunResult {
  /** `passed` (exit 0), `failed` (non-zero exit, signal or spawn error), `timeout` (killed at the deadline). */
  readonly result: 'passed' | 'failed' | 'timeout';
  /** Exit code, or null after a signal or spawn error. */
  readonly exitCode: number | null;
  /** The last {@link OUTPUT_TAIL_CHARS} characters of stdout and stderr, interleaved as they came. */
  readonly outputTail: string;
}

/** Runs `argv` for at most `timeoutMs` (clock-measured). Never throws. */
export async function runCommand(argv: readonly string[], opts: { readonly timeoutMs: number; readonly clock: Clock; readonly env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  let tail = '';
  const keep = (chunk: string): void => {
    tail = (tail + chunk).slice(-OUTPUT_TAIL_CHARS);
  };
  const stop = new AbortController();
  try {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    const done = new Promise<RunResult>((resolve) => {
      child.once('error', (err) => {
        keep(`${err.message}\n`);
        resolve({ result: 'failed', exitCode: null, outputTail: tail });
      });
      child.once('close', (code, signal) => {
        resolve({ result: code === 0 ? 'passed' : 'failed', exitCode: code, outputTail: signal ? `${tail}(killed by ${signal})\n` : tail });
      });
    });
    const timedOut = opts.clock.sleep(opts.timeoutMs, stop.signal).then(
      () => {
        // The whole process group: a check's children must not outlive it (or hold its pipes open).
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        child.stdout.destroy();
        child.stderr.destroy();
        return { result: 'timeout' as const, exitCode: null, outputTail: `${tail}(killed after ${opts.timeoutMs} ms)\n` };
      },
      () => new Promise<never>(() => undefined),
    );
    return await Promise.race([done, timedOut]);
  } catch (err: unknown) {
    return { result: 'failed', exitCode: null, outputTail: `${tail}${(err as Error).message}\n` };
  } finally {
    stop.abort();
  }
}
