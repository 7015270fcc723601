// Stage 3 of 3 (style guide rule 8): validate merged inputs into the frozen `Settings` contract.
// Every error is one line: `<file>: <key>: expected ..., got ...`. Nothing is half-applied: the
// caller gets either a complete frozen Settings or a ConfigError.
import { ConfigError, describeValue } from './errors.js';
import { isTable, type Inputs, type Located, type ScalarKey } from './inputs.js';
import type { Settings, StrategyLabel, Weekday, WindowSettings } from './types.js';
import { MAX_WINDOW_MINUTES, normaliseDays, parseStartTime, parseWeekday } from './windows.js';

/** Defaults applied when no fragment sets a key (Zincati's, plus the ALT extras). */
export const DEFAULT_SETTINGS: Settings = deepFreeze({
  agent: { timing: { steadyIntervalSecs: 300, stagedIntervalSecs: 300, postponementIntervalSecs: 60 }, metrics: { listen: null } },
  cincinnati: { baseUrl: null, caFile: null },
  identity: { group: 'default', nodeUuid: null, rolloutWariness: null, stream: null },
  updates: {
    enabled: true,
    allowDowngrade: false,
    strategy: 'immediate',
    maxStageAttempts: 12,
    abandonSecs: 86400,
    fleetLock: { baseUrl: null, token: null, caFile: null, clientCertFile: null, clientKeyFile: null },
    periodic: { timeZone: 'UTC', windows: [] },
  },
  health: { enabled: true, requiredUnits: [], checkTimeoutSecs: 60, bootAttempts: 2, stateDir: '/var/lib/alt-updated' },
});

/** Reboot group syntax, as Zincati. */
export const GROUP_RE = /^[a-zA-Z0-9.-]+$/;
/** Stream names: safe in URL templates and ostree refs. */
export const STREAM_RE = /^[a-zA-Z0-9._-]+$/;
/** systemd unit names accepted in `health.required_units` (a suffix such as `.service` is required). */
export const UNIT_RE = /^[A-Za-z0-9:_.\\@-]+\.(service|socket|target|mount|path|timer|device|swap|scope|slice|automount)$/;
const STRATEGIES: readonly StrategyLabel[] = ['immediate', 'periodic', 'fleet_lock'];

/** Recursively freezes a plain object graph and returns it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function fail(loc: Pick<Located, 'file' | 'key' | 'line'>, expected: string, value: unknown): ConfigError {
  return new ConfigError('CONFIG_INVALID', `${loc.file}: ${loc.key}: expected ${expected}, got ${describeValue(value)}`, loc);
}

function str(loc: Located, check?: (s: string) => boolean, expected = 'a non-empty string'): string {
  if (typeof loc.value !== 'string' || loc.value === '' || (check && !check(loc.value))) throw fail(loc, expected, loc.value);
  return loc.value;
}

function int(loc: Located, min: number, max: number, expected: string): number {
  const v = loc.value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw fail(loc, expected, v);
  return v;
}

function bool(loc: Located): boolean {
  if (typeof loc.value !== 'boolean') throw fail(loc, 'a boolean', loc.value);
  return loc.value;
}

/** True when `url` (with `${...}` placeholders replaced by a dummy) is an absolute http(s) URL. */
export function isHttpUrlTemplate(url: string): boolean {
  try {
    const u = new URL(url.replace(/\$\{[a-z]+\}/g, 'x'));
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.host !== '';
  } catch {
    return false;
  }
}

/** True for `UTC`, `localtime`, or a time zone name the runtime's IANA database knows. */
export function isValidTimeZone(tz: string): boolean {
  if (tz === 'UTC' || tz === 'localtime') return true;
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** True for `HOST:PORT` with a port 0..65535 and a host name, IPv4 or `[IPv6]`. */
export function isListenAddress(s: string): boolean {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  return m !== null && Number(m[2]) <= 65535;
}

/** Normalises a 128-bit id (32 hex, or dashed UUID form) to 32 lowercase hex, or null. */
export function normaliseId128(s: string): string | null {
  const compact = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s) ? s.replace(/-/g, '') : s;
  return /^[0-9a-fA-F]{32}$/.test(compact) ? compact.toLowerCase() : null;
}

