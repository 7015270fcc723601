// Seeded generator of config fragment texts: mutations of a valid fragment, every known key set to a
// hostile value, and random TOML tables.
import { stringify } from 'smol-toml';
import { createPrng, type Prng } from '../../helpers/faults.js';
import { mutateText, NASTY_NUMBERS, NASTY_STRINGS, randomJson, randomString } from './gen-values.js';
import { SCALAR_KEYS } from '../../../src/config/inputs.js';

/** A valid fragment touching every documented key (docs/usage/configuration.md). */
export const VALID_FRAGMENT = `# all keys
[agent.timing]
steady_interval_secs = 300
staged_interval_secs = 60
[agent.metrics]
listen = "127.0.0.1:9100"
[cincinnati]
base_url = "https://updates.example/\${stream}/"
[identity]
group = "workers"
node_uuid = "0123456789abcdef0123456789abcdef"
rollout_wariness = 0.5
stream = "sisyphus"
[updates]
enabled = true
allow_downgrade = false
strategy = "fleet_lock"
max_stage_attempts = 12
abandon_secs = 86400
[updates.fleet_lock]
base_url = "http://lock.example/"
token = "s3cret"
[updates.periodic]
time_zone = "Europe/Moscow"
[[updates.periodic.window]]
days = ["Mon", "sunday"]
start_time = "22:30"
length_minutes = 120
`;

/** Every scalar key the configuration understands (the corpus sets each to hostile values). */
export const KNOWN_KEYS: readonly string[] = SCALAR_KEYS;

/** One generated fragment. */
export interface ConfigCase {
  readonly family: string;
  readonly text: string;
  /** Whether warnings are fatal (`--strict`). */
  readonly strict: boolean;
}

function tomlValue(r: Prng): string {
  return r.pick([
    () => JSON.stringify(r.pick(NASTY_STRINGS.filter((s) => s.length < 1000))),
    () => String(r.pick(NASTY_NUMBERS.filter((n) => Number.isFinite(n) && !Object.is(n, -0)))),
    () => r.pick(['inf', '-inf', 'nan', '+nan', '9223372036854775807', '-9223372036854775808', '0x7fffffff', '1_000', '0o17', '0b101', '1e400']),
    () => r.pick(['true', 'false', '1979-05-27T07:32:00Z', '07:32:00', '1979-05-27']),
    () => r.pick(['[]', '[1, "a"]', '[[1], [2]]', '{}', '{ a = 1 }', '[{ x = 1 }]']),
    () => JSON.stringify(randomString(r)),
  ])();
}

function keyLine(key: string, value: string): string {
  const parts = key.split('.');
  const leaf = parts.pop()!;
  return `[${parts.join('.')}]\n${leaf} = ${value}\n`;
}

function windowText(r: Prng): string {
  const field = (name: string, good: string): string => (r.chance(0.6) ? `${name} = ${good}\n` : r.chance(0.5) ? `${name} = ${tomlValue(r)}\n` : '');
  return `[[updates.periodic.window]]\n${field('days', '["Mon"]')}${field('start_time', '"01:00"')}${field('length_minutes', '60')}${r.chance(0.2) ? `extra = 1\n` : ''}`;
}

function randomTable(r: Prng): string {
  const value = randomJson(r, 3);
  const table = typeof value === 'object' && value !== null && !Array.isArray(value) ? value : { [randomString(r) || 'k']: value };
  try {
    return stringify(table);
  } catch {
    // TOML has no null: such a table cannot be written; use a hostile key table instead.
    return `[${JSON.stringify(randomString(r))}]\nx = ${tomlValue(r)}\n`;
  }
}

const families: Record<string, (r: Prng) => string> = {
  mutated_valid: (r) => {
    let t = VALID_FRAGMENT;
    for (let i = r.int(1, 4); i > 0; i--) t = mutateText(r, t);
    return t;
  },
  hostile_value: (r) => keyLine(r.pick(KNOWN_KEYS), tomlValue(r)),
  two_hostile_values: (r) => keyLine(r.pick(KNOWN_KEYS), tomlValue(r)) + keyLine(r.pick(KNOWN_KEYS), tomlValue(r)),
  windows: (r) => `[updates]\nstrategy = "periodic"\n${windowText(r)}${r.chance(0.5) ? windowText(r) : ''}`,
  random_table: randomTable,
  shape_clash: (r) =>
    r.pick([
      'agent = 1\n',
      'agent.timing = "x"\n',
      '[updates]\nperiodic = []\n',
      '[updates]\nfleet_lock = 5\n',
      'updates.periodic.window = { days = ["Mon"] }\n',
      '[[updates.periodic.window]]\n[[updates.periodic.window]]\n',
      '[cincinnati]\nbase_url = "ftp://x/"\n',
      '[cincinnati]\nbase_url = "http://"\n',
      '[updates]\nstrategy = "fleet_lock"\n',
      '[updates]\nstrategy = "periodic"\n',
      '[identity]\n"group" = "a b"\n',
      '\ufeff[updates]\nenabled = true\n',
      '[updates]\nenabled = true\nenabled = false\n',
    ]),
};

/** Family names, in generation order. */
export const CONFIG_FAMILIES: readonly string[] = Object.keys(families);

/** Generates `count` fragment cases from `seed`, cycling through the families. */
export function generateConfigCases(seed: number, count: number): ConfigCase[] {
  const r = createPrng(seed);
  return Array.from({ length: count }, (_, i) => {
    const family = CONFIG_FAMILIES[i % CONFIG_FAMILIES.length]!;
    return { family, text: families[family]!(r), strict: r.chance(0.3) };
  });
}
