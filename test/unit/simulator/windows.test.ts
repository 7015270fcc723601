// `--windows` (src/simulator/windows.ts): the compact weekly-window form, its round trip, its mapping
// onto the agent's real `[updates.periodic]` config, and errors that name the flag and the bad part.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';
import { WEEKDAYS, type Weekday } from '../../../src/config/types.js';
import { calendarToml, formatWindows, parseWindows, type SimCalendar } from '../../../src/simulator/windows.js';

const FULL = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const ZONES = ['UTC', 'Europe/Moscow', 'America/New_York', 'Asia/Kolkata', 'localtime'];

const daysArb = fc.uniqueArray(fc.integer({ min: 0, max: 6 }), { minLength: 1, maxLength: 7 }).map((ix) => WEEKDAYS.filter((_, i) => ix.includes(i)));
const calendarArb: fc.Arbitrary<SimCalendar> = fc.record({
  timeZone: fc.constantFrom(...ZONES),
  windows: fc.array(fc.record({ days: daysArb, startMinutes: fc.integer({ min: 0, max: 1439 }), lengthMinutes: fc.integer({ min: 1, max: 10080 }) }), { minLength: 1, maxLength: 5 }),
});

// One day item written any accepted way: short or full name, any case; or a range, possibly wrapping.
const itemArb = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.boolean(), fc.boolean()).map(([i, full, upper]) => {
    const t = full ? FULL[i]! : WEEKDAYS[i]!;
    return { text: upper ? t.toUpperCase() : t.toLowerCase(), days: [WEEKDAYS[i]!] };
  }),
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 6 })).map(([a, b]) => {
    const days: Weekday[] = [];
    for (let i = a; ; i = (i + 1) % 7) {
      days.push(WEEKDAYS[i]!);
      if (i === b) break;
    }
    return { text: `${WEEKDAYS[a]!}-${WEEKDAYS[b]!}`, days };
  }),
);

const sorted = (days: Iterable<Weekday>): Weekday[] => WEEKDAYS.filter((d) => new Set(days).has(d));

describe('parseWindows', () => {
  it('reads back what formatWindows writes, for any calendar', () => {
    fc.assert(
      fc.property(calendarArb, (c) => {
        expect(parseWindows(formatWindows(c))).toEqual(c);
      }),
    );
  });

  it('maps onto the agent config: the real config code reads calendarToml as the same calendar', () => {
    fc.assert(
      fc.property(calendarArb, (c) => {
        const text = `[updates]\nstrategy = "periodic"\n${calendarToml(c).join('\n')}\n`;
        const { periodic } = settingsFromFragments([parseFragment('sim.toml', text)]).settings.updates;
        expect({ timeZone: periodic.timeZone, windows: periodic.windows }).toEqual(c);
      }),
    );
  });

  it('reads day names in any case, full names, ranges (wrapping ones too) and free spacing', () => {
    fc.assert(
      fc.property(fc.array(itemArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 1, max: 10080 }), fc.constantFrom(' ', '  ', '\t'), (items, h, m, len, sp) => {
        const text = `${sp}${items.map((i) => i.text).join(',')}${sp}${h}:${String(m).padStart(2, '0')}+${len}${sp}`;
        expect(parseWindows(text)).toEqual({ timeZone: 'UTC', windows: [{ days: sorted(items.flatMap((i) => i.days)), startMinutes: h * 60 + m, lengthMinutes: len }] });
      }),
    );
  });

  it('reads the example of the docs; a zone named once applies to every entry', () => {
    expect(parseWindows('Mon,Wed 02:00+60 Europe/Moscow; Sat 22:00+120')).toEqual({
      timeZone: 'Europe/Moscow',
      windows: [
        { days: ['Mon', 'Wed'], startMinutes: 120, lengthMinutes: 60 },
        { days: ['Sat'], startMinutes: 1320, lengthMinutes: 120 },
      ],
    });
    expect(parseWindows('daily 23:30+45').windows[0]!.days).toEqual(WEEKDAYS);
    expect(parseWindows('* 0:05+1').windows[0]).toEqual({ days: WEEKDAYS, startMinutes: 5, lengthMinutes: 1 });
  });

  const badPart = fc.oneof(
    fc.integer({ min: 24, max: 99 }).map((h) => ({ entry: `Mon ${h}:00+60`, part: `${h}:00+60` })),
    fc.integer({ min: 60, max: 99 }).map((m) => ({ entry: `Mon 02:${m}+60`, part: `02:${m}+60` })),
    fc.integer({ min: 10081, max: 99999 }).map((n) => ({ entry: `Mon 02:00+${n}`, part: `02:00+${n}` })),
    fc.constant({ entry: 'Mon 02:00+0', part: '02:00+0' }),
    fc.constant({ entry: 'Mon 02:00', part: '02:00' }),
    fc.constantFrom('Tuesady', 'Mo', 'weekday', 'Mon-Tue-Wed').map((d) => ({ entry: `${d} 02:00+60`, part: d })),
    fc.constantFrom('Mars/Olympus', 'UTC+3').map((z) => ({ entry: `Mon 02:00+60 ${z}`, part: z })),
    fc.constant({ entry: 'Mon 02:00+60 UTC extra', part: 'Mon 02:00+60 UTC extra' }),
  );

  it('rejects a bad part anywhere in the list with SIM_USAGE naming the flag and that part', () => {
    fc.assert(
      fc.property(fc.array(fc.constant('Sun 01:00+30'), { maxLength: 2 }), badPart, fc.array(fc.constant('Fri 04:00+15'), { maxLength: 2 }), (before, bad, after) => {
        const text = [...before, bad.entry, ...after].join('; ');
        expect(() => parseWindows(text, '--windows')).toThrow(expect.objectContaining({ code: 'SIM_USAGE', message: expect.stringContaining(`--windows: ${JSON.stringify(bad.part)}`) }));
      }),
    );
  });

  it('rejects an empty entry and two different zones (the agent has one time_zone)', () => {
    expect(() => parseWindows('Mon 02:00+60;')).toThrow(/entry 2 is empty/);
    expect(() => parseWindows('Mon 02:00+60 UTC; Tue 02:00+60 Europe/Moscow')).toThrow(/"Europe\/Moscow": entry 2: a second time zone \(UTC before\)/);
    expect(parseWindows('Mon 02:00+60 UTC; Tue 02:00+60 UTC').timeZone).toBe('UTC');
  });
});
