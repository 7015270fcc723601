// alt-updatectl status [--json] [--bus-address ADDR]: the agent's D-Bus properties.
import { statusJson, statusText } from '../../agent/operator/status-format.js';
import { runAgentCall } from '../agent-call.js';
import type { CliIo } from '../command.js';

/** Prints the agent state read over D-Bus; no privileges needed. */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runAgentCall(argv, io, {
    name: 'status',
    usage: 'usage: alt-updatectl status [--json] [--bus-address ADDR]',
    json: true,
    call: async (client, { json }) => {
      const snap = await client.snapshot();
      return json ? JSON.stringify(statusJson(snap)) : statusText(snap);
    },
  });
}
