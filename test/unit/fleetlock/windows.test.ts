import { describe, expect, it } from 'vitest';
import { insideWindows, minuteOfWeekUtc, type MaintenanceWindow } from '../../../src/fleetlock/server/windows.js';

const satNight: MaintenanceWindow = { days: ['Sat'], startMinutes: 60, lengthMinutes: 120 }; // Sat 01:00-03:00 UTC
const sunToMon: MaintenanceWindow = { days: ['Sun'], startMinutes: 23 * 60, lengthMinutes: 120 }; // Sun 23:00 - Mon 01:00

describe('src/fleetlock/server/windows', () => {
  it.each([
    ['2026-11-23T00:00:00Z', 0], // Monday
    ['2026-11-24T01:02:00Z', 1440 + 62],
    ['2026-11-29T23:59:59Z', 10079], // Sunday
    ['2026-11-30T00:00:00+02:00', 10080 - 120], // Sunday 22:00 UTC
  ])('minute of week of %s is %i', (iso, mow) => {
    expect(minuteOfWeekUtc(Date.parse(iso))).toBe(mow);
  });

  it.each([
    ['2026-11-28T00:59:59Z', [satNight], false],
    ['2026-11-28T01:00:00Z', [satNight], true],
    ['2026-11-28T02:59:00Z', [satNight], true],
    ['2026-11-28T03:00:00Z', [satNight], false],
    ['2026-11-21T01:30:00Z', [satNight], true], // a week earlier
    ['2026-11-27T01:30:00Z', [satNight], false], // Friday
    ['2026-11-29T23:30:00Z', [sunToMon], true],
    ['2026-11-30T00:59:00Z', [sunToMon], true], // wraps into Monday
    ['2026-11-30T01:00:00Z', [sunToMon], false],
    ['2026-11-25T12:00:00Z', [], true], // no windows: always open
    ['2026-11-28T04:00:00Z', [satNight, { days: ['Sat', 'Sun'], startMinutes: 240, lengthMinutes: 1 }], true],
  ])('%s inside %j is %s', (iso, windows, expected) => {
    expect(insideWindows(windows as MaintenanceWindow[], Date.parse(iso))).toBe(expected);
  });
});
