// The shared body of the commands that talk to the running agent over org.altlinux.Updated1
// (status, check, update-now): flag parsing, connection, failure-to-exit-code mapping.
import { parseArgs } from 'node:util';
import { busAddressFrom, describeFailure, EXIT } from '../agent/operator/cli-support.js';
import { connectUpdated1, type Updated1Client } from '../agent/operator/dbus-client.js';
import { CliUsageError, type CliIo } from './command.js';

/** What one agent command does once connected. */
export interface AgentCallSpec {
  /** Command name, used in messages. */
  readonly name: string;
  /** Usage line. */
  readonly usage: string;
  /** Whether the command takes `--json`. */
  readonly json?: boolean;
  /** Whether the command takes `--root DIR` (files read besides the D-Bus call; default `/`). */
  readonly root?: boolean;
  /** Performs the call and returns the line to print. */
  readonly call: (client: Updated1Client, opts: { json: boolean; root: string }) => Promise<string>;
}

/** Runs an agent command: `[--json] [--bus-address ADDR]`; exit codes from docs/usage/cli.md. */
export async function runAgentCall(argv: string[], io: CliIo, spec: AgentCallSpec): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'bus-address': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        ...(spec.json ? { json: { type: 'boolean' } } : {}),
        ...(spec.root ? { root: { type: 'string' } } : {}),
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err: unknown) {
    throw new CliUsageError(`${err instanceof Error ? err.message : String(err)}\n${spec.usage}`);
  }
  if (values.help === true) {
    io.stdout(spec.usage);
    return EXIT.ok;
  }
  const address = values['bus-address'];
  let client: Updated1Client | undefined;
  try {
    client = connectUpdated1({ busAddress: busAddressFrom(typeof address === 'string' ? address : undefined, io.env) });
    io.stdout(await spec.call(client, { json: values.json === true, root: typeof values.root === 'string' ? values.root : '/' }));
    return EXIT.ok;
  } catch (err: unknown) {
    const f = describeFailure(err);
    io.stderr(`alt-updatectl ${spec.name}: ${f.message}`);
    return f.code;
  } finally {
    client?.close();
  }
}
