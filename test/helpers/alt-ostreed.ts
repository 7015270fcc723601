// Test helper: runs the real alt-ostreed (from dist/) against a private bus and a fake-booted sysroot.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackProcess } from './scope.js';
import type { TestSysroot } from './sysroot.js';

/** Path of the built daemon entry point. */
export const ALT_OSTREED = [
  fileURLToPath(new URL('../../dist/src/ostree/backend/main.js', import.meta.url)), // from test/helpers (vitest)
  fileURLToPath(new URL('../../src/ostree/backend/main.js', import.meta.url)), // from dist/test/helpers (bench, demo)
].find((p) => existsSync(p) && p.includes('/dist/'))!;

/** Options for {@link startBackend}. */
export interface BackendOptions {
  readonly busAddress: string;
  readonly sysroot: TestSysroot;
  /** Non-root users granted `methods`. */
  readonly users?: readonly string[];
  readonly methods?: readonly string[];
  /** Seconds before lingering peers are dropped after Finished. @default 30 */
  readonly forceCloseSecs?: number;
  /** Replace the simulated-reboot hook (e.g. `['true']` to only record nothing). */
  readonly rebootCommand?: readonly string[];
  /** TOML appended to the config (e.g. a `[bootc]` section). */
  readonly extraConfig?: string;
}

/** A running daemon. */
export interface RunningBackend {
  readonly child: ChildProcess;
  /** Everything the daemon printed so far. */
  output(): string;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** SIGKILL and wait (crash simulation). */
  kill(): Promise<void>;
}

const toml = (v: readonly string[]): string => `[${v.map((s) => JSON.stringify(s)).join(', ')}]`;

/** Writes the daemon config for `opts` into the sysroot's state dir and returns its path. */
export async function writeBackendConfig(opts: BackendOptions): Promise<string> {
  const file = join(opts.sysroot.stateDir, 'alt-ostreed.toml');
  const lines = [
    '[ostree]',
    `command-prefix = ${toml(opts.sysroot.commandPrefix)}`,
    `reboot-command = ${toml(opts.rebootCommand ?? opts.sysroot.rebootCommand)}`,
    '[transaction]',
    `socket = ${JSON.stringify(join(opts.sysroot.stateDir, 'transaction.sock'))}`,
    `force-close-timeout-secs = ${opts.forceCloseSecs ?? 30}`,
    '[authorization]',
    `users = ${toml(opts.users ?? [])}`,
  ];
  if (opts.methods) lines.push(`methods = ${toml(opts.methods)}`);
  if (opts.extraConfig) lines.push(opts.extraConfig);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** Starts alt-ostreed and resolves once it owns its bus name (it logs "alt-ostreed ready"). */
export async function startBackend(opts: BackendOptions): Promise<RunningBackend> {
  const config = await writeBackendConfig(opts);
  const child = spawn(process.execPath, [ALT_OSTREED, '--bus-address', opts.busAddress, '--config', config, '--osname', opts.sysroot.osname], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  trackProcess(child);
  let out = '';
  const collect = (c: string): void => {
    out += c;
    // Debugging aid, as the agent suites' debugRecords: `DBG=1` echoes the daemon's log.
    if (process.env.DBG) for (const line of c.split('\n').filter(Boolean)) console.log(new Date().toISOString().slice(11, 23), 'alt-ostreed', line);
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`alt-ostreed did not start:\n${out}`)), 20_000);
    const check = (): void => {
      if (out.includes('alt-ostreed ready')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`alt-ostreed exited with ${String(code)}:\n${out}`));
    });
  });
  const end = async (sig: NodeJS.Signals): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    await exited;
  };
  return { child, output: () => out, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}
