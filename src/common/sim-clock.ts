// The simulation clock of alt-graphd and alt-fleetlockd: time set by the parent process over the
// Node IPC channel, so the fleet simulator (src/simulator) runs the real executables on its compressed
// virtual clock. Off unless BOTH hold: the environment says ALT_SIM_CLOCK=ipc AND the process has an
// IPC channel (it was spawned by Node with an 'ipc' stdio slot). systemd, a shell or a container never
// gives a process an IPC channel, so production cannot turn it on by an inherited variable alone: a
// set variable without a channel is a start-up error, not a silently frozen clock.
import { ManualClock, type MonotonicClock } from './clock.js';
import { AltError } from './errors.js';

/** The environment variable that asks for the simulation clock. */
export const SIM_CLOCK_ENV = 'ALT_SIM_CLOCK';

/** Parent to server: the virtual time is now this (monotonic time never goes back). */
export interface ClockMessage {
  readonly type: 'clock';
  readonly nowMs: number;
  readonly monotonicMs: number;
}

/** Server to parent: listening for clock messages now (the parent answers with the current time). */
export interface ClockReady {
  readonly type: 'clock-ready';
}

/** Server to parent: the clock message with this `monotonicMs` has been applied. */
export interface ClockAck {
  readonly type: 'clock-ack';
  readonly monotonicMs: number;
}

/** The part of `process` the clock uses (a fake in unit tests). */
export interface IpcChannel {
  on(event: 'message', listener: (msg: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
  send?: (msg: unknown) => boolean;
}

/** Thrown when ALT_SIM_CLOCK is set but cannot mean the simulation clock. */
export class SimClockError extends AltError {
  constructor(message: string) {
    super('SIM_CLOCK', message);
  }
}

/** True for a well-formed {@link ClockMessage}. */
export function isClockMessage(m: unknown): m is ClockMessage {
  if (typeof m !== 'object' || m === null) return false;
  const r = m as Record<string, unknown>;
  return r.type === 'clock' && Number.isFinite(r.nowMs) && Number.isFinite(r.monotonicMs);
}

/**
 * Applies clock messages to a ManualClock (the same clock the simulator's nodes run on): wall time
 * is set, monotonic time moves forward to the message's (never back) and wakes due sleepers. Each
 * message is acknowledged a macrotask later, after the sleepers it woke have started their work.
 */
export function driveFromChannel(channel: IpcChannel, first: ClockMessage): ManualClock {
  const clock = new ManualClock(first.nowMs);
  clock.advance(first.monotonicMs);
  clock.jumpWall(first.nowMs - clock.nowMs());
  channel.on('message', (m: unknown) => {
    if (!isClockMessage(m)) return;
    clock.advance(Math.max(0, m.monotonicMs - clock.monotonicMs()));
    clock.jumpWall(m.nowMs - clock.nowMs());
    setImmediate(() => channel.send?.({ type: 'clock-ack', monotonicMs: m.monotonicMs } satisfies ClockAck));
  });
  return clock;
}

/**
 * The simulation clock when `env` asks for it (null otherwise: use the system clock). Says
 * `clock-ready` and resolves once the parent's first clock message arrived (acknowledging it), so the server starts at virtual
 * time. When the parent goes away (the channel disconnects), `onOrphaned` runs: a server left on a
 * frozen clock must not linger. Throws {@link SimClockError} for another value or no IPC channel.
 */
export async function simulationClockFromEnv(env: NodeJS.ProcessEnv, channel: IpcChannel, onOrphaned: () => void): Promise<MonotonicClock | null> {
  const v = env[SIM_CLOCK_ENV];
  if (v === undefined || v === '') return null;
  if (v !== 'ipc') throw new SimClockError(`${SIM_CLOCK_ENV}=${JSON.stringify(v)}: the only value is "ipc" (unset it outside the fleet simulator)`);
  if (typeof channel.send !== 'function') {
    throw new SimClockError(`${SIM_CLOCK_ENV}=ipc but this process has no IPC channel: only the fleet simulator sets it (unset it)`);
  }
  channel.on('disconnect', onOrphaned);
  const first = await new Promise<ClockMessage>((resolve) => {
    const take = (m: unknown): void => {
      if (!isClockMessage(m)) return;
      resolve(m);
    };
    channel.on('message', take);
    // Said only once listening: a message sent before the child listens would be lost.
    channel.send?.({ type: 'clock-ready' } satisfies ClockReady);
  });
  // The first listener stays (it ignores what follows); the driving listener takes over from here.
  const clock = driveFromChannel(channel, first);
  channel.send({ type: 'clock-ack', monotonicMs: first.monotonicMs } satisfies ClockAck);
  return clock;
}
