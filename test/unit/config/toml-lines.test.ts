import { describe, expect, it } from 'vitest';
import { indexKeyLines, lineOf } from '../../../src/config/toml-lines.js';

describe('config/toml-lines', () => {
  const idx = indexKeyLines(
    ['# c', '[updates]', 'strategy = "x" # trailing', 'fleet_lock.base_url = "http://h/#x"', '', '[[updates.periodic.window]]', 'days = []', '[[updates.periodic.window]]', 'start_time = "1:0"', "[identity]", '"group" = "a"'].join('\n'),
  );
  it.each([
    ['updates', 2],
    ['updates.strategy', 3],
    ['updates.fleet_lock', 4],
    ['updates.fleet_lock.base_url', 4],
    ['updates.periodic.window', 6],
    ['updates.periodic.window[0].days', 7],
    ['updates.periodic.window[1]', 8],
    ['updates.periodic.window[1].start_time', 9],
    ['identity.group', 11],
  ])('finds %s on line %i', (key, line) => {
    expect(lineOf(idx, key)).toBe(line);
  });
  it('falls back to the closest parent, or null', () => {
    expect(lineOf(idx, 'updates.periodic.window[1].length_minutes')).toBe(8);
    expect(lineOf(idx, 'agent.timing')).toBeNull();
  });
});
