// `--windows`: weekly maintenance windows in one compact string, mapped onto the agent's own
// `[updates.periodic]` calendar (days, local start time, length, one time zone), so a simulated
// `periodic` node runs the very schedule a real node with that config would run.
//
//   windows := entry (";" entry)*
//   entry   := DAYS " " HH:MM "+" MINUTES [" " ZONE]
//   DAYS    := "daily" | "*" | item ("," item)*      item := DAY | DAY "-" DAY   (ranges may wrap: Fri-Mon)
//
// e.g. `Mon,Wed 02:00+60 Europe/Moscow; Sat 22:00+120`. The agent has one `time_zone` for all its
// windows, so every entry that names a zone must name the same one; entries without one share it.
import { formatStartTime, parseWeekday } from '../config/windows.js';
import { MAX_WINDOW_MINUTES } from '../config/windows.js';
import { WEEKDAYS, type Weekday, type WindowSettings } from '../config/types.js';
import { SimulatorError } from './errors.js';

/** The periodic strategy's calendar, as `[updates.periodic]` holds it. */
export interface SimCalendar {
  /** `updates.periodic.time_zone`: `UTC`, `localtime` or an IANA zone name. */
  readonly timeZone: string;
  /** `[[updates.periodic.window]]` entries, in order. */
  readonly windows: readonly WindowSettings[];
}

/** The default calendar: every day 02:00 UTC for 60 minutes. */
export const DEFAULT_CALENDAR: SimCalendar = Object.freeze({
  timeZone: 'UTC',
  windows: Object.freeze([Object.freeze({ days: WEEKDAYS, startMinutes: 120, lengthMinutes: 60 })]),
});

function fail(flag: string, part: string, why: string): never {
  throw new SimulatorError('SIM_USAGE', `${flag}: ${JSON.stringify(part)}: ${why}`);
}

function day(flag: string, text: string): Weekday {
  const d = parseWeekday(text);
  if (d === null) fail(flag, text, 'not a week day (Mon..Sun, or the full English name)');
  return d;
}

function parseDays(flag: string, text: string): Weekday[] {
  if (text === '*' || text.toLowerCase() === 'daily') return [...WEEKDAYS];
  const set = new Set<Weekday>();
  for (const item of text.split(',')) {
    if (item === '') fail(flag, text, 'an empty day in the day list');
    const range = item.split('-');
    if (range.length > 2) fail(flag, item, 'a day range is DAY-DAY, e.g. Mon-Fri');
    const from = WEEKDAYS.indexOf(day(flag, range[0]!));
    const to = range.length === 2 ? WEEKDAYS.indexOf(day(flag, range[1]!)) : from;
    // A range that wraps (Fri-Mon) runs through the weekend, as an operator reads it.
    for (let i = from; ; i = (i + 1) % 7) {
      set.add(WEEKDAYS[i]!);
      if (i === to) break;
    }
  }
  return WEEKDAYS.filter((d) => set.has(d));
}

function validZone(zone: string): boolean {
  if (zone === 'localtime') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Parses a `--windows` value into the agent's calendar; throws `SIM_USAGE` naming `flag` and the bad part. */
export function parseWindows(text: string, flag = '--windows'): SimCalendar {
  const windows: WindowSettings[] = [];
  let zone: string | null = null;
  const entries = text.split(';');
  entries.forEach((raw, i) => {
    const entry = raw.trim();
    const which = `entry ${i + 1}`;
    if (entry === '') fail(flag, raw, `${which} is empty (entries are separated by ';')`);
    const tokens = entry.split(/\s+/);
    if (tokens.length < 2 || tokens.length > 3) fail(flag, entry, `${which}: expected DAYS HH:MM+MINUTES [ZONE], e.g. "Mon,Wed 02:00+60 Europe/Moscow"`);
    const days = parseDays(flag, tokens[0]!);
    const m = /^([01]?\d|2[0-3]):([0-5]\d)\+(\d+)$/.exec(tokens[1]!);
    if (!m) fail(flag, tokens[1]!, `${which}: expected HH:MM+MINUTES (start in the zone's local time, length in minutes), e.g. 02:00+60`);
    const length = Number(m[3]);
    if (length < 1 || length > MAX_WINDOW_MINUTES) fail(flag, tokens[1]!, `${which}: the length must be 1..${MAX_WINDOW_MINUTES} minutes`);
    const z = tokens[2];
    if (z !== undefined) {
      if (!validZone(z)) fail(flag, z, `${which}: not a time zone (UTC, localtime or an IANA name such as Europe/Moscow)`);
      if (zone !== null && zone !== z) fail(flag, z, `${which}: a second time zone (${zone} before); the agent has one updates.periodic.time_zone for all windows`);
      zone = z;
    }
    windows.push({ days, startMinutes: Number(m[1]) * 60 + Number(m[2]), lengthMinutes: length });
  });
  return { timeZone: zone ?? 'UTC', windows };
}

/** Renders a calendar in the `--windows` form (what `parseWindows` reads back to the same calendar). */
export function formatWindows(c: SimCalendar): string {
  if (c.windows.length === 0) return '(no windows)';
  return c.windows
    .map((w, i) => {
      const days = w.days.length === 7 ? 'daily' : w.days.length === 0 ? '(no days)' : w.days.join(',');
      return `${days} ${formatStartTime(w.startMinutes)}+${w.lengthMinutes}${i === 0 ? ` ${c.timeZone}` : ''}`;
    })
    .join('; ');
}

/** The `[updates.periodic]` TOML lines of a calendar (validated later by the real config code). */
export function calendarToml(c: SimCalendar): string[] {
  const lines = ['[updates.periodic]', `time_zone = ${JSON.stringify(c.timeZone)}`];
  for (const w of c.windows) {
    lines.push('[[updates.periodic.window]]', `days = ${JSON.stringify(w.days)}`, `start_time = "${formatStartTime(w.startMinutes)}"`, `length_minutes = ${w.lengthMinutes}`);
  }
  return lines;
}
