import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Zone } from '../../../src/strategies/periodic/zone.js';
import { PeriodicSchedule } from '../../../src/strategies/periodic/schedule.js';
import { WEEKDAYS, type WindowSettings } from '../../../src/config/types.js';

// Independent oracle: weekday/hour/minute straight from Intl, no offset arithmetic, no memo.
const oracles = new Map<string, Intl.DateTimeFormat>();
function oracleMinuteOfWeek(zone: string, ms: number): number {
  let f = oracles.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, weekday: 'short', hour: 'numeric', minute: 'numeric', hourCycle: 'h23' });
    oracles.set(zone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return WEEKDAYS.indexOf(parts.weekday as (typeof WEEKDAYS)[number]) * 1440 + Number(parts.hour) * 60 + Number(parts.minute);
}

const ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'America/St_Johns'];
const YEAR_2026 = { min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) };

describe('src/strategies/periodic/zone (property)', () => {
  it('computes the local minute of the week like Intl does, DST days included', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.integer(YEAR_2026), (zone, ms) => {
        expect(new Zone(zone).minuteOfWeek(ms)).toBe(oracleMinuteOfWeek(zone, ms));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches Intl around every 2026 DST transition of the test zones, minute by minute', () => {
    for (const zone of ZONES) {
      const z = new Zone(zone);
      let prev = z.exactOffsetMs(YEAR_2026.min);
      for (let h = YEAR_2026.min; h < YEAR_2026.max; h += 3_600_000) {
        const cur = z.exactOffsetMs(h);
        if (cur === prev) continue;
        prev = cur;
        for (let m = h - 7_200_000; m < h + 7_200_000; m += 60_000) expect(z.minuteOfWeek(m)).toBe(oracleMinuteOfWeek(zone, m));
      }
    }
  });

  it('reports window openings that really are openings', () => {
    const windowArb = fc.record({
      days: fc.subarray([...WEEKDAYS], { minLength: 1 }),
      startMinutes: fc.integer({ min: 0, max: 1439 }),
      lengthMinutes: fc.integer({ min: 1, max: 3000 }),
    }) as fc.Arbitrary<WindowSettings>;
    fc.assert(
      fc.property(fc.constantFrom(...ZONES), fc.array(windowArb, { minLength: 1, maxLength: 3 }), fc.integer(YEAR_2026), (zone, windows, ms) => {
        const s = new PeriodicSchedule(windows, zone);
        const next = s.nextWindowStart(ms);
        if (next === null) {
          expect(s.calendar.isAlwaysOpen).toBe(true);
          return;
        }
        expect(next).toBeGreaterThan(ms);
        expect(next % 60_000).toBe(0);
        expect(s.inWindow(next)).toBe(true);
        expect(s.inWindow(next - 60_000)).toBe(false);
        expect(next - ms).toBeLessThanOrEqual(8 * 86_400_000);
      }),
      { numRuns: 60 },
    );
  });
});
