// `alt-updatectl config show [--root DIR] [--strict] [--json]`: the effective settings after merge.
// Exit 0 with the settings, 1 on invalid configuration (one line on stderr), 2 on bad usage.
import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from '../command.js';
import { AltError } from '../../common/errors.js';
import { settingsToJson, type SettingsJson } from '../../config/json.js';
import { loadSettings } from '../../config/load.js';

const USAGE = 'usage: alt-updatectl config show [--root DIR] [--strict] [--json]';

/** Parses flags with `node:util`, turning its errors into usage errors (exit 2). */
export function parseCliFlags<T extends Record<string, { type: 'string' | 'boolean' }>>(argv: string[], options: T, usage: string) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err: unknown) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)}\n${usage}`);
  }
}

function show(v: string | number | boolean | null): string {
  return v === null ? '(unset)' : typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** Human rendering: one `section.key = value` line per setting, then the fragments. */
export function renderSettingsText(json: SettingsJson): string {
  const { agent, cincinnati, identity, updates } = json;
  const lines = [
    `agent.timing.steady_interval_secs = ${show(agent.timing.steady_interval_secs)}`,
    `agent.timing.staged_interval_secs = ${show(agent.timing.staged_interval_secs)}`,
    `agent.metrics.listen = ${show(agent.metrics.listen)}`,
    `cincinnati.base_url = ${show(cincinnati.base_url)}`,
    `cincinnati.ca_file = ${show(cincinnati.ca_file)}`,
    `identity.group = ${show(identity.group)}`,
    `identity.node_uuid = ${show(identity.node_uuid)}`,
    `identity.rollout_wariness = ${show(identity.rollout_wariness)}`,
    `identity.stream = ${show(identity.stream)}`,
    `updates.enabled = ${show(updates.enabled)}`,
    `updates.allow_downgrade = ${show(updates.allow_downgrade)}`,
    `updates.strategy = ${show(updates.strategy)}`,
    `updates.max_stage_attempts = ${show(updates.max_stage_attempts)}`,
    `updates.abandon_secs = ${show(updates.abandon_secs)}`,
    `updates.fleet_lock.base_url = ${show(updates.fleet_lock.base_url)}`,
    `updates.fleet_lock.token = ${show(updates.fleet_lock.token)}`,
    `updates.fleet_lock.ca_file = ${show(updates.fleet_lock.ca_file)}`,
    `updates.fleet_lock.client_cert_file = ${show(updates.fleet_lock.client_cert_file)}`,
    `updates.fleet_lock.client_key_file = ${show(updates.fleet_lock.client_key_file)}`,
    `updates.periodic.time_zone = ${show(updates.periodic.time_zone)}`,
  ];
  if (updates.periodic.window.length === 0) lines.push('updates.periodic.window = (none)');
  updates.periodic.window.forEach((w, i) => {
    // `days = []` is valid (Zincati) but opens nothing: say so rather than print an empty day list.
    const days = w.days.length === 0 ? '(no days, opens no window)' : w.days.join(',');
    lines.push(`updates.periodic.window[${String(i)}] = ${days} ${w.start_time} for ${String(w.length_minutes)} min`);
  });
  const { health } = json;
  lines.push(
    `health.enabled = ${show(health.enabled)}`,
    `health.required_units = ${JSON.stringify(health.required_units)}`,
    `health.check_timeout_secs = ${show(health.check_timeout_secs)}`,
    `health.boot_attempts = ${show(health.boot_attempts)}`,
    `health.state_dir = ${show(health.state_dir)}`,
  );
  lines.push('', json.fragments.length === 0 ? 'fragments: (none)' : 'fragments (merge order):');
  for (const f of json.fragments) lines.push(`  ${f}`);
  return lines.join('\n');
}

/** Runs `config <subcommand>`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliFlags(
    argv,
    { root: { type: 'string' }, strict: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } },
    USAGE,
  );
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'show') throw new CliUsageError(USAGE);
  if (values.root === '') throw new CliUsageError(`--root needs a directory\n${USAGE}`);
  try {
    const loaded = await loadSettings({ root: values.root ?? '/', strict: values.strict ?? false });
    for (const w of loaded.warnings) io.stderr(`alt-updatectl config: warning: ${w.message}`);
    const json = settingsToJson(loaded.settings, loaded.fragments);
    io.stdout(values.json ? JSON.stringify(json, null, 2) : renderSettingsText(json));
    return 0;
  } catch (err: unknown) {
    if (err instanceof AltError) {
      io.stderr(`alt-updatectl config: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
