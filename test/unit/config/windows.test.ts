// Day and time parsing of `[[updates.periodic.window]]`, checked against Zincati's own vectors
// (coreos/zincati src/weekly/utils.rs `test_time_from_string`, `test_weekday_from_string`), re-typed.
import { describe, expect, it } from 'vitest';
import { parseStartTime, parseWeekday } from '../../../src/config/windows.js';

describe('config/windows start_time (Zincati time_from_string)', () => {
  it.each([
    ['12:45', 12 * 60 + 45],
    ['07:5', 7 * 60 + 5],
    ['0x0A:0o70', null],
    ['-00:00', null],
    ['25:00', null],
    ['23:60', null],
  ])("agrees with Zincati's vector %j", (text, want) => {
    expect(parseStartTime(text)).toBe(want);
  });

  // Each field is a Rust u8: an optional `+`, any number of leading zeros, nothing else.
  it.each([
    ['+7:05', 7 * 60 + 5],
    ['007:0005', 7 * 60 + 5],
    [' 7:05', null],
    ['7:05 ', null],
    ['7:', null],
    [':5', null],
    ['1:2:3', null],
    ['256:00', null],
  ])('reads %j as Zincati does', (text, want) => {
    expect(parseStartTime(text)).toBe(want);
  });
});

describe('config/windows days (Zincati weekday_from_string, with tuesday fixed)', () => {
  it.each([
    ['Mon', 'Mon'],
    ['monday', 'Mon'],
    ['domenica', null],
    ['TUESDAY', 'Tue'],
    ['tuesady', null],
    [' mon', null],
  ])('reads %j', (text, want) => {
    expect(parseWeekday(text)).toBe(want);
  });
});
