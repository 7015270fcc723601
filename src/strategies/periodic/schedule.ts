// The calendar placed in a time zone: "is now inside a window" and "when does the next window
// open/close" as absolute instants.
//
// DST semantics (documented in docs/usage/strategies.md): windows are wall-clock minutes.
// - Spring forward: local minutes in the gap never occur. A window that starts inside the gap opens
//   at the transition instant if it extends past the gap, otherwise it is skipped that week.
// - Fall back: repeated local minutes are in the window on both passes, so such a window is longer,
//   and a window lying entirely in the repeated hour opens twice (both openings are reported).
import { WeeklyCalendar } from './calendar.js';
import { Zone } from './zone.js';
import type { WindowSettings } from '../../config/types.js';

const MINUTE_MS = 60_000;
// One week plus the largest DST shift, plus margin: every opening recurs within this horizon.
const HORIZON_MINUTES = 8 * 24 * 60;

/** A weekly calendar evaluated in one zone. All answers are pure functions of the instant. */
export class PeriodicSchedule {
  /** The wall-clock calendar. */
  readonly calendar: WeeklyCalendar;
  /** The resolved zone. */
  readonly zone: Zone;

  constructor(windows: readonly WindowSettings[], zoneName: string) {
    this.calendar = new WeeklyCalendar(windows);
    this.zone = new Zone(zoneName);
  }

  /** Coalesced weekly schedule length in minutes. */
  get scheduleLengthMinutes(): number {
    return this.calendar.scheduleLengthMinutes;
  }

  /** True when the local wall-clock minute of `nowMs` lies inside a window. */
  inWindow(nowMs: number): boolean {
    return this.calendar.contains(this.zone.minuteOfWeek(nowMs));
  }

  /**
   * The first instant strictly after `nowMs` at which a window opens (closed -> open), at minute
   * precision; null when there are no windows or the calendar covers the whole week. While inside a
   * window this is the start of the NEXT window, not of the current one.
   */
  nextWindowStart(nowMs: number): number | null {
    return this.#nextChange(nowMs, true);
  }

  /** The first instant strictly after `nowMs` at which a window closes (open -> closed), or null. */
  nextWindowEnd(nowMs: number): number | null {
    return this.#nextChange(nowMs, false);
  }

  #nextChange(nowMs: number, opening: boolean): number | null {
    if (this.calendar.isEmpty || this.calendar.isAlwaysOpen) return null;
    const m0 = Math.floor(nowMs / MINUTE_MS) * MINUTE_MS;
    let prev = this.inWindow(m0);
    for (let k = 1; k <= HORIZON_MINUTES; k++) {
      const m = m0 + k * MINUTE_MS;
      const cur = this.inWindow(m);
      if (cur !== prev && cur === opening) return m;
      prev = cur;
    }
    return null;
  }
}
