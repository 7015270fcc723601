import { describe, expect, it } from 'vitest';
import type { Weekday, WindowSettings } from '../../../src/config/types.js';
import { splitAtWeekBoundary, WeeklyCalendar } from '../../../src/strategies/periodic/calendar.js';
import { PeriodicSchedule } from '../../../src/strategies/periodic/schedule.js';
import { resolveTimeZone } from '../../../src/strategies/periodic/zone.js';

const win = (days: Weekday[], hhmm: string, lengthMinutes: number): WindowSettings => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return { days, startMinutes: h * 60 + m, lengthMinutes };
};
const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

describe('src/strategies/periodic/calendar', () => {
  it('splits a window crossing the week boundary (Sun 23:45 + 60 = 15 + 45 minutes)', () => {
    expect(splitAtWeekBoundary(6 * 1440 + 23 * 60 + 45, 60)).toEqual([
      { startMinute: 10065, endMinute: 10079, lengthMinutes: 15 },
      { startMinute: 0, endMinute: 45, lengthMinutes: 45 },
    ]);
  });

  it.each([
    ['one window', [win(['Sat'], '01:00', 60)], 60],
    ['same window on two days', [win(['Sat', 'Sun'], '01:00', 60)], 120],
    ['identical windows counted once', [win(['Sat'], '01:00', 60), win(['Sat'], '01:00', 60)], 60],
    ['partial overlap coalesced', [win(['Mon'], '10:00', 60), win(['Mon'], '10:30', 60)], 90],
    ['overlap across the week boundary', [win(['Mon'], '00:00', 45), win(['Sun'], '23:15', 120)], 120],
    ['the whole week', [win(['Mon'], '00:00', 10080)], 10080],
    ['no window', [], 0],
  ])('schedule length: %s', (_n, windows, minutes) => {
    expect(new WeeklyCalendar(windows).scheduleLengthMinutes).toBe(minutes);
  });

  // Zincati's `window_week_boundary` vectors (coreos/zincati src/weekly/mod.rs), re-typed: a window
  // that ends exactly at the week boundary is not split, and its inclusive end minute (Monday 00:00
  // of the next week) is not covered.
  it('does not split a window that ends exactly at the week boundary (Sun 23:59 + 1)', () => {
    expect(splitAtWeekBoundary(10079, 1)).toEqual([{ startMinute: 10079, endMinute: 10079, lengthMinutes: 1 }]);
    expect(splitAtWeekBoundary(10079, 2)).toEqual([
      { startMinute: 10079, endMinute: 10079, lengthMinutes: 1 },
      { startMinute: 0, endMinute: 1, lengthMinutes: 1 },
    ]);
  });

  it('leaves Monday 00:00 outside a window ending at the week boundary (Sun 23:00 + 60), as Zincati', () => {
    const cal = new WeeklyCalendar([win(['Sun'], '23:00', 60)]);
    expect(cal.contains(10079)).toBe(true);
    expect(cal.contains(0)).toBe(false);
    expect(cal.scheduleLengthMinutes).toBe(60);
  });

  // Zincati's gauge (`WeeklyCalendar::length_minutes`): ranges start..start+length+1 (end exclusive)
  // sorted by start; a range starting at or before the previous one's end is merged into it; each
  // merged run counts end - start - 1. So a window starting right after another's inclusive end
  // minute merges with it and that minute counts: 10:00 + 60 and 11:01 + 60 give 121.
  it.each([
    // coreos/zincati src/weekly/mod.rs `calendar_length`: 45 + (30 + 90) across the boundary.
    ['Zincati calendar_length', [win(['Mon'], '01:15', 45), win(['Sun'], '23:30', 120)], 150],
    // coreos/zincati tests/fixtures/20-periodic-sample.toml (total 3145, no overlap).
    ['Zincati 20-periodic-sample.toml', [win(['Tue', 'Wed'], '23:00', 120), win(['Thu'], '23:30', 25), win(['Sun'], '00:00', 2880)], 3145],
    ['adjacent windows sharing the end minute', [win(['Mon'], '10:00', 60), win(['Mon'], '11:00', 60)], 120],
    ['a window starting right after the inclusive end minute', [win(['Mon'], '10:00', 60), win(['Mon'], '11:01', 60)], 121],
    ['the same across midnight', [win(['Sat'], '23:00', 60), win(['Sun'], '00:01', 60)], 121],
    ['a one-minute gap is not merged', [win(['Mon'], '10:00', 60), win(['Mon'], '11:02', 60)], 120],
  ])("schedule length matches Zincati's gauge: %s", (_n, windows, minutes) => {
    expect(new WeeklyCalendar(windows).scheduleLengthMinutes).toBe(minutes);
  });

  it('covers the end minute inclusively, like Zincati (14:30 + 120 contains 16:30, not 16:31)', () => {
    const cal = new WeeklyCalendar([win(['Mon'], '14:30', 120)]);
    expect(cal.contains(14 * 60 + 29)).toBe(false);
    expect(cal.contains(14 * 60 + 30)).toBe(true);
    expect(cal.contains(16 * 60 + 30)).toBe(true);
    expect(cal.contains(16 * 60 + 31)).toBe(false);
  });
});

