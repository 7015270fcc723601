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
    const measured = new Uint8Array(WEEK_MINUTES);
    for (const iv of intervals) {
      for (let m = iv.startMinute; m <= iv.endMinute; m++) open[m] = 1;
      for (let m = iv.startMinute; m < iv.startMinute + iv.lengthMinutes; m++) measured[m] = 1;
    }
    this.#open = open;
    this.scheduleLengthMinutes = measured.reduce((a, b) => a + b, 0);
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
 * Splits `start + length` (inclusive end) at the week boundary, as Zincati does: Sun 23:45 + 60
 * becomes 15 minutes up to the end of the week and 45 minutes from Monday 00:00.
 */
export function splitAtWeekBoundary(startMinute: number, lengthMinutes: number): WeekInterval[] {
  const end = startMinute + lengthMinutes;
  if (end < WEEK_MINUTES) return [{ startMinute, endMinute: end, lengthMinutes }];
  const first = WEEK_MINUTES - startMinute;
  const rest = lengthMinutes - first;
  return [
    { startMinute, endMinute: WEEK_MINUTES - 1, lengthMinutes: first },
    { startMinute: 0, endMinute: Math.min(rest, WEEK_MINUTES - 1), lengthMinutes: rest },
  ];
}
