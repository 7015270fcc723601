// The simulator's virtual time (src/simulator/scheduler.ts): time moves only when every task waits on
// it, never while a task does real work, and wake-ups come in order.
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/common/clock.js';
import { SimScheduler } from '../../../src/simulator/scheduler.js';

describe('SimScheduler', () => {
  it('does not move time while a task is busy with real work, then jumps straight to the next wake-up', async () => {
    const clock = new ManualClock(1_000_000);
    const s = new SimScheduler(clock);
    const seen: string[] = [];
    let busyDone = false;
    s.spawn(async () => {
      await s.sleep(10_000);
      seen.push(`a@${clock.monotonicMs()}`);
    });
    s.spawn(async () => {
      // Real (wall-clock) work: the other task's 10 s must not pass meanwhile.
      await new Promise((r) => setTimeout(r, 50));
      seen.push(`busy@${clock.monotonicMs()}`);
      busyDone = true;
      await s.sleep(3_000);
      seen.push(`b@${clock.monotonicMs()}`);
    });
    const jumps: number[] = [];
    const done = await s.run(() => seen.length === 3, 60_000, (to) => Promise.resolve(void jumps.push(to - 1_000_000)));
    expect(done).toBe(true);
    expect(busyDone).toBe(true);
    expect(seen).toEqual(['busy@0', 'b@3000', 'a@10000']);
    expect(jumps).toEqual([3000, 10000]);
  });

  it('stops at the virtual deadline, and reports a task failure', async () => {
    const s = new SimScheduler(new ManualClock(0));
    s.spawn(() => s.sleep(120_000));
    await expect(s.run(() => false, 60_000, () => Promise.resolve())).resolves.toBe(false);
    const t = new SimScheduler(new ManualClock(0));
    t.spawn(() => Promise.reject(new Error('node crashed')));
    await expect(t.run(() => false, 60_000, () => Promise.resolve())).rejects.toThrow('node crashed');
  });

  it('says so when nothing is left to wake and the run is not done', async () => {
    const s = new SimScheduler(new ManualClock(0));
    s.spawn(() => Promise.resolve());
    await expect(s.run(() => false, 60_000, () => Promise.resolve())).rejects.toMatchObject({ code: 'SIM_STUCK' });
  });

  it('runs a control action at its instant with every task waiting, before tasks due then, and after the servers\' clocks follow', async () => {
    const clock = new ManualClock(0);
    const s = new SimScheduler(clock);
    const seen: string[] = [];
    let inFlight = 0;
    s.spawn(async () => {
      for (let i = 0; i < 3; i++) {
        inFlight++;
        await new Promise((r) => setTimeout(r, 10)); // a request
        inFlight--;
        await s.sleep(5_000);
        seen.push(`node@${clock.monotonicMs()}`);
      }
    });
    s.at(10_000, () => {
      seen.push(`fault@${clock.monotonicMs()} inFlight=${inFlight}`);
      // A restore scheduled from the action, after the node is done: the run waits for it.
      s.at(60_000, () => Promise.resolve(void seen.push(`restore@${clock.monotonicMs()}`)));
      return Promise.resolve();
    });
    const synced: number[] = [];
    const done = await s.run(() => seen.filter((x) => x.startsWith('node')).length === 3, 120_000, () => Promise.resolve(), () => Promise.resolve(void synced.push(clock.monotonicMs())));
    expect(done).toBe(true);
    expect(seen).toEqual(['node@5000', 'fault@10000 inFlight=0', 'node@10000', 'node@15000', 'restore@60000']);
    expect(synced).toEqual([5000, 10000, 15000, 60000]);
  });
});
