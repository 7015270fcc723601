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
  // Control actions (faults) at virtual instants, sorted; run with every task waiting.
  #controls: { readonly at: number; readonly seq: number; readonly action: () => Promise<void> }[] = [];

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
   * Runs `action` at virtual monotonic time `atMs` (absolute, as `clock.monotonicMs()`), while every
   * task waits and before any task due at that instant wakes: a fault then happens between requests,
   * never in the middle of one. Pending actions keep the run going (`run` finishes only without any).
   */
  at(atMs: number, action: () => Promise<void>): void {
    const c = { at: Math.max(atMs, this.clock.monotonicMs()), seq: this.#seq++, action };
    let i = this.#controls.length;
    while (i > 0 && this.#controls[i - 1]!.at > c.at) i--;
    this.#controls.splice(i, 0, c);
  }

  /**
   * Moves time until `done()` holds (checked whenever every task waits) or `maxVirtualMs` passed.
   * `beforeJump(toMs)` runs (awaited, every task still waiting) before each clock jump, with the
   * virtual wall time jumped to; `afterJump()` right after it, before any task wakes (the servers'
   * clocks follow there). Resolves to true when done and no control action is pending. Throws `SIM_STUCK` when nothing is left to wake and `done()` still fails.
   */
  async run(
    done: () => boolean,
    maxVirtualMs: number,
    beforeJump: (toWallMs: number) => Promise<void>,
    afterJump: () => Promise<void> = () => Promise.resolve(),
  ): Promise<boolean> {
    const startMono = this.clock.monotonicMs();
    const jumpTo = async (at: number): Promise<void> => {
      const delta = at - this.clock.monotonicMs();
      if (delta <= 0) return;
      await beforeJump(this.clock.nowMs() + delta);
      this.clock.advance(delta);
      await afterJump();
    };
    for (;;) {
      await this.#whenIdle();
      if (this.#failure !== null) throw this.#failure;
      const next = this.#timers[0];
      const ctl = this.#controls[0];
      if (ctl === undefined && done()) return true;
      if (ctl !== undefined && (next === undefined || ctl.at <= next.at)) {
        if (ctl.at - startMono > maxVirtualMs) return false;
        await jumpTo(ctl.at);
        this.#controls.shift();
        await ctl.action();
        continue;
      }
      if (next === undefined) throw new SimulatorError('SIM_STUCK', 'no node has anything left to do, but the rollout is not finished');
      if (next.at - startMono > maxVirtualMs) return false;
      const due: Timer[] = [];
      while (this.#timers.length > 0 && this.#timers[0]!.at === next.at) due.push(this.#timers.shift()!);
      await jumpTo(next.at);
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
