import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createIdleCollector, IDLE_GC_DELAY_MS } from '../../../src/agent/idle-gc.js';

describe('agent/idle-gc', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('collects once, the delay after a tick, and not before', () => {
    const gc = vi.fn();
    const c = createIdleCollector({ gc });
    c.afterTick();
    vi.advanceTimersByTime(IDLE_GC_DELAY_MS - 1);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(1);
  });

  it('ticks closer together than the delay share one collection; a later tick gets its own', () => {
    const gc = vi.fn();
    const c = createIdleCollector({ gc, delayMs: 100 });
    for (let i = 0; i < 10; i++) {
      c.afterTick();
      vi.advanceTimersByTime(5);
    }
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledTimes(1);
    c.afterTick();
    vi.advanceTimersByTime(100);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it('close() cancels the pending collection', () => {
    const gc = vi.fn();
    const c = createIdleCollector({ gc });
    c.afterTick();
    c.close();
    vi.advanceTimersByTime(10 * IDLE_GC_DELAY_MS);
    expect(gc).not.toHaveBeenCalled();
  });

  it('does nothing without a collector (node started without --expose-gc)', () => {
    const c = createIdleCollector({ gc: undefined });
    c.afterTick();
    expect(vi.getTimerCount()).toBe(0);
  });
});
