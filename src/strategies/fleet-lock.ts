// `fleet_lock`: a cluster-wide reboot slot from a FleetLock server; optionally combined with the
// periodic windows (coreos/zincati#1014): the slot is taken only inside a window and given back when
// the window closes before the reboot happened, so a node never sits on a slot outside its window.
import { StrategyConfigError, strategyErrorKind } from './errors.js';
import { scheduleFromSettings, describeSchedule } from './periodic/strategy.js';
import type { PeriodicSchedule } from './periodic/schedule.js';
import type { StrategyFactory, StrategyPort } from './types.js';

/** `fleet_lock` strategy factory (with windows when `[[updates.periodic.window]]` is configured). */
export const fleetLock: StrategyFactory = (deps): StrategyPort => {
  const lock = deps.lock;
  if (lock === null) {
    throw new StrategyConfigError('updates.fleet_lock.base_url: required when updates.strategy = "fleet_lock"');
  }
  const log = deps.logger.child({ component: 'strategy.fleet_lock' });
  const params = deps.lockParams;
  const schedule: PeriodicSchedule | null =
    deps.settings.updates.periodic.windows.length > 0 ? scheduleFromSettings(deps.settings, deps.localZone) : null;
  // Whether this process believes it holds the slot. After a restart reportSteady releases any slot,
  // so "false" is the truth once the agent reported steady.
  let held = false;
  const healthy = deps.healthy ?? (() => Promise.resolve(true));
  // Logged once per process: the agent asks again on every tick while the boot stays unhealthy.
  let keptLogged = false;

  const release = async (signal?: AbortSignal): Promise<void> => {
    await lock.steadyState(params, signal);
    held = false;
  };

  return {
    label: 'fleet_lock',
    describe: (nowMs) =>
      schedule === null ? 'fleet_lock' : `fleet_lock within periodic windows, ${describeSchedule(schedule, nowMs)}`,
    async reportSteady(signal) {
      // The slot taken before the reboot is given back only once the new boot is healthy (bootc-operator
      // does the same): a failing node keeps it, so no other node reboots meanwhile.
      if (!(await healthy())) {
        if (!keptLogged) log.warn({ event: 'lock_kept', reason: 'unhealthy' }, 'this boot is not (yet) healthy: keeping the reboot slot');
        keptLogged = true;
        return false;
      }
      await release(signal);
      return true;
    },
    async canFinalize(nowMs, signal) {
      if (schedule !== null && !schedule.inWindow(nowMs)) {
        if (held) {
          // The window closed before the reboot: hand the slot back so other nodes can use it.
          try {
            await release(signal);
            log.info({ event: 'lock_released', reason: 'window_closed' }, 'maintenance window closed, reboot slot released');
          } catch (err: unknown) {
            log.warn(
              { event: 'lock_release_failed', kind: strategyErrorKind(err), err: String(err) },
              'maintenance window closed, failed to release the reboot slot; retrying on the next tick',
            );
          }
        }
        return false;
      }
      await lock.preReboot(params, signal);
      held = true;
      return true;
    },
    async releaseIfHeld(signal) {
      if (held) await release(signal);
    },
    ...(schedule === null
      ? {}
      : {
          nextChangeMs: (nowMs: number): number | null => {
            // Tick at the next opening, and at the next closing while a slot is held.
            const open = schedule.nextWindowStart(nowMs);
            const close = held ? schedule.nextWindowEnd(nowMs) : null;
            if (open === null) return close;
            return close === null ? open : Math.min(open, close);
          },
        }),
  };
};
