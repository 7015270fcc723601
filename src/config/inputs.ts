// Stage 2 of 3 (style guide rule 8): merge parsed fragments in order. Scalars: last fragment that sets
// a key wins (an empty string unsets the keys Zincati treats so); `[[updates.periodic.window]]`
// entries accumulate. Values stay `unknown` here and keep
// their file/line so stage 3 can name them in errors. Unknown keys become warnings (never silently
// dropped, unlike Zincati: coreos/airlock#81).
import { ConfigError, describeValue, type ConfigWarning } from './errors.js';
import type { ParsedFragment } from './fragments.js';
import { lineOf } from './toml-lines.js';

/** Every scalar key we understand, as dotted TOML paths. Zincati's keys plus the ALT extras. */
export const SCALAR_KEYS = [
  'agent.timing.steady_interval_secs',
  'agent.timing.staged_interval_secs',
  'agent.timing.postponement_interval_secs',
  'agent.metrics.listen',
  'cincinnati.base_url',
  'cincinnati.ca_file',
  'identity.group',
  'identity.node_uuid',
  'identity.rollout_wariness',
  'identity.stream',
  'updates.enabled',
  'updates.allow_downgrade',
  'updates.strategy',
  'updates.max_stage_attempts',
  'updates.abandon_secs',
  'updates.fleet_lock.base_url',
  'updates.fleet_lock.token',
  'updates.fleet_lock.ca_file',
  'updates.fleet_lock.client_cert_file',
  'updates.fleet_lock.client_key_file',
  'updates.periodic.time_zone',
  'health.enabled',
  'health.required_units',
  'health.check_timeout_secs',
  'health.boot_attempts',
  'health.state_dir',
] as const;

/** One of `SCALAR_KEYS`. */
export type ScalarKey = (typeof SCALAR_KEYS)[number];

/**
 * String keys for which Zincati reads `""` as "not set" (its inputs start empty and an empty value
 * means the default). Here an empty string likewise unsets the key: it overrides an earlier fragment
 * (last wins) and then the default applies, with no fragment recorded as the origin.
 */
export const EMPTY_MEANS_UNSET: ReadonlySet<ScalarKey> = new Set<ScalarKey>([
  'identity.group',
  'identity.node_uuid',
  'updates.strategy',
  'updates.fleet_lock.base_url',
]);

/** The array-of-tables key whose entries accumulate across fragments. */
export const WINDOW_KEY = 'updates.periodic.window';

/** Keys allowed inside one `[[updates.periodic.window]]` entry. */
export const WINDOW_FIELDS: readonly string[] = ['days', 'start_time', 'length_minutes'];

const SCALARS: ReadonlySet<string> = new Set(SCALAR_KEYS);
const SECTIONS: ReadonlySet<string> = new Set(
  [...SCALAR_KEYS, WINDOW_KEY].flatMap((k) => {
    const parts = k.split('.');
    return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('.'));
  }),
);

/** A raw value with where it was written. */
export interface Located {
  /** Raw TOML value, not yet validated. */
  readonly value: unknown;
  /** Fragment that set it. */
  readonly file: string;
  /** Dotted key, e.g. `updates.periodic.window[0]` for a window entry. */
  readonly key: string;
  /** 1-based line, when located. */
  readonly line: number | null;
}

/** Merged, still unvalidated configuration. */
export interface Inputs {
  /** Winning value per scalar key (absent = use the default). */
  readonly scalars: ReadonlyMap<ScalarKey, Located>;
  /** Every window entry of every fragment, in merge order (each value is a raw table). */
  readonly windows: readonly Located[];
}

/** Result of merging: inputs plus warnings about unknown keys. */
export interface MergeResult {
  /** Merged inputs. */
  readonly inputs: Inputs;
  /** Unknown keys, with file, key and line. */
  readonly warnings: readonly ConfigWarning[];
}

/** True for a TOML table (not an array, not a date-time). */
export function isTable(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Merges fragments given in merge order. Throws `CONFIG_INVALID` when a section is not a table. */
export function mergeFragments(fragments: readonly ParsedFragment[]): MergeResult {
  const scalars = new Map<ScalarKey, Located>();
  const windows: Located[] = [];
  const warnings: ConfigWarning[] = [];

  for (const frag of fragments) {
    const at = (key: string): number | null => lineOf(frag.lines, key);
    const where = (key: string): string => {
      const line = at(key);
      return line === null ? frag.path : `${frag.path}:${String(line)}`;
    };
    const unknown = (key: string, hint = ''): void => {
      warnings.push({ code: 'CONFIG_UNKNOWN_KEY', file: frag.path, key, line: at(key), message: `${where(key)}: unknown key '${key}'${hint}` });
    };
    const invalid = (key: string, expected: string, value: unknown): ConfigError =>
      new ConfigError('CONFIG_INVALID', `${frag.path}: ${key}: expected ${expected}, got ${describeValue(value)}`, {
        file: frag.path,
        key,
        line: at(key),
      });

    const walk = (table: Record<string, unknown>, prefix: string): void => {
      for (const [k, v] of Object.entries(table)) {
        const key = prefix ? `${prefix}.${k}` : k;
        if (SCALARS.has(key)) {
          if (v === '' && EMPTY_MEANS_UNSET.has(key as ScalarKey)) scalars.delete(key as ScalarKey);
          else scalars.set(key as ScalarKey, { value: v, file: frag.path, key, line: at(key) });
        } else if (key === WINDOW_KEY) {
          if (!Array.isArray(v)) throw invalid(key, 'an array of tables ([[updates.periodic.window]])', v);
          v.forEach((entry: unknown, i) => {
            const ekey = `${key}[${String(i)}]`;
            if (!isTable(entry)) throw invalid(ekey, 'a table with days, start_time and length_minutes', entry);
            for (const field of Object.keys(entry)) if (!WINDOW_FIELDS.includes(field)) unknown(`${ekey}.${field}`);
            windows.push({ value: entry, file: frag.path, key: ekey, line: at(ekey) });
          });
        } else if (SECTIONS.has(key)) {
          if (!isTable(v)) throw invalid(key, 'a table', v);
          walk(v, key);
        } else {
          unknown(key, key.endsWith('.window') ? " (only [[updates.periodic.window]] exists)" : '');
        }
      }
    };
    walk(frag.table as Record<string, unknown>, '');
  }
  return { inputs: { scalars, windows }, warnings };
}
