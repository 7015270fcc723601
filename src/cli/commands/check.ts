// alt-updatectl check [--bus-address ADDR]: asks the agent to check for updates now (CheckNow; root only).
import { runAgentCall } from '../agent-call.js';
import type { CliIo } from '../command.js';

/** Calls the agent over D-Bus; prints one line and exits 0 on success. */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runAgentCall(argv, io, {
    name: 'check',
    usage: 'usage: alt-updatectl check [--bus-address ADDR]',
    call: async (client) => {
      await client.checkNow();
      return 'update check done';
    },
  });
}
