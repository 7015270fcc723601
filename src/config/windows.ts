// Parsing of `[[updates.periodic.window]]` fields. Fixes Zincati's `tuesady` typo trap: every day
// is accepted by its short or full English name, case-insensitively.
import { WEEKDAYS, type Weekday } from './types.js';

const DAY_NAMES: ReadonlyMap<string, Weekday> = new Map<string, Weekday>([
  ['mon', 'Mon'], ['monday', 'Mon'],
  ['tue', 'Tue'], ['tuesday', 'Tue'],
  ['wed', 'Wed'], ['wednesday', 'Wed'],
  ['thu', 'Thu'], ['thursday', 'Thu'],
  ['fri', 'Fri'], ['friday', 'Fri'],
  ['sat', 'Sat'], ['saturday', 'Sat'],
  ['sun', 'Sun'], ['sunday', 'Sun'],
]);

/** Parses a week day name (`Tue`, `tuesday`, `TUESDAY`...), or returns null. No trimming, as Zincati. */
export function parseWeekday(name: string): Weekday | null {
  return DAY_NAMES.get(name.toLowerCase()) ?? null;
}

/** Sorts and de-duplicates days into `WEEKDAYS` order. */
export function normaliseDays(days: readonly Weekday[]): Weekday[] {
  const set = new Set(days);
  return WEEKDAYS.filter((d) => set.has(d));
}

/**
 * Parses `H:M` (hour <= 23, minute <= 59) into minutes after midnight, or null. Zincati's rule: exactly
 * two `:`-separated fields, each read as a Rust `u8` (ASCII digits with an optional `+` and any
 * leading zeros, no spaces), so `7:5`, `07:05` and `+7:005` are all 07:05.
 */
export function parseStartTime(text: string): number | null {
  const m = /^\+?([0-9]+):\+?([0-9]+)$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (h > 23 || min > 59) return null;
  return h * 60 + min;
}

/** Renders minutes after midnight as zero-padded `HH:MM`. */
export function formatStartTime(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
}

/** Longest allowed window, in minutes (one week). */
export const MAX_WINDOW_MINUTES = 10080;
