import { StrategyConfigError } from '../errors.js';
import type { StrategyFactory, StrategyPort } from '../types.js';
import { PeriodicSchedule } from './schedule.js';
import { resolveTimeZone } from './zone.js';
import type { Settings } from '../../config/types.js';

/** Builds the schedule from `[updates.periodic]`, resolving the zone once (as Zincati does). */
export function scheduleFromSettings(settings: Settings, localZone?: () => string): PeriodicSchedule {
  const p = settings.updates.periodic;
  return new PeriodicSchedule(p.windows, resolveTimeZone(p.timeZone, localZone));
}

const DAY_NAMES = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Zincati-style summary line of a schedule at `nowMs`. */
export function describeSchedule(schedule: PeriodicSchedule, nowMs: number): string {
  const head = `total schedule length ${schedule.scheduleLengthMinutes} minutes`;
  if (schedule.calendar.isAlwaysOpen) return `${head}; always inside a window`;
  const next = schedule.nextWindowStart(nowMs);
  if (next === null) return `${head}; no window`;
  const mow = schedule.zone.minuteOfWeek(next);
  const hh = Math.floor((mow % 1440) / 60);
  const mm = String(mow % 60).padStart(2, '0');
  const day = DAY_NAMES[Math.floor(mow / 1440)] ?? '?';
  return `${head}; next window at ${hh}:${mm} on ${day} (${schedule.zone.name}), subject to time zone caveats`;
}

/** `periodic`: finalize only inside the weekly maintenance windows. */
export const periodic: StrategyFactory = (deps): StrategyPort => {
  const schedule = scheduleFromSettings(deps.settings, deps.localZone);
  if (schedule.calendar.isEmpty) {
    throw new StrategyConfigError(
      'invalid or missing periodic updates configuration: weekly calendar length is zero (add [[updates.periodic.window]])',
    );
  }
  return {
    label: 'periodic',
    describe: (nowMs) => `periodic, ${describeSchedule(schedule, nowMs)}`,
    canFinalize: (nowMs) => Promise.resolve(schedule.inWindow(nowMs)),
    reportSteady: () => Promise.resolve(true),
    nextChangeMs: (nowMs) => schedule.nextWindowStart(nowMs),
  };
};
