// alt-updatectl update-now [--bus-address ADDR]: allows the pending reboot now, skipping the strategy and the session wait once (UpdateNow; root only).
import { parseArgs } from 'node:util';
import { CliUsageError, type CliIo } from '../command.js';
import { connectUpdated1 } from '../../agent/operator/dbus-client.js';
import { busAddressFrom, describeFailure, EXIT } from '../../agent/operator/cli-support.js';

const USAGE = 'usage: alt-updatectl update-now [--bus-address ADDR]';

/** Calls the agent over D-Bus; prints one line and exits 0 on success. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { 'bus-address': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
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
    await client.updateNow();
    io.stdout('reboot allowed: the agent finalizes the staged update on its next tick');
    return EXIT.ok;
  } catch (err: unknown) {
    const f = describeFailure(err);
    io.stderr(`alt-updatectl update-now: ${f.message}`);
    return f.code;
  } finally {
    client?.close();
  }
}
