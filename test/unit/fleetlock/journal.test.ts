import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { journalLine, parseJournal } from '../../../src/fleetlock/server/journal.js';
import type { GroupState } from '../../../src/fleetlock/server/semaphore.js';

const state = (...ids: string[]): GroupState => ({ holders: ids.map((id, i) => ({ id, sinceMs: i, renewedMs: i })) });
const lines = [journalLine(0, 'a', state('x')), journalLine(1, 'b', state('y', 'z')), journalLine(2, 'a', state())];
const full = Buffer.from(lines.join(''));

describe('src/fleetlock/server/journal parseJournal', () => {
  it('keeps the last record per group', () => {
    const p = parseJournal(full);
    expect(p.lines).toBe(3);
    expect(p.goodBytes).toBe(full.length);
    expect(p.records.get('a')).toEqual({ seq: 2, state: state() });
    expect(p.records.get('b')?.state.holders.map((h) => h.id)).toEqual(['y', 'z']);
  });

  it('drops a torn tail at any cut point and keeps every complete line before it (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: full.length }), (cut) => {
        const p = parseJournal(full.subarray(0, cut));
        const complete = lines.filter((_, i) => Buffer.byteLength(lines.slice(0, i + 1).join('')) <= cut).length;
        expect(p.lines).toBe(complete);
        expect(p.goodBytes).toBe(Buffer.byteLength(lines.slice(0, complete).join('')));
      }),
    );
  });

  it('drops a damaged last line that still ends in a newline', () => {
    const damaged = Buffer.from(lines[0]! + lines[1]!.replace('"y"', '"Y"'));
    expect(parseJournal(damaged)).toMatchObject({ lines: 1, goodBytes: Buffer.byteLength(lines[0]!) });
  });

  it('refuses a damaged line followed by more records instead of guessing', () => {
    const damaged = Buffer.from(lines[0]! + lines[1]!.replace('"y"', '"Y"') + lines[2]!);
    expect(() => parseJournal(damaged, '/s/fleetlock.journal')).toThrow(/fleetlock\.journal: line 2 .* damaged/);
    try {
      parseJournal(damaged);
    } catch (err: unknown) {
      expect((err as { code: string }).code).toBe('FLEETLOCKD_STORE_CORRUPT');
    }
  });

  it('refuses sequence numbers that go backwards', () => {
    expect(() => parseJournal(Buffer.from(lines[1]! + lines[0]!))).toThrow(/damaged/);
  });
});
