// The one entry point that turns a root directory into validated settings: discover, parse, merge,
// validate. Either everything succeeds or a ConfigError is thrown and nothing is applied.
import { ConfigError, type ConfigWarning } from './errors.js';
import { configDirsUnder, readFragment, resolveDropins, scanConfigDir, type ParsedFragment } from './fragments.js';
import { mergeFragments } from './inputs.js';
import { validateSettings } from './settings.js';
import type { Settings } from './types.js';

/** Options of `loadSettings`. */
export interface LoadOptions {
  /** Directory the three drop-in directories are looked up under. @default "/" */
  readonly root?: string;
  /** Make warnings (unknown keys, ignored files) fatal (`CONFIG_STRICT`). @default false */
  readonly strict?: boolean;
}

/** What `loadSettings` returns. */
export interface LoadedSettings {
  /** Validated, deeply frozen settings. */
  readonly settings: Settings;
  /** Applied fragment paths, in merge order. */
  readonly fragments: readonly string[];
  /** Non-fatal problems (empty under `strict`, which throws instead). */
  readonly warnings: readonly ConfigWarning[];
  /** For each dotted TOML key set by some fragment, the fragment whose value won. */
  readonly origins: Readonly<Record<string, string>>;
}

/** Pure part of loading: merges and validates already-parsed fragments. */
export function settingsFromFragments(
  parsed: readonly ParsedFragment[],
  discoveryWarnings: readonly ConfigWarning[] = [],
  strict = false,
): Omit<LoadedSettings, 'fragments'> {
  const { inputs, warnings: mergeWarnings } = mergeFragments(parsed);
  const warnings = [...discoveryWarnings, ...mergeWarnings];
  const first = warnings[0];
  if (strict && first) {
    throw new ConfigError('CONFIG_STRICT', `${first.message} (fatal with --strict)`, { file: first.file, key: first.key, line: first.line });
  }
  const settings = validateSettings(inputs);
  const origins: Record<string, string> = {};
  for (const [key, loc] of inputs.scalars) origins[key] = loc.file;
  for (const w of inputs.windows) origins['updates.periodic.window'] = w.file;
  return { settings, warnings, origins: Object.freeze(origins) };
}

/** Loads the effective settings from the drop-in directories under `root`. Throws `ConfigError`. */
export async function loadSettings(opts: LoadOptions = {}): Promise<LoadedSettings> {
  const root = opts.root ?? '/';
  const listings = await Promise.all(configDirsUnder(root).map((d) => scanConfigDir(d)));
  const { files, warnings: discovery } = resolveDropins(listings);
  const parsed: ParsedFragment[] = [];
  for (const f of files) parsed.push(await readFragment(f));
  const result = settingsFromFragments(parsed, discovery, opts.strict ?? false);
  return { ...result, fragments: Object.freeze([...files]) };
}
