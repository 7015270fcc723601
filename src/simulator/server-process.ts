// One server executable of the simulation (alt-graphd or alt-fleetlockd, the built dist/ mains) as a
// child process on the simulation clock: spawned with ALT_SIM_CLOCK=ipc and a Node IPC channel, it
// takes its time from `syncClock` (src/common/sim-clock.ts is the other end). It can be SIGKILLed and
// started again with the same arguments (same port, same data), and reports its peak memory.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isClockMessage, SIM_CLOCK_ENV, type ClockMessage } from '../common/sim-clock.js';
import { SimulatorError } from './errors.js';

// The repository root, from src/simulator (vitest) or dist/src/simulator (npm run simulate).
const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/dist\/$/, '/');

/** The built entry point `rel` (e.g. `graph-server/main.js`) under dist/src. */
export function builtMain(rel: string): string {
  return `${ROOT}dist/src/${rel}`;
}

const START_TIMEOUT_MS = 60_000;
const ACK_TIMEOUT_MS = 60_000;

/** Reads VmHWM and VmRSS of `pid` from /proc, in MiB (null where unreadable: the process is gone). */
export async function procMemoryMiB(pid: number): Promise<{ hwm: number; rss: number } | null> {
  try {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    const hwm = kb('VmHWM');
    const rss = kb('VmRSS');
    return Number.isFinite(hwm) && Number.isFinite(rss) ? { hwm: hwm / 1024, rss: rss / 1024 } : null;
  } catch {
    return null;
  }
}

/** Resolves once `child` has exited (at once when it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** A server executable run on the simulation clock. */
export class ServerProcess {
  readonly name: string;
  readonly #main: string;
  readonly #args: readonly string[];
  readonly #ready: RegExp;
  readonly #clock: () => ClockMessage;
  readonly #log: WriteStream;
  #child: ChildProcess | null = null;
  #pids: number[] = [];
  #peakMiB = 0;
  #acks = new Map<number, () => void>();

  /**
   * `ready` matches the server's log line once it listens; `clock` gives the current virtual time;
   * the server's output goes to `logFile`.
   */
  constructor(o: { name: string; main: string; args: readonly string[]; ready: RegExp; clock: () => ClockMessage; logFile: string }) {
    this.name = o.name;
    this.#main = o.main;
    this.#args = o.args;
    this.#ready = o.ready;
    this.#clock = o.clock;
    this.#log = createWriteStream(o.logFile, { flags: 'a' });
  }

  /** Pids of every start, first to last. */
  get pids(): readonly number[] {
    return this.#pids;
  }

  /** True while the current process runs. */
  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Spawns the server and resolves once it is on the virtual clock and listening. */
  async start(): Promise<void> {
    const child = spawn(process.execPath, [this.#main, ...this.#args], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: { ...process.env, [SIM_CLOCK_ENV]: 'ipc' },
    });
    this.#child = child;
    if (child.pid !== undefined) this.#pids.push(child.pid);
    // A dying child closes the channel; a send racing that must not crash the simulator.
    child.on('error', () => undefined);
    child.on('message', (m: unknown) => {
      const r = m as { type?: unknown; monotonicMs?: unknown };
      if (r.type === 'clock-ready') this.#send(this.#clock());
      else if (r.type === 'clock-ack' && typeof r.monotonicMs === 'number') this.#acks.get(r.monotonicMs)?.();
    });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(`did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new SimulatorError('SIM_SERVER', `${this.name} ${why}:\n${out.slice(-2000)}`));
      };
      const onData = (d: Buffer): void => {
        this.#log.write(d);
        if (out.length < 100_000) out += d.toString();
        if (this.#ready.test(out)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => fail(`exited (${signal ?? code ?? '?'}) before listening`));
      child.once('error', (err) => fail(`could not be run: ${err.message}`));
    });
  }

  #send(m: ClockMessage): void {
    if (this.running && this.#child!.connected) this.#child!.send(m, () => undefined);
  }

  /** Sets the server's clock to the virtual now and waits for its acknowledgement (no-op while down). */
  async syncClock(): Promise<void> {
    const child = this.#child;
    if (child === null || !this.running || !child.connected) return;
    const m = this.#clock();
    if (!isClockMessage(m)) throw new SimulatorError('SIM_SERVER', `bad clock message for ${this.name}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SimulatorError('SIM_SERVER', `${this.name} did not acknowledge the clock within ${ACK_TIMEOUT_MS / 1000} s`)), ACK_TIMEOUT_MS);
      const done = (): void => {
        clearTimeout(timer);
        this.#acks.delete(m.monotonicMs);
        child.off('exit', done);
        resolve();
      };
      this.#acks.set(m.monotonicMs, done);
      // A server that dies meanwhile has no clock to set.
      child.once('exit', done);
      this.#send(m);
    });
  }

  /** Peak resident memory (VmHWM) over every start so far, MiB (read at kill and on `sample`). */
  get peakMiB(): number {
    return this.#peakMiB;
  }

  /** Reads the current process's VmHWM into {@link peakMiB}. */
  async sample(): Promise<void> {
    const pid = this.#child?.pid;
    if (pid === undefined || !this.running) return;
    const m = await procMemoryMiB(pid);
    if (m !== null) this.#peakMiB = Math.max(this.#peakMiB, m.hwm);
  }

  /** SIGKILLs the server (no shutdown of any kind) and waits for it to be gone. */
  async kill(): Promise<void> {
    await this.sample();
    const child = this.#child;
    if (child === null) return;
    if (this.running) child.kill('SIGKILL');
    await exited(child);
  }

  /** SIGTERMs the server (its normal shutdown), closes the channel, waits; SIGKILL after 10 s. */
  async stop(): Promise<void> {
    await this.sample();
    const child = this.#child;
    if (child !== null && this.running) {
      child.kill('SIGTERM');
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(timer);
    }
    await new Promise<void>((r) => this.#log.end(() => r()));
  }
}
