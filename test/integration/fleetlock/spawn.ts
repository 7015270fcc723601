// Spawns the built alt-fleetlockd (`node dist/src/fleetlock/server/main.js`) and waits for its
// `listening` log line.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

// The repository root, from test/integration/fleetlock (vitest) or dist/test/integration/fleetlock
// (the demo), independent of the working directory.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/dist\/$/, '/');
/** Path of the built server entry point. */
export const SERVER_MAIN = `${ROOT}dist/src/fleetlock/server/main.js`;
/** Path of the built CLI entry point. */
export const CLI_MAIN = `${ROOT}dist/src/cli/main.js`;

/** A spawned server. */
export interface Spawned {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Sends `signal` and waits for the exit; resolves to the exit code (null when killed by a signal). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts the server with `args`; rejects with its output when it exits before listening. `main` is
 * another build's entry point (the real-node tests run a frozen checkout's).
 */
export function spawnServer(args: string[], main = SERVER_MAIN): Promise<Spawned> {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 20_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /event=listening url=(\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1]!,
          child,
          output: () => out,
          stop: async (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exit;
          },
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
}

/** Runs the built server to completion (for start-up failures); resolves to exit code and output. */
export function runServerToExit(args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [SERVER_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output: out })));
}

/** Runs the built CLI; resolves to exit code, stdout and stderr. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}
