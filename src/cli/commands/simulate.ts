// `alt-updatectl simulate [--root DIR] [--strict] [--lock-config FILE] [simulator flags]`: the fleet
// simulator of `npm run simulate` (same parser, same runner) over this operator's configuration:
// the strategy and periodic windows from the agent's drop-ins, the group's slots from alt-fleetlockd's
// config; flags override both, and the output says where each value came from.
// Exit 0 when the rollout finished with the invariants held, 1 otherwise or on invalid configuration, 2 on bad usage.
import { readFile } from 'node:fs/promises';
import { CliUsageError, type CliIo } from '../command.js';
import { AltError } from '../../common/errors.js';
import { loadSettings } from '../../config/load.js';
import { FleetLockConfigError } from '../../fleetlock/errors.js';
import { parseConfigText } from '../../fleetlock/server/config.js';
import { parseSimulateArgs, SIMULATE_CONFIG_USAGE, type SimulateArgs } from '../../simulator/cli.js';
import { applyAgentConfig, type LockConfigInput } from '../../simulator/config.js';
import { SimulatorError } from '../../simulator/errors.js';
import { runSimulate } from '../../simulator/main.js';

async function readLockConfig(file: string): Promise<LockConfigInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: unknown) {
    throw new FleetLockConfigError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return { file, config: parseConfigText(text, file) };
}

/** Runs `simulate`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let args: SimulateArgs;
  try {
    args = parseSimulateArgs(argv, 'config');
  } catch (err: unknown) {
    if (err instanceof SimulatorError) throw new CliUsageError(err.message);
    throw err;
  }
  if (args.help) {
    io.stdout(SIMULATE_CONFIG_USAGE);
    return 0;
  }
  try {
    const loaded = await loadSettings({ root: args.root, strict: args.strict });
    for (const w of loaded.warnings) io.stderr(`alt-updatectl simulate: warning: ${w.message}`);
    const lock = args.lockConfig === null ? null : await readLockConfig(args.lockConfig);
    args = applyAgentConfig(args, loaded, lock);
  } catch (err: unknown) {
    if (err instanceof AltError) {
      io.stderr(`alt-updatectl simulate: ${err.message}`);
      return 1;
    }
    throw err;
  }
  // The runner writes whole lines; CliIo adds the newline itself.
  const line = (write: (s: string) => void) => (text: string) => write(text.replace(/\n$/, ''));
  return runSimulate(args, { stdout: line(io.stdout), stderr: line(io.stderr) });
}
