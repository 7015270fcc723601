/** Injected time source, so decisions and tests never read the real clock or sleep. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  nowMs(): number;
  /** Resolves after `ms` milliseconds, or rejects with an `AbortError` when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * A clock that also measures elapsed time monotonically: unlike `nowMs`, `monotonicMs` never jumps
 * when the wall clock is set (NTP step, operator, skewed VM), so timeouts measured with it cannot be
 * cut short or stretched by a clock change.
 */
export interface MonotonicClock extends Clock {
  /** Milliseconds since an arbitrary origin (process start); only differences are meaningful. */
  monotonicMs(): number;
}

/** The real clock; only the composition roots construct it. `sleep` is monotonic (timers are). */
export function systemClock(): MonotonicClock {
  return {
    nowMs: () => Date.now(),
    monotonicMs: () => performance.now(),
    sleep: (ms, signal) =>
      new Promise<void>((resolve, reject) => {
        if (signal?.aborted) {
          reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
          return;
        }
        const timer = setTimeout(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        }, ms);
        const onAbort = (): void => {
          clearTimeout(timer);
          reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
        };
        signal?.addEventListener('abort', onAbort, { once: true });
      }),
  };
}

/**
 * A manually advanced clock for tests and simulations: `sleep` resolves when `advance` moves time past
 * its deadline. `advance` moves wall and monotonic time together; `jumpWall` sets only the wall clock,
 * as an NTP step or a skewed host would.
 */
export class ManualClock implements MonotonicClock {
  #now: number;
  #mono = 0;
  #sleepers: { until: number; resolve: () => void }[] = [];

  constructor(startMs: number) {
    this.#now = startMs;
  }

  nowMs(): number {
    return this.#now;
  }

  monotonicMs(): number {
    return this.#mono;
  }

  /** Moves only the wall clock (forwards or backwards); monotonic time and sleepers are unaffected. */
  jumpWall(ms: number): void {
    this.#now += ms;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const entry = { until: this.#mono + ms, resolve };
      this.#sleepers.push(entry);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== entry);
          reject(new Error('aborted'));
        },
        { once: true },
      );
    });
  }

  /** Moves time forward and wakes every sleeper whose deadline has passed. */
  advance(ms: number): void {
    this.#now += ms;
    this.#mono += ms;
    const due = this.#sleepers.filter((s) => s.until <= this.#mono);
    this.#sleepers = this.#sleepers.filter((s) => s.until > this.#mono);
    for (const s of due) s.resolve();
  }

  /** Sets the absolute time (never backwards) and wakes due sleepers. */
  set(ms: number): void {
    this.advance(Math.max(0, ms - this.#now));
  }
}
