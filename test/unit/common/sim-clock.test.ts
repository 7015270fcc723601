// The simulation clock of alt-graphd and alt-fleetlockd (src/common/sim-clock.ts): off unless both the
// variable and an IPC channel are there; time follows the parent's messages, each acknowledged.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { simulationClockFromEnv, type IpcChannel } from '../../../src/common/sim-clock.js';

class FakeChannel extends EventEmitter implements IpcChannel {
  readonly sent: unknown[] = [];
  send = (m: unknown): boolean => {
    this.sent.push(m);
    this.emit('sent');
    return true;
  };
  /** Delivers `m` and resolves once the clock acknowledged something after it. */
  deliver(m: unknown): Promise<void> {
    const acked = new Promise<void>((r) => this.once('sent', () => r()));
    this.emit('message', m);
    return acked;
  }
}

describe('simulationClockFromEnv', () => {
  it('is off (null) without ALT_SIM_CLOCK, even with an IPC channel', async () => {
    expect(await simulationClockFromEnv({}, new FakeChannel(), () => undefined)).toBeNull();
    expect(await simulationClockFromEnv({ ALT_SIM_CLOCK: '' }, new FakeChannel(), () => undefined)).toBeNull();
  });

  it('refuses ALT_SIM_CLOCK=ipc without an IPC channel (an inherited variable never freezes a production clock)', async () => {
    const noChannel: IpcChannel = { on: () => undefined };
    await expect(simulationClockFromEnv({ ALT_SIM_CLOCK: 'ipc' }, noChannel, () => undefined)).rejects.toMatchObject({ code: 'SIM_CLOCK', message: expect.stringContaining('no IPC channel') as string });
  });

  it('refuses any other value, naming it', async () => {
    await expect(simulationClockFromEnv({ ALT_SIM_CLOCK: 'yes' }, new FakeChannel(), () => undefined)).rejects.toMatchObject({ code: 'SIM_CLOCK', message: expect.stringContaining('"yes"') as string });
  });

  it('says clock-ready once it listens, and waits for the first clock message before it resolves', async () => {
    const ch = new FakeChannel();
    let resolved = false;
    const pending = simulationClockFromEnv({ ALT_SIM_CLOCK: 'ipc' }, ch, () => undefined).then((c) => ((resolved = true), c));
    await new Promise((r) => setImmediate(r));
    expect(ch.sent).toEqual([{ type: 'clock-ready' }]);
    expect(resolved).toBe(false);
    ch.emit('message', { type: 'clock', nowMs: 42, monotonicMs: 0 });
    expect((await pending)!.nowMs()).toBe(42);
  });

  it('starts at the first clock message, follows later ones, wakes sleepers and acknowledges each', async () => {
    const ch = new FakeChannel();
    const pending = simulationClockFromEnv({ ALT_SIM_CLOCK: 'ipc' }, ch, () => undefined);
    ch.emit('message', { type: 'other' });
    await ch.deliver({ type: 'clock', nowMs: 5_000_000, monotonicMs: 200 });
    const clock = (await pending)!;
    expect(ch.sent).toEqual([{ type: 'clock-ready' }, { type: 'clock-ack', monotonicMs: 200 }]);
    expect(clock.nowMs()).toBe(5_000_000);
    expect(clock.monotonicMs()).toBe(200);

    let woke = false;
    void clock.sleep(1000).then(() => (woke = true));
    await ch.deliver({ type: 'clock', nowMs: 5_000_500, monotonicMs: 700 });
    expect(woke).toBe(false);
    expect(clock.nowMs()).toBe(5_000_500);
    await ch.deliver({ type: 'clock', nowMs: 5_001_000, monotonicMs: 1200 });
    expect(woke).toBe(true);
    expect(ch.sent.at(-1)).toEqual({ type: 'clock-ack', monotonicMs: 1200 });
  });

  it('never moves monotonic time back, while wall time may step either way', async () => {
    const ch = new FakeChannel();
    const pending = simulationClockFromEnv({ ALT_SIM_CLOCK: 'ipc' }, ch, () => undefined);
    await ch.deliver({ type: 'clock', nowMs: 10_000, monotonicMs: 1000 });
    const clock = (await pending)!;
    await ch.deliver({ type: 'clock', nowMs: 9_000, monotonicMs: 500 });
    expect(clock.monotonicMs()).toBe(1000);
    expect(clock.nowMs()).toBe(9_000);
  });

  it('calls onOrphaned when the parent disconnects', async () => {
    const ch = new FakeChannel();
    let orphaned = false;
    const pending = simulationClockFromEnv({ ALT_SIM_CLOCK: 'ipc' }, ch, () => (orphaned = true));
    await ch.deliver({ type: 'clock', nowMs: 1, monotonicMs: 0 });
    await pending;
    ch.emit('disconnect');
    expect(orphaned).toBe(true);
  });
});