describe('src/strategies/periodic/schedule', () => {
  it.each([
    // zone, windows, instant, inWindow, next start, next end
    ['UTC', [win(['Sat'], '01:00', 60)], '2026-11-28T00:59:59Z', false, '2026-11-28T01:00:00.000Z', '2026-11-28T02:01:00.000Z'],
    ['UTC', [win(['Sat'], '01:00', 60)], '2026-11-28T01:00:00Z', true, '2026-12-05T01:00:00.000Z', '2026-11-28T02:01:00.000Z'],
    ['UTC', [win(['Sat'], '01:00', 60)], '2026-11-28T02:00:59Z', true, '2026-12-05T01:00:00.000Z', '2026-11-28T02:01:00.000Z'],
    ['UTC', [win(['Sat'], '01:00', 60)], '2026-11-28T02:01:00Z', false, '2026-12-05T01:00:00.000Z', '2026-12-05T02:01:00.000Z'],
    // Week wrap: Sun 23:30 + 60 runs into Monday 00:30 inclusive.
    ['UTC', [win(['Sun'], '23:30', 60)], '2026-11-29T23:29:00Z', false, '2026-11-29T23:30:00.000Z', '2026-11-30T00:31:00.000Z'],
    ['UTC', [win(['Sun'], '23:30', 60)], '2026-11-29T23:59:59Z', true, '2026-12-06T23:30:00.000Z', '2026-11-30T00:31:00.000Z'],
    ['UTC', [win(['Sun'], '23:30', 60)], '2026-11-30T00:30:59Z', true, '2026-12-06T23:30:00.000Z', '2026-11-30T00:31:00.000Z'],
    ['UTC', [win(['Sun'], '23:30', 60)], '2026-11-30T00:31:00Z', false, '2026-12-06T23:30:00.000Z', '2026-12-07T00:31:00.000Z'],
    // Overlapping windows open once and close once.
    ['UTC', [win(['Mon'], '10:00', 60), win(['Mon'], '10:30', 60)], '2026-11-30T09:00:00Z', false, '2026-11-30T10:00:00.000Z', '2026-11-30T11:31:00.000Z'],
    // Local zone, ordinary day: Berlin is UTC+1 in winter.
    ['Europe/Berlin', [win(['Sat'], '01:00', 60)], '2026-11-28T00:00:00Z', true, '2026-12-05T00:00:00.000Z', '2026-11-28T01:01:00.000Z'],
    // Berlin spring forward 2026-03-29 (02:00 CET -> 03:00 CEST at 01:00Z). A window starting in the
    // gap opens at the transition when it reaches past the gap ...
    ['Europe/Berlin', [win(['Sun'], '02:30', 60)], '2026-03-29T00:00:00Z', false, '2026-03-29T01:00:00.000Z', '2026-03-29T01:31:00.000Z'],
    ['Europe/Berlin', [win(['Sun'], '02:30', 60)], '2026-03-29T01:15:00Z', true, '2026-04-05T00:30:00.000Z', '2026-03-29T01:31:00.000Z'],
    // ... and is skipped that week when it lies entirely inside the gap.
    ['Europe/Berlin', [win(['Sun'], '02:15', 30)], '2026-03-28T12:00:00Z', false, '2026-04-05T00:15:00.000Z', '2026-04-05T00:46:00.000Z'],
    // Berlin fall back 2026-10-25 (03:00 CEST -> 02:00 CET at 01:00Z): 02:30 happens twice, so the
    // window opens twice.
    ['Europe/Berlin', [win(['Sun'], '02:30', 10)], '2026-10-25T00:00:00Z', false, '2026-10-25T00:30:00.000Z', '2026-10-25T00:41:00.000Z'],
    ['Europe/Berlin', [win(['Sun'], '02:30', 10)], '2026-10-25T00:35:00Z', true, '2026-10-25T01:30:00.000Z', '2026-10-25T00:41:00.000Z'],
    ['Europe/Berlin', [win(['Sun'], '02:30', 10)], '2026-10-25T01:00:00Z', false, '2026-10-25T01:30:00.000Z', '2026-10-25T01:41:00.000Z'],
    ['Europe/Berlin', [win(['Sun'], '02:30', 10)], '2026-10-25T01:35:00Z', true, '2026-11-01T01:30:00.000Z', '2026-10-25T01:41:00.000Z'],
    // New York spring forward 2026-03-08 (02:00 EST -> 03:00 EDT at 07:00Z): 01:30-02:30 is cut short.
    ['America/New_York', [win(['Sun'], '01:30', 60)], '2026-03-08T06:00:00Z', false, '2026-03-08T06:30:00.000Z', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', [win(['Sun'], '01:30', 60)], '2026-03-08T06:59:00Z', true, '2026-03-15T05:30:00.000Z', '2026-03-08T07:00:00.000Z'],
    ['America/New_York', [win(['Sun'], '01:30', 60)], '2026-03-08T07:00:00Z', false, '2026-03-15T05:30:00.000Z', '2026-03-15T06:31:00.000Z'],
    // New York fall back 2026-11-01 (02:00 EDT -> 01:00 EST at 06:00Z): 01:00-01:59 lasts two hours.
    ['America/New_York', [win(['Sun'], '01:00', 59)], '2026-11-01T04:59:00Z', false, '2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ['America/New_York', [win(['Sun'], '01:00', 59)], '2026-11-01T06:30:00Z', true, '2026-11-08T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
  ] as const)('%s %j at %s: in=%s next start %s, next end %s', (zone, windows, instant, inWin, nextStart, nextEnd) => {
    const s = new PeriodicSchedule(windows, zone);
    const t = at(instant);
    expect(s.inWindow(t)).toBe(inWin);
    expect(iso(s.nextWindowStart(t))).toBe(nextStart);
    expect(iso(s.nextWindowEnd(t))).toBe(nextEnd);
  });

  it('never opens or closes when there is no window or the week is fully covered', () => {
    const none = new PeriodicSchedule([], 'UTC');
    expect(none.inWindow(at('2026-11-28T01:00:00Z'))).toBe(false);
    expect(none.nextWindowStart(at('2026-11-28T01:00:00Z'))).toBeNull();
    const all = new PeriodicSchedule([win(['Wed'], '12:00', 10080)], 'Europe/Berlin');
    expect(all.inWindow(at('2026-03-29T01:30:00Z'))).toBe(true);
    expect(all.nextWindowStart(at('2026-03-29T01:30:00Z'))).toBeNull();
    expect(all.nextWindowEnd(at('2026-03-29T01:30:00Z'))).toBeNull();
  });
});

describe('src/strategies/periodic/zone', () => {
  it('resolves UTC, IANA names and localtime (the process zone), and rejects unknown zones', () => {
    expect(resolveTimeZone('UTC')).toBe('UTC');
    expect(resolveTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(resolveTimeZone('localtime', () => 'America/New_York')).toBe('America/New_York');
    expect(() => resolveTimeZone('Mars/Olympus_Mons')).toThrow(/updates\.periodic\.time_zone: unknown time zone 'Mars\/Olympus_Mons'/);
  });
});