function validateWindow(loc: Located): WindowSettings {
  if (!isTable(loc.value)) throw fail(loc, 'a table', loc.value);
  const entry = loc.value;
  const field = (name: string): Located => ({ value: entry[name], file: loc.file, key: `${loc.key}.${name}`, line: loc.line });
  const daysLoc = field('days');
  const rawDays = daysLoc.value;
  // `days = []` is valid and opens no window, as in Zincati (one interval per listed day).
  if (!Array.isArray(rawDays)) throw fail(daysLoc, 'an array of week days', rawDays);
  const days: Weekday[] = rawDays.map((d: unknown) => {
    const day = typeof d === 'string' ? parseWeekday(d) : null;
    if (!day) throw fail(daysLoc, 'week days like "Mon" or "tuesday"', d);
    return day;
  });
  const startLoc = field('start_time');
  const startMinutes = typeof startLoc.value === 'string' ? parseStartTime(startLoc.value) : null;
  if (startMinutes === null) throw fail(startLoc, 'a time "H:M" with hour 0..23 and minute 0..59', startLoc.value);
  const lengthMinutes = int(field('length_minutes'), 1, MAX_WINDOW_MINUTES, `an integer 1..${String(MAX_WINDOW_MINUTES)} (minutes)`);
  return { days: normaliseDays(days), startMinutes, lengthMinutes };
}

