// alt-updatectl status [--json] [--bus-address ADDR]: the agent's D-Bus properties.
import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from '../command.js';
import { connectUpdated1 } from '../../agent/operator/dbus-client.js';
import { busAddressFrom, describeFailure, EXIT } from '../../agent/operator/cli-support.js';
import { statusJson, statusText } from '../../agent/operator/status-format.js';

const USAGE = 'usage: alt-updatectl status [--json] [--bus-address ADDR]';

/** Prints the agent state read over D-Bus; no privileges needed. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, 'bus-address': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err: unknown) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
  }
  if (values.help) {
    io.stdout(USAGE);
    return EXIT.ok;
  }
  let client;
  try {
    client = connectUpdated1({ busAddress: busAddressFrom(values['bus-address'], io.env) });
    const snap = await client.snapshot();
    io.stdout(values.json ? JSON.stringify(statusJson(snap)) : statusText(snap));
    return EXIT.ok;
  } catch (err: unknown) {
    const f = describeFailure(err);
    io.stderr(`alt-updatectl status: ${f.message}`);
    return f.code;
  } finally {
    client?.close();
  }
}
