// Server-side maintenance windows: weekly, in UTC, as minute-of-week ranges (Monday 00:00 = 0).
// A window may run past Sunday midnight into Monday.
import { WEEKDAYS, type Weekday } from '../../config/types.js';

/** Minutes in a week. */
export const MINUTES_PER_WEEK = 7 * 24 * 60;

/** One weekly window: starts at `startMinutes` after UTC midnight on each of `days`. */
export interface MaintenanceWindow {
  /** Days the window starts on. */
  readonly days: readonly Weekday[];
  /** Start, in minutes after UTC midnight (0..1439). */
  readonly startMinutes: number;
  /** Length in minutes (1..10080). */
  readonly lengthMinutes: number;
}

/** Minute of the week in UTC for `nowMs`, Monday 00:00 being 0. */
export function minuteOfWeekUtc(nowMs: number): number {
  const d = new Date(nowMs);
  const dayFromMonday = (d.getUTCDay() + 6) % 7;
  return dayFromMonday * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes();
}

/** True when `nowMs` lies inside one of `windows`; no windows at all means always open. */
export function insideWindows(windows: readonly MaintenanceWindow[], nowMs: number): boolean {
  if (windows.length === 0) return true;
  const now = minuteOfWeekUtc(nowMs);
  return windows.some((w) =>
    w.days.some((day) => {
      const start = WEEKDAYS.indexOf(day) * 1440 + w.startMinutes;
      return (now - start + MINUTES_PER_WEEK) % MINUTES_PER_WEEK < w.lengthMinutes;
    }),
  );
}

/** Human form of a window list for error messages, e.g. `Sat,Sun 01:00+120m UTC`. */
export function describeWindows(windows: readonly MaintenanceWindow[]): string {
  return windows
    .map((w) => {
      const hh = String(Math.floor(w.startMinutes / 60)).padStart(2, '0');
      const mm = String(w.startMinutes % 60).padStart(2, '0');
      return `${w.days.join(',')} ${hh}:${mm}+${w.lengthMinutes}m UTC`;
    })
    .join('; ');
}
