// Time-zone arithmetic for the weekly calendar, on top of Intl (which reads the system tz data
// through ICU). Only offsets and wall-clock fields are needed; no tz library.
import { StrategyConfigError } from '../errors.js';

const MINUTE_MS = 60_000;

/**
 * Resolves `UTC`, `localtime` or an IANA name to a zone Intl accepts. `localtime` means the zone
 * this process runs in (Node resolves it from `TZ` or `/etc/localtime`), resolved once, at start-up.
 */
export function resolveTimeZone(name: string, localZone: () => string = defaultLocalZone): string {
  const zone = name === 'localtime' ? localZone() : name;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch (cause: unknown) {
    throw new StrategyConfigError(`updates.periodic.time_zone: unknown time zone '${name}'`, { cause });
  }
}

function defaultLocalZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/**
 * One resolved zone: maps an instant to its wall-clock offset. Offsets are memoised per UTC hour
 * because zone transitions in the tz database never happen twice within one hour.
 */
export class Zone {
  readonly name: string;
  readonly #fmt: Intl.DateTimeFormat;
  readonly #hourCache = new Map<number, number>();

  constructor(name: string) {
    this.name = name;
    this.#fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Wall-clock offset from UTC at instant `ms`, in ms (exact, one Intl call). */
  exactOffsetMs(ms: number): number {
    const t = Math.floor(ms / 1000) * 1000;
    const f: Record<string, number> = {};
    for (const p of this.#fmt.formatToParts(new Date(t))) {
      if (p.type !== 'literal') f[p.type] = Number(p.value);
    }
    const wall = Date.UTC(f.year!, f.month! - 1, f.day!, f.hour!, f.minute!, f.second!);
    return wall - t;
  }

  /** Wall-clock offset at `ms`, using an hourly memo and exact lookups only in transition hours. */
  offsetMs(ms: number): number {
    const hour = Math.floor(ms / 3_600_000);
    const a = this.#hourOffset(hour);
    const b = this.#hourOffset(hour + 1);
    return a === b ? a : this.exactOffsetMs(ms);
  }

  /** Local minute of the week at instant `ms`: 0 = Monday 00:00 local, seconds dropped. */
  minuteOfWeek(ms: number): number {
    return localMinuteOfWeek(Math.floor(ms / MINUTE_MS) * MINUTE_MS + this.offsetMs(ms));
  }

  #hourOffset(hour: number): number {
    let v = this.#hourCache.get(hour);
    if (v === undefined) {
      v = this.exactOffsetMs(hour * 3_600_000);
      if (this.#hourCache.size > 4096) this.#hourCache.clear();
      this.#hourCache.set(hour, v);
    }
    return v;
  }
}

/** Minute of the week (Monday 00:00 = 0) of a wall-clock time expressed as if it were UTC ms. */
export function localMinuteOfWeek(wallMs: number): number {
  const d = new Date(wallMs);
  const mondayBased = (d.getUTCDay() + 6) % 7;
  return mondayBased * 1440 + d.getUTCHours() * 60 + d.getUTCMinutes();
}
