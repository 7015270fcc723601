// alt-updatectl update-now [--bus-address ADDR]: allows the pending reboot now, skipping the strategy
// and the session wait once (UpdateNow; root only).
import { runAgentCall } from '../agent-call.js';
import type { CliIo } from '../command.js';

/** Calls the agent over D-Bus; prints one line and exits 0 on success. */
export function run(argv: string[], io: CliIo): Promise<number> {
  return runAgentCall(argv, io, {
    name: 'update-now',
    usage: 'usage: alt-updatectl update-now [--bus-address ADDR]',
    call: async (client) => {
      await client.updateNow();
      return 'reboot allowed: the agent finalizes the staged update on its next tick';
    },
  });
}