/** Validates merged inputs into deeply frozen settings; throws `ConfigError` (`CONFIG_INVALID`). */
export function validateSettings(inputs: Inputs): Settings {
  const D = DEFAULT_SETTINGS;
  const get = <T>(key: ScalarKey, parse: (loc: Located) => T, dflt: T): T => {
    const loc = inputs.scalars.get(key);
    return loc === undefined ? dflt : parse(loc);
  };
  const optStr = (key: ScalarKey, check?: (s: string) => boolean, expected?: string): string | null =>
    get<string | null>(key, (l) => str(l, check, expected), null);

  const steadyIntervalSecs = get('agent.timing.steady_interval_secs', (l) => int(l, 1, 2 ** 31, 'an integer > 0 (seconds)'), D.agent.timing.steadyIntervalSecs);
  const stagedIntervalSecs = get('agent.timing.staged_interval_secs', (l) => int(l, 1, 2 ** 31, 'an integer > 0 (seconds)'), D.agent.timing.stagedIntervalSecs);
  const postponementIntervalSecs = get(
    'agent.timing.postponement_interval_secs',
    (l) => int(l, 1, 86_400, 'an integer from 1 to 86400 (seconds)'),
    D.agent.timing.postponementIntervalSecs,
  );
  const listen = optStr('agent.metrics.listen', isListenAddress, 'an address "HOST:PORT"');
  const cincinnatiUrl = optStr('cincinnati.base_url', isHttpUrlTemplate, 'an http(s) URL');
  const group = get('identity.group', (l) => str(l, (s) => GROUP_RE.test(s), `a group matching ${GROUP_RE.source}`), D.identity.group);
  const nodeUuid = get<string | null>('identity.node_uuid', (l) => {
    const id = typeof l.value === 'string' ? normaliseId128(l.value) : null;
    if (id === null) throw fail(l, 'a 128-bit id as 32 hex characters', l.value);
    return id;
  }, null);
  const rolloutWariness = get<number | null>('identity.rollout_wariness', (l) => {
    if (typeof l.value !== 'number' || Number.isNaN(l.value) || l.value < 0 || l.value > 1) throw fail(l, 'a number 0.0..1.0', l.value);
    return l.value;
  }, null);
  const stream = optStr('identity.stream', (s) => STREAM_RE.test(s), `a stream name matching ${STREAM_RE.source}`);
  const enabled = get('updates.enabled', bool, D.updates.enabled);
  const allowDowngrade = get('updates.allow_downgrade', bool, D.updates.allowDowngrade);
  // An empty strategy (Zincati: the default) never gets here: the merge stage unsets it.
  const strategy = get<StrategyLabel>('updates.strategy', (l) => {
    if (typeof l.value !== 'string' || !(STRATEGIES as readonly string[]).includes(l.value)) {
      throw fail(l, 'one of "immediate", "periodic", "fleet_lock"', l.value);
    }
    return l.value as StrategyLabel;
  }, D.updates.strategy);
  const maxStageAttempts = get('updates.max_stage_attempts', (l) => int(l, 1, 1_000_000, 'an integer >= 1'), D.updates.maxStageAttempts);
  const abandonSecs = get('updates.abandon_secs', (l) => int(l, 0, 2 ** 31, 'an integer >= 0 (seconds)'), D.updates.abandonSecs);
  const fleetLockUrl = optStr('updates.fleet_lock.base_url', isHttpUrlTemplate, 'an http(s) URL');
  const token = optStr('updates.fleet_lock.token', (s) => /^[\x21-\x7e]+$/.test(s), 'a token of printable ASCII without spaces');
  // TLS files are only named here; src/tls reads and checks their contents when the agent starts.
  const pemPath = (key: ScalarKey): string | null => optStr(key, (s) => s.startsWith('/'), 'an absolute path to a PEM file');
  const cincinnatiCa = pemPath('cincinnati.ca_file');
  const fleetLockCa = pemPath('updates.fleet_lock.ca_file');
  const clientCertFile = pemPath('updates.fleet_lock.client_cert_file');
  const clientKeyFile = pemPath('updates.fleet_lock.client_key_file');
  const certLoc = inputs.scalars.get('updates.fleet_lock.client_cert_file');
  const keyLoc = inputs.scalars.get('updates.fleet_lock.client_key_file');
  if ((clientCertFile === null) !== (clientKeyFile === null)) {
    const set = (certLoc ?? keyLoc)!;
    const missing = certLoc ? 'updates.fleet_lock.client_key_file' : 'updates.fleet_lock.client_cert_file';
    throw fail({ file: set.file, key: missing, line: set.line }, `a path because ${set.key} is set`, undefined);
  }
  const timeZone = get('updates.periodic.time_zone', (l) => str(l, isValidTimeZone, '"UTC", "localtime" or an IANA time zone name'), D.updates.periodic.timeZone);
  const healthEnabled = get('health.enabled', bool, D.health.enabled);
  const requiredUnits = get<readonly string[]>('health.required_units', (l) => {
    if (!Array.isArray(l.value) || !l.value.every((u: unknown) => typeof u === 'string' && UNIT_RE.test(u))) throw fail(l, 'an array of systemd unit names like "sshd.service"', l.value);
    return [...(l.value as string[])];
  }, D.health.requiredUnits);
  const checkTimeoutSecs = get('health.check_timeout_secs', (l) => int(l, 1, 86400, 'an integer 1..86400 (seconds)'), D.health.checkTimeoutSecs);
  const bootAttempts = get('health.boot_attempts', (l) => int(l, 1, 100, 'an integer 1..100'), D.health.bootAttempts);
  const stateDir = get('health.state_dir', (l) => str(l, (s) => s.startsWith('/'), 'an absolute directory path'), D.health.stateDir);
  // Windows are validated whatever the strategy (stricter than Zincati): a broken entry is a broken file.
  const windows = inputs.windows.map(validateWindow);

  const strategyLoc = inputs.scalars.get('updates.strategy');
  if (strategy === 'fleet_lock' && fleetLockUrl === null && strategyLoc) {
    throw fail({ file: strategyLoc.file, key: 'updates.fleet_lock.base_url', line: strategyLoc.line }, 'an http(s) URL because updates.strategy is "fleet_lock"', undefined);
  }
  if (strategy === 'periodic' && windows.every((w) => w.days.length === 0) && strategyLoc) {
    throw fail({ file: strategyLoc.file, key: 'updates.periodic.window', line: strategyLoc.line }, 'at least one [[updates.periodic.window]] because updates.strategy is "periodic"', undefined);
  }

  return deepFreeze({
    agent: { timing: { steadyIntervalSecs, stagedIntervalSecs, postponementIntervalSecs }, metrics: { listen } },
    cincinnati: { baseUrl: cincinnatiUrl, caFile: cincinnatiCa },
    identity: { group, nodeUuid, rolloutWariness, stream },
    updates: {
      enabled,
      allowDowngrade,
      strategy,
      maxStageAttempts,
      abandonSecs,
      fleetLock: { baseUrl: fleetLockUrl, token, caFile: fleetLockCa, clientCertFile, clientKeyFile },
      periodic: { timeZone, windows },
    },
    health: { enabled: healthEnabled, requiredUnits, checkTimeoutSecs, bootAttempts, stateDir },
  });
}
