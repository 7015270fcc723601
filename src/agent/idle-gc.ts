// A full garbage collection shortly after each tick, when the agent goes back to sleep for minutes.
// A poll promotes a few tens of KiB of short-lived objects into V8's old generation (the young one is
// 1 MiB, see the flags in main.ts); V8 collects the old generation only when it has grown to a
// multiple of its live size, so an agent that only polls climbs by ~10 MiB of garbage and keeps it
// resident. One collection per poll (~10 ms CPU every steady interval) keeps the heap at its live size.
// Needs `--expose-gc` (main.ts's shebang); without it this does nothing. Measured by
// bench/agent-idle.mjs (docs/development/benchmarks.md).

/** Options of {@link createIdleCollector}. */
export interface IdleCollectorOptions {
  /** The collector: `globalThis.gc` under `--expose-gc`; undefined turns the collector off. */
  readonly gc: (() => void) | undefined;
  /**
   * Delay after a tick before collecting, in ms: the tick's replies and log lines go out first, and
   * ticks closer together than this (an operator's `check` loop) share one collection.
   * @default IDLE_GC_DELAY_MS
   */
  readonly delayMs?: number;
}

/** Default delay between a tick and the collection after it, in ms. */
export const IDLE_GC_DELAY_MS = 200;

/** Schedules collections after ticks; `close()` cancels a pending one. */
export interface IdleCollector {
  /** Called after every tick: collects once `delayMs` later, unless a collection is already pending. */
  afterTick(): void;
  /** Cancels the pending collection. */
  close(): void;
}

/** Creates the collector (a no-op when `gc` is undefined). */
export function createIdleCollector(opts: IdleCollectorOptions): IdleCollector {
  const { gc } = opts;
  const delayMs = opts.delayMs ?? IDLE_GC_DELAY_MS;
  let timer: NodeJS.Timeout | null = null;
  return {
    afterTick() {
      if (gc === undefined || timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        gc();
      }, delayMs);
      // Never what keeps the process alive.
      timer.unref();
    },
    close() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
    },
  };
}
