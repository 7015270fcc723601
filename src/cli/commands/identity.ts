// `alt-updatectl identity [--root DIR] [--json]`: the node identity and where each part came from.
// Exit 0 with the identity, 1 when config or identity cannot be determined, 2 on bad usage.
import { CliUsageError, type CliIo } from '../command.js';
import { AltError } from '../../common/errors.js';
import { loadSettings } from '../../config/load.js';
import { identityToJson, type IdentityJson } from '../../identity/identity.js';
import { resolveIdentity } from '../../identity/resolve.js';
import { parseCliFlags } from './config.js';

const USAGE = 'usage: alt-updatectl identity [--root DIR] [--json]';

/** Human rendering: one aligned `name  value  (source: detail)` line per field. */
export function renderIdentityText(json: IdentityJson): string {
  return Object.entries(json)
    .map(([name, f]) => {
      const value = f.value === null ? '(none)' : String(f.value);
      const from = f.detail === null ? f.source : `${f.source}: ${f.detail}`;
      return `${name.padEnd(17)} ${value.padEnd(33)} (${from})`;
    })
    .join('\n');
}

/** Runs `identity`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCliFlags(argv, { root: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, USAGE);
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (positionals.length !== 0) throw new CliUsageError(USAGE);
  if (values.root === '') throw new CliUsageError(`--root needs a directory\n${USAGE}`);
  const root = values.root ?? '/';
  try {
    const loaded = await loadSettings({ root });
    for (const w of loaded.warnings) io.stderr(`alt-updatectl identity: warning: ${w.message}`);
    const id = await resolveIdentity({ root, settings: loaded.settings, origins: loaded.origins });
    const json = identityToJson(id);
    io.stdout(values.json ? JSON.stringify(json, null, 2) : renderIdentityText(json));
    return 0;
  } catch (err: unknown) {
    if (err instanceof AltError) {
      io.stderr(`alt-updatectl identity: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
