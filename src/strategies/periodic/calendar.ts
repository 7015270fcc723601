// The weekly calendar in local wall-clock minutes, Zincati-compatible: minute-of-week 0 is Monday
// 00:00, a window of length L starting at minute S covers minutes S..S+L INCLUSIVE (so L+1 minutes,
// as Zincati's `contains` does), windows crossing Sunday -> Monday are split at the week boundary.
import { WEEKDAYS, type WindowSettings } from '../../config/types.js';

/** Minutes in one week. */
export const WEEK_MINUTES = 7 * 24 * 60;

/** One split interval: `startMinute..endMinute` inclusive, both inside one week. */
export interface WeekInterval {
  /** First covered minute of the week. */
  readonly startMinute: number;
  /** Last covered minute of the week (inclusive). */
  readonly endMinute: number;
  /** Configured length this piece accounts for, in minutes (end-exclusive, for the schedule length). */
  readonly lengthMinutes: number;
}

/** A pure weekly calendar: membership by local minute-of-week and the coalesced schedule length. */
export class WeeklyCalendar {
  /** The split intervals, in configuration order. */
  readonly intervals: readonly WeekInterval[];
  /** Weekly minutes covered by the union of the windows (overlaps counted once), Zincati's gauge. */
  readonly scheduleLengthMinutes: number;
  readonly #open: Uint8Array;

  constructor(windows: readonly WindowSettings[]) {
    const intervals: WeekInterval[] = [];
    for (const w of windows) {
      for (const day of w.days) {
        const start = WEEKDAYS.indexOf(day) * 1440 + w.startMinutes;
        intervals.push(...splitAtWeekBoundary(start, w.lengthMinutes));
      }
    }
    this.intervals = intervals;
    const open = new Uint8Array(WEEK_MINUTES);
    for (const iv of intervals) {
      for (let m = iv.startMinute; m <= iv.endMinute; m++) open[m] = 1;
    }
    this.#open = open;
    this.scheduleLengthMinutes = scheduleLength(intervals);
  }

  /** True when no window is configured. */
  get isEmpty(): boolean {
    return this.intervals.length === 0;
  }

  /** True when local minute-of-week `minute` (0..10079) lies in any window. */
  contains(minute: number): boolean {
    return this.#open[((minute % WEEK_MINUTES) + WEEK_MINUTES) % WEEK_MINUTES] === 1;
  }

  /** True when every minute of the week is covered (then windows never open or close). */
  get isAlwaysOpen(): boolean {
    return this.#open.every((v) => v === 1);
  }
}

/**
 * Zincati's schedule-length gauge (`WeeklyCalendar::length_minutes`), so both agents report the same
 * number: each piece is the range `start .. start+length+1` (end exclusive, the inclusive end minute
 * counted), ranges are sorted by start, a range starting at or before the current run's end joins
 * the run, and every run counts `end - start - 1`. Overlaps therefore count once, and a window that
 * starts right after another's inclusive end minute (10:00 + 60, then 11:01) joins it and that
 * minute counts (121, not 120).
 */
export function scheduleLength(intervals: readonly WeekInterval[]): number {
  const ranges = intervals
    .map((iv) => [iv.startMinute, iv.startMinute + iv.lengthMinutes + 1] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let total = 0;
  let run: readonly [number, number] | null = null;
  for (const [start, end] of ranges) {
    if (run !== null && start <= run[1]) {
      run = [run[0], Math.max(run[1], end)];
      continue;
    }
    if (run !== null) total += run[1] - run[0] - 1;
    run = [start, end];
  }
  return run === null ? total : total + run[1] - run[0] - 1;
}

/**
 * Splits `start + length` (inclusive end) at the week boundary, as Zincati does: Sun 23:45 + 60
 * becomes 15 minutes up to the end of the week and 45 minutes from Monday 00:00. A window ending
 * exactly at the boundary (Sun 23:00 + 60) stays one piece, and its inclusive end minute, which would
 * be Monday 00:00, is not covered (Zincati's minute 10080 never occurs).
 */
export function splitAtWeekBoundary(startMinute: number, lengthMinutes: number): WeekInterval[] {
  const end = startMinute + lengthMinutes;
  if (end < WEEK_MINUTES) return [{ startMinute, endMinute: end, lengthMinutes }];
  if (end === WEEK_MINUTES) return [{ startMinute, endMinute: WEEK_MINUTES - 1, lengthMinutes }];
  const first = WEEK_MINUTES - startMinute;
  const rest = lengthMinutes - first;
  return [
    { startMinute, endMinute: WEEK_MINUTES - 1, lengthMinutes: first },
    { startMinute: 0, endMinute: Math.min(rest, WEEK_MINUTES - 1), lengthMinutes: rest },
  ];
}
