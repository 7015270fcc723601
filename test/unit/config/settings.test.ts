import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.js';
import { parseFragment } from '../../../src/config/fragments.js';
import { settingsFromFragments } from '../../../src/config/load.js';
import { DEFAULT_SETTINGS } from '../../../src/config/settings.js';
import type { Settings } from '../../../src/config/types.js';

const FILE = '/etc/alt-updated/config.d/50-test.toml';
const load = (text: string): Settings => settingsFromFragments([parseFragment(FILE, text)]).settings;
const windowToml = (fields: string): string => `[[updates.periodic.window]]\n${fields}\n`;
const okWindow = 'days = ["Sat"]\nstart_time = "01:00"\nlength_minutes = 60';

// Each row: a fragment and either the value it must produce or the key named by the error.
const rows: { rule: string; toml: string; pick?: (s: Settings) => unknown; value?: unknown; errorKey?: string }[] = [
  { rule: 'steady_interval_secs accepts a positive integer', toml: '[agent.timing]\nsteady_interval_secs = 35', pick: (s) => s.agent.timing.steadyIntervalSecs, value: 35 },
  { rule: 'staged_interval_secs accepts a positive integer', toml: '[agent.timing]\nstaged_interval_secs = 20', pick: (s) => s.agent.timing.stagedIntervalSecs, value: 20 },
  { rule: 'staged_interval_secs rejects 0', toml: '[agent.timing]\nstaged_interval_secs = 0', errorKey: 'agent.timing.staged_interval_secs' },
  { rule: 'postponement_interval_secs defaults to 60', toml: '', pick: (s) => s.agent.timing.postponementIntervalSecs, value: 60 },
  { rule: 'postponement_interval_secs accepts a positive integer', toml: '[agent.timing]\npostponement_interval_secs = 5', pick: (s) => s.agent.timing.postponementIntervalSecs, value: 5 },
  { rule: 'postponement_interval_secs rejects 0', toml: '[agent.timing]\npostponement_interval_secs = 0', errorKey: 'agent.timing.postponement_interval_secs' },
  { rule: 'postponement_interval_secs rejects more than a day', toml: '[agent.timing]\npostponement_interval_secs = 86401', errorKey: 'agent.timing.postponement_interval_secs' },
  { rule: 'steady_interval_secs rejects 0', toml: '[agent.timing]\nsteady_interval_secs = 0', errorKey: 'agent.timing.steady_interval_secs' },
  { rule: 'steady_interval_secs rejects a negative', toml: '[agent.timing]\nsteady_interval_secs = -5', errorKey: 'agent.timing.steady_interval_secs' },
  { rule: 'steady_interval_secs rejects a fraction', toml: '[agent.timing]\nsteady_interval_secs = 1.5', errorKey: 'agent.timing.steady_interval_secs' },
  { rule: 'steady_interval_secs rejects a string', toml: '[agent.timing]\nsteady_interval_secs = "300"', errorKey: 'agent.timing.steady_interval_secs' },
  { rule: 'metrics.listen accepts HOST:PORT', toml: '[agent.metrics]\nlisten = "127.0.0.1:9186"', pick: (s) => s.agent.metrics.listen, value: '127.0.0.1:9186' },
  { rule: 'metrics.listen accepts [IPv6]:PORT', toml: '[agent.metrics]\nlisten = "[::1]:0"', pick: (s) => s.agent.metrics.listen, value: '[::1]:0' },
  { rule: 'metrics.listen rejects a bare port', toml: '[agent.metrics]\nlisten = "9186"', errorKey: 'agent.metrics.listen' },
  { rule: 'cincinnati.base_url accepts a templated http URL', toml: '[cincinnati]\nbase_url = "http://u.example/${stream}/${basearch}"', pick: (s) => s.cincinnati.baseUrl, value: 'http://u.example/${stream}/${basearch}' },
  { rule: 'cincinnati.base_url rejects ftp', toml: '[cincinnati]\nbase_url = "ftp://u.example/"', errorKey: 'cincinnati.base_url' },
  { rule: 'cincinnati.base_url rejects a non-URL', toml: '[cincinnati]\nbase_url = "updates"', errorKey: 'cincinnati.base_url' },
  { rule: 'cincinnati.base_url rejects empty', toml: '[cincinnati]\nbase_url = ""', errorKey: 'cincinnati.base_url' },
  { rule: 'group accepts letters, digits, dots and dashes', toml: '[identity]\ngroup = "workers.eu-1"', pick: (s) => s.identity.group, value: 'workers.eu-1' },
  { rule: 'group rejects an underscore', toml: '[identity]\ngroup = "a_b"', errorKey: 'identity.group' },
  // Zincati (src/identity/mod.rs `with_config`): an empty group or node_uuid means "unset".
  { rule: 'an empty group means the default group (Zincati)', toml: '[identity]\ngroup = ""', pick: (s) => s.identity.group, value: 'default' },
  { rule: 'an empty node_uuid means unset (Zincati)', toml: '[identity]\nnode_uuid = ""', pick: (s) => s.identity.nodeUuid, value: null },
  { rule: 'an empty fleet_lock.base_url means unset outside fleet_lock (Zincati)', toml: '[updates.fleet_lock]\nbase_url = ""', pick: (s) => s.updates.fleetLock.baseUrl, value: null },
  { rule: 'an empty fleet_lock.base_url is still missing for fleet_lock', toml: '[updates]\nstrategy = "fleet_lock"\nfleet_lock.base_url = ""', errorKey: 'updates.fleet_lock.base_url' },
  { rule: 'node_uuid is normalised to 32 lowercase hex', toml: '[identity]\nnode_uuid = "27E3AC02-AF39-46AF-995C-9940E18B0CCE"', pick: (s) => s.identity.nodeUuid, value: '27e3ac02af3946af995c9940e18b0cce' },
  { rule: 'node_uuid rejects non-hex', toml: '[identity]\nnode_uuid = "xyz"', errorKey: 'identity.node_uuid' },
  { rule: 'rollout_wariness accepts 0.5', toml: '[identity]\nrollout_wariness = 0.5', pick: (s) => s.identity.rolloutWariness, value: 0.5 },
  { rule: 'rollout_wariness accepts integer 1', toml: '[identity]\nrollout_wariness = 1', pick: (s) => s.identity.rolloutWariness, value: 1 },
  { rule: 'rollout_wariness rejects nan', toml: '[identity]\nrollout_wariness = nan', errorKey: 'identity.rollout_wariness' },
  { rule: 'rollout_wariness rejects negatives', toml: '[identity]\nrollout_wariness = -0.1', errorKey: 'identity.rollout_wariness' },
  { rule: 'rollout_wariness rejects > 1', toml: '[identity]\nrollout_wariness = 1.01', errorKey: 'identity.rollout_wariness' },
  { rule: 'identity.stream accepts a branch name', toml: '[identity]\nstream = "p11"', pick: (s) => s.identity.stream, value: 'p11' },
  { rule: 'identity.stream rejects template characters', toml: '[identity]\nstream = "${x}"', errorKey: 'identity.stream' },
  { rule: 'enabled must be a boolean', toml: '[updates]\nenabled = "yes"', errorKey: 'updates.enabled' },
  { rule: 'allow_downgrade must be a boolean', toml: '[updates]\nallow_downgrade = 1', errorKey: 'updates.allow_downgrade' },
  { rule: 'an empty strategy means immediate (Zincati)', toml: '[updates]\nstrategy = ""', pick: (s) => s.updates.strategy, value: 'immediate' },
  { rule: 'strategy rejects an unknown label', toml: '[updates]\nstrategy = "weekly"', errorKey: 'updates.strategy' },
  { rule: 'fleet_lock requires a base_url', toml: '[updates]\nstrategy = "fleet_lock"', errorKey: 'updates.fleet_lock.base_url' },
  { rule: 'fleet_lock with base_url and token is accepted', toml: '[updates]\nstrategy = "fleet_lock"\nfleet_lock.base_url = "http://127.0.0.1:8080/"\nfleet_lock.token = "s3cr3t"', pick: (s) => s.updates.fleetLock, value: { baseUrl: 'http://127.0.0.1:8080/', token: 's3cr3t', caFile: null, clientCertFile: null, clientKeyFile: null } },
  { rule: 'fleet_lock.token rejects spaces', toml: '[updates.fleet_lock]\ntoken = "a b"', errorKey: 'updates.fleet_lock.token' },
  { rule: 'cincinnati.ca_file takes an absolute path', toml: '[cincinnati]\nca_file = "/etc/alt-updated/ca.crt"', pick: (s) => s.cincinnati.caFile, value: '/etc/alt-updated/ca.crt' },
  { rule: 'cincinnati.ca_file rejects a relative path', toml: '[cincinnati]\nca_file = "ca.crt"', errorKey: 'cincinnati.ca_file' },
  { rule: 'fleet_lock.ca_file rejects a non-string', toml: '[updates.fleet_lock]\nca_file = 1', errorKey: 'updates.fleet_lock.ca_file' },
  {
    rule: 'fleet_lock client certificate and key are taken together',
    toml: '[updates.fleet_lock]\nclient_cert_file = "/n.crt"\nclient_key_file = "/n.key"',
    pick: (s) => [s.updates.fleetLock.clientCertFile, s.updates.fleetLock.clientKeyFile],
    value: ['/n.crt', '/n.key'],
  },
  { rule: 'fleet_lock client certificate without a key names the key', toml: '[updates.fleet_lock]\nclient_cert_file = "/n.crt"', errorKey: 'updates.fleet_lock.client_key_file' },
  { rule: 'fleet_lock client key without a certificate names the certificate', toml: '[updates.fleet_lock]\nclient_key_file = "/n.key"', errorKey: 'updates.fleet_lock.client_cert_file' },
  { rule: 'periodic requires at least one window', toml: '[updates]\nstrategy = "periodic"', errorKey: 'updates.periodic.window' },
  { rule: 'max_stage_attempts rejects 0', toml: '[updates]\nmax_stage_attempts = 0', errorKey: 'updates.max_stage_attempts' },
  { rule: 'max_stage_attempts accepts 3', toml: '[updates]\nmax_stage_attempts = 3', pick: (s) => s.updates.maxStageAttempts, value: 3 },
  { rule: 'abandon_secs rejects negatives', toml: '[updates]\nabandon_secs = -1', errorKey: 'updates.abandon_secs' },
  { rule: 'abandon_secs accepts 0', toml: '[updates]\nabandon_secs = 0', pick: (s) => s.updates.abandonSecs, value: 0 },
  { rule: 'time_zone accepts localtime', toml: '[updates.periodic]\ntime_zone = "localtime"', pick: (s) => s.updates.periodic.timeZone, value: 'localtime' },
  { rule: 'time_zone accepts an IANA name', toml: '[updates.periodic]\ntime_zone = "Europe/Moscow"', pick: (s) => s.updates.periodic.timeZone, value: 'Europe/Moscow' },
  { rule: 'time_zone rejects an unknown zone', toml: '[updates.periodic]\ntime_zone = "Mars/Olympus"', errorKey: 'updates.periodic.time_zone' },
  { rule: 'days accept full names incl. tuesday, any case, deduplicated and sorted', toml: windowToml('days = ["SUNDAY", "tuesday", "Tue", "mon"]\nstart_time = "7:5"\nlength_minutes = 10'), pick: (s) => s.updates.periodic.windows[0], value: { days: ['Mon', 'Tue', 'Sun'], startMinutes: 425, lengthMinutes: 10 } },
  { rule: "days reject Zincati's typo tuesady", toml: windowToml('days = ["tuesady"]\nstart_time = "1:00"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].days' },
  // Zincati expands each entry into one interval per listed day, so `days = []` adds nothing.
  { rule: 'days = [] beside a valid window adds no window (Zincati)', toml: `[updates]\nstrategy = "periodic"\n${windowToml('days = []\nstart_time = "1:00"\nlength_minutes = 10')}${windowToml(okWindow)}`, pick: (s) => s.updates.periodic.windows, value: [{ days: [], startMinutes: 60, lengthMinutes: 10 }, { days: ['Sat'], startMinutes: 60, lengthMinutes: 60 }] },
  { rule: 'periodic with only days = [] has no window (Zincati: weekly calendar length is zero)', toml: `[updates]\nstrategy = "periodic"\n${windowToml('days = []\nstart_time = "1:00"\nlength_minutes = 10')}`, errorKey: 'updates.periodic.window' },
  { rule: 'days reject a non-array', toml: windowToml('days = "Mon"\nstart_time = "1:00"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].days' },
  { rule: 'days are required', toml: windowToml('start_time = "1:00"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].days' },
  { rule: 'start_time rejects hour 24', toml: windowToml('days = ["Mon"]\nstart_time = "24:00"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].start_time' },
  { rule: 'start_time rejects minute 60', toml: windowToml('days = ["Mon"]\nstart_time = "12:60"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].start_time' },
  { rule: 'start_time rejects three fields', toml: windowToml('days = ["Mon"]\nstart_time = "1:2:3"\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].start_time' },
  { rule: 'start_time rejects an integer', toml: windowToml('days = ["Mon"]\nstart_time = 700\nlength_minutes = 10'), errorKey: 'updates.periodic.window[0].start_time' },
  { rule: 'length_minutes rejects 0', toml: windowToml('days = ["Mon"]\nstart_time = "1:00"\nlength_minutes = 0'), errorKey: 'updates.periodic.window[0].length_minutes' },
  { rule: 'length_minutes accepts one week', toml: windowToml('days = ["Mon"]\nstart_time = "1:00"\nlength_minutes = 10080'), pick: (s) => s.updates.periodic.windows[0]?.lengthMinutes, value: 10080 },
  { rule: 'length_minutes rejects more than a week', toml: windowToml('days = ["Mon"]\nstart_time = "1:00"\nlength_minutes = 10081'), errorKey: 'updates.periodic.window[0].length_minutes' },
  { rule: 'windows are validated whatever the strategy', toml: `[updates]\nstrategy = "immediate"\n${windowToml('days = ["Mon"]\nstart_time = "1:00"\nlength_minutes = -3')}`, errorKey: 'updates.periodic.window[0].length_minutes' },
  { rule: 'the second window entry is named by index', toml: windowToml(okWindow) + windowToml('days = ["Mon"]\nstart_time = "x"\nlength_minutes = 1'), errorKey: 'updates.periodic.window[1].start_time' },
  { rule: 'a section that is not a table is rejected', toml: 'agent = 5', errorKey: 'agent' },
  { rule: 'window must be an array of tables', toml: '[updates.periodic]\nwindow = 5', errorKey: 'updates.periodic.window' },
];

describe('config/settings validation', () => {
  it.each(rows)('$rule', ({ toml, pick, value, errorKey }) => {
    if (errorKey === undefined) {
      expect(pick?.(load(toml))).toEqual(value);
      return;
    }
    let err: unknown;
    try {
      load(toml);
    } catch (e: unknown) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    const ce = err as ConfigError;
    expect(ce.code).toBe('CONFIG_INVALID');
    expect(ce.key).toBe(errorKey);
    // One line: `<file>: <key>: expected ..., got ...`.
    expect(ce.message).toMatch(new RegExp(`^${FILE.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${errorKey.replace(/[.[\]]/g, '\\$&')}: expected .+, got .+$`));
    expect(ce.message).not.toContain('\n');
  });

  it('lets a later empty identity value reset an earlier one to the default, as Zincati', () => {
    // Zincati's shipped 10-identity.toml sets group = "default"; 00-config-sample.toml (its test
    // fixture) sets group "workers" and a node_uuid; a later fragment blanks both.
    const loaded = settingsFromFragments([
      parseFragment('/usr/lib/alt-updated/config.d/00-config-sample.toml', '[identity]\ngroup = "workers"\nnode_uuid = "27e3ac02af3946af995c9940e18b0cce"\n'),
      parseFragment(FILE, '[identity]\ngroup = ""\nnode_uuid = ""\n'),
    ]);
    expect(loaded.settings.identity).toMatchObject({ group: 'default', nodeUuid: null });
    // Unset, so no fragment is the origin of these keys (identity shows source "default").
    expect(loaded.origins['identity.group']).toBeUndefined();
    expect(loaded.origins['identity.node_uuid']).toBeUndefined();
  });

  it('yields the documented defaults for an empty fragment', () => {
    expect(load('')).toEqual(DEFAULT_SETTINGS);
  });

  it('loads the Zincati test sample that covers every key', () => {
    const s = load(`
[agent.timing]
steady_interval_secs = 35
[identity]
group = "workers"
node_uuid = "27e3ac02af3946af995c9940e18b0cce"
rollout_wariness = 0.5
[cincinnati]
base_url = "http://cincinnati.example.com:80/"
[updates]
allow_downgrade = true
enabled = false
strategy = "fleet_lock"
fleet_lock.base_url = "http://fleet-lock.example.com:8080/"
periodic.time_zone = "localtime"
[[updates.periodic.window]]
days = [ "Sat", "Sun" ]
start_time = "23:30"
length_minutes = 25
[[updates.periodic.window]]
days = [ "Wed" ]
start_time = "21:00"
length_minutes = 60
`);
    expect(s.updates.periodic.windows).toEqual([
      { days: ['Sat', 'Sun'], startMinutes: 1410, lengthMinutes: 25 },
      { days: ['Wed'], startMinutes: 1260, lengthMinutes: 60 },
    ]);
    expect(s.identity).toEqual({ group: 'workers', nodeUuid: '27e3ac02af3946af995c9940e18b0cce', rolloutWariness: 0.5, stream: null });
    expect(s.updates.enabled).toBe(false);
  });
});
