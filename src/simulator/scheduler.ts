// Virtual time for the whole simulation. Every simulated node runs as a task; a task waits for
// virtual time only through `sleep` here. Time moves only when every task waits for it (none is
// inside an HTTP request or any other real work): then the clock jumps to the earliest wake-up and
// those tasks run. So a node never sees time pass in the middle of a request, and a 48-hour rollout
// takes as long as its requests take. The one ManualClock is shared with the servers.
import type { ManualClock } from '../common/clock.js';
import { SimulatorError } from './errors.js';

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly wake: () => void;
}

/** Runs tasks on a shared virtual clock. */
export class SimScheduler {
  readonly clock: ManualClock;
  // Sorted by (at, seq): wake-ups in order, ties in the order they were asked for (deterministic).
  #timers: Timer[] = [];
  #seq = 0;
  #running = 0;
  #failure: unknown = null;
  #idle: (() => void) | null = null;

  constructor(clock: ManualClock) {
    this.clock = clock;
  }

  /** Virtual now, ms since the epoch. */
  get nowMs(): number {
    return this.clock.nowMs();
  }

  /** Starts a task; an exception in it ends the run (rethrown by {@link run}). */
  spawn(task: () => Promise<void>): void {
    this.#running++;
    void (async () => {
      try {
        await task();
      } catch (err: unknown) {
        this.#failure ??= err;
      } finally {
        this.#running--;
        this.#checkIdle();
      }
    })();
  }

  /** Waits `ms` of virtual time (at least until the next time step when `ms` <= 0). */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t: Timer = { at: this.clock.monotonicMs() + Math.max(0, ms), seq: this.#seq++, wake: resolve };
      let i = this.#timers.length;
      while (i > 0 && this.#timers[i - 1]!.at > t.at) i--;
      this.#timers.splice(i, 0, t);
      this.#running--;
      this.#checkIdle();
    });
  }

  /**
   * Moves time until `done()` holds (checked whenever every task waits) or `maxVirtualMs` passed.
   * `beforeJump(toMs)` runs (awaited, every task still waiting) before each clock jump, with the virtual wall time jumped to. Resolves to
   * true when done. Throws `SIM_STUCK` when nothing is left to wake and `done()` still fails.
   */
  async run(done: () => boolean, maxVirtualMs: number, beforeJump: (toWallMs: number) => Promise<void>): Promise<boolean> {
    const startMono = this.clock.monotonicMs();
    for (;;) {
      await this.#whenIdle();
      if (this.#failure !== null) throw this.#failure;
      if (done()) return true;
      const next = this.#timers[0];
      if (next === undefined) throw new SimulatorError('SIM_STUCK', 'no node has anything left to do, but the rollout is not finished');
      if (next.at - startMono > maxVirtualMs) return false;
      const due: Timer[] = [];
      while (this.#timers.length > 0 && this.#timers[0]!.at === next.at) due.push(this.#timers.shift()!);
      const delta = next.at - this.clock.monotonicMs();
      if (delta > 0) {
        await beforeJump(this.clock.nowMs() + delta);
        this.clock.advance(delta);
      }
      this.#running += due.length;
      for (const t of due) t.wake();
    }
  }

  #whenIdle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#idle = resolve;
    });
  }

  #checkIdle(): void {
    if (this.#running !== 0 || this.#idle === null) return;
    const idle = this.#idle;
    this.#idle = null;
    // A macrotask later, so promise chains that are about to call sleep() get to it first.
    setImmediate(() => (this.#running === 0 ? idle() : (this.#idle = idle)));
  }
}
