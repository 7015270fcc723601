// `alt-updatectl window check [--root DIR] [--at ISO8601] [--json]`: evaluates the configured
// periodic calendar (`[[updates.periodic.window]]` + `updates.periodic.time_zone`) at an instant.
// Exit 0 with the answer, 1 on invalid configuration, 2 on bad usage.
import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from '../command.js';
import { AltError } from '../../common/errors.js';
import { loadSettings } from '../../config/load.js';
import { PeriodicSchedule } from '../../strategies/periodic/schedule.js';
import { resolveTimeZone } from '../../strategies/periodic/zone.js';
import type { Settings } from '../../config/types.js';

const USAGE = 'usage: alt-updatectl window check [--root DIR] [--at ISO8601] [--json]';

/** The JSON answer of `window check`. */
export interface WindowCheckJson {
  /** Whether `--at` lies inside a window (local wall-clock minute, inclusive end minute). */
  readonly in_window: boolean;
  /** The next instant after `--at` at which a window opens, or null (no windows / always open). */
  readonly next_window_start: string | null;
  /** Weekly minutes covered by the windows, overlaps counted once. */
  readonly schedule_length_minutes: number;
  /** The resolved zone (`localtime` resolved to the system zone). */
  readonly time_zone: string;
}

/** Pure evaluation of the configured calendar at `atMs`. Throws `StrategyConfigError` on a bad zone. */
export function windowCheck(settings: Settings, atMs: number, localZone?: () => string): WindowCheckJson {
  const zone = resolveTimeZone(settings.updates.periodic.timeZone, localZone);
  const schedule = new PeriodicSchedule(settings.updates.periodic.windows, zone);
  const next = schedule.nextWindowStart(atMs);
  return {
    in_window: schedule.inWindow(atMs),
    next_window_start: next === null ? null : new Date(next).toISOString(),
    schedule_length_minutes: schedule.scheduleLengthMinutes,
    time_zone: zone,
  };
}

function parseFlags(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { root: { type: 'string' }, at: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err: unknown) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
}

/** Runs `window <subcommand>`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseFlags(argv);
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'check') throw new CliUsageError(USAGE);
  if (values.root === '') throw new CliUsageError(`--root needs a directory\n${USAGE}`);
  // ISO 8601 with an explicit offset or Z: a bare local time would silently depend on the caller's TZ.
  if (values.at !== undefined && !/(Z|[+-]\d\d:?\d\d)$/i.test(values.at)) {
    throw new CliUsageError(`--at needs an ISO 8601 instant with Z or an offset, e.g. 2026-03-29T01:30:00Z\n${USAGE}`);
  }
  const atMs = values.at === undefined ? Date.now() : Date.parse(values.at);
  if (Number.isNaN(atMs)) throw new CliUsageError(`--at: not an ISO 8601 instant: '${values.at ?? ''}'\n${USAGE}`);
  try {
    const { settings, warnings } = await loadSettings({ root: values.root ?? '/', strict: false });
    for (const w of warnings) io.stderr(`alt-updatectl window: warning: ${w.message}`);
    const answer = windowCheck(settings, atMs);
    if (values.json) {
      io.stdout(JSON.stringify(answer));
    } else {
      io.stdout(
        [
          `time zone: ${answer.time_zone}`,
          `schedule length: ${answer.schedule_length_minutes} minutes per week`,
          `at ${new Date(atMs).toISOString()}: ${answer.in_window ? 'inside a maintenance window' : 'outside the maintenance windows'}`,
          `next window start: ${answer.next_window_start ?? '(none)'}`,
        ].join('\n'),
      );
    }
    return 0;
  } catch (err: unknown) {
    if (err instanceof AltError) {
      io.stderr(`alt-updatectl window: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
